/**
 * The model manifest's types, constants and errors (manifest.ts documents the format), without its parser: the
 * inference workers get every manifest already parsed and load only this, not zod, onnx-proto and ethers, which
 * took longer to load than the rest of a worker. manifest.ts re-exports all of it.
 */
import { PermanentError } from "../internal/errors";
import { DType } from "./tensorCodec";

/** The ONNX `metadata_props` key holding the manifest JSON. */
export const MANIFEST_METADATA_KEY = "verity.manifest";
/** The manifest format version this node reads. */
export const MANIFEST_VERSION = 1;

/** On-chain (wire) dtypes by manifest name. */
export const WIRE_DTYPES = {
    uint8: DType.UINT8,
    int8: DType.INT8,
    uint16: DType.UINT16,
    int16: DType.INT16,
    int32: DType.INT32,
    int64: DType.INT64,
    bool: DType.BOOL,
    uint32: DType.UINT32,
} as const;

/** Manifest name of a wire dtype. */
export type WireDTypeName = keyof typeof WIRE_DTYPES;
/** Manifest name of a model element type (the onnxruntime `Tensor.Type` spelling). */
export type OnnxTypeName = WireDTypeName | "float32";

/** One input or output of the model, defaults applied. */
export interface TensorSpec {
    /** ONNX graph input or output name. */
    readonly name: string;
    /** On-chain dtype. */
    readonly dtype: WireDTypeName;
    /** Fixed dims, each >= 1; empty for a scalar. */
    readonly shape: readonly number[];
    /** The model's element type: `dtype` itself, or float32. */
    readonly onnxType: OnnxTypeName;
    /** Decimal scale; set exactly when `onnxType` is float32. */
    readonly decimals?: number;
    /** Inputs only: the inclusive range of the wire values a request may carry; absent = the whole dtype. */
    readonly range?: readonly [bigint, bigint];
}

/** A parsed, validated manifest. */
export interface Manifest {
    readonly version: typeof MANIFEST_VERSION;
    readonly inputs: readonly TensorSpec[];
    readonly outputs: readonly TensorSpec[];
}

/** A manifest that is missing, malformed, or not the registered one. Codes: see each throw site. */
export class ManifestError extends PermanentError {}

/** Bytes that are not a readable ONNX model, or a model that does not fit its manifest. */
export class ModelFormatError extends PermanentError {
    constructor(message: string, options?: { cause?: unknown }) {
        super("MODEL_FORMAT", message, options);
    }
}

/** The tensor-codec dtype of a tensor's wire dtype. */
export function wireDType(spec: TensorSpec): DType {
    return WIRE_DTYPES[spec.dtype];
}

/** Inclusive range of each wire dtype's values. */
export const WIRE_DTYPE_RANGES: Readonly<Record<WireDTypeName, readonly [bigint, bigint]>> = {
    uint8: [0n, 255n],
    int8: [-128n, 127n],
    uint16: [0n, 65_535n],
    int16: [-32_768n, 32_767n],
    int32: [-(2n ** 31n), 2n ** 31n - 1n],
    int64: [-(2n ** 63n), 2n ** 63n - 1n],
    bool: [0n, 1n],
    uint32: [0n, 2n ** 32n - 1n],
};
