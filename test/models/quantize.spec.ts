/**
 * The float-MLP → integer ONNX toolkit (models/toolkit/quantize.ts) and the Iris example built with it
 * (models/iris). Quantized models are run by the reference interpreter and by onnxruntime; the Iris files in the
 * repo are rebuilt and re-evaluated here rather than trusted.
 */
import { expect } from "chai";
import { keccak256 } from "ethers";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onnx } from "onnx-proto";
import { extractManifest, manifestHash, parseManifest } from "../../oracle/src/protocol/manifest";
import { analyseModel, SubsetError } from "../../oracle/src/verify/subset";
import { ReferenceExecutionError, runGraph, tensorFromProto, type IntTensor } from "../../oracle/src/verify/reference";
import { seededRandom } from "../../models/examples";
import { loadIrisSplit, main as trainIris, OUTPUT_FILES } from "../../models/iris/train";
import {
    argMaxIndex,
    buildQuantizedModel,
    crossCheckWithOnnxruntime,
    decodeModel,
    evaluateAccuracy,
    evaluateFloatMlp,
    INT32_MAX,
    normalizeFeatures,
    parseFloatMlp,
    predictQuantized,
    QuantizeError,
    quantizeInput,
    type FloatMlp,
    type QuantizedModel,
} from "../../models/toolkit/quantize";

const IRIS_DIR = join(__dirname, "../../models/iris");

function expectQuantizeError(fn: () => unknown, code: string, ...messageParts: string[]): QuantizeError {
    let thrown: unknown;
    try {
        fn();
    } catch (err) {
        thrown = err;
    }
    expect(thrown, "expected a QuantizeError").to.be.instanceOf(QuantizeError);
    const err = thrown as QuantizeError;
    expect(err.code).to.equal(code);
    for (const part of messageParts) expect(err.message).to.contain(part);
    return err;
}

/** A random MLP: weights and biases uniform in ±1, one layer per consecutive pair of `sizes`. */
function randomMlp(seed: number, sizes: readonly number[], activations: readonly ("relu" | "none")[]): FloatMlp {
    const random = seededRandom(seed);
    const uniform = () => 2 * random() - 1;
    return {
        version: 1,
        inputs: sizes[0]!,
        layers: activations.map((activation, l) => ({
            weights: Array.from({ length: sizes[l]! }, () => Array.from({ length: sizes[l + 1]! }, uniform)),
            bias: Array.from({ length: sizes[l + 1]! }, uniform),
            activation,
        })),
    };
}

/** `count` float samples of `width` features, each a sum of two uniforms in ±1 (peaked at 0, like real data). */
function randomFeatures(seed: number, count: number, width: number): number[][] {
    const random = seededRandom(seed);
    return Array.from({ length: count }, () => Array.from({ length: width }, () => random() + random() - 1));
}

/** `count` random int8 vectors of `width`, plus all -128, all 127, all 0 and alternating extremes. */
function int8Inputs(seed: number, count: number, width: number): number[][] {
    const random = seededRandom(seed);
    const inputs = Array.from({ length: count }, () =>
        Array.from({ length: width }, () => Math.floor(random() * 256) - 128),
    );
    const fill = (f: (k: number) => number) => Array.from({ length: width }, (_, k) => f(k));
    inputs.push(
        fill(() => -128),
        fill(() => 127),
        fill(() => 0),
        fill((k) => (k % 2 === 0 ? 127 : -128)),
        fill((k) => (k % 2 === 0 ? -128 : 127)),
    );
    return inputs;
}

/** The model's int initializers by name. */
function initializers(model: Uint8Array): Map<string, IntTensor> {
    const graph = decodeModel(model).graph!;
    return new Map((graph.initializer ?? []).map((t) => [t.name ?? "", tensorFromProto(t)]));
}

/** The worst-case |acc + bias| of layer `l`, from the weights and bias in the model itself. */
function boundFromModel(model: Uint8Array, l: number): number {
    const inits = initializers(model);
    const w = inits.get(`l${l}.weight`)!;
    const b = inits.get(`l${l}.bias`)!;
    const [rows, cols] = w.shape as [number, number];
    let bound = 0;
    for (let j = 0; j < cols; j++) {
        let s = Math.abs(Number(b.data[j]!));
        for (let k = 0; k < rows; k++) s += 128 * Math.abs(Number(w.data[k * cols + j]!));
        bound = Math.max(bound, s);
    }
    return bound;
}

/** A copy of the model with the int32 scalar initializer `name` set to `value`. */
function withScalar(model: Uint8Array, name: string, value: number): Uint8Array {
    const proto = decodeModel(model);
    const init = (proto.graph!.initializer ?? []).find((t) => t.name === name)!;
    const raw = new Uint8Array(4);
    new DataView(raw.buffer).setInt32(0, value, true);
    init.rawData = raw;
    return new Uint8Array(onnx.ModelProto.encode(proto).finish());
}

describe("models/toolkit/quantize", function () {
    const valid = (): Record<string, unknown> => ({
        version: 1,
        inputs: 2,
        normalization: { mean: [1, 2], std: [0.5, 4] },
        layers: [
            {
                weights: [
                    [0.5, -1, 0.25],
                    [0.125, 2, -0.75],
                ],
                bias: [0.1, 0, -0.2],
                activation: "relu",
            },
            { weights: [[1], [-1], [0.5]], bias: [0.25], activation: "none" },
        ],
    });
    type Json = Record<string, unknown>;
    const layer = (mlp: Json, l: number): Json => (mlp.layers as Json[])[l]!;

    describe("parseFloatMlp", function () {
        it("accepts a valid MLP, with or without normalization", function () {
            const mlp = valid();
            expect(parseFloatMlp(JSON.stringify(mlp))).to.deep.equal(mlp);
            delete mlp.normalization;
            expect(parseFloatMlp(JSON.stringify(mlp))).to.deep.equal(mlp);
        });

        it("rejects text that is not JSON (INVALID_FLOAT_MLP)", function () {
            expectQuantizeError(
                () => parseFloatMlp("{ version: 1"),
                "INVALID_FLOAT_MLP",
                "Invalid float MLP: not JSON",
            );
        });

        const cases: [string, (mlp: Json) => void, string][] = [
            ["an unknown version", (m) => (m.version = 2), "version: "],
            ["inputs of 0", (m) => (m.inputs = 0), "inputs: "],
            ["no layers", (m) => (m.layers = []), "layers: at least one layer is required"],
            [
                "a first layer whose rows are not the inputs",
                (m) => (m.inputs = 3),
                "layers[0].weights: has 2 rows, want 3 (inputs)",
            ],
            [
                "a layer whose rows are not the previous layer's outputs",
                (m) => (layer(m, 1).weights = [[1], [2]]),
                "layers[1].weights: has 2 rows, want 3 (the outputs of layers[0])",
            ],
            [
                "a row whose length is not the bias length",
                (m) => (layer(m, 0).weights = [[0.5, -1, 0.25], [0.125]]),
                "layers[0].weights[1]: has 1 columns, want 3 (the length of layers[0].bias)",
            ],
            ["an empty bias", (m) => (layer(m, 1).bias = []), "layers[1].bias: must have at least one element"],
            [
                "a weight that is a string",
                (m) => ((layer(m, 0).weights as unknown[][])[1]![2] = "0.5"),
                "layers[0].weights[1][2]: must be a finite number",
            ],
            ["an unknown activation", (m) => (layer(m, 0).activation = "tanh"), "layers[0].activation: "],
            ["an unknown layer field", (m) => (layer(m, 1).dropout = 0.5), "layers[1].dropout: unknown field"],
            ["an unknown top-level field", (m) => (m.classes = 3), "Invalid float MLP: classes: unknown field"],
            [
                "a normalization of the wrong length",
                (m) => ((m.normalization as Json).mean = [1, 2, 3]),
                "normalization.mean: has 3 elements, want 2 (inputs)",
            ],
            [
                "a zero standard deviation",
                (m) => ((m.normalization as Json).std = [0.5, 0]),
                "normalization.std[1]: must be a positive number",
            ],
        ];
        for (const [what, mutate, message] of cases) {
            it(`rejects ${what}, naming the field`, function () {
                const mlp = valid();
                mutate(mlp);
                expectQuantizeError(() => parseFloatMlp(JSON.stringify(mlp)), "INVALID_FLOAT_MLP", message);
            });
        }

        it("rejects a number that overflows to Infinity (1e999), naming the field", function () {
            const json = JSON.stringify(valid()).replace('"bias":[0.25]', '"bias":[1e999]');
            expectQuantizeError(() => parseFloatMlp(json), "INVALID_FLOAT_MLP", "layers[1].bias[0]: must be a finite");
        });

        it("reports every bad field at once", function () {
            const mlp = valid();
            mlp.version = 3;
            layer(mlp, 0).activation = "gelu";
            const err = expectQuantizeError(() => parseFloatMlp(JSON.stringify(mlp)), "INVALID_FLOAT_MLP");
            expect(err.message).to.match(/version: .*; layers\[0\]\.activation: /);
        });
    });

    describe("evaluateFloatMlp, normalizeFeatures, quantizeInput", function () {
        it("computes the float forward pass", function () {
            const mlp = parseFloatMlp(JSON.stringify(valid()));
            // Hidden: relu([0.5*2 + 0.125*(-4) + 0.1, -1*2 + 2*(-4), 0.25*2 - 0.75*(-4) - 0.2]) = [0.6, 0, 3.3].
            const [y] = evaluateFloatMlp(mlp, [2, -4]);
            expect(y).to.be.closeTo(0.6 + 0.5 * 3.3 + 0.25, 1e-12);
            expect(normalizeFeatures(mlp, [2, 6])).to.deep.equal([2, 1]);
            expectQuantizeError(() => evaluateFloatMlp(mlp, [1]), "INVALID_INPUT", "x has 1 features, want 2");
        });

        it("rounds half away from zero and clamps to ±127", function () {
            expect(quantizeInput([0.5, -0.5, 1.5, -2.5, 0.49, -1000, 1000, 0], 1)).to.deep.equal([
                1, -1, 2, -3, 0, -127, 127, 0,
            ]);
            expect(quantizeInput([0.3, -0.25], 0.1)).to.deep.equal([3, -3]);
            expectQuantizeError(() => quantizeInput([1], 0), "INVALID_OPTIONS", "inputScale");
            expectQuantizeError(() => quantizeInput([NaN], 1), "INVALID_INPUT", "x[0] is not finite");
        });
    });

    describe("buildQuantizedModel", function () {
        /** A hand-checked MLP: 2 → 2 (relu) → 1, inputScale 0.01, hidden output scale 0.02. */
        const handMlp: FloatMlp = {
            version: 1,
            inputs: 2,
            layers: [
                {
                    weights: [
                        [0.5, -1],
                        [0.25, 0.1],
                    ],
                    bias: [0.1, -0.2],
                    activation: "relu",
                },
                { weights: [[1], [-0.5]], bias: [0.3], activation: "none" },
            ],
        };

        it("quantizes weights, biases, M and D as the scheme says (worked by hand)", function () {
            const { onnx: model, quantization } = buildQuantizedModel(handMlp, {
                inputScale: 0.01,
                activationScales: [0.02],
            });
            const inits = initializers(model);
            const values = (name: string) => inits.get(name)!.data.map(Number);
            // s_w = 1/127: 0.5 → 63.5 → 64 (half away from zero), 0.25 → 31.75 → 32, 0.1 → 12.7 → 13.
            expect(inits.get("l0.weight")!.shape).to.deep.equal([2, 2]);
            expect(values("l0.weight")).to.deep.equal([64, -127, 32, 13]);
            // s_acc = 0.01 / 127: 0.1 → 1270, -0.2 → -2540.
            expect(values("l0.bias")).to.deep.equal([1270, -2540]);
            // Bound: column 1 = 128 * (127 + 13) + 2540 = 20460. r = (0.01/127) / 0.02 = 1/254; the largest k with
            // round(2^k / 254) * 20460 <= 2^31 - 1 is 24: M = round(16777216 / 254) = 66052, D = 2^24.
            expect(quantization.layers[0]).to.deep.include({ accBound: 20460 });
            expect(quantization.layers[0]!.requantization).to.deep.include({
                multiplier: 66052,
                shift: 24,
                divisor: 16777216,
            });
            expect(values("l0.multiplier")).to.deep.equal([66052]);
            expect(values("l0.divisor")).to.deep.equal([16777216]);
            expect(66052 * 20460).to.be.at.most(INT32_MAX);
            expect(132104 * 20460).to.be.above(INT32_MAX);
            // Last layer: s_w = 1/127, input scale 0.02: weights [127, -64 (-63.5)], bias 0.3 / (0.02/127) = 1905.
            expect(values("l1.weight")).to.deep.equal([127, -64]);
            expect(values("l1.bias")).to.deep.equal([1905]);
            expect(quantization.scoreScale).to.equal(0.02 / 127);
            expect(quantization.layers[1]!.requantization).to.equal(undefined);

            // x = [0.5, -0.3] → x_q = [50, -30]; acc = [50*64 - 30*32 + 1270, 50*-127 - 30*13 - 2540] = [3510, -9280];
            // relu → [3510, 0]; trunc(3510 * 66052 / 2^24) = 13 → hidden [13, 0]; scores = 13*127 + 1905 = 3556.
            const xq = quantizeInput([0.5, -0.3], 0.01);
            expect(xq).to.deep.equal([50, -30]);
            expect(predictQuantized(model, xq)).to.deep.equal({ label: 0, scores: [3556] });
        });

        it("writes opset 17, only verifiable-subset ops, and the manifest features int8 → label int64, scores int32", function () {
            const mlp = randomMlp(1, [5, 7, 4], ["relu", "none"]);
            const built = buildQuantizedModel(mlp, { calibration: randomFeatures(2, 50, 5) });
            const proto = decodeModel(built.onnx);
            expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).to.deep.equal([["", 17]]);
            const ops = new Set((proto.graph!.node ?? []).map((n) => n.opType));
            expect([...ops].sort()).to.deep.equal(
                ["ArgMax", "Add", "Cast", "Clip", "Div", "MatMulInteger", "Mul", "Relu"].sort(),
            );
            const manifest = extractManifest(built.onnx, manifestHash(built.manifestJson));
            expect(manifest).to.deep.equal(parseManifest(built.manifestJson));
            expect(manifest.inputs).to.deep.equal([
                { name: "features", dtype: "int8", shape: [1, 5], onnxType: "int8" },
            ]);
            expect(manifest.outputs).to.deep.equal([
                { name: "label", dtype: "int64", shape: [1], onnxType: "int64" },
                { name: "scores", dtype: "int32", shape: [1, 4], onnxType: "int32" },
            ]);
            expect((proto.graph!.input ?? []).map((i) => i.name)).to.deep.equal(["features"]);
            expect(built.quantization.scheme).to.equal("verity-mlp-int8/1");
            // Deterministic.
            expect(keccak256(buildQuantizedModel(mlp, { calibration: randomFeatures(2, 50, 5) }).onnx)).to.equal(
                keccak256(built.onnx),
            );
        });

        it("needs calibration data or explicit scales (INVALID_OPTIONS)", function () {
            const mlp = randomMlp(3, [3, 4, 2], ["relu", "none"]);
            expectQuantizeError(() => buildQuantizedModel(mlp), "INVALID_OPTIONS", "inputScale");
            expectQuantizeError(() => buildQuantizedModel(mlp, { inputScale: 0.1 }), "INVALID_OPTIONS", "activation");
            expectQuantizeError(
                () => buildQuantizedModel(mlp, { inputScale: 0.1, activationScales: [0.1, 0.2] }),
                "INVALID_OPTIONS",
                "activationScales has 2 entries, want 1",
            );
            expectQuantizeError(
                () => buildQuantizedModel(mlp, { inputScale: -1, activationScales: [0.1] }),
                "INVALID_OPTIONS",
                "inputScale must be a finite number > 0",
            );
            expectQuantizeError(
                () => buildQuantizedModel(mlp, { calibration: [[1, 2]] }),
                "INVALID_INPUT",
                "calibration[0] has 2 features, want 3",
            );
            expectQuantizeError(
                () => buildQuantizedModel({ ...mlp, inputs: 4 }, { inputScale: 1, activationScales: [1] }),
                "INVALID_FLOAT_MLP",
                "layers[0].weights: has 3 rows, want 4",
            );
        });

        it("predicts the float MLP's labels most of the time on random inputs of random small MLPs", function () {
            for (const [seed, sizes, activations] of [
                [10, [4, 8, 3], ["relu", "none"]],
                [11, [6, 10, 10, 4], ["relu", "relu", "none"]],
                [12, [8, 12, 5], ["none", "none"]],
            ] as const) {
                const mlp = randomMlp(seed, sizes, activations);
                const built = buildQuantizedModel(mlp, { calibration: randomFeatures(seed + 100, 200, sizes[0]) });
                const data = randomFeatures(seed + 200, 500, sizes[0]).map((x) => ({
                    x,
                    label: argMaxIndex(evaluateFloatMlp(mlp, x)),
                }));
                const report = evaluateAccuracy(mlp, built.onnx, built.quantization.inputScale, data);
                expect(report.samples).to.equal(500);
                expect(report.floatAccuracy, `seed ${seed}`).to.equal(1); // labels are the float labels
                expect(report.agreement, `seed ${seed}`).to.equal(report.quantizedAccuracy);
                expect(report.agreement, `seed ${seed}`).to.be.at.least(0.9);
            }
        });

        it("agrees exactly with onnxruntime on thousands of int8 inputs, the extremes included", async function () {
            const models: [string, QuantizedModel, number][] = [
                [
                    "relu, none hidden; linear scores",
                    buildQuantizedModel(randomMlp(20, [6, 9, 7, 4], ["relu", "none", "none"]), {
                        calibration: randomFeatures(21, 100, 6),
                    }),
                    6,
                ],
                [
                    "relu scores",
                    buildQuantizedModel(randomMlp(22, [5, 8, 3], ["relu", "relu"]), {
                        calibration: randomFeatures(23, 100, 5),
                    }),
                    5,
                ],
            ];
            for (const [name, built, width] of models) {
                const inputs = int8Inputs(24, 2000, width);
                expect(await crossCheckWithOnnxruntime(built.onnx, inputs), name).to.equal(inputs.length);
            }
        });

        describe("int32 overflow", function () {
            /** 64 inputs, every weight -1000 (int8 -127), so x = all -128 reaches the bound exactly. */
            const wide = (bias: number): FloatMlp => ({
                version: 1,
                inputs: 64,
                layers: [
                    {
                        weights: Array.from({ length: 64 }, () => new Array<number>(16).fill(-1000)),
                        bias: new Array<number>(16).fill(bias),
                        activation: "relu",
                    },
                    {
                        weights: Array.from({ length: 16 }, (_, k) => [k % 2 === 0 ? 900 : -1000, 1000]),
                        bias: [1, -1],
                        activation: "relu",
                    },
                    { weights: [[1000], [-1000]], bias: [0], activation: "none" },
                ],
            });

            it("chooses M so that bound * M fits int32, as tight as a power-of-two D allows", function () {
                const built = buildQuantizedModel(wide(500), { inputScale: 1, activationScales: [1, 1] });
                for (const l of [0, 1]) {
                    const q = built.quantization.layers[l]!;
                    const r = q.requantization!;
                    const bound = boundFromModel(built.onnx, l);
                    expect(q.accBound, `layer ${l}`).to.equal(bound);
                    expect(bound * r.multiplier, `layer ${l}`).to.be.at.most(INT32_MAX);
                    // One more bit of D would overflow (unless D is already 2^30).
                    const next = Math.round(r.targetRatio * 2 ** (r.shift + 1));
                    expect(r.shift === 30 || bound * next > INT32_MAX, `layer ${l}`).to.equal(true);
                    expect(r.divisor).to.equal(2 ** r.shift);
                    expect(r.multiplier / r.divisor).to.be.closeTo(r.targetRatio, r.targetRatio * 1e-3);
                }
                // Layer 0: s_w = 1000/127, s_acc = 1000/127, bias 500 → 64; bound = 128 * 127 * 64 + 64 = 1040448.
                expect(built.quantization.layers[0]!.accBound).to.equal(1040448);
                expect(built.quantization.layers[0]!.requantization).to.deep.include({ multiplier: 2016, shift: 8 });
            });

            it("never throws INTEGER_OVERFLOW on extreme inputs, and would with a larger M", async function () {
                const built = buildQuantizedModel(wide(500), { inputScale: 1, activationScales: [1, 1] });
                const w = initializers(built.onnx).get("l0.weight")!;
                // Per column, the input that maximises |acc|; with all weights -127 it is all -128.
                const signMatched = Array.from({ length: 16 }, (_, j) =>
                    Array.from({ length: 64 }, (_, k) => (w.data[k * 16 + j]! < 0n ? -128 : 127)),
                );
                const inputs = [...signMatched, ...int8Inputs(30, 300, 64)];
                for (const xq of inputs) predictQuantized(built.onnx, xq); // throws on overflow
                await crossCheckWithOnnxruntime(built.onnx, inputs);

                // The bound is reached: acc = 128 * 127 * 64 + 64 = bound, and acc * M is within 2^31 - 1 only just.
                const allMin = new Array<number>(64).fill(-128);
                const doubled = withScalar(built.onnx, "l0.multiplier", 2 * 2016);
                let thrown: unknown;
                try {
                    runGraph(doubled, { features: { dtype: "int8", shape: [1, 64], data: allMin.map(BigInt) } });
                } catch (err) {
                    thrown = err;
                }
                expect(thrown).to.be.instanceOf(ReferenceExecutionError);
                expect((thrown as ReferenceExecutionError).code).to.equal("INTEGER_OVERFLOW");
                expect((thrown as ReferenceExecutionError).message).to.contain("l0/mul");
            });

            it("passes the verifiable-subset checker's interval analysis (and a larger M does not)", function () {
                const models = [
                    buildQuantizedModel(wide(500), { inputScale: 1, activationScales: [1, 1] }).onnx,
                    buildQuantizedModel(wide(-500), { inputScale: 1, activationScales: [0.5, 2] }).onnx,
                    buildQuantizedModel(randomMlp(40, [6, 9, 7, 4], ["relu", "none", "relu"]), {
                        calibration: randomFeatures(41, 50, 6),
                    }).onnx,
                    new Uint8Array(readFileSync(join(IRIS_DIR, "iris.onnx"))),
                ];
                for (const model of models) expect(analyseModel(model).opCounts.MatMulInteger).to.be.at.least(2);
                const built = buildQuantizedModel(wide(500), { inputScale: 1, activationScales: [1, 1] });
                // The analysis agrees with the bound: floor((2^31 - 1) / bound) is the largest M that cannot overflow.
                const largest = Math.floor(INT32_MAX / built.quantization.layers[0]!.accBound);
                expect(built.quantization.layers[0]!.requantization!.multiplier).to.be.at.most(largest);
                analyseModel(withScalar(built.onnx, "l0.multiplier", largest));
                let thrown: unknown;
                try {
                    analyseModel(withScalar(built.onnx, "l0.multiplier", largest + 1));
                } catch (err) {
                    thrown = err;
                }
                expect(thrown).to.be.instanceOf(SubsetError);
                expect((thrown as SubsetError).code).to.equal("OVERFLOW");
                expect((thrown as SubsetError).message).to.contain("l0/mul");
            });

            it("rejects a bias whose accumulator bound cannot fit int32 (ACCUMULATOR_OVERFLOW)", function () {
                // s_acc = 1/127: bias 16909291 → 2147479957, plus 128 * 127 = 16256 → 2147496213 > 2^31 - 1.
                const mlp: FloatMlp = {
                    version: 1,
                    inputs: 1,
                    layers: [{ weights: [[1]], bias: [16909291], activation: "none" }],
                };
                expectQuantizeError(
                    () => buildQuantizedModel(mlp, { inputScale: 1 }),
                    "ACCUMULATOR_OVERFLOW",
                    "layers[0]: the worst-case |MatMulInteger + bias| of output 0 is 2147496213, above int32 max",
                );
                mlp.layers[0]!.bias = [16909000]; // 2147443000 + 16256 fits
                expect(buildQuantizedModel(mlp, { inputScale: 1 }).quantization.layers[0]!.accBound).to.equal(
                    2147459256,
                );
            });

            it("rejects a layer too wide for an int32 accumulator (ACCUMULATOR_OVERFLOW)", function () {
                // 128 * 127 * 132105 = 2147498880 > 2^31 - 1.
                const n = 132105;
                const mlp: FloatMlp = {
                    version: 1,
                    inputs: n,
                    layers: [{ weights: Array.from({ length: n }, () => [1]), bias: [0], activation: "none" }],
                };
                expectQuantizeError(
                    () => buildQuantizedModel(mlp, { inputScale: 1 }),
                    "ACCUMULATOR_OVERFLOW",
                    "is 2147498880, above int32 max 2147483647",
                );
            });

            it("rejects a bias outside int32 (BIAS_OVERFLOW) and an unreachable output scale (REQUANTIZATION_RANGE)", function () {
                const mlp: FloatMlp = {
                    version: 1,
                    inputs: 1,
                    layers: [
                        { weights: [[1]], bias: [1e8], activation: "relu" },
                        { weights: [[1]], bias: [0], activation: "none" },
                    ],
                };
                expectQuantizeError(
                    () => buildQuantizedModel(mlp, { inputScale: 1, activationScales: [1] }),
                    "BIAS_OVERFLOW",
                    "layers[0].bias[0]: 100000000 is 12700000000 units",
                );
                mlp.layers[0]!.bias = [0];
                expectQuantizeError(
                    () => buildQuantizedModel(mlp, { inputScale: 1, activationScales: [1e-12] }),
                    "REQUANTIZATION_RANGE",
                    "layers[0]",
                    "too small",
                );
                expectQuantizeError(
                    () => buildQuantizedModel(mlp, { inputScale: 1, activationScales: [1e12] }),
                    "REQUANTIZATION_RANGE",
                    "layers[0]",
                    "far too large",
                );
            });
        });
    });

    describe("crossCheckWithOnnxruntime", function () {
        it("names the first sample where the reference and onnxruntime differ", async function () {
            const mlp: FloatMlp = {
                version: 1,
                inputs: 2,
                layers: [
                    { weights: [[1000], [1000]], bias: [0], activation: "relu" },
                    { weights: [[1]], bias: [0], activation: "none" },
                ],
            };
            const built = buildQuantizedModel(mlp, { inputScale: 1, activationScales: [1] });
            // A multiplier past the bound: the reference refuses to overflow where onnxruntime wraps.
            const broken = withScalar(built.onnx, "l0.multiplier", INT32_MAX);
            let thrown: unknown;
            try {
                await crossCheckWithOnnxruntime(broken, [
                    [0, 0],
                    [0, 0],
                    [127, 127],
                    [127, 126],
                ]);
            } catch (err) {
                thrown = err;
            }
            expect(thrown).to.be.instanceOf(QuantizeError);
            expect((thrown as QuantizeError).code).to.equal("ONNXRUNTIME_MISMATCH");
            expect((thrown as QuantizeError).message).to.match(
                /^sample 2 \(features \[127, 127\]\): .*INTEGER_OVERFLOW/,
            );
        });
    });
});

describe("models/iris", function () {
    const read = (name: string) => readFileSync(join(IRIS_DIR, name));
    const accuracy = JSON.parse(read("accuracy.json").toString("utf8"));

    it("the committed files are what train.ts writes, byte for byte (training is deterministic)", async function () {
        const dir = mkdtempSync(join(tmpdir(), "verity-iris-"));
        try {
            await trainIris(dir);
            for (const name of OUTPUT_FILES) {
                const built = readFileSync(join(dir, name));
                expect(keccak256(built), `${name} (rerun models/iris/train.ts after a change)`).to.equal(
                    keccak256(read(name)),
                );
            }
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("accuracy.json holds what evaluateAccuracy computes from the committed ONNX and float MLP", async function () {
        const mlp = parseFloatMlp(read("iris-mlp.json").toString("utf8"));
        const onnxBytes = new Uint8Array(read("iris.onnx"));
        const split = loadIrisSplit();
        const samples = (set: typeof split.train) =>
            set.map((s) => ({ x: normalizeFeatures(mlp, s.features), label: s.label }));
        const train = samples(split.train);
        const test = samples(split.test);
        expect([train.length, test.length]).to.deep.equal([120, 30]);
        for (const label of [0, 1, 2]) expect(test.filter((s) => s.label === label)).to.have.length(10);

        // The input scale: max |standardized training feature| / 127.
        const maxAbs = Math.max(...train.flatMap((s) => s.x.map(Math.abs)));
        expect(accuracy.inputScale).to.equal(maxAbs / 127);
        // The committed ONNX is the quantization of the committed float MLP, with the recorded parameters.
        const rebuilt = buildQuantizedModel(mlp, { calibration: train.map((s) => s.x) });
        expect(keccak256(rebuilt.onnx)).to.equal(keccak256(onnxBytes));
        expect(accuracy.quantization).to.deep.equal(rebuilt.quantization);
        expect(accuracy.onnxHash).to.equal(keccak256(onnxBytes));
        expect(accuracy.manifestHash).to.equal(manifestHash(read("iris.manifest.json").toString("utf8")));

        const scoreScale = rebuilt.quantization.scoreScale;
        const trainReport = evaluateAccuracy(mlp, onnxBytes, accuracy.inputScale, train, scoreScale);
        const testReport = evaluateAccuracy(mlp, onnxBytes, accuracy.inputScale, test, scoreScale);
        expect(accuracy.train).to.deep.equal(trainReport);
        expect(accuracy.test).to.deep.equal(testReport);
        expect(accuracy.dataset).to.deep.include({ samples: 150, trainSamples: 120, testSamples: 30 });
        expect(testReport.floatAccuracy).to.be.at.least(0.9);
        expect(testReport.quantizedAccuracy).to.be.at.least(testReport.floatAccuracy - 0.034);

        const inputs = [...train, ...test].map((s) => quantizeInput(s.x, accuracy.inputScale));
        expect(await crossCheckWithOnnxruntime(onnxBytes, inputs)).to.equal(150);
    });

    it("embeds iris.manifest.json in iris.onnx", function () {
        const manifestJson = read("iris.manifest.json").toString("utf8");
        const manifest = extractManifest(new Uint8Array(read("iris.onnx")), manifestHash(manifestJson));
        expect(manifest.inputs.map((s) => [s.name, s.dtype, s.shape])).to.deep.equal([["features", "int8", [1, 4]]]);
        expect(manifest.outputs.map((s) => [s.name, s.dtype, s.shape])).to.deep.equal([
            ["label", "int64", [1]],
            ["scores", "int32", [1, 3]],
        ]);
    });

    it("README.md quotes accuracy.json and its worked example is what the model computes", function () {
        const readme = read("README.md").toString("utf8");
        const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
        for (const set of ["train", "test"]) {
            for (const key of ["floatAccuracy", "quantizedAccuracy", "agreement"]) {
                expect(readme, `${set}.${key}`).to.contain(pct(accuracy[set][key]));
            }
        }
        expect(readme).to.contain(String(accuracy.inputScale));
        // The worked example: a raw sample, its int8 features and the model's answer.
        const mlp = parseFloatMlp(read("iris-mlp.json").toString("utf8"));
        const raw = [6.3, 2.5, 5, 1.9];
        const xq = quantizeInput(normalizeFeatures(mlp, raw), accuracy.inputScale);
        const { label, scores } = predictQuantized(new Uint8Array(read("iris.onnx")), xq);
        expect(readme).to.contain(`[${xq.join(", ")}]`);
        expect(readme).to.contain(`[${scores.join(", ")}]`);
        expect(readme).to.contain(`label ${label}`);
    });
});
