/** Small integer ONNX models with their manifest embedded, for the verify/ specs. */
import { embedManifest } from "../../../oracle/src/protocol/manifest";
import {
    buildOnnxModel,
    type InitializerSpec,
    type NodeSpec,
    type ValueSpec,
} from "../../../oracle/src/toolkit/onnxGraph";

/** Inputs may declare a manifest `range`. */
export interface GraphSpec {
    inputs: (ValueSpec & { range?: [number | string, number | string] })[];
    outputs: ValueSpec[];
    nodes: NodeSpec[];
    initializers?: InitializerSpec[];
    /** The default domain's opset; buildOnnxModel's DEFAULT_OPSET (17, inside the subset's range) if omitted. */
    opset?: number;
}

/** A model with its manifest embedded (integer tensors: onnxType = dtype). */
export function graphModel(spec: GraphSpec): Uint8Array {
    const entry = (v: ValueSpec & { range?: unknown }) => ({
        name: v.name,
        dtype: v.type,
        shape: v.shape,
        ...(v.range === undefined ? {} : { range: v.range }),
    });
    const manifest = JSON.stringify({ version: 1, inputs: spec.inputs.map(entry), outputs: spec.outputs.map(entry) });
    const graph = buildOnnxModel({
        inputs: spec.inputs.map(({ name, type, shape }) => ({ name, type, shape })),
        outputs: spec.outputs,
        nodes: spec.nodes,
        initializers: spec.initializers ?? [],
        ...(spec.opset === undefined ? {} : { opset: spec.opset }),
    });
    return embedManifest(graph, manifest);
}
