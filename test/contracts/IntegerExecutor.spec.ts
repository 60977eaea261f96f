import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";
import { onnx } from "onnx-proto";

import { integerMlpModel, seededRandom } from "../../models/examples";
import { parseManifest } from "../../oracle/src/protocol/manifest";
import {
    buildOnnxModel,
    type AttributeValue,
    type InitializerSpec,
    type NodeSpec,
} from "../../oracle/src/toolkit/onnxGraph";
import { encodeTensors, type Tensor } from "../../oracle/src/protocol/tensorCodec";
import { compileModel } from "../../oracle/src/verify/program";
import {
    dtypeRange,
    INT_DTYPE_CODES,
    intTensor,
    numel,
    ReferenceExecutionError,
    runGraph,
    type IntDType,
    type IntTensor,
} from "../../oracle/src/verify/reference";
import type { ExecutorHarness, IntegerExecutor, ProgramStore } from "../../typechain-types";

const OK = 0;
const INVALID_INPUT = 1;
const MODEL_ERROR = 2;
const MAX_CHUNK = 24_575;

// ---------------------------------------------------------------------------------------------------------------
// Models: small ONNX graphs compiled into programs, and the reference's answers

interface InputDecl {
    name: string;
    dtype: IntDType;
    shape: number[];
    /** The manifest's declared range; the whole dtype when absent. */
    range?: [bigint, bigint];
}

interface GraphSpec {
    inputs: InputDecl[];
    /** Graph output names, in manifest order. */
    outputs: string[];
    nodes: NodeSpec[];
    initializers?: InitializerSpec[];
}

interface TestModel {
    onnx: Uint8Array;
    proto: onnx.ModelProto;
    program: Uint8Array;
    inputs: InputDecl[];
    outputs: string[];
}

function rangeOf(input: InputDecl): [bigint, bigint] {
    const { min, max } = dtypeRange(input.dtype);
    return input.range ?? [min, max];
}

function buildGraph(spec: GraphSpec, outputs: { name: string; type: IntDType; shape: number[] }[]): Uint8Array {
    return buildOnnxModel({
        inputs: spec.inputs.map((i) => ({ name: i.name, type: i.dtype, shape: i.shape })),
        outputs,
        nodes: spec.nodes,
        initializers: spec.initializers ?? [],
    });
}

/** Builds the graph, learns its output dtypes and shapes from the reference, and compiles it with a manifest. */
function testModel(spec: GraphSpec): TestModel {
    const probe: Record<string, IntTensor> = {};
    for (const i of spec.inputs) probe[i.name] = filled(i, rangeOf(i)[0]);
    const draft = runGraph(
        buildGraph(
            spec,
            spec.outputs.map((name) => ({ name, type: "int32", shape: [] })),
        ),
        probe,
    );
    const outputs = spec.outputs.map((name) => ({ name, type: draft[name]!.dtype, shape: draft[name]!.shape }));
    const bytes = buildGraph(spec, outputs);
    const manifest = JSON.stringify({
        version: 1,
        inputs: spec.inputs.map((i) => ({
            name: i.name,
            dtype: i.dtype,
            shape: i.shape,
            ...(i.range === undefined ? {} : { range: i.range.map(String) }),
        })),
        outputs: outputs.map((o) => ({ name: o.name, dtype: o.type, shape: o.shape })),
    });
    const { program } = compileModel(bytes, parseManifest(manifest));
    return { onnx: bytes, proto: onnx.ModelProto.decode(bytes), program, inputs: spec.inputs, outputs: spec.outputs };
}

function filled(input: InputDecl, value: bigint): IntTensor {
    return intTensor(input.dtype, input.shape, new Array<bigint>(numel(input.shape)).fill(value));
}

function codecTensor(t: IntTensor): Tensor {
    return { dtype: INT_DTYPE_CODES[t.dtype], shape: [...t.shape], data: [...t.data] };
}

type Feeds = Record<string, IntTensor>;

function encodeFeeds(inputs: readonly InputDecl[], feeds: Feeds): string {
    return ethers.hexlify(encodeTensors(inputs.map((i) => codecTensor(feeds[i.name]!))));
}

/** The reference's canonical output bytes. */
function expectedOutput(m: TestModel, feeds: Feeds): string {
    const out = runGraph(m.proto, feeds);
    return ethers.hexlify(encodeTensors(m.outputs.map((name) => codecTensor(out[name]!))));
}

/** A uniform bigint in [lo, hi]. */
function uniform(random: () => number, lo: bigint, hi: bigint): bigint {
    const span = hi - lo + 1n;
    let r = 0n;
    for (let i = 0; i < 3; i++) r = (r << 32n) | BigInt(Math.floor(random() * 2 ** 32));
    return lo + (r % span);
}

/** Random feeds: each element an edge value of its range (lo, hi, 0, ±1 when inside) or uniform in it. */
function randomFeeds(inputs: readonly InputDecl[], random: () => number): Feeds {
    const feeds: Feeds = {};
    for (const i of inputs) {
        const [lo, hi] = rangeOf(i);
        const edges = [lo, hi, lo + 1n, hi - 1n, 0n, 1n, -1n].filter((v) => v >= lo && v <= hi);
        const data = Array.from({ length: numel(i.shape) }, () =>
            random() < 0.3 ? edges[Math.floor(random() * edges.length)]! : uniform(random, lo, hi),
        );
        feeds[i.name] = intTensor(i.dtype, i.shape, data);
    }
    return feeds;
}

function init(name: string, dtype: IntDType, dims: number[], values: readonly (number | bigint)[]): InitializerSpec {
    const data =
        dtype === "int8"
            ? Int8Array.from(values, Number)
            : dtype === "uint8"
              ? Uint8Array.from(values, Number)
              : dtype === "int32"
                ? Int32Array.from(values, Number)
                : BigInt64Array.from(values, (v) => BigInt(v));
    return { name, dims, data };
}

function node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): NodeSpec {
    return { opType, inputs, outputs: ["y"], attributes };
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-written programs (format version 1, see oracle/src/verify/program.ts)

/** A byte writer that remembers the offsets of named fields. */
class ProgramBytes {
    private readonly bytes: number[] = [];
    readonly at: Record<string, number> = {};

    mark(name: string): this {
        this.at[name] = this.bytes.length;
        return this;
    }
    u8(v: number): this {
        return this.uint(BigInt(v), 1);
    }
    u16(v: number): this {
        return this.uint(BigInt(v), 2);
    }
    u32(v: number): this {
        return this.uint(BigInt(v), 4);
    }
    i16(v: number | bigint): this {
        return this.uint(BigInt.asUintN(16, BigInt(v)), 2);
    }
    i64(v: number | bigint): this {
        return this.uint(BigInt.asUintN(64, BigInt(v)), 8);
    }
    uint(v: bigint, size: number): this {
        for (let i = size - 1; i >= 0; i--) this.bytes.push(Number((v >> BigInt(8 * i)) & 0xffn));
        return this;
    }
    raw(b: readonly number[]): this {
        for (const x of b) this.bytes.push(x);
        return this;
    }
    /** `dtype | rank | dim * rank`. */
    header(dtype: IntDType, shape: readonly number[]): this {
        this.u8(INT_DTYPE_CODES[dtype]).u8(shape.length);
        for (const d of shape) this.u32(d);
        return this;
    }
    input(dtype: IntDType, shape: readonly number[], range?: [bigint, bigint]): this {
        const { min, max } = dtypeRange(dtype);
        return this.header(dtype, shape)
            .i64(range?.[0] ?? min)
            .i64(range?.[1] ?? max);
    }
    get length(): number {
        return this.bytes.length;
    }
    finish(): Uint8Array {
        return Uint8Array.from(this.bytes);
    }
}

/** version 1 | slotCount | inputCount | inputs... (the caller continues with constants, ops and outputs). */
function programStart(slotCount: number, inputs: [IntDType, number[], [bigint, bigint]?][]): ProgramBytes {
    const w = new ProgramBytes().mark("version").u8(1).mark("slotCount").u16(slotCount);
    w.mark("inputCount").u8(inputs.length);
    inputs.forEach(([dtype, shape, range], i) => w.mark(`input${i}`).input(dtype, shape, range));
    return w;
}

/** A program with one binary elementwise op over two inputs of the same shape (both maps kind 0). */
function binaryProgram(opcode: number, dtype: IntDType, shape: number[]): ProgramBytes {
    const w = programStart(3, [
        [dtype, shape],
        [dtype, shape],
    ]);
    w.mark("constCount").u16(0).mark("opCount").u16(1);
    w.mark("op").u8(opcode).mark("out").u16(2).mark("dtype").u8(INT_DTYPE_CODES[dtype]).mark("rank").u8(shape.length);
    w.mark("dims");
    for (const d of shape) w.u32(d);
    w.mark("a").u16(0).mark("aMap").u8(0).mark("b").u16(1).mark("bMap").u8(0);
    return w.mark("outputCount").u8(1).mark("output").u16(2);
}

function patched(bytes: Uint8Array, at: number, values: readonly number[]): Uint8Array {
    const copy = Uint8Array.from(bytes);
    copy.set(values, at);
    return copy;
}

function u32Bytes(v: number): number[] {
    return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function expectReferenceError(fn: () => unknown, code: string): void {
    let thrown: unknown;
    try {
        fn();
    } catch (err) {
        thrown = err;
    }
    expect(thrown, "the reference fails too").to.be.instanceOf(ReferenceExecutionError);
    expect((thrown as ReferenceExecutionError).code).to.equal(code);
}

// ---------------------------------------------------------------------------------------------------------------

describe("IntegerExecutor", function () {
    async function deploy(): Promise<{ executor: IntegerExecutor; harness: ExecutorHarness; store: ProgramStore }> {
        const executor = await ethers.deployContract("IntegerExecutor");
        const harness = await ethers.deployContract("ExecutorHarness");
        const store = await ethers.deployContract("ProgramStore");
        return { executor, harness, store };
    }

    /** Runs every input through the executor in one eth_call. */
    async function runMany(program: Uint8Array, inputs: string[]): Promise<{ codes: number[]; outputs: string[] }> {
        const { executor, harness } = await loadFixture(deploy);
        const [codes, outputs] = await harness.executeMany(await executor.getAddress(), program, inputs);
        return { codes: codes.map(Number), outputs: [...outputs] };
    }

    /** Random and edge inputs of `m`: the executor's output must equal the reference's, every time. */
    async function expectMatchesReference(m: TestModel, seed: number, count = 24): Promise<void> {
        const random = seededRandom(seed);
        const feeds = [
            ...(m.inputs.length > 0 ? [lowest(m), highest(m)] : [{}]),
            ...Array.from({ length: count }, () => randomFeeds(m.inputs, random)),
        ];
        const { codes, outputs } = await runMany(
            m.program,
            feeds.map((f) => encodeFeeds(m.inputs, f)),
        );
        expect(codes).to.deep.equal(feeds.map(() => OK));
        expect(outputs).to.deep.equal(feeds.map((f) => expectedOutput(m, f)));
    }

    function lowest(m: TestModel): Feeds {
        return Object.fromEntries(m.inputs.map((i) => [i.name, filled(i, rangeOf(i)[0])]));
    }

    function highest(m: TestModel): Feeds {
        return Object.fromEntries(m.inputs.map((i) => [i.name, filled(i, rangeOf(i)[1])]));
    }

    describe("execute (compiled programs, against the reference interpreter)", function () {
        describe("MatMulInteger", function () {
            interface MatMulCase {
                title: string;
                a: IntDType;
                b: IntDType;
                aShape: number[];
                n: number;
                aZero?: number;
                bZero?: number[];
            }
            const cases: MatMulCase[] = [
                { title: "int8 x int8, no zero points, 2-D A", a: "int8", b: "int8", aShape: [3, 5], n: 7 },
                { title: "1-D A (output [n])", a: "int8", b: "int8", aShape: [33], n: 4 },
                { title: "3-D A [2, 3, k]", a: "int8", b: "uint8", aShape: [2, 3, 40], n: 5 },
                { title: "uint8 A, scalar a zero point", a: "uint8", b: "int8", aShape: [2, 31], n: 3, aZero: 200 },
                {
                    title: "int8 A and B, scalar a and b zero points",
                    a: "int8",
                    b: "int8",
                    aShape: [2, 64],
                    n: 3,
                    aZero: -7,
                    bZero: [5],
                },
                {
                    title: "uint8 B with per-column zero points",
                    a: "uint8",
                    b: "uint8",
                    aShape: [2, 130],
                    n: 3,
                    aZero: 0,
                    bZero: [0, 128, 255],
                },
                {
                    title: "int8 B with per-column zero points, k not a multiple of 32",
                    a: "int8",
                    b: "int8",
                    aShape: [4, 129],
                    n: 3,
                    bZero: [-128, 0, 127],
                },
                {
                    title: "one whole block (k = 8192) of uint8: lane sums near their bound (2^29)",
                    a: "uint8",
                    b: "uint8",
                    aShape: [1, 8192],
                    n: 2,
                },
                {
                    title: "k = 3000, int8 with a_zero_point -128: large positive sums (above 2^24)",
                    a: "int8",
                    b: "int8",
                    aShape: [2, 3000],
                    n: 3,
                    aZero: -128,
                },
                {
                    title: "k > 8192: the row is summed block by block",
                    a: "uint8",
                    b: "uint8",
                    aShape: [1, 20_000],
                    n: 2,
                },
            ];
            cases.forEach((c, index) => {
                it(`${c.title}`, async function () {
                    const random = seededRandom(0x3a7 + index);
                    const k = c.aShape[c.aShape.length - 1]!;
                    const { min, max } = dtypeRange(c.b);
                    const weights = Array.from({ length: k * c.n }, () => uniform(random, min, max));
                    // Mostly extreme weights, so that the lane sums reach their bounds.
                    for (let i = 0; i < weights.length; i += 3) weights[i] = i % 2 === 0 ? min : max;
                    const initializers = [init("w", c.b, [k, c.n], weights)];
                    const inputs = ["x", "w"];
                    if (c.aZero !== undefined || c.bZero !== undefined) {
                        initializers.push(init("az", c.a, [], [c.aZero ?? 0]));
                        inputs.push("az");
                    }
                    if (c.bZero !== undefined) {
                        initializers.push(init("bz", c.b, c.bZero.length === 1 ? [] : [c.n], c.bZero));
                        inputs.push("bz");
                    }
                    const m = testModel({
                        inputs: [{ name: "x", dtype: c.a, shape: c.aShape }],
                        outputs: ["y"],
                        nodes: [node("MatMulInteger", inputs)],
                        initializers,
                    });
                    await expectMatchesReference(m, 0x100 + index, k > 1000 ? 6 : 24);
                });
            });
        });

        describe("Add, Sub, Mul, Div, Max, Min (broadcast maps 0, 1 and 2)", function () {
            /** Operand shapes and the map kinds the compiler writes for them. */
            const SHAPES: [number[], number[], string][] = [
                [[2, 3], [2, 3], "kinds 0 / 0"],
                [[2, 3], [3], "kinds 0 / 1 (a bias)"],
                [[2, 3], [], "kinds 0 / 1 (a scalar)"],
                [[3], [2, 3], "kinds 1 / 0"],
                [[2, 3], [1, 3], "kinds 0 / 1 (leading 1s)"],
                [[2, 3], [2, 1], "kinds 0 / 2 (a column)"],
                [[2, 1], [1, 3], "kinds 2 / 2 (an outer product)"],
                [[2, 1, 3], [4, 1], "kinds 2 / 2, rank 3"],
            ];
            /** Declared ranges that the overflow analysis accepts, per op and dtype. */
            const RANGES: Record<string, Partial<Record<IntDType, [[bigint, bigint], [bigint, bigint]]>>> = {
                Add: {
                    int8: [
                        [-64n, 63n],
                        [-64n, 64n],
                    ],
                    uint8: [
                        [0n, 127n],
                        [0n, 128n],
                    ],
                    int32: [
                        [-(2n ** 30n), 2n ** 30n - 1n],
                        [-(2n ** 30n), 2n ** 30n],
                    ],
                    int64: [
                        [-(2n ** 62n), 2n ** 62n - 1n],
                        [-(2n ** 62n), 2n ** 62n],
                    ],
                },
                Sub: {
                    int8: [
                        [-64n, 63n],
                        [-64n, 64n],
                    ],
                    uint8: [
                        [128n, 255n],
                        [0n, 128n],
                    ],
                    int32: [
                        [-(2n ** 30n), 2n ** 30n - 1n],
                        [-(2n ** 30n) + 1n, 2n ** 30n],
                    ],
                    int64: [
                        [-(2n ** 62n), 2n ** 62n - 1n],
                        [-(2n ** 62n) + 1n, 2n ** 62n],
                    ],
                },
                Mul: {
                    int8: [
                        [-11n, 11n],
                        [-11n, 11n],
                    ],
                    uint8: [
                        [0n, 15n],
                        [0n, 17n],
                    ],
                    int32: [
                        [-46_340n, 46_340n],
                        [-46_340n, 46_340n],
                    ],
                    int64: [
                        [-(2n ** 31n), 2n ** 31n],
                        [-(2n ** 31n), 2n ** 31n],
                    ],
                },
            };
            const DTYPES: IntDType[] = ["int8", "uint8", "int32", "int64"];

            for (const op of ["Add", "Sub", "Mul", "Max", "Min"]) {
                SHAPES.forEach(([sa, sb, kinds], index) => {
                    const dtype = DTYPES[index % DTYPES.length]!;
                    it(`${op} ${dtype} [${sa}] with [${sb}]: ${kinds}`, async function () {
                        const ranges = RANGES[op]?.[dtype];
                        const m = testModel({
                            inputs: [
                                { name: "a", dtype, shape: sa, ...(ranges ? { range: ranges[0] } : {}) },
                                { name: "b", dtype, shape: sb, ...(ranges ? { range: ranges[1] } : {}) },
                            ],
                            outputs: ["y"],
                            nodes: [node(op, ["a", "b"])],
                        });
                        await expectMatchesReference(m, 0x200 + index);
                    });
                });
            }

            SHAPES.forEach(([sa, sb, kinds], index) => {
                const dtype = DTYPES[index % DTYPES.length]!;
                it(`Div ${dtype} [${sa}] by a constant [${sb}] (truncating, negative divisors): ${kinds}`, async function () {
                    const random = seededRandom(0x300 + index);
                    const { min, max } = dtypeRange(dtype);
                    // compileModel cannot encode uint8 constants of 128 and more (program.ts writes every constant
                    // as a signed integer), so uint8 divisors stay below 128 here; the executor's reading of such
                    // constants is checked with a hand-written program below.
                    const top = dtype === "uint8" ? 127n : max;
                    const divisors = Array.from({ length: numel(sb) }, (_, i) => {
                        const special = [1n, -1n, 2n, -3n, top, min].filter((v) => v >= min && v <= top && v !== 0n);
                        const v = i < special.length ? special[i]! : uniform(random, min, top);
                        return v === 0n ? 7n : v;
                    });
                    // INT_MIN / -1 overflows; the analysis refuses it, so int8 dividends stay above INT_MIN.
                    const range: [bigint, bigint] | undefined = dtype === "uint8" ? undefined : [min + 1n, max];
                    const m = testModel({
                        inputs: [{ name: "a", dtype, shape: sa, ...(range ? { range } : {}) }],
                        outputs: ["y"],
                        nodes: [node("Div", ["a", "d"])],
                        initializers: [init("d", dtype, sb, divisors)],
                    });
                    await expectMatchesReference(m, 0x310 + index);
                });
            });

            it("variadic Max and Min (a chain of binary ops) and single-input Max (a Reshape)", async function () {
                const m = testModel({
                    inputs: [
                        { name: "a", dtype: "int32", shape: [2, 3] },
                        { name: "b", dtype: "int32", shape: [3] },
                        { name: "c", dtype: "int32", shape: [2, 1] },
                    ],
                    outputs: ["hi", "lo", "same"],
                    nodes: [
                        { opType: "Max", inputs: ["a", "b", "c"], outputs: ["hi"] },
                        { opType: "Min", inputs: ["c", "b", "a"], outputs: ["lo"] },
                        { opType: "Max", inputs: ["b"], outputs: ["same"] },
                    ],
                });
                await expectMatchesReference(m, 0x320);
            });
        });

        describe("Relu, Clip, Cast, Reshape, Flatten", function () {
            for (const dtype of ["int8", "int32"] as IntDType[]) {
                it(`Relu ${dtype}`, async function () {
                    const m = testModel({
                        inputs: [{ name: "x", dtype, shape: [3, 4] }],
                        outputs: ["y"],
                        nodes: [node("Relu", ["x"])],
                    });
                    await expectMatchesReference(m, 0x400 + INT_DTYPE_CODES[dtype]);
                });
            }

            it("Relu int64 (hand-written: compileModel refuses it, onnxruntime has no kernel, the executor runs it)", async function () {
                const shape = [3, 4];
                const w = programStart(2, [["int64", shape]]);
                w.u16(0).u16(1).u8(8).u16(1).header("int64", shape).u16(0);
                w.u8(1).u16(1);
                const spec: GraphSpec = {
                    inputs: [{ name: "x", dtype: "int64", shape }],
                    outputs: ["y"],
                    nodes: [node("Relu", ["x"])],
                };
                const bytes = buildGraph(spec, [{ name: "y", type: "int64", shape }]);
                const m: TestModel = {
                    onnx: bytes,
                    proto: onnx.ModelProto.decode(bytes),
                    program: w.finish(),
                    inputs: spec.inputs,
                    outputs: spec.outputs,
                };
                await expectMatchesReference(m, 0x400 + INT_DTYPE_CODES.int64);
            });

            const clips: [string, IntDType, (number | undefined)[]][] = [
                ["both bounds", "int8", [-20, 30]],
                ["no bounds (the dtype's range)", "int32", []],
                ["only min", "uint8", [100]],
                ["only max", "int64", [undefined, -5]],
                ["min above max (every element becomes max)", "int8", [10, -10]],
            ];
            clips.forEach(([title, dtype, bounds], index) => {
                it(`Clip ${dtype}: ${title}`, async function () {
                    const initializers: InitializerSpec[] = [];
                    const inputs = ["x"];
                    bounds.forEach((b, i) => {
                        if (b === undefined) inputs.push("");
                        else {
                            initializers.push(init(`b${i}`, dtype, [], [b]));
                            inputs.push(`b${i}`);
                        }
                    });
                    const m = testModel({
                        inputs: [{ name: "x", dtype, shape: [2, 5] }],
                        outputs: ["y"],
                        nodes: [node("Clip", inputs)],
                        initializers,
                    });
                    await expectMatchesReference(m, 0x410 + index);
                });
            });

            const casts: [IntDType, IntDType, [bigint, bigint]?][] = [
                ["int8", "int32"],
                ["uint8", "int64"],
                ["int32", "int8", [-128n, 127n]],
                ["int64", "uint8", [0n, 255n]],
                ["uint8", "int8", [0n, 127n]],
            ];
            casts.forEach(([from, to, range], index) => {
                it(`Cast ${from} -> ${to}${range ? ` (declared range [${range}])` : ""}`, async function () {
                    const m = testModel({
                        inputs: [{ name: "x", dtype: from, shape: [6], ...(range ? { range } : {}) }],
                        outputs: ["y"],
                        nodes: [node("Cast", ["x"], { to: { int: INT_DTYPE_CODES[to] } })],
                    });
                    await expectMatchesReference(m, 0x420 + index);
                });
            });

            it("Reshape (0 copies a dim, -1 is inferred) and Flatten share the data of their input", async function () {
                const m = testModel({
                    inputs: [{ name: "x", dtype: "int8", shape: [2, 3, 4] }],
                    outputs: ["r", "f", "x2"],
                    nodes: [
                        { opType: "Reshape", inputs: ["x", "s"], outputs: ["r"] },
                        { opType: "Flatten", inputs: ["x"], outputs: ["f"], attributes: { axis: { int: 2 } } },
                        { opType: "Relu", inputs: ["r"], outputs: ["x2"] },
                    ],
                    initializers: [init("s", "int64", [3], [0, -1, 2])],
                });
                await expectMatchesReference(m, 0x430);
            });
        });

        describe("ArgMax", function () {
            const cases: [IntDType, number[], number, number, number][] = [
                ["int8", [2, 5], -1, 0, 0],
                ["uint8", [3, 4], 0, 1, 0],
                ["int32", [2, 3, 4], 1, 1, 1],
                ["int64", [4, 2, 3], -3, 0, 1],
                ["int8", [7], 0, 0, 1],
            ];
            cases.forEach(([dtype, shape, axis, keepdims, last], index) => {
                it(`${dtype} [${shape}] axis ${axis}, keepdims ${keepdims}, select_last_index ${last} (with ties)`, async function () {
                    const attributes = {
                        axis: { int: axis },
                        keepdims: { int: keepdims },
                        select_last_index: { int: last },
                    };
                    const m = testModel({
                        inputs: [{ name: "x", dtype, shape }],
                        outputs: ["y"],
                        nodes: [node("ArgMax", ["x"], attributes)],
                    });
                    await expectMatchesReference(m, 0x500 + index);
                    // Few distinct values: ties everywhere.
                    const few = testModel({
                        inputs: [{ name: "x", dtype, shape, range: dtype === "uint8" ? [0n, 1n] : [-1n, 0n] }],
                        outputs: ["y"],
                        nodes: [node("ArgMax", ["x"], attributes)],
                    });
                    await expectMatchesReference(few, 0x510 + index);
                });
            });
        });

        describe("Gather", function () {
            it("axis 0, int64 indices incl. negative ones, int8 table", async function () {
                const m = testModel({
                    inputs: [{ name: "i", dtype: "int64", shape: [3], range: [-4n, 3n] }],
                    outputs: ["y"],
                    nodes: [node("Gather", ["t", "i"])],
                    initializers: [init("t", "int8", [4, 3], [1, 2, 3, -1, -2, -3, 4, 0, 4, -128, 127, 5])],
                });
                await expectMatchesReference(m, 0x600);
            });

            it("axis 1, int32 indices [2, 2], int32 table", async function () {
                const m = testModel({
                    inputs: [{ name: "i", dtype: "int32", shape: [2, 2], range: [-4n, 3n] }],
                    outputs: ["y"],
                    nodes: [node("Gather", ["t", "i"], { axis: { int: 1 } })],
                    initializers: [
                        init("t", "int32", [3, 4], [1, -2, 3, -4, 5, -6, 7, -8, 2 ** 31 - 1, -(2 ** 31), 0, 9]),
                    ],
                });
                await expectMatchesReference(m, 0x601);
            });

            it("axis -1 of a rank-3 uint8 table with a scalar index", async function () {
                const m = testModel({
                    inputs: [{ name: "i", dtype: "int64", shape: [], range: [-2n, 1n] }],
                    outputs: ["y"],
                    nodes: [node("Gather", ["t", "i"], { axis: { int: -1 } })],
                    initializers: [init("t", "uint8", [2, 2, 2], [0, 127, 1, 126, 2, 125, 3, 124])],
                });
                await expectMatchesReference(m, 0x602);
            });

            it("reads uint8 constants of 128 and more unsigned (hand-written: compileModel cannot encode them)", async function () {
                // Gather from a uint8 table [4] = [0, 128, 200, 255] stored as the bytes 00 80 c8 ff.
                const w = programStart(3, [["int64", [3], [-4n, 3n]]]);
                w.u16(1).u16(1).header("uint8", [4]).raw([0, 128, 200, 255]);
                w.u16(1).u8(13).u16(2).header("uint8", [3]).u16(1).u16(0).u32(1).u32(4).u32(1);
                w.u8(1).u16(2);
                const spec: GraphSpec = {
                    inputs: [{ name: "i", dtype: "int64", shape: [3], range: [-4n, 3n] }],
                    outputs: ["y"],
                    nodes: [node("Gather", ["t", "i"])],
                    initializers: [init("t", "uint8", [4], [0, 128, 200, 255])],
                };
                const feeds = { i: intTensor("int64", [3], [1, -1, 2]) };
                const want = runGraph(buildGraph(spec, [{ name: "y", type: "uint8", shape: [3] }]), feeds).y!;
                expect(want.data).to.deep.equal([128n, 255n, 200n]);
                const { codes, outputs } = await runMany(w.finish(), [encodeFeeds(spec.inputs, feeds)]);
                expect(codes).to.deep.equal([OK]);
                expect(outputs).to.deep.equal([ethers.hexlify(encodeTensors([codecTensor(want)]))]);
            });
        });

        it("an integer MLP (MatMulInteger, Add, Relu, Div, Clip, Cast, ArgMax) with batch 3", async function () {
            const example = integerMlpModel({ widths: [8, 16, 12, 4], batch: 3 });
            const { program } = compileModel(example.onnx);
            const m: TestModel = {
                onnx: example.onnx,
                proto: onnx.ModelProto.decode(example.onnx),
                program,
                inputs: [{ name: "x", dtype: "int8", shape: [3, 8] }],
                outputs: ["label", "scores"],
            };
            await expectMatchesReference(m, 0x700, 40);
        });

        it("a program without inputs (constants only) takes the empty tensor list", async function () {
            const m = testModel({
                inputs: [],
                outputs: ["y"],
                nodes: [node("Add", ["p", "q"])],
                initializers: [init("p", "int32", [2], [1, -2]), init("q", "int32", [2], [40, 50])],
            });
            await expectMatchesReference(m, 0x701, 1);
        });
    });

    describe("execute (INVALID_INPUT)", function () {
        const decls: InputDecl[] = [
            { name: "a", dtype: "int8", shape: [2, 3], range: [-10n, 10n] },
            { name: "b", dtype: "int32", shape: [3], range: [-1000n, 1000n] },
        ];
        const a = (data: number[] = [1, 2, 3, -4, -5, 10]) => intTensor("int8", [2, 3], data);
        const b = intTensor("int32", [3], [7, -1000, 1000]);
        const hex = (tensors: IntTensor[]) => ethers.hexlify(encodeTensors(tensors.map(codecTensor)));
        const good = () => hex([a(), b]);

        it("accepts the exact tensor list of the declared inputs (OK)", async function () {
            const m = testModel({
                inputs: decls,
                outputs: ["y"],
                nodes: [
                    { opType: "Cast", inputs: ["a"], outputs: ["c"], attributes: { to: { int: 6 } } },
                    node("Add", ["c", "b"]),
                ],
            });
            const { codes, outputs } = await runMany(m.program, [good()]);
            expect(codes).to.deep.equal([OK]);
            expect(outputs).to.deep.equal([expectedOutput(m, { a: a(), b })]);
        });

        it("refuses anything else with INVALID_INPUT and an empty output", async function () {
            const m = testModel({
                inputs: decls,
                outputs: ["y"],
                nodes: [
                    { opType: "Cast", inputs: ["a"], outputs: ["c"], attributes: { to: { int: 6 } } },
                    node("Add", ["c", "b"]),
                ],
            });
            const valid = ethers.getBytes(good());
            const cases: [string, string][] = [
                ["empty bytes", "0x"],
                ["only the version byte", "0x01"],
                ["version 2", ethers.hexlify(patched(valid, 0, [2]))],
                ["count 1", hex([a()])],
                ["count 3", hex([a(), b, b])],
                ["inputs swapped", hex([b, a()])],
                ["dtype int16 for a", ethers.hexlify(patched(valid, 2, [5]))],
                ["dtype uint8 for a", hex([intTensor("uint8", [2, 3], [1, 2, 3, 4, 5, 6]), b])],
                ["rank 1 for a", hex([intTensor("int8", [6], [1, 2, 3, 4, 5, 6]), b])],
                ["shape [3, 2] for a", hex([intTensor("int8", [3, 2], [1, 2, 3, 4, 5, 6]), b])],
                ["shape [4] for b", hex([a(), intTensor("int32", [4], [1, 2, 3, 4])])],
                ["an element of b above the declared max", hex([a(), intTensor("int32", [3], [7, 8, 1001])])],
                ["truncated by one byte", ethers.hexlify(valid.slice(0, valid.length - 1))],
                ["truncated inside a header", ethers.hexlify(valid.slice(0, 5))],
                ["one trailing byte", ethers.hexlify(Uint8Array.from([...valid, 0]))],
                ["an element above the declared max", hex([a([1, 2, 3, 4, 5, 11]), b])],
                ["an element below the declared min", hex([a([-11, 2, 3, 4, 5, 6]), b])],
            ];
            const { codes, outputs } = await runMany(
                m.program,
                cases.map(([, input]) => input),
            );
            cases.forEach(([title], i) => {
                expect([codes[i], outputs[i]], title).to.deep.equal([INVALID_INPUT, "0x"]);
            });
        });
    });

    describe("execute (MODEL_ERROR: hand-written programs, since compiled ones are proven not to fail)", function () {
        /** Runs the ONNX equivalent of a hand-written program in the reference. */
        function reference(spec: GraphSpec, feeds: Feeds): Record<string, IntTensor> {
            return runGraph(
                buildGraph(
                    spec,
                    spec.outputs.map((name) => ({ name, type: "int32", shape: [] })),
                ),
                feeds,
            );
        }

        const binaries: [string, number, IntDType, bigint[], bigint[], string][] = [
            ["Add int8 127 + 127", 2, "int8", [127n, 1n], [127n, 2n], "INTEGER_OVERFLOW"],
            ["Sub uint8 0 - 1", 3, "uint8", [5n, 0n], [1n, 1n], "INTEGER_OVERFLOW"],
            ["Mul int32 65536 * 65536", 4, "int32", [3n, 65_536n], [4n, 65_536n], "INTEGER_OVERFLOW"],
            ["Mul int64 2^32 * 2^31", 4, "int64", [2n ** 32n], [2n ** 31n], "INTEGER_OVERFLOW"],
            ["Div int8 -128 / -1", 5, "int8", [7n, -128n], [2n, -1n], "INTEGER_OVERFLOW"],
            ["Div int32 by zero", 5, "int32", [7n, 1n], [2n, 0n], "DIVISION_BY_ZERO"],
        ];
        for (const [title, opcode, dtype, x, y, code] of binaries) {
            it(`${title}: MODEL_ERROR, and the reference fails (${code})`, async function () {
                const shape = [x.length];
                const program = binaryProgram(opcode, dtype, shape).finish();
                const op = ["", "", "Add", "Sub", "Mul", "Div"][opcode]!;
                const spec: GraphSpec = {
                    inputs: [
                        { name: "a", dtype, shape },
                        { name: "b", dtype, shape },
                    ],
                    outputs: ["y"],
                    nodes: [node(op, ["a", "b"])],
                };
                const bad = { a: intTensor(dtype, shape, x), b: intTensor(dtype, shape, y) };
                const fine = {
                    a: intTensor(
                        dtype,
                        shape,
                        x.map(() => 1n),
                    ),
                    b: intTensor(
                        dtype,
                        shape,
                        y.map(() => 1n),
                    ),
                };
                const { codes, outputs } = await runMany(program, [
                    encodeFeeds(spec.inputs, bad),
                    encodeFeeds(spec.inputs, fine),
                ]);
                expect([codes[0], outputs[0]]).to.deep.equal([MODEL_ERROR, "0x"]);
                expectReferenceError(() => reference(spec, bad), code);
                expect([codes[1], outputs[1]]).to.deep.equal([
                    OK,
                    ethers.hexlify(encodeTensors([codecTensor(reference(spec, fine).y!)])),
                ]);
            });
        }

        it("MatMulInteger whose int32 sum overflows (k = 33,100 of 255 * 255): MODEL_ERROR, like the reference", async function () {
            const k = 33_100;
            const w = programStart(2, [["uint8", [1, k]]]);
            w.u16(0).u16(1);
            w.u8(1).u16(1).header("int32", [1, 1]);
            w.u16(0).u32(k).u32(1).i16(0).u8(0).u16(1).i16(0);
            w.raw(new Array<number>(k).fill(255));
            w.u8(1).u16(1);
            const spec: GraphSpec = {
                inputs: [{ name: "a", dtype: "uint8", shape: [1, k] }],
                outputs: ["y"],
                nodes: [node("MatMulInteger", ["a", "w"])],
                initializers: [init("w", "uint8", [k, 1], new Array<number>(k).fill(255))],
            };
            const full = { a: filled(spec.inputs[0]!, 255n) };
            const half = { a: filled(spec.inputs[0]!, 128n) };
            const { codes, outputs } = await runMany(w.finish(), [
                encodeFeeds(spec.inputs, full),
                encodeFeeds(spec.inputs, half),
            ]);
            expect([codes[0], outputs[0]]).to.deep.equal([MODEL_ERROR, "0x"]);
            expectReferenceError(() => reference(spec, full), "INTEGER_OVERFLOW");
            expect([codes[1], outputs[1]]).to.deep.equal([
                OK,
                ethers.hexlify(encodeTensors([codecTensor(reference(spec, half).y!)])),
            ]);
        });

        it("Gather with an index outside [-dim, dim - 1]: MODEL_ERROR, like the reference", async function () {
            const w = programStart(3, [["int64", [2]]]);
            w.u16(1).u16(1).header("int32", [3]).uint(1n, 4).uint(2n, 4).uint(3n, 4);
            w.u16(1).u8(13).u16(2).header("int32", [2]).u16(1).u16(0).u32(1).u32(3).u32(1);
            w.u8(1).u16(2);
            const spec: GraphSpec = {
                inputs: [{ name: "i", dtype: "int64", shape: [2] }],
                outputs: ["y"],
                nodes: [node("Gather", ["t", "i"])],
                initializers: [init("t", "int32", [3], [1, 2, 3])],
            };
            const feeds = [
                [0n, 3n],
                [-4n, 0n],
                [-3n, 2n],
            ].map((d) => ({ i: intTensor("int64", [2], d) }));
            const { codes, outputs } = await runMany(
                w.finish(),
                feeds.map((f) => encodeFeeds(spec.inputs, f)),
            );
            expect(codes).to.deep.equal([MODEL_ERROR, MODEL_ERROR, OK]);
            expectReferenceError(() => reference(spec, feeds[0]!), "INVALID_ARGUMENT");
            expectReferenceError(() => reference(spec, feeds[1]!), "INVALID_ARGUMENT");
            expect(outputs[2]).to.equal(ethers.hexlify(encodeTensors([codecTensor(reference(spec, feeds[2]!).y!)])));
        });

        it("Cast wraps like static_cast (never an error), as the reference does", async function () {
            // int32 x -> (uint8, int8, int64); int64 z -> int32: a wrapping Cast cannot be compiled, so it is hand-written.
            const w = programStart(6, [
                ["int32", [6]],
                ["int64", [3]],
            ]);
            w.u16(0).u16(4);
            w.u8(12).u16(2).header("uint8", [6]).u16(0);
            w.u8(12).u16(3).header("int8", [6]).u16(0);
            w.u8(12).u16(4).header("int64", [6]).u16(0);
            w.u8(12).u16(5).header("int32", [3]).u16(1);
            w.u8(4).u16(2).u16(3).u16(4).u16(5);
            const spec: GraphSpec = {
                inputs: [
                    { name: "x", dtype: "int32", shape: [6] },
                    { name: "z", dtype: "int64", shape: [3] },
                ],
                outputs: ["u", "s", "l", "t"],
                nodes: [
                    { opType: "Cast", inputs: ["x"], outputs: ["u"], attributes: { to: { int: 2 } } },
                    { opType: "Cast", inputs: ["x"], outputs: ["s"], attributes: { to: { int: 3 } } },
                    { opType: "Cast", inputs: ["x"], outputs: ["l"], attributes: { to: { int: 7 } } },
                    { opType: "Cast", inputs: ["z"], outputs: ["t"], attributes: { to: { int: 6 } } },
                ],
            };
            const feeds = {
                x: intTensor("int32", [6], [300, 200, -129, 2 ** 31 - 1, -(2 ** 31), -1]),
                z: intTensor("int64", [3], [2n ** 31n, -(2n ** 63n), 2n ** 63n - 1n]),
            };
            const want = reference(spec, feeds);
            expect(want.u!.data).to.deep.equal([44n, 200n, 127n, 255n, 0n, 255n]);
            const { codes, outputs } = await runMany(w.finish(), [encodeFeeds(spec.inputs, feeds)]);
            expect(codes).to.deep.equal([OK]);
            expect(outputs[0]).to.equal(
                ethers.hexlify(encodeTensors(spec.outputs.map((name) => codecTensor(want[name]!)))),
            );
        });
    });

    describe("execute (malformed programs revert, whatever the input)", function () {
        const ADD = binaryProgram(2, "int8", [2]);
        const add = ADD.finish();
        const at = ADD.at;
        const input = ethers.hexlify(
            encodeTensors([
                { dtype: 3, shape: [2], data: [1n, 2n] },
                { dtype: 3, shape: [2], data: [3n, 4n] },
            ]),
        );

        async function expectRevert(program: Uint8Array, error: string, args: unknown[]): Promise<void> {
            const { executor } = await loadFixture(deploy);
            for (const data of [input, "0x", "0x0100"]) {
                await expect(executor.execute(program, data))
                    .to.be.revertedWithCustomError(executor, error)
                    .withArgs(...args);
            }
        }

        it("the well-formed base program runs (OK)", async function () {
            const { executor } = await loadFixture(deploy);
            const [code, output] = await executor.execute(add, input);
            expect(code).to.equal(OK);
            expect(output).to.equal(ethers.hexlify(encodeTensors([{ dtype: 3, shape: [2], data: [4n, 6n] }])));
        });

        it("reverts on another version (ExecutorUnsupportedVersion)", async function () {
            await expectRevert(patched(add, 0, [2]), "ExecutorUnsupportedVersion", [2]);
        });

        it("reverts on a truncated program (ExecutorProgramTruncated)", async function () {
            await expectRevert(new Uint8Array(), "ExecutorProgramTruncated", [0, 1]);
            await expectRevert(add.slice(0, add.length - 1), "ExecutorProgramTruncated", [add.length - 1, add.length]);
            await expectRevert(add.slice(0, at["dims"]! + 2), "ExecutorProgramTruncated", [
                at["dims"]! + 2,
                at["dims"]! + 4,
            ]);
        });

        it("reverts on trailing bytes (ExecutorProgramTrailingBytes)", async function () {
            const long = Uint8Array.from([...add, 0]);
            await expectRevert(long, "ExecutorProgramTrailingBytes", [add.length + 1, add.length]);
        });

        it("reverts on an unknown opcode (ExecutorInvalidOpcode)", async function () {
            await expectRevert(patched(add, at["op"]!, [14]), "ExecutorInvalidOpcode", [at["op"], 14]);
            await expectRevert(patched(add, at["op"]!, [0]), "ExecutorInvalidOpcode", [at["op"], 0]);
        });

        it("reverts on a slot outside the slot count (ExecutorInvalidSlot)", async function () {
            await expectRevert(patched(add, at["a"]!, [0, 7]), "ExecutorInvalidSlot", [at["a"], 7, 3]);
            await expectRevert(patched(add, at["out"]!, [1, 0]), "ExecutorInvalidSlot", [at["out"], 256, 3]);
            await expectRevert(patched(add, at["output"]!, [0, 3]), "ExecutorInvalidSlot", [at["output"], 3, 3]);
            await expectRevert(patched(add, at["inputCount"]!, [4]), "ExecutorInvalidSlot", [at["inputCount"], 3, 3]);
        });

        it("reverts on reading a slot not yet written (ExecutorSlotNotWritten)", async function () {
            // The op reads its own output.
            await expectRevert(patched(add, at["b"]!, [0, 2]), "ExecutorSlotNotWritten", [at["b"], 2]);
            // Slot count 4: the output list names slot 3, which nothing writes.
            const four = patched(patched(add, at["slotCount"]!, [0, 4]), at["output"]!, [0, 3]);
            await expectRevert(four, "ExecutorSlotNotWritten", [at["output"], 3]);
        });

        it("reverts on writing a slot twice (ExecutorSlotAlreadyWritten)", async function () {
            await expectRevert(patched(add, at["out"]!, [0, 1]), "ExecutorSlotAlreadyWritten", [at["out"], 1]);
        });

        it("reverts on bad tensor headers (ExecutorUnknownDtype, ExecutorRankTooLarge, ExecutorZeroDim, ExecutorTooManyElements)", async function () {
            await expectRevert(patched(add, at["dtype"]!, [4]), "ExecutorUnknownDtype", [at["dtype"], 4]);
            await expectRevert(patched(add, at["input1"]!, [9]), "ExecutorUnknownDtype", [at["input1"], 9]);
            await expectRevert(patched(add, at["rank"]!, [9]), "ExecutorRankTooLarge", [at["rank"], 9, 8]);
            await expectRevert(patched(add, at["dims"]!, u32Bytes(0)), "ExecutorZeroDim", [at["dims"]]);
            await expectRevert(patched(add, at["input0"]! + 2, u32Bytes(2 ** 24 + 1)), "ExecutorTooManyElements", [
                at["input0"]! + 1,
                2 ** 24 + 1,
                2 ** 24,
            ]);
        });

        it("reverts on inconsistent element counts and dtypes (ExecutorShapeMismatch, ExecutorDtypeMismatch)", async function () {
            await expectRevert(patched(add, at["dims"]!, u32Bytes(3)), "ExecutorShapeMismatch", [at["aMap"], 2, 3]);
            await expectRevert(patched(add, at["dtype"]!, [6]), "ExecutorDtypeMismatch", [at["op"], 3, 6]);
        });

        it("reverts on a broadcast map of an unknown kind or reading past its operand", async function () {
            await expectRevert(patched(add, at["aMap"]!, [3]), "ExecutorInvalidMapKind", [at["aMap"], 3]);
            // Kind 1 reads a 4-byte m after the kind byte: the last map of the program is then truncated.
            await expectRevert(patched(add, at["bMap"]!, [1]), "ExecutorProgramTruncated", [
                add.length,
                add.length + 1,
            ]);
        });

        describe("op-specific fields", function () {
            /** uint8 A [1, 3] x int8 B [3, 2] (bSigned 1, one zero point). */
            function matMul(): ProgramBytes {
                const w = programStart(2, [["int8", [1, 3]]]);
                w.u16(0).u16(1);
                w.mark("op").u8(1).u16(1).mark("dtype").header("int32", [1, 2]);
                w.mark("a").u16(0).mark("k").u32(3).mark("n").u32(2).mark("aZero").i16(0);
                w.mark("bSigned").u8(1).mark("bZeroCount").u16(1).mark("bZero").i16(0);
                w.mark("weights").raw([1, 2, 3, 4, 5, 6]);
                return w.u8(1).u16(1);
            }

            it("MatMulInteger: runs the base program", async function () {
                const { executor } = await loadFixture(deploy);
                const x = ethers.hexlify(encodeTensors([{ dtype: 3, shape: [1, 3], data: [1n, -1n, 2n] }]));
                // Weights are stored column-major as w + 128: column 0 = [1, 2, 3] - 128, column 1 = [4, 5, 6] - 128.
                const [code, output] = await executor.execute(matMul().finish(), x);
                expect(code).to.equal(OK);
                const col = (u: number[]) => BigInt(u[0]! - 128 - (u[1]! - 128) + 2 * (u[2]! - 128));
                expect(output).to.equal(
                    ethers.hexlify(
                        encodeTensors([{ dtype: 6, shape: [1, 2], data: [col([1, 2, 3]), col([4, 5, 6])] }]),
                    ),
                );
            });

            it("MatMulInteger: bad operand dtype, zero points, flag and counts", async function () {
                const w = matMul();
                const p = w.finish();
                const a = w.at;
                await expectRevert(patched(p, a["input0"]!, [6]), "ExecutorUnsupportedDtype", [a["a"], 6]);
                await expectRevert(patched(p, a["dtype"]!, [7]), "ExecutorDtypeMismatch", [a["op"], 7, 6]);
                await expectRevert(patched(p, a["aZero"]!, [0, 200]), "ExecutorInvalidZeroPoint", [a["aZero"], 200]);
                await expectRevert(patched(p, a["bZero"]!, [0, 128]), "ExecutorInvalidZeroPoint", [a["bZero"], 128]);
                await expectRevert(patched(p, a["bSigned"]!, [2]), "ExecutorInvalidFlag", [a["bSigned"], 2]);
                await expectRevert(patched(p, a["bZeroCount"]!, [0, 3]), "ExecutorInvalidZeroPointCount", [
                    a["bZeroCount"],
                    3,
                    2,
                ]);
                await expectRevert(patched(p, a["k"]!, u32Bytes(2)), "ExecutorShapeMismatch", [a["op"], 3, 2]);
                await expectRevert(patched(p, a["n"]!, u32Bytes(3)), "ExecutorShapeMismatch", [a["op"], 2, 3]);
                await expectRevert(p.slice(0, a["weights"]! + 2), "ExecutorProgramTruncated", [
                    a["weights"]! + 2,
                    a["weights"]! + 6,
                ]);
            });

            it("Clip: a bound outside the dtype (ExecutorInvalidClipBound)", async function () {
                const w = programStart(2, [["int8", [2]]]);
                w.u16(0).u16(1).u8(9).u16(1).header("int8", [2]).u16(0).mark("lo").i64(-128).mark("hi").i64(127);
                w.u8(1).u16(1);
                const p = w.finish();
                const { executor } = await loadFixture(deploy);
                const [code] = await executor.execute(
                    p,
                    ethers.hexlify(encodeTensors([{ dtype: 3, shape: [2], data: [1n, 2n] }])),
                );
                expect(code).to.equal(OK);
                await expectRevert(patched(p, w.at["lo"]! + 6, [0xff, 0x7f]), "ExecutorInvalidClipBound", [
                    w.at["lo"],
                    -129,
                ]);
                await expectRevert(patched(p, w.at["hi"]! + 7, [0x80]), "ExecutorInvalidClipBound", [w.at["hi"], 128]);
            });

            it("ArgMax: selectLastIndex other than 0 / 1 (ExecutorInvalidFlag), output not int64", async function () {
                const w = programStart(2, [["int8", [2, 3]]]);
                w.u16(0).u16(1).mark("op").u8(10).u16(1).mark("dtype").header("int64", [2]);
                w.u16(0).u32(2).u32(3).u32(1).mark("flag").u8(0);
                w.u8(1).u16(1);
                const p = w.finish();
                await expectRevert(patched(p, w.at["flag"]!, [2]), "ExecutorInvalidFlag", [w.at["flag"], 2]);
                await expectRevert(patched(p, w.at["dtype"]!, [6]), "ExecutorDtypeMismatch", [w.at["op"], 6, 7]);
            });

            it("Gather: indices of a dtype other than int32 / int64 (ExecutorUnsupportedDtype)", async function () {
                const w = programStart(3, [["int8", [2]]]);
                w.u16(1).u16(1).header("int32", [3]).uint(1n, 4).uint(2n, 4).uint(3n, 4);
                w.u16(1).u8(13).u16(2).header("int32", [2]).u16(1).mark("indices").u16(0).u32(1).u32(3).u32(1);
                w.u8(1).u16(2);
                await expectRevert(w.finish(), "ExecutorUnsupportedDtype", [w.at["indices"], 3]);
            });
        });
    });

    describe("ProgramStore", function () {
        /** Writes `program` as chunks of at most `size` bytes; returns their pointers. */
        async function writeChunks(store: ProgramStore, program: Uint8Array, size = MAX_CHUNK): Promise<string[]> {
            const pointers: string[] = [];
            for (let at = 0; at < program.length; at += size) {
                const data = program.slice(at, at + size);
                const pointer = await store.writeChunk.staticCall(data);
                await expect(store.writeChunk(data))
                    .to.emit(store, "ProgramChunkWritten")
                    .withArgs(pointer, data.length);
                pointers.push(pointer);
            }
            return pointers;
        }

        const big = () => compileModel(integerMlpModel({ widths: [128, 128, 128, 10] }).onnx);

        it("writes a chunk as a data contract whose code is STOP followed by the data", async function () {
            const { store } = await loadFixture(deploy);
            const data = Uint8Array.from([1, 2, 3, 0, 255]);
            const [pointer] = await writeChunks(store, data);
            expect(await ethers.provider.getCode(pointer!)).to.equal(ethers.hexlify(Uint8Array.from([0, ...data])));
            expect(await store.maxChunkSize()).to.equal(MAX_CHUNK);
        });

        it("takes a chunk of 24,575 bytes and reverts above (ProgramStoreChunkTooLarge)", async function () {
            const { store } = await loadFixture(deploy);
            await writeChunks(store, new Uint8Array(MAX_CHUNK).fill(7));
            await expect(store.writeChunk(new Uint8Array(MAX_CHUNK + 1)))
                .to.be.revertedWithCustomError(store, "ProgramStoreChunkTooLarge")
                .withArgs(MAX_CHUNK + 1, MAX_CHUNK);
        });

        it("registers a program of several chunks under its keccak256 and loads it back", async function () {
            const { store } = await loadFixture(deploy);
            const { program, programHash } = big();
            expect(program.length).to.be.greaterThan(MAX_CHUNK);
            const pointers = await writeChunks(store, program);
            expect(pointers).to.have.length(Math.ceil(program.length / MAX_CHUNK));
            expect(programHash).to.equal(ethers.keccak256(program));
            expect(await store.register.staticCall(pointers)).to.equal(programHash);
            await expect(store.register(pointers))
                .to.emit(store, "ProgramRegistered")
                .withArgs(programHash, pointers.length, program.length);
            expect(await store.exists(programHash)).to.equal(true);
            expect(await store.programSize(programHash)).to.equal(program.length);
            expect(await store.chunksOf(programHash)).to.deep.equal(pointers);
            expect(await store.load(programHash)).to.equal(ethers.hexlify(program));
        });

        it("is idempotent: the same bytes, chunked again, keep their first registration", async function () {
            const { store } = await loadFixture(deploy);
            const { program, programHash } = big();
            const first = await writeChunks(store, program);
            await store.register(first);
            await expect(store.register(first)).not.to.emit(store, "ProgramRegistered");
            const second = await writeChunks(store, program);
            expect(await store.register.staticCall(second)).to.equal(programHash);
            await expect(store.register(second)).not.to.emit(store, "ProgramRegistered");
            expect(await store.chunksOf(programHash)).to.deep.equal(first);
        });

        it("takes only the canonical split: full chunks then one non-empty last (ProgramStoreNonCanonicalChunk)", async function () {
            const { store } = await loadFixture(deploy);
            const { program } = big();
            // Smaller chunks than the maximum would let a griefer register a program as thousands of chunks first.
            const small = await writeChunks(store, program, 10_000);
            await expect(store.register(small))
                .to.be.revertedWithCustomError(store, "ProgramStoreNonCanonicalChunk")
                .withArgs(0, 10_000, MAX_CHUNK);
            const empty = await store.writeChunk.staticCall("0x");
            await store.writeChunk("0x");
            const full = await writeChunks(store, program.slice(0, MAX_CHUNK));
            await expect(store.register([...full, empty]))
                .to.be.revertedWithCustomError(store, "ProgramStoreNonCanonicalChunk")
                .withArgs(1, 0, 1);
        });

        it("reverts on no chunks, a pointer without code and a contract it did not write", async function () {
            const { store, executor } = await loadFixture(deploy);
            await expect(store.register([])).to.be.revertedWithCustomError(store, "ProgramStoreNoChunks");
            const nobody = ethers.Wallet.createRandom().address;
            await expect(store.register([nobody]))
                .to.be.revertedWithCustomError(store, "ProgramStoreEmptyChunk")
                .withArgs(nobody);
            const foreign = await executor.getAddress();
            await expect(store.register([foreign]))
                .to.be.revertedWithCustomError(store, "ProgramStoreUnknownChunk")
                .withArgs(foreign);
        });

        it("reverts on reading an unknown program (ProgramStoreUnknownProgram)", async function () {
            const { store } = await loadFixture(deploy);
            const unknown = ethers.keccak256("0x1234");
            expect(await store.exists(unknown)).to.equal(false);
            for (const read of [store.load, store.programSize, store.chunksOf]) {
                await expect(read(unknown))
                    .to.be.revertedWithCustomError(store, "ProgramStoreUnknownProgram")
                    .withArgs(unknown);
            }
        });

        it("a stored program runs in the executor like the original bytes (loaded by load() or by EXTCODECOPY)", async function () {
            const { store, executor, harness } = await loadFixture(deploy);
            const example = integerMlpModel({ widths: [128, 128, 128, 10] });
            const { program, programHash } = compileModel(example.onnx);
            await store.register(await writeChunks(store, program));
            const x = intTensor(
                "int8",
                [1, 128],
                Array.from({ length: 128 }, (_, i) => ((i * 37) % 256) - 128),
            );
            const input = ethers.hexlify(encodeTensors([codecTensor(x)]));
            const [, execGas, code, output] = await harness.measureStored(
                await executor.getAddress(),
                await store.getAddress(),
                programHash,
                input,
            );
            const [, directGas, code3, output3] = await harness.measureStoredDirect(
                await executor.getAddress(),
                await store.getAddress(),
                programHash,
                input,
            );
            const [gas, code2, output2] = await harness.measure(await executor.getAddress(), program, input);
            expect([code, output]).to.deep.equal([BigInt(OK), output2]);
            expect([code3, output3]).to.deep.equal([BigInt(OK), output2]);
            expect(code2).to.equal(BigInt(OK));
            expect(execGas).to.equal(gas);
            expect(directGas).to.equal(gas);
            const out = runGraph(example.onnx, { x });
            expect(output).to.equal(ethers.hexlify(encodeTensors([codecTensor(out.label!), codecTensor(out.scores!)])));
        });
    });
});
