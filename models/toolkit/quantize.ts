/**
 * Float MLP → quantized integer ONNX model: the publisher tool that turns a small trained multi-layer perceptron
 * into a model of Verity's verifiable subset (integer-only ops that the reference interpreter in
 * oracle/src/verify/reference.ts and onnxruntime compute bit for bit alike). models/iris is built with it.
 *
 * ## Float MLP JSON, version 1
 *
 * ```json
 * { "version": 1,
 *   "inputs": 4,
 *   "normalization": { "mean": [5.8, 3.0, 3.7, 1.2], "std": [0.8, 0.4, 1.7, 0.7] },
 *   "layers": [ { "weights": [[...8 numbers], ...4 rows], "bias": [...8], "activation": "relu" },
 *               { "weights": [[...3 numbers], ...8 rows], "bias": [...3], "activation": "none" } ] }
 * ```
 *
 * - `inputs`: the number of input features N (an integer >= 1).
 * - `layers`: at least one. `weights` is [in][out] (row k holds input k's weights to every output), `bias` is
 *   [out]; the first layer's `in` is N, each later layer's `in` is the previous layer's `out`. Layer output
 *   `y_j = act(sum_k x_k * weights[k][j] + bias[j])` with `act` = `relu` (max(0, v)) or `none` (identity).
 * - `normalization` (optional): a per-feature standardization the consumer applies to a raw sample before
 *   quantizing it, `(raw_k - mean[k]) / std[k]` (see `normalizeFeatures`). It is not part of the graph: the
 *   layers, `evaluateFloatMlp`, `quantizeInput` and calibration data all work on normalized ("model") features.
 * - Every number must be finite; unknown fields are refused.
 *
 * ## Quantization scheme (Verity MLP int8 scheme, version 1)
 *
 * Notation: `round(v)` rounds half away from zero; `clamp(v, lo, hi)`; `trunc` rounds toward zero;
 * INT32_MAX = 2^31 - 1. Real values are approximated as `integer * scale`.
 *
 * 1. Input. `inputScale` s_0 = max |x| over the calibration data / 127 (or `options.inputScale`). The caller
 *    sends `x_q = clamp(round(x / s_0), -127, 127)` (`quantizeInput`) as the int8 tensor `features` [1, N]. The
 *    model accepts, and stays overflow-free for, any int8 input, -128 included.
 * 2. Layer l, whose int8 input has scale s_l (s_0 for the first layer, the previous layer's output scale
 *    otherwise), with float weights w [in][out] and bias b [out]:
 *    - weight scale s_w = max |w| / 127 (symmetric, one per layer; 1/127 if every weight is 0), and
 *      `W_q = round(w / s_w)` in [-127, 127], a constant int8 [in, out];
 *    - accumulator scale s_acc = s_l * s_w, and `B_q = round(b / s_acc)`, a constant int32 [out] (a bias outside
 *      int32 is refused: BIAS_OVERFLOW);
 *    - `acc = Add(MatMulInteger(x, W_q), B_q)` (no zero points), int32 [1, out]; `acc * s_acc` ≈ the float
 *      pre-activation;
 *    - worst-case bound A = max over columns j of (128 * sum_k |W_q[k][j]| + |B_q[j]|) >= |acc| for every int8
 *      input; A > INT32_MAX is refused (ACCUMULATOR_OVERFLOW).
 * 3. Hidden layer l (every layer but the last) requantizes to int8:
 *    - output scale s_{l+1} = max |activation output| of the layer over the float forward pass of the calibration
 *      data / 127 (1 if that maximum is 0), or `options.activationScales[l]`;
 *    - target ratio r = s_acc / s_{l+1}; divisor D = 2^k and multiplier M = round(r * 2^k), with k the largest
 *      integer in [0, 30] such that M >= 1 and A * M <= INT32_MAX, so no int32 intermediate can overflow for any
 *      int8 input (no such k: REQUANTIZATION_RANGE);
 *    - nodes: `Relu` (activation relu only) → `Mul(·, M)` → `Div(·, D)` (integer Div truncates toward zero) →
 *      `Clip(·, -128, 127)` → `Cast(to = int8)`, i.e. `x_{l+1} = clamp(trunc(act(acc) * M / D), -128, 127)`;
 *      M, D and the Clip bounds are int32 scalar constants.
 * 4. Last layer: no requantization. `scores = act(acc)`, int32 [1, out] (Relu only if the layer says relu), and
 *    `scores * s_acc` ≈ the float MLP's output (`scoreScale`); `label = ArgMax(scores, axis = 1, keepdims = 0)`
 *    (the first index on ties), int64 [1].
 *
 * The model: ONNX IR 8, opset 17, input `features` int8 [1, N], outputs `label` int64 [1] and `scores` int32
 * [1, out], and its manifest (`{ features int8 [1, N] } → { label int64 [1], scores int32 [1, out] }`) embedded
 * as the `verity.manifest` metadata entry. Only MatMulInteger, Add, Relu, Mul, Div, Clip, Cast and ArgMax occur.
 */
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { z } from "zod";
import { PermanentError, VerityError } from "../../oracle/src/internal/errors";
import { formatZodIssues } from "../../oracle/src/internal/zodIssues";
import { embedManifest } from "../../oracle/src/protocol/manifest";
import { buildOnnxModel, type InitializerSpec, type NodeSpec } from "../../oracle/src/toolkit/onnxGraph";
import { INT_DTYPE_CODES, intTensor, runGraph, type IntTensor } from "../../oracle/src/verify/reference";
import { formatManifestJson } from "../examples";

/** Largest int32 value. */
export const INT32_MAX = 2 ** 31 - 1;
/** Largest magnitude of a quantized weight or input feature (symmetric int8). */
export const INT8_QMAX = 127;
/** Largest k of the requantization divisor D = 2^k (2^30 is the largest power of two in int32). */
export const MAX_REQUANT_SHIFT = 30;
/** Name of the model's input tensor. */
export const FEATURES_INPUT = "features";
/** Name of the model's int64 [1] output: the index of the largest score. */
export const LABEL_OUTPUT = "label";
/** Name of the model's int32 [1, out] output: the last layer's integer outputs. */
export const SCORES_OUTPUT = "scores";

/** Error codes of the toolkit. */
export type QuantizeErrorCode =
    | "INVALID_FLOAT_MLP"
    | "INVALID_OPTIONS"
    | "INVALID_INPUT"
    | "INVALID_DATA"
    | "BIAS_OVERFLOW"
    | "ACCUMULATOR_OVERFLOW"
    | "REQUANTIZATION_RANGE"
    | "ONNXRUNTIME_MISMATCH";

/** A float MLP, option or input the toolkit cannot quantize or evaluate. Permanent: retrying fails again. */
export class QuantizeError extends PermanentError {
    override readonly code: QuantizeErrorCode;

    constructor(code: QuantizeErrorCode, message: string, options?: { cause?: unknown }) {
        super(code, message, options);
        this.code = code;
    }
}

// -------------------------------------------------------------------------------------------------------------
// The float MLP format
// -------------------------------------------------------------------------------------------------------------

const finite = z.number({ error: "must be a finite number" });

const layerSchema = z.strictObject({
    weights: z.array(z.array(finite)).min(1, { message: "must have at least one row (one per input)" }),
    bias: z.array(finite).min(1, { message: "must have at least one element (one per output)" }),
    activation: z.enum(["relu", "none"]),
});

const floatMlpSchema = z
    .strictObject({
        version: z.literal(1),
        inputs: z.number().int().min(1),
        normalization: z
            .strictObject({
                mean: z.array(finite),
                std: z.array(finite.positive({ message: "must be a positive number" })),
            })
            .optional(),
        layers: z.array(layerSchema).min(1, { message: "at least one layer is required" }),
    })
    .superRefine((mlp, ctx) => {
        if (mlp.normalization !== undefined) {
            for (const key of ["mean", "std"] as const) {
                const length = mlp.normalization[key].length;
                if (length !== mlp.inputs) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["normalization", key],
                        message: `has ${length} elements, want ${mlp.inputs} (inputs)`,
                    });
                }
            }
        }
        let width = mlp.inputs;
        let widthSource = "inputs";
        mlp.layers.forEach((layer, i) => {
            if (layer.weights.length !== width) {
                ctx.addIssue({
                    code: "custom",
                    path: ["layers", i, "weights"],
                    message: `has ${layer.weights.length} rows, want ${width} (${widthSource})`,
                });
            }
            const out = layer.bias.length;
            layer.weights.forEach((row, k) => {
                if (row.length !== out) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["layers", i, "weights", k],
                        message: `has ${row.length} columns, want ${out} (the length of layers[${i}].bias)`,
                    });
                }
            });
            width = out;
            widthSource = `the outputs of layers[${i}]`;
        });
    });

/** A float MLP (see the file header for the JSON format and its meaning). */
export type FloatMlp = z.infer<typeof floatMlpSchema>;
/** One dense layer of a FloatMlp. */
export type FloatLayer = FloatMlp["layers"][number];

/**
 * Validates a float MLP value (already parsed from JSON, or built in code). Throws QuantizeError
 * `INVALID_FLOAT_MLP` whose message names each bad field, e.g.
 * `Invalid float MLP: layers[1].weights: has 6 rows, want 8 (the outputs of layers[0])`.
 */
export function checkFloatMlp(value: unknown): FloatMlp {
    const result = floatMlpSchema.safeParse(value);
    if (!result.success) {
        throw new QuantizeError("INVALID_FLOAT_MLP", `Invalid float MLP: ${formatZodIssues(result.error).join("; ")}`, {
            cause: result.error,
        });
    }
    return result.data;
}

/** Parses and validates float MLP JSON (strict: unknown fields are refused). See `checkFloatMlp` for errors. */
export function parseFloatMlp(json: string): FloatMlp {
    let value: unknown;
    try {
        value = JSON.parse(json);
    } catch (err) {
        throw new QuantizeError("INVALID_FLOAT_MLP", `Invalid float MLP: not JSON: ${(err as Error).message}`, {
            cause: err,
        });
    }
    return checkFloatMlp(value);
}

// -------------------------------------------------------------------------------------------------------------
// Float evaluation
// -------------------------------------------------------------------------------------------------------------

function checkFeatures(what: string, x: readonly number[], n: number): void {
    if (x.length !== n) throw new QuantizeError("INVALID_INPUT", `${what} has ${x.length} features, want ${n}`);
    x.forEach((v, i) => {
        if (!Number.isFinite(v)) throw new QuantizeError("INVALID_INPUT", `${what}[${i}] is not finite: ${v}`);
    });
}

/** The output of every layer (after its activation) for model features `x`. */
function forwardLayers(mlp: FloatMlp, x: readonly number[]): number[][] {
    checkFeatures("x", x, mlp.inputs);
    const outputs: number[][] = [];
    let h: readonly number[] = x;
    for (const layer of mlp.layers) {
        const y = layer.bias.map((b, j) => {
            let s = b;
            h.forEach((v, k) => (s += v * layer.weights[k]![j]!));
            return layer.activation === "relu" && s < 0 ? 0 : s;
        });
        outputs.push(y);
        h = y;
    }
    return outputs;
}

/** The float MLP's output (the last layer's, after its activation) for model (normalized) features `x`. */
export function evaluateFloatMlp(mlp: FloatMlp, x: readonly number[]): number[] {
    const outputs = forwardLayers(mlp, x);
    return outputs[outputs.length - 1]!;
}

/** Index of the largest element; the first one on ties (as ONNX ArgMax with select_last_index = 0). */
export function argMaxIndex(values: readonly number[]): number {
    let best = 0;
    values.forEach((v, i) => {
        if (v > values[best]!) best = i;
    });
    return best;
}

/** Model features of a raw sample: `(raw - mean) / std` per feature with the MLP's normalization, else `raw`. */
export function normalizeFeatures(mlp: FloatMlp, raw: readonly number[]): number[] {
    checkFeatures("raw sample", raw, mlp.inputs);
    const norm = mlp.normalization;
    if (norm === undefined) return [...raw];
    return raw.map((v, k) => (v - norm.mean[k]!) / norm.std[k]!);
}

// -------------------------------------------------------------------------------------------------------------
// Quantization
// -------------------------------------------------------------------------------------------------------------

/** `v` rounded to the nearest integer, half away from zero (never -0). */
export function roundHalfAwayFromZero(v: number): number {
    const r = Math.sign(v) * Math.round(Math.abs(v));
    return r === 0 ? 0 : r;
}

function clamp(v: number, lo: number, hi: number): number {
    return v < lo ? lo : v > hi ? hi : v;
}

function checkScale(what: string, scale: number): void {
    if (!(Number.isFinite(scale) && scale > 0)) {
        throw new QuantizeError("INVALID_OPTIONS", `${what} must be a finite number > 0, got ${scale}`);
    }
}

/**
 * The int8 features the model takes for model (normalized) features `x`: `clamp(round(x / inputScale), -127,
 * 127)`, rounding half away from zero.
 */
export function quantizeInput(x: readonly number[], inputScale: number): number[] {
    checkScale("inputScale", inputScale);
    checkFeatures("x", x, x.length);
    return x.map((v) => clamp(roundHalfAwayFromZero(v / inputScale), -INT8_QMAX, INT8_QMAX));
}

/** How to choose the activation scales. Without `calibration`, both scales must be given. */
export interface QuantizeOptions {
    /** Model-feature samples: the input and hidden activation scales are their max |value| / 127. */
    calibration?: readonly (readonly number[])[];
    /** Scale of the int8 input (real = integer * inputScale); overrides the calibrated one. */
    inputScale?: number;
    /** Output scale of each hidden layer (one per layer but the last); overrides the calibrated ones. */
    activationScales?: readonly number[];
}

/** The requantization of a hidden layer's int32 accumulator to the next layer's int8 input. */
export interface Requantization {
    /** Scale of the layer's int8 output (the next layer's input scale). */
    outputScale: number;
    /** accScale / outputScale: what M / D approximates. */
    targetRatio: number;
    /** M, the int32 multiplier. */
    multiplier: number;
    /** k, with D = 2^k. */
    shift: number;
    /** D = 2^k, the int32 divisor. */
    divisor: number;
}

/** The quantization of one layer. */
export interface LayerQuantization {
    /** Scale of the layer's int8 input. */
    inputScale: number;
    /** Scale of the int8 weights: max |w| / 127. */
    weightScale: number;
    /** inputScale * weightScale: the real value of one unit of the int32 accumulator and of the int32 bias. */
    accScale: number;
    /** Worst-case |MatMulInteger + bias| over every int8 input: max_j (128 * sum_k |W_q[k][j]| + |B_q[j]|). */
    accBound: number;
    /** Hidden layers only: Relu → Mul(M) → Div(D) → Clip → Cast(int8). */
    requantization?: Requantization;
}

/** Every scale and constant the quantization chose (see the file header). */
export interface QuantizationParams {
    /** "verity-mlp-int8/1": the scheme in this file's header. */
    scheme: string;
    /** Scale of the int8 `features` input: send clamp(round(x / inputScale), -127, 127). */
    inputScale: number;
    /** One entry per layer. */
    layers: LayerQuantization[];
    /** The real value of one unit of `scores` (the last layer's accScale). */
    scoreScale: number;
}

/** The quantized model: ONNX bytes with the manifest embedded, the exact manifest string, and the parameters. */
export interface QuantizedModel {
    onnx: Uint8Array;
    manifestJson: string;
    quantization: QuantizationParams;
}

/** Name of the scheme `buildQuantizedModel` implements. */
export const QUANTIZATION_SCHEME = "verity-mlp-int8/1";

function maxAbs(rows: readonly (readonly number[])[], what: string): number {
    let m = 0;
    for (const row of rows) for (const v of row) m = Math.max(m, Math.abs(v));
    if (!Number.isFinite(m)) throw new QuantizeError("INVALID_OPTIONS", `${what} holds a value that is not finite`);
    return m;
}

function resolveScales(mlp: FloatMlp, options: QuantizeOptions): { input: number; hidden: number[] } {
    const hiddenCount = mlp.layers.length - 1;
    const calibration = options.calibration ?? [];
    calibration.forEach((x, i) => checkFeatures(`calibration[${i}]`, x, mlp.inputs));
    const needCalibration = (what: string): never => {
        throw new QuantizeError("INVALID_OPTIONS", `${what}: give it in the options or give calibration data`);
    };

    let input = options.inputScale;
    if (input === undefined) {
        if (calibration.length === 0) needCalibration("inputScale");
        const m = maxAbs(calibration, "calibration");
        if (m === 0) throw new QuantizeError("INVALID_OPTIONS", "calibration: every feature is 0, no input scale");
        input = m / INT8_QMAX;
    }
    checkScale("inputScale", input);

    let hidden: number[];
    if (options.activationScales !== undefined) {
        hidden = [...options.activationScales];
        if (hidden.length !== hiddenCount) {
            throw new QuantizeError(
                "INVALID_OPTIONS",
                `activationScales has ${hidden.length} entries, want ${hiddenCount} (one per hidden layer)`,
            );
        }
    } else {
        if (hiddenCount > 0 && calibration.length === 0) needCalibration("activationScales");
        const maxima = new Array<number>(hiddenCount).fill(0);
        for (const x of calibration) {
            forwardLayers(mlp, x)
                .slice(0, hiddenCount)
                .forEach((y, l) => (maxima[l] = Math.max(maxima[l]!, maxAbs([y], `layer ${l} activations`))));
        }
        hidden = maxima.map((m) => (m > 0 ? m / INT8_QMAX : 1));
    }
    hidden.forEach((s, l) => checkScale(`activationScales[${l}]`, s));
    return { input, hidden };
}

/** The largest k in [0, 30] with M = round(r * 2^k) >= 1 and accBound * M <= INT32_MAX. */
function chooseRequantization(layer: number, targetRatio: number, accBound: number, outputScale: number) {
    for (let shift = MAX_REQUANT_SHIFT; shift >= 0; shift--) {
        const multiplier = roundHalfAwayFromZero(targetRatio * 2 ** shift);
        if (multiplier < 1) {
            throw new QuantizeError(
                "REQUANTIZATION_RANGE",
                `layers[${layer}]: the requantization ratio ${targetRatio} (accScale / outputScale) is below ` +
                    `2^-${MAX_REQUANT_SHIFT + 1}; the output scale ${outputScale} is far too large for this layer`,
            );
        }
        if (multiplier <= INT32_MAX && accBound * multiplier <= INT32_MAX) {
            return { outputScale, targetRatio, multiplier, shift, divisor: 2 ** shift };
        }
    }
    throw new QuantizeError(
        "REQUANTIZATION_RANGE",
        `layers[${layer}]: the requantization ratio ${targetRatio} (accScale / outputScale) needs a multiplier of at ` +
            `least ${roundHalfAwayFromZero(targetRatio)}, but the accumulator bound ${accBound} allows at most ` +
            `${Math.floor(INT32_MAX / Math.max(accBound, 1))}; the output scale ${outputScale} is too small`,
    );
}

/**
 * Quantizes the float MLP with the scheme in this file's header and builds the integer ONNX model with its
 * manifest embedded. Throws QuantizeError: INVALID_FLOAT_MLP, INVALID_OPTIONS (no scale and no calibration data,
 * a scale that is not > 0), BIAS_OVERFLOW, ACCUMULATOR_OVERFLOW or REQUANTIZATION_RANGE (naming the layer).
 */
export function buildQuantizedModel(mlp: FloatMlp, options: QuantizeOptions = {}): QuantizedModel {
    const checked = checkFloatMlp(mlp);
    const scales = resolveScales(checked, options);
    const last = checked.layers.length - 1;
    const nodes: NodeSpec[] = [];
    const initializers: InitializerSpec[] = [
        { name: "int8_min", dims: [], data: Int32Array.of(-128) },
        { name: "int8_max", dims: [], data: Int32Array.of(127) },
    ];
    const layers: LayerQuantization[] = [];
    let x = FEATURES_INPUT;
    let inputScale = scales.input;

    checked.layers.forEach((layer, l) => {
        const inWidth = layer.weights.length;
        const outWidth = layer.bias.length;
        const wMax = maxAbs(layer.weights, `layers[${l}].weights`);
        const weightScale = wMax > 0 ? wMax / INT8_QMAX : 1 / INT8_QMAX;
        const wq = layer.weights.map((row) =>
            row.map((w) => clamp(roundHalfAwayFromZero(w / weightScale), -INT8_QMAX, INT8_QMAX)),
        );
        const accScale = inputScale * weightScale;
        const bq = layer.bias.map((b, j) => {
            const q = roundHalfAwayFromZero(b / accScale);
            if (!(Math.abs(q) <= INT32_MAX)) {
                throw new QuantizeError(
                    "BIAS_OVERFLOW",
                    `layers[${l}].bias[${j}]: ${b} is ${q} units of the accumulator scale ${accScale} ` +
                        `(inputScale ${inputScale} * weightScale ${weightScale}), outside int32`,
                );
            }
            return q;
        });
        let accBound = 0;
        let boundColumn = 0;
        for (let j = 0; j < outWidth; j++) {
            let s = Math.abs(bq[j]!);
            for (let k = 0; k < inWidth; k++) s += 128 * Math.abs(wq[k]![j]!);
            if (s > accBound) [accBound, boundColumn] = [s, j];
        }
        if (accBound > INT32_MAX) {
            throw new QuantizeError(
                "ACCUMULATOR_OVERFLOW",
                `layers[${l}]: the worst-case |MatMulInteger + bias| of output ${boundColumn} is ${accBound}, above ` +
                    `int32 max ${INT32_MAX} (too many inputs, or a bias too large for the accumulator scale ${accScale})`,
            );
        }

        const p = `l${l}`;
        initializers.push(
            { name: `${p}.weight`, dims: [inWidth, outWidth], data: Int8Array.from(wq.flat()) },
            { name: `${p}.bias`, dims: [outWidth], data: Int32Array.from(bq) },
        );
        nodes.push(
            { name: `${p}/matmul`, opType: "MatMulInteger", inputs: [x, `${p}.weight`], outputs: [`${p}.matmul`] },
            {
                name: `${p}/bias`,
                opType: "Add",
                inputs: [`${p}.matmul`, `${p}.bias`],
                outputs: [l === last && layer.activation === "none" ? SCORES_OUTPUT : `${p}.acc`],
            },
        );
        let acc = `${p}.acc`;
        if (layer.activation === "relu") {
            const out = l === last ? SCORES_OUTPUT : `${p}.relu`;
            nodes.push({ name: `${p}/relu`, opType: "Relu", inputs: [acc], outputs: [out] });
            acc = out;
        }
        const entry: LayerQuantization = { inputScale, weightScale, accScale, accBound };
        if (l === last) {
            layers.push(entry);
            return;
        }
        const outputScale = scales.hidden[l]!;
        const requantization = chooseRequantization(l, accScale / outputScale, accBound, outputScale);
        initializers.push(
            { name: `${p}.multiplier`, dims: [], data: Int32Array.of(requantization.multiplier) },
            { name: `${p}.divisor`, dims: [], data: Int32Array.of(requantization.divisor) },
        );
        nodes.push(
            { name: `${p}/mul`, opType: "Mul", inputs: [acc, `${p}.multiplier`], outputs: [`${p}.scaled`] },
            { name: `${p}/div`, opType: "Div", inputs: [`${p}.scaled`, `${p}.divisor`], outputs: [`${p}.divided`] },
            {
                name: `${p}/clip`,
                opType: "Clip",
                inputs: [`${p}.divided`, "int8_min", "int8_max"],
                outputs: [`${p}.clipped`],
            },
            {
                name: `${p}/cast`,
                opType: "Cast",
                inputs: [`${p}.clipped`],
                outputs: [`${p}.out`],
                attributes: { to: { int: INT_DTYPE_CODES.int8 } },
            },
        );
        layers.push({ ...entry, requantization });
        x = `${p}.out`;
        inputScale = outputScale;
    });

    nodes.push({
        name: "argmax",
        opType: "ArgMax",
        inputs: [SCORES_OUTPUT],
        outputs: [LABEL_OUTPUT],
        attributes: { axis: { int: 1 }, keepdims: { int: 0 }, select_last_index: { int: 0 } },
    });
    const outWidth = checked.layers[last]!.bias.length;
    const graph = buildOnnxModel({
        inputs: [{ name: FEATURES_INPUT, type: "int8", shape: [1, checked.inputs] }],
        outputs: [
            { name: LABEL_OUTPUT, type: "int64", shape: [1] },
            { name: SCORES_OUTPUT, type: "int32", shape: [1, outWidth] },
        ],
        nodes,
        initializers,
        graphName: "verity-quantized-mlp",
    });
    const manifestJson = formatManifestJson(
        [{ name: FEATURES_INPUT, dtype: "int8", shape: [1, checked.inputs] }],
        [
            { name: LABEL_OUTPUT, dtype: "int64", shape: [1] },
            { name: SCORES_OUTPUT, dtype: "int32", shape: [1, outWidth] },
        ],
    );
    return {
        onnx: embedManifest(graph, manifestJson),
        manifestJson,
        quantization: {
            scheme: QUANTIZATION_SCHEME,
            inputScale: scales.input,
            layers,
            scoreScale: layers[last]!.accScale,
        },
    };
}

// -------------------------------------------------------------------------------------------------------------
// Quantized evaluation
// -------------------------------------------------------------------------------------------------------------

/** A quantized model's answer for one input. */
export interface QuantizedPrediction {
    label: number;
    scores: number[];
}

/** A decoded ModelProto, for running many inputs through `predictQuantized` without decoding each time. */
export function decodeModel(model: Uint8Array): onnx.ModelProto {
    return onnx.ModelProto.decode(model);
}

function featuresTensor(xq: readonly number[]): IntTensor {
    return intTensor("int8", [1, xq.length], xq);
}

/**
 * Runs the quantized model on int8 features with the reference interpreter (exact bigint arithmetic: it throws
 * ReferenceExecutionError INTEGER_OVERFLOW rather than wrap).
 */
export function predictQuantized(model: Uint8Array | onnx.IModelProto, xq: readonly number[]): QuantizedPrediction {
    const out = runGraph(model, { [FEATURES_INPUT]: featuresTensor(xq) });
    const label = out[LABEL_OUTPUT];
    const scores = out[SCORES_OUTPUT];
    if (label === undefined || scores === undefined || label.data.length !== 1) {
        throw new QuantizeError("INVALID_INPUT", `the model has no ${LABEL_OUTPUT} and ${SCORES_OUTPUT} outputs`);
    }
    return { label: Number(label.data[0]!), scores: scores.data.map(Number) };
}

/** A labelled sample: model (normalized) features and the true class index. */
export interface LabelledSample {
    x: readonly number[];
    label: number;
}

/** Float and quantized accuracy of a model over one data set. */
export interface AccuracyReport {
    samples: number;
    /** Fraction of samples whose float label (argmax of the float MLP) is the true label. */
    floatAccuracy: number;
    /** Fraction of samples whose quantized label (the model's `label`) is the true label. */
    quantizedAccuracy: number;
    /** Fraction of samples where the quantized label equals the float label. */
    agreement: number;
    /** With a scoreScale: max over samples and outputs of |scores * scoreScale - float output|. */
    maxScoreError?: number;
}

/**
 * Float and quantized accuracy of `onnx` (built from `mlp`) on `data`: each sample is quantized with
 * `quantizeInput(x, inputScale)` and run through the reference interpreter. With `scoreScale` (the
 * quantization's `scoreScale`) it also reports the largest score error. Pair it with `crossCheckWithOnnxruntime`
 * to show onnxruntime computes the same.
 */
export function evaluateAccuracy(
    mlp: FloatMlp,
    onnxBytes: Uint8Array,
    inputScale: number,
    data: readonly LabelledSample[],
    scoreScale?: number,
): AccuracyReport {
    if (data.length === 0) throw new QuantizeError("INVALID_INPUT", "evaluateAccuracy: the data set is empty");
    if (scoreScale !== undefined) checkScale("scoreScale", scoreScale);
    const model = decodeModel(onnxBytes);
    let floatCorrect = 0;
    let quantizedCorrect = 0;
    let agree = 0;
    let maxScoreError = 0;
    for (const sample of data) {
        const floatOut = evaluateFloatMlp(mlp, sample.x);
        const floatLabel = argMaxIndex(floatOut);
        const q = predictQuantized(model, quantizeInput(sample.x, inputScale));
        if (floatLabel === sample.label) floatCorrect++;
        if (q.label === sample.label) quantizedCorrect++;
        if (q.label === floatLabel) agree++;
        if (scoreScale !== undefined) {
            q.scores.forEach((s, j) => {
                maxScoreError = Math.max(maxScoreError, Math.abs(s * scoreScale - floatOut[j]!));
            });
        }
    }
    const n = data.length;
    return {
        samples: n,
        floatAccuracy: floatCorrect / n,
        quantizedAccuracy: quantizedCorrect / n,
        agreement: agree / n,
        ...(scoreScale === undefined ? {} : { maxScoreError }),
    };
}

function describe(p: QuantizedPrediction): string {
    return `label ${p.label}, scores [${p.scores.join(", ")}]`;
}

/**
 * Runs every int8 input through onnxruntime-node (CPU) and through the reference interpreter and checks that
 * `label` and `scores` agree exactly (values, dtypes and shapes). Throws QuantizeError `ONNXRUNTIME_MISMATCH`
 * naming the first sample that differs (or that only one of the two can run). Returns the number of samples.
 */
export async function crossCheckWithOnnxruntime(
    onnxBytes: Uint8Array,
    inputs: readonly (readonly number[])[],
): Promise<number> {
    const model = decodeModel(onnxBytes);
    const session = await ort.InferenceSession.create(onnxBytes, { logSeverityLevel: 4 });
    const mismatch = (i: number, xq: readonly number[], why: string): QuantizeError =>
        new QuantizeError("ONNXRUNTIME_MISMATCH", `sample ${i} (features [${xq.join(", ")}]): ${why}`);
    try {
        for (let i = 0; i < inputs.length; i++) {
            const xq = inputs[i]!;
            let reference: QuantizedPrediction;
            try {
                reference = predictQuantized(model, xq);
            } catch (err) {
                const code = err instanceof VerityError ? ` (${err.code})` : "";
                throw mismatch(i, xq, `the reference interpreter fails${code}: ${(err as Error).message}`);
            }
            let results: ort.InferenceSession.ReturnType;
            try {
                const features = new ort.Tensor("int8", Int8Array.from(xq), [1, xq.length]);
                results = await session.run({ [FEATURES_INPUT]: features });
            } catch (err) {
                throw mismatch(i, xq, `onnxruntime fails: ${(err as Error).message}`);
            }
            const label = results[LABEL_OUTPUT];
            const scores = results[SCORES_OUTPUT];
            if (label?.type !== "int64" || label.dims.length !== 1 || label.dims[0] !== 1) {
                throw mismatch(i, xq, `onnxruntime's ${LABEL_OUTPUT} is not an int64 [1] tensor`);
            }
            if (scores?.type !== "int32" || scores.dims.join(",") !== `1,${reference.scores.length}`) {
                throw mismatch(i, xq, `onnxruntime's ${SCORES_OUTPUT} is not an int32 [1, ${reference.scores.length}]`);
            }
            const actual: QuantizedPrediction = {
                label: Number((label.data as BigInt64Array)[0]!),
                scores: Array.from(scores.data as Int32Array),
            };
            const same = actual.label === reference.label && actual.scores.every((s, j) => s === reference.scores[j]);
            if (!same) {
                throw mismatch(i, xq, `reference ${describe(reference)}, onnxruntime ${describe(actual)}`);
            }
        }
    } finally {
        await session.release();
    }
    return inputs.length;
}
