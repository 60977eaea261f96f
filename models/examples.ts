/**
 * Example models defined in code (no Python, no downloads), each with its manifest embedded. Weights come from a
 * seeded PRNG, so every build yields the same bytes and the same hashes. Used by the tests, the benchmarks and
 * `models/build.ts`.
 */
import { buildOnnxModel, type InitializerSpec, type NodeSpec } from "../oracle/src/toolkit/onnxGraph";
import { embedManifest, parseManifest, type Manifest } from "../oracle/src/protocol/manifest";
import { DType, encodeTensors } from "../oracle/src/protocol/tensorCodec";

/** An example model: ONNX bytes with the manifest embedded, the exact manifest string, and the parsed manifest. */
export interface ExampleModel {
    onnx: Uint8Array;
    manifestJson: string;
    manifest: Manifest;
}

/** A manifest tensor entry as written in JSON (defaults not applied). */
interface ManifestEntry {
    name: string;
    dtype: string;
    shape: number[];
    onnxType?: string;
    decimals?: number;
}

/**
 * A deterministic PRNG (mulberry32) returning floats in [0, 1). Not for anything secret: it only makes example
 * weights and test inputs reproducible.
 */
export function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/**
 * The manifest JSON as this repo writes it: two-space indent, one tensor per line, in the layout prettier keeps
 * as is (so the .manifest.json files pass `prettier --check` and stay byte-identical to the embedded string).
 */
export function formatManifestJson(inputs: readonly ManifestEntry[], outputs: readonly ManifestEntry[]): string {
    const entry = (spec: ManifestEntry): string => {
        const fields = [`"name": ${JSON.stringify(spec.name)}`, `"dtype": ${JSON.stringify(spec.dtype)}`];
        fields.push(`"shape": [${spec.shape.join(", ")}]`);
        if (spec.onnxType !== undefined) fields.push(`"onnxType": ${JSON.stringify(spec.onnxType)}`);
        if (spec.decimals !== undefined) fields.push(`"decimals": ${spec.decimals}`);
        return `{ ${fields.join(", ")} }`;
    };
    const list = (key: string, specs: readonly ManifestEntry[], last: boolean): string => {
        const comma = last ? "" : ",";
        const oneLine = `  "${key}": [${specs.map(entry).join(", ")}]${comma}`;
        // prettier breaks an array of several objects, and any line over printWidth (120).
        if (specs.length <= 1 && oneLine.length <= 120) return oneLine;
        return `  "${key}": [\n${specs.map((spec) => `    ${entry(spec)}`).join(",\n")}\n  ]${comma}`;
    };
    return `{\n  "version": 1,\n${list("inputs", inputs, false)}\n${list("outputs", outputs, true)}\n}\n`;
}

function example(graph: Uint8Array, inputs: ManifestEntry[], outputs: ManifestEntry[]): ExampleModel {
    const manifestJson = formatManifestJson(inputs, outputs);
    return { onnx: embedManifest(graph, manifestJson), manifestJson, manifest: parseManifest(manifestJson) };
}

/** Integer weights of `tinyIntegerModel`: y = x * TINY_WEIGHTS + TINY_BIAS, element-wise. */
export const TINY_WEIGHTS: readonly number[] = [2, -3, 5, 7];
/** Integer bias of `tinyIntegerModel`. */
export const TINY_BIAS: readonly number[] = [1, 2, 3, -4];

/**
 * Integer-only model. Input "x" int32 [1, 4]; outputs "y" int32 [1, 4] = x * TINY_WEIGHTS + TINY_BIAS
 * (element-wise, int32 wrap-around) and "sum" int32 [1, 1] = the sum of y (ReduceSum, keepdims).
 */
export function tinyIntegerModel(): ExampleModel {
    const graph = buildOnnxModel({
        inputs: [{ name: "x", type: "int32", shape: [1, 4] }],
        outputs: [
            { name: "y", type: "int32", shape: [1, 4] },
            { name: "sum", type: "int32", shape: [1, 1] },
        ],
        initializers: [
            { name: "w", dims: [4], data: Int32Array.from(TINY_WEIGHTS) },
            { name: "b", dims: [4], data: Int32Array.from(TINY_BIAS) },
            { name: "axes", dims: [1], data: BigInt64Array.from([1n]) },
        ],
        nodes: [
            { opType: "Mul", inputs: ["x", "w"], outputs: ["xw"] },
            { opType: "Add", inputs: ["xw", "b"], outputs: ["y"] },
            { opType: "ReduceSum", inputs: ["y", "axes"], outputs: ["sum"], attributes: { keepdims: { int: 1 } } },
        ],
    });
    return example(
        graph,
        [{ name: "x", dtype: "int32", shape: [1, 4], onnxType: "int32" }],
        [
            { name: "y", dtype: "int32", shape: [1, 4], onnxType: "int32" },
            { name: "sum", dtype: "int32", shape: [1, 1], onnxType: "int32" },
        ],
    );
}

/** The parameters of `multiIOFloatModel`, for an independent reference computation. */
export interface MultiIOParams {
    /** MatMul weights, [4, 1] row-major. Multiples of 1/64 (exact in float32). */
    weights: Float32Array;
    /** Bias of "score". A multiple of 1/64. */
    bias: number;
}

/**
 * Float model with two inputs and two outputs, none called "input":
 * - "features" [1, 4] (wire int32, 4 decimals) and "scale" [1, 1] (wire int32, 2 decimals);
 * - "score" [1, 1] = MatMul(features, W[4, 1]) * scale + b (wire int64, 6 decimals);
 * - "activations" [1, 4] = Relu(features * scale) (wire int32, 4 decimals).
 */
export function multiIOFloatModel(): ExampleModel & { params: MultiIOParams } {
    const random = seededRandom(0x5eed_0001);
    const dyadic = (): number => Math.floor(random() * 257 - 128) / 64; // in [-2, 2], exact in float32
    const weights = Float32Array.from({ length: 4 }, dyadic);
    const bias = dyadic();
    const graph = buildOnnxModel({
        inputs: [
            { name: "features", type: "float32", shape: [1, 4] },
            { name: "scale", type: "float32", shape: [1, 1] },
        ],
        outputs: [
            { name: "score", type: "float32", shape: [1, 1] },
            { name: "activations", type: "float32", shape: [1, 4] },
        ],
        initializers: [
            { name: "W", dims: [4, 1], data: weights },
            { name: "b", dims: [1, 1], data: Float32Array.of(bias) },
        ],
        nodes: [
            { opType: "MatMul", inputs: ["features", "W"], outputs: ["dot"] },
            { opType: "Mul", inputs: ["dot", "scale"], outputs: ["scaled_dot"] },
            { opType: "Add", inputs: ["scaled_dot", "b"], outputs: ["score"] },
            { opType: "Mul", inputs: ["features", "scale"], outputs: ["scaled_features"] },
            { opType: "Relu", inputs: ["scaled_features"], outputs: ["activations"] },
        ],
    });
    return {
        ...example(
            graph,
            [
                { name: "features", dtype: "int32", shape: [1, 4], onnxType: "float32", decimals: 4 },
                { name: "scale", dtype: "int32", shape: [1, 1], onnxType: "float32", decimals: 2 },
            ],
            [
                { name: "score", dtype: "int64", shape: [1, 1], onnxType: "float32", decimals: 6 },
                { name: "activations", dtype: "int32", shape: [1, 4], onnxType: "float32", decimals: 4 },
            ],
        ),
        params: { weights, bias },
    };
}

/** Size of `heavyFloatModel`. */
export interface HeavyModelOptions {
    /** Hidden layers (MatMul + Add + Relu, width x width each). Default 4. */
    layers?: number;
    /** Width of the hidden layers. Default 512. */
    width?: number;
    /** Rows per input. Default 16. */
    batch?: number;
    /**
     * Columns of the output "y", a final MatMul + Add projection from `width`. Default 16. Kept small so the
     * benchmark measures the model, not the hashing of a large output.
     */
    outputWidth?: number;
    /** PRNG seed of the weights. */
    seed?: number;
}

/**
 * Compute-heavy float model for benchmarks: "x" [batch, width] (wire int32, 4 decimals) through `layers`
 * MatMul + Add + Relu layers of width x width, then a MatMul + Add projection to "y" [batch, outputWidth] (wire
 * int64, 4 decimals). Weights are uniform in ±1/sqrt(width) (biases ±0.01), so activations do not grow with
 * depth: for inputs in ±1 the outputs stay far inside the int64 range at 4 decimals.
 */
export function heavyFloatModel(options: HeavyModelOptions = {}): ExampleModel {
    const { layers = 8, width = 1024, batch = 16, outputWidth = 4, seed = 0x5eed_0002 } = options;
    for (const [name, value] of Object.entries({ layers, width, batch, outputWidth })) {
        if (!Number.isInteger(value) || value < 1) throw new RangeError(`heavyFloatModel: ${name} must be >= 1`);
    }
    const random = seededRandom(seed);
    const limit = 1 / Math.sqrt(width);
    const uniform = (n: number, bound: number): Float32Array =>
        Float32Array.from({ length: n }, () => (2 * random() - 1) * bound);
    const nodes: NodeSpec[] = [];
    const initializers: InitializerSpec[] = [];
    let previous = "x";
    const dense = (index: number, inWidth: number, outWidth: number, output: string): void => {
        initializers.push(
            { name: `w${index}`, dims: [inWidth, outWidth], data: uniform(inWidth * outWidth, limit) },
            { name: `b${index}`, dims: [outWidth], data: uniform(outWidth, 0.01) },
        );
        nodes.push(
            { opType: "MatMul", inputs: [previous, `w${index}`], outputs: [`mm${index}`] },
            { opType: "Add", inputs: [`mm${index}`, `b${index}`], outputs: [output] },
        );
        previous = output;
    };
    for (let layer = 0; layer < layers; layer++) {
        dense(layer, width, width, `pre${layer}`);
        nodes.push({ opType: "Relu", inputs: [`pre${layer}`], outputs: [`act${layer}`] });
        previous = `act${layer}`;
    }
    dense(layers, width, outputWidth, "y");
    const graph = buildOnnxModel({
        inputs: [{ name: "x", type: "float32", shape: [batch, width] }],
        outputs: [{ name: "y", type: "float32", shape: [batch, outputWidth] }],
        nodes,
        initializers,
    });
    return example(
        graph,
        [{ name: "x", dtype: "int32", shape: [batch, width], onnxType: "float32", decimals: 4 }],
        [{ name: "y", dtype: "int64", shape: [batch, outputWidth], onnxType: "float32", decimals: 4 }],
    );
}

/**
 * A model whose input passes every manifest check but which can fail inside onnxruntime: "y" = Reshape("x",
 * "shape") with "x" int32 [1, 4] and "shape" int64 [2] (both integer, no conversion). With "shape" [1, 4] (or
 * [-1, 4]) it is the identity (OK); with [2, 2] the output has the wrong shape (MODEL_ERROR); with a shape of
 * another element count, e.g. [3, 3], session.run throws (MODEL_ERROR). `goodInput` and `badInput` are canonical
 * inputs of the first and last kind.
 */
export function failingModel(): ExampleModel & { goodInput: Uint8Array; badInput: Uint8Array } {
    const graph = buildOnnxModel({
        inputs: [
            { name: "x", type: "int32", shape: [1, 4] },
            { name: "shape", type: "int64", shape: [2] },
        ],
        outputs: [{ name: "y", type: "int32", shape: ["rows", "cols"] }],
        nodes: [{ opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"] }],
    });
    const input = (shape: bigint[]): Uint8Array =>
        encodeTensors([
            { dtype: DType.INT32, shape: [1, 4], data: [1n, 2n, 3n, 4n] },
            { dtype: DType.INT64, shape: [2], data: shape },
        ]);
    return {
        ...example(
            graph,
            [
                { name: "x", dtype: "int32", shape: [1, 4] },
                { name: "shape", dtype: "int64", shape: [2] },
            ],
            [{ name: "y", dtype: "int32", shape: [1, 4] }],
        ),
        goodInput: input([1n, 4n]),
        badInput: input([3n, 3n]),
    };
}

/** Size and seed of `integerMlpModel`. */
export interface IntegerMlpOptions {
    /** Widths from input to output, at least two: [4, 8, 3] is 4 inputs, one hidden layer of 8, 3 scores. */
    widths: readonly number[];
    /** Rows per input. Default 1. */
    batch?: number;
    /** PRNG seed of the weights. */
    seed?: number;
}

/**
 * A random integer MLP in the verifiable subset (docs/verifiable-subset.md), for tests and benchmarks: "x" int8
 * [batch, widths[0]]; each layer is MatMulInteger with int8 weights uniform in [-128, 127] plus an int32 bias;
 * hidden layers then Relu, Div by a power of two (requantization), Clip to [-128, 127] and Cast to int8. Outputs
 * "scores" int32 [batch, last] and "label" int64 [batch] (ArgMax over the scores, keepdims 0). The multiply-
 * accumulates of one run are batch × Σ widths[i] × widths[i + 1].
 */
export function integerMlpModel(options: IntegerMlpOptions): ExampleModel {
    const { widths, batch = 1, seed = 0x5eed_0003 } = options;
    if (widths.length < 2 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
        throw new RangeError("integerMlpModel: widths needs at least two dims >= 1");
    }
    const random = seededRandom(seed);
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
    const nodes: NodeSpec[] = [];
    const initializers: InitializerSpec[] = [
        { name: "clip_lo", dims: [], data: Int32Array.from([-128]) },
        { name: "clip_hi", dims: [], data: Int32Array.from([127]) },
    ];
    let previous = "x";
    const last = widths.length - 2;
    for (let layer = 0; layer <= last; layer++) {
        const [k, n] = [widths[layer]!, widths[layer + 1]!];
        initializers.push(
            { name: `w${layer}`, dims: [k, n], data: Int8Array.from({ length: k * n }, () => int(-128, 127)) },
            { name: `b${layer}`, dims: [n], data: Int32Array.from({ length: n }, () => int(-5000, 5000)) },
        );
        const acc = layer === last ? "scores" : `acc${layer}`;
        nodes.push(
            { opType: "MatMulInteger", inputs: [previous, `w${layer}`], outputs: [`mm${layer}`] },
            { opType: "Add", inputs: [`mm${layer}`, `b${layer}`], outputs: [acc] },
        );
        if (layer < last) {
            // Shift so that a typical accumulator (about 128 × 74 × sqrt(k)) lands inside int8.
            const shift = Math.max(0, Math.round(Math.log2(128 * 74 * Math.sqrt(k)) - 7));
            initializers.push({ name: `d${layer}`, dims: [], data: Int32Array.from([2 ** shift]) });
            nodes.push(
                { opType: "Relu", inputs: [acc], outputs: [`relu${layer}`] },
                { opType: "Div", inputs: [`relu${layer}`, `d${layer}`], outputs: [`scaled${layer}`] },
                { opType: "Clip", inputs: [`scaled${layer}`, "clip_lo", "clip_hi"], outputs: [`clipped${layer}`] },
                { opType: "Cast", inputs: [`clipped${layer}`], outputs: [`h${layer}`], attributes: { to: { int: 3 } } },
            );
            previous = `h${layer}`;
        }
    }
    nodes.push({
        opType: "ArgMax",
        inputs: ["scores"],
        outputs: ["label"],
        attributes: { axis: { int: -1 }, keepdims: { int: 0 } },
    });
    const out = widths[widths.length - 1]!;
    const graph = buildOnnxModel({
        inputs: [{ name: "x", type: "int8", shape: [batch, widths[0]!] }],
        outputs: [
            { name: "label", type: "int64", shape: [batch] },
            { name: "scores", type: "int32", shape: [batch, out] },
        ],
        nodes,
        initializers,
    });
    return example(
        graph,
        [{ name: "x", dtype: "int8", shape: [batch, widths[0]!] }],
        [
            { name: "label", dtype: "int64", shape: [batch] },
            { name: "scores", dtype: "int32", shape: [batch, out] },
        ],
    );
}
