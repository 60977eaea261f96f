/**
 * A small ONNX graph builder for publisher tooling and test fixtures: it writes a valid ModelProto (ir_version 8,
 * default opset 17) from typed inputs, outputs, nodes and initializers, without Python or a network download.
 *
 * It covers what Verity's example models need (tensor value infos with fixed or symbolic dims, nodes with int,
 * float, string and list attributes, initializers from typed arrays stored as little-endian raw_data), not all
 * of ONNX.
 */
import { onnx } from "onnx-proto";
import { PermanentError } from "../internal/errors";

/** ONNX IR version written by `buildOnnxModel` (IR 8 = ONNX 1.10 to 1.12; onnxruntime reads it). */
export const ONNX_IR_VERSION = 8;
/** Default opset of the default ("ai.onnx") domain. */
export const DEFAULT_OPSET = 17;

/** Element types the builder writes, by ONNX `TensorProto.DataType` code. */
export const ONNX_ELEMENT_TYPES = {
    float32: 1,
    uint8: 2,
    int8: 3,
    uint16: 4,
    int16: 5,
    int32: 6,
    int64: 7,
    bool: 9,
    float64: 11,
    uint32: 12,
} as const;

/** Name of an element type the builder writes (the onnxruntime-node `Tensor.Type` spelling). */
export type OnnxElementType = keyof typeof ONNX_ELEMENT_TYPES;

/** A graph input or output: a tensor of one element type; a string dim is symbolic (e.g. "batch"). */
export interface ValueSpec {
    name: string;
    type: OnnxElementType;
    shape: readonly (number | string)[];
}

/** A node attribute, tagged with its ONNX attribute type. */
export type AttributeValue =
    | { int: number }
    | { float: number }
    | { string: string }
    | { ints: readonly number[] }
    | { floats: readonly number[] }
    /** A tensor attribute (e.g. a Constant node's `value`). */
    | { tensor: InitializerSpec };

/** One node: `opType` from `domain` (default ai.onnx) reading `inputs` and writing `outputs`. */
export interface NodeSpec {
    opType: string;
    inputs: readonly string[];
    outputs: readonly string[];
    name?: string;
    domain?: string;
    attributes?: Readonly<Record<string, AttributeValue>>;
}

/** Typed arrays an initializer can be built from. */
export type InitializerData = Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;

/**
 * A constant tensor. The element type follows the array (Float32Array → float32, Int32Array → int32,
 * BigInt64Array → int64, Int8Array → int8, Uint8Array → uint8) unless `type: "bool"` marks a Uint8Array of 0/1.
 */
export interface InitializerSpec {
    name: string;
    dims: readonly number[];
    data: InitializerData;
    type?: "bool";
}

/** Everything `buildOnnxModel` needs. */
export interface OnnxModelSpec {
    inputs: readonly ValueSpec[];
    outputs: readonly ValueSpec[];
    nodes: readonly NodeSpec[];
    initializers?: readonly InitializerSpec[];
    /** Opset of the default domain; DEFAULT_OPSET if omitted. */
    opset?: number;
    /** ModelProto metadata_props, in insertion order. */
    metadata?: Readonly<Record<string, string>>;
    /** GraphProto name; "verity". */
    graphName?: string;
    /** ModelProto producer_name; "verity". */
    producerName?: string;
}

/** A graph spec that cannot be written (bad dims, data of the wrong length, an empty name). */
export class OnnxGraphError extends PermanentError {
    constructor(message: string) {
        super("INVALID_ONNX_GRAPH", message);
    }
}

/** Serialises the spec as ONNX ModelProto bytes. */
export function buildOnnxModel(spec: OnnxModelSpec): Uint8Array {
    const opset = spec.opset ?? DEFAULT_OPSET;
    if (!Number.isInteger(opset) || opset < 1) throw new OnnxGraphError(`opset must be a positive integer: ${opset}`);
    const model: onnx.IModelProto = {
        irVersion: ONNX_IR_VERSION,
        producerName: spec.producerName ?? "verity",
        opsetImport: [{ domain: "", version: opset }],
        graph: {
            name: spec.graphName ?? "verity",
            input: spec.inputs.map(valueInfo),
            output: spec.outputs.map(valueInfo),
            node: spec.nodes.map(nodeProto),
            initializer: (spec.initializers ?? []).map(tensorProto),
        },
        metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    const encoded = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
    // protobufjs may return a view into a shared Buffer pool; hand out bytes of our own.
    return new Uint8Array(encoded);
}

function checkName(name: string, what: string): void {
    if (name.length === 0) throw new OnnxGraphError(`${what} has an empty name`);
}

function valueInfo(value: ValueSpec): onnx.IValueInfoProto {
    checkName(value.name, "a graph input or output");
    const elemType = ONNX_ELEMENT_TYPES[value.type];
    if (elemType === undefined) throw new OnnxGraphError(`${value.name}: unknown element type ${String(value.type)}`);
    const dim = value.shape.map((d): onnx.TensorShapeProto.IDimension => {
        if (typeof d === "string") return { dimParam: d };
        if (!Number.isSafeInteger(d) || d < 0) throw new OnnxGraphError(`${value.name}: invalid dim ${d}`);
        return { dimValue: d };
    });
    return { name: value.name, type: { tensorType: { elemType, shape: { dim } } } };
}

function nodeProto(node: NodeSpec, index: number): onnx.INodeProto {
    if (node.opType.length === 0) throw new OnnxGraphError(`node ${index} has no opType`);
    return {
        name: node.name ?? `${node.opType}_${index}`,
        opType: node.opType,
        domain: node.domain ?? "",
        input: [...node.inputs],
        output: [...node.outputs],
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attributeProto(name, value)),
    };
}

function attributeProto(name: string, value: AttributeValue): onnx.IAttributeProto {
    const Type = onnx.AttributeProto.AttributeType;
    if ("int" in value) return { name, type: Type.INT, i: checkInt(name, value.int) };
    if ("float" in value) return { name, type: Type.FLOAT, f: value.float };
    if ("string" in value) return { name, type: Type.STRING, s: new TextEncoder().encode(value.string) };
    if ("ints" in value) return { name, type: Type.INTS, ints: value.ints.map((v) => checkInt(name, v)) };
    if ("tensor" in value) return { name, type: Type.TENSOR, t: tensorProto(value.tensor) };
    return { name, type: Type.FLOATS, floats: [...value.floats] };
}

function checkInt(name: string, value: number): number {
    if (!Number.isSafeInteger(value)) throw new OnnxGraphError(`attribute ${name}: ${value} is not a safe integer`);
    return value;
}

function initializerType(init: InitializerSpec): { type: OnnxElementType; size: number } {
    const { data } = init;
    if (init.type === "bool") {
        if (!(data instanceof Uint8Array)) throw new OnnxGraphError(`${init.name}: a bool initializer is a Uint8Array`);
        if (data.some((v) => v > 1)) throw new OnnxGraphError(`${init.name}: bool elements must be 0 or 1`);
        return { type: "bool", size: 1 };
    }
    if (data instanceof Float32Array) return { type: "float32", size: 4 };
    if (data instanceof Int32Array) return { type: "int32", size: 4 };
    if (data instanceof BigInt64Array) return { type: "int64", size: 8 };
    if (data instanceof Int8Array) return { type: "int8", size: 1 };
    return { type: "uint8", size: 1 };
}

function tensorProto(init: InitializerSpec): onnx.ITensorProto {
    checkName(init.name, "an initializer");
    const { type, size } = initializerType(init);
    let numel = 1;
    for (const d of init.dims) {
        if (!Number.isSafeInteger(d) || d < 0) throw new OnnxGraphError(`${init.name}: invalid dim ${d}`);
        numel *= d;
    }
    if (numel !== init.data.length) {
        throw new OnnxGraphError(
            `${init.name}: dims [${init.dims.join(", ")}] hold ${numel} elements, data has ${init.data.length}`,
        );
    }
    return {
        name: init.name,
        dims: [...init.dims],
        dataType: ONNX_ELEMENT_TYPES[type],
        rawData: littleEndianBytes(init.data, size),
    };
}

/** The elements as little-endian bytes (raw_data is little-endian whatever the host). */
function littleEndianBytes(data: InitializerData, size: number): Uint8Array {
    const out = new Uint8Array(data.length * size);
    const view = new DataView(out.buffer);
    if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
    else if (data instanceof Int32Array) data.forEach((v, i) => view.setInt32(i * 4, v, true));
    else if (data instanceof BigInt64Array) data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
    else out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return out;
}
