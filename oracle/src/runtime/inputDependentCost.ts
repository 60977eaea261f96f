/**
 * Whether a model's run time can depend on the values in its input, not only on their shapes (which the manifest
 * fixes). The executor runs a model on the main thread only when it cannot (executor.ts, "Inline runs"): there a
 * run cannot be interrupted, so it must not be possible to craft an input that makes it long.
 *
 * What the run time of an ONNX graph depends on, with every input shape fixed:
 * - control flow: Loop runs its body a number of times an input value can decide, If picks a branch, Scan and
 *   SequenceMap run subgraphs; any node with a graph attribute is refused;
 * - ops that size their output (and so the work downstream) from the values of an input: a range, a target
 *   shape, repeats, pads, scales or sizes, a depth, a window length (SIZED_BY_VALUE). They are fine when those
 *   inputs are constants (initializers, Constant nodes), refused when computed from anything else;
 * - operators outside the standard domains (ai.onnx, ai.onnx.ml), whose cost nothing here knows: refused.
 * Everything else (element-wise ops, MatMul, Conv, reductions, Gather, Reshape, Slice, TopK, NonZero...) does work
 * bounded by the shapes of its inputs. The check is conservative: a target shape computed from `Shape` of an input
 * is constant in fact but refused here; such a model just keeps running in a worker.
 */
import { onnx } from "onnx-proto";
import type { Manifest } from "../protocol/manifest";

/** Ops of ai.onnx (up to opset 26) that size their output from the values of these input positions. */
const SIZED_BY_VALUE: Readonly<Record<string, readonly number[]>> = {
    AffineGrid: [1],
    BlackmanWindow: [0],
    CenterCropPad: [1],
    Col2Im: [1, 2],
    ConstantOfShape: [0],
    DFT: [1, 2],
    Expand: [1],
    HammingWindow: [0],
    HannWindow: [0],
    MaxUnpool: [2],
    MelWeightMatrix: [0, 1, 2, 3, 4],
    OneHot: [1],
    Pad: [1, 2, 3],
    Range: [0, 1, 2],
    Resize: [1, 2, 3],
    SplitToSequence: [1],
    STFT: [1, 2, 3],
    Tile: [1],
    Upsample: [1],
};

/**
 * ai.onnx ("" is its other name) and ai.onnx.ml, whose ops (classical ML: trees, linear models, scalers) do work
 * bounded by their inputs' shapes and their own attributes.
 */
const STANDARD_DOMAINS: ReadonlySet<string> = new Set(["", "ai.onnx", "ai.onnx.ml"]);

/** Ops whose subgraphs run a number of times, or along a branch, that values decide. */
const CONTROL_FLOW: ReadonlySet<string> = new Set(["If", "Loop", "Scan", "SequenceMap"]);

/**
 * Why the run time of the model in `onnxBytes` can depend on its input's values (a sentence naming the first
 * node that makes it so), or undefined when it depends on the shapes alone. `manifest` names the inputs fed at
 * run time (an initializer of the same name is not a constant). Bytes that do not decode are reported as a reason.
 */
export function inputDependentCost(onnxBytes: Uint8Array, manifest: Manifest): string | undefined {
    let graph: onnx.IGraphProto | null | undefined;
    try {
        graph = onnx.ModelProto.decode(onnxBytes).graph;
    } catch (err) {
        return `its ONNX bytes do not decode: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (graph === null || graph === undefined) return "it has no graph";
    const fed = new Set(manifest.inputs.map((spec) => spec.name));
    const constants = new Set<string>();
    const initializers = [
        ...(graph.initializer ?? []).map((init) => init.name),
        ...(graph.sparseInitializer ?? []).map((init) => init.values?.name),
    ];
    for (const name of initializers) if (name && !fed.has(name)) constants.add(name);
    for (const [index, node] of (graph.node ?? []).entries()) {
        const op = node.opType ?? "";
        const label = `node ${index} (${op}${node.name ? ` "${node.name}"` : ""})`;
        const domain = node.domain ?? "";
        if (!STANDARD_DOMAINS.has(domain)) return `${label} is in domain "${domain}", not a standard ONNX one`;
        if (CONTROL_FLOW.has(op) || (node.attribute ?? []).some((a) => a.g || (a.graphs ?? []).length > 0)) {
            return `${label} runs subgraphs (control flow)`;
        }
        for (const position of SIZED_BY_VALUE[op] ?? []) {
            const name = node.input?.[position];
            if (name && !constants.has(name)) {
                return `${label} sizes its output from the value of "${name}", which is not a constant`;
            }
        }
        if (op === "Constant") for (const output of node.output ?? []) constants.add(output);
    }
    return undefined;
}
