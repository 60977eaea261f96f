/**
 * The model manifest: a model's I/O spec, registered on-chain by hash next to the ONNX file's hash.
 *
 * The manifest is a JSON document embedded in the ONNX file itself, as the ModelProto `metadata_props` entry
 * `verity.manifest` (MANIFEST_METADATA_KEY), so one file carries the model and its spec. Its hash is
 * `manifestHash = keccak256(utf8 bytes of that exact string)`: no canonicalisation, the bytes are the spec.
 *
 * Version 1:
 *
 * ```json
 * { "version": 1,
 *   "inputs":  [ { "name": "features", "dtype": "int32", "shape": [1, 4], "onnxType": "float32", "decimals": 4 } ],
 *   "outputs": [ { "name": "score", "dtype": "int64", "shape": [1, 1], "onnxType": "float32", "decimals": 6 } ] }
 * ```
 *
 * - `name`: the ONNX graph input or output name; unique within `inputs` and within `outputs`.
 * - `dtype`: the on-chain (wire) integer dtype of the tensor, a tensor-codec dtype in lower case.
 * - `shape`: fixed dims, each an integer >= 1 (rank 0 to 8, at most 2^24 elements).
 * - `onnxType`: the model's element type; defaults to `dtype`. An integer or bool `onnxType` must equal `dtype`.
 *   `float32` needs `decimals` (0 to MAX_DECIMALS) and an integer wire dtype other than bool: the integer `v`
 *   on chain is the float `v / 10^decimals` (see fixedPoint.ts).
 * - `decimals`: only on float32 tensors.
 * - `range`: inputs only, optional: `[min, max]`, the inclusive range of the wire integers a request may carry
 *   (numbers, or decimal strings for values beyond 2^53). An input outside it is INVALID_INPUT. Verifiable
 *   (integer) models declare it so that the static overflow analysis can prove more (docs/verifiable-subset.md);
 *   without it the range is the whole wire dtype.
 * - The order of `inputs` is the order of the request's tensors; the order of `outputs` is the result's.
 */
import { keccak256, toUtf8Bytes } from "ethers";
import { onnx } from "onnx-proto";
import { z } from "zod";
import { formatZodIssues } from "../internal/zodIssues";
import { MAX_DECIMALS } from "./fixedPoint";
import {
    ManifestError,
    MANIFEST_METADATA_KEY,
    MANIFEST_VERSION,
    ModelFormatError,
    WIRE_DTYPE_RANGES,
    WIRE_DTYPES,
    type Manifest,
    type TensorSpec,
    type WireDTypeName,
} from "./manifestTypes";
import { MAX_ELEMENTS, MAX_RANK, MAX_TENSORS } from "./tensorCodec";

export * from "./manifestTypes";

// -------------------------------------------------------------------------------------------------------------
// Parsing
// -------------------------------------------------------------------------------------------------------------

const WIRE_DTYPE_NAMES = Object.keys(WIRE_DTYPES) as [WireDTypeName, ...WireDTypeName[]];

/** An integer given as a JSON number (a safe integer) or a decimal string. */
const integerSchema = z.union([
    z.number().int().refine(Number.isSafeInteger, { message: "must be a safe integer (use a string beyond 2^53)" }),
    z.string().regex(/^-?(0|[1-9][0-9]*)$/, { message: "must be a decimal integer string" }),
]);

const tensorSpecFields = {
    name: z.string().min(1, { message: "must be a non-empty string" }),
    dtype: z.enum(WIRE_DTYPE_NAMES),
    shape: z
        .array(z.number().int().min(1).max(0xffff_ffff))
        .max(MAX_RANK, { message: `rank must be at most ${MAX_RANK}` }),
    onnxType: z.enum([...WIRE_DTYPE_NAMES, "float32"]).optional(),
    decimals: z.number().int().min(0).max(MAX_DECIMALS).optional(),
    range: z.tuple([integerSchema, integerSchema]).optional(),
};

const tensorSpecSchema = z.strictObject(tensorSpecFields).superRefine((spec, ctx) => {
    const onnxType = spec.onnxType ?? spec.dtype;
    if (onnxType === "float32") {
        if (spec.decimals === undefined) {
            ctx.addIssue({ code: "custom", path: ["decimals"], message: "required when onnxType is float32" });
        }
        if (spec.dtype === "bool") {
            ctx.addIssue({
                code: "custom",
                path: ["dtype"],
                message: "a float32 tensor needs an integer wire dtype, not bool",
            });
        }
    } else {
        if (onnxType !== spec.dtype) {
            ctx.addIssue({
                code: "custom",
                path: ["onnxType"],
                message: `an integer or bool onnxType must equal dtype (${spec.dtype}), got ${onnxType}`,
            });
        }
        if (spec.decimals !== undefined) {
            ctx.addIssue({ code: "custom", path: ["decimals"], message: "only allowed when onnxType is float32" });
        }
    }
    const isInteger = (v: unknown) =>
        (typeof v === "number" && Number.isSafeInteger(v)) || (typeof v === "string" && /^-?(0|[1-9][0-9]*)$/.test(v));
    // Refinements also run over fields that failed their own check: skip a range that is not two integers.
    if (spec.range !== undefined && isInteger(spec.range[0]) && isInteger(spec.range[1])) {
        const [min, max] = [BigInt(spec.range[0]), BigInt(spec.range[1])];
        const [lo, hi] = WIRE_DTYPE_RANGES[spec.dtype];
        if (spec.dtype === "bool") {
            ctx.addIssue({ code: "custom", path: ["range"], message: "a bool tensor takes no range" });
        } else if (min > max) {
            ctx.addIssue({ code: "custom", path: ["range"], message: `min ${min} is above max ${max}` });
        } else if (min < lo || max > hi) {
            ctx.addIssue({
                code: "custom",
                path: ["range"],
                message: `[${min}, ${max}] is not within the ${spec.dtype} range [${lo}, ${hi}]`,
            });
        }
    }
    const numel = spec.shape.reduce((n, d) => n * d, 1);
    if (numel > MAX_ELEMENTS) {
        ctx.addIssue({
            code: "custom",
            path: ["shape"],
            message: `${numel} elements, the tensor encoding holds at most ${MAX_ELEMENTS}`,
        });
    }
});

function uniqueNames(list: readonly { name: string }[], field: string, ctx: z.RefinementCtx): void {
    const seen = new Map<string, number>();
    list.forEach((spec, i) => {
        const first = seen.get(spec.name);
        if (first !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: [field, i, "name"],
                message: `duplicate name "${spec.name}" (also ${field}[${first}])`,
            });
        } else {
            seen.set(spec.name, i);
        }
    });
}

const manifestFields = {
    version: z.literal(MANIFEST_VERSION),
    inputs: z.array(tensorSpecSchema).max(MAX_TENSORS),
    outputs: z.array(tensorSpecSchema).min(1, { message: "at least one output is required" }).max(MAX_TENSORS),
};

/** Every field a version-1 manifest may hold: the document's, then each tensor spec's (docs/model-manifest.md). */
export const MANIFEST_FIELDS: readonly string[] = [...Object.keys(manifestFields), ...Object.keys(tensorSpecFields)];

const manifestSchema = z.strictObject(manifestFields).superRefine((manifest, ctx) => {
    uniqueNames(manifest.inputs, "inputs", ctx);
    uniqueNames(manifest.outputs, "outputs", ctx);
    manifest.outputs.forEach((spec, i) => {
        if (spec.range !== undefined) {
            ctx.addIssue({ code: "custom", path: ["outputs", i, "range"], message: "only inputs take a range" });
        }
    });
});

/**
 * Parses and validates a manifest (strict: unknown fields are refused) and applies defaults (`onnxType` =
 * `dtype`). Throws ManifestError `INVALID_MANIFEST` whose message names each bad field, e.g.
 * `Invalid manifest: inputs[0].decimals: required when onnxType is float32`.
 */
export function parseManifest(json: string): Manifest {
    let value: unknown;
    try {
        value = JSON.parse(json);
    } catch (err) {
        throw new ManifestError("INVALID_MANIFEST", `Invalid manifest: not JSON: ${(err as Error).message}`, {
            cause: err,
        });
    }
    const result = manifestSchema.safeParse(value);
    if (!result.success) {
        throw new ManifestError("INVALID_MANIFEST", `Invalid manifest: ${formatZodIssues(result.error).join("; ")}`, {
            cause: result.error,
        });
    }
    const toSpec = (spec: z.infer<typeof tensorSpecSchema>): TensorSpec =>
        Object.freeze({
            name: spec.name,
            dtype: spec.dtype,
            shape: Object.freeze([...spec.shape]),
            onnxType: spec.onnxType ?? spec.dtype,
            ...(spec.decimals === undefined ? {} : { decimals: spec.decimals }),
            ...(spec.range === undefined
                ? {}
                : { range: Object.freeze([BigInt(spec.range[0]), BigInt(spec.range[1])] as const) }),
        });
    return Object.freeze({
        version: MANIFEST_VERSION,
        inputs: Object.freeze(result.data.inputs.map(toSpec)),
        outputs: Object.freeze(result.data.outputs.map(toSpec)),
    });
}

/** keccak256 of the UTF-8 bytes of the exact manifest string: the `manifestHash` registered on-chain. */
export function manifestHash(json: string): string {
    return keccak256(toUtf8Bytes(json));
}

// -------------------------------------------------------------------------------------------------------------
// Reading and writing the ONNX metadata
// -------------------------------------------------------------------------------------------------------------

/** ModelProto field number of `metadata_props` (repeated StringStringEntryProto). */
const METADATA_PROPS_FIELD = 14;

/**
 * Decodes ONNX model bytes (a ModelProto) and returns its `metadata_props` as a map. Throws ModelFormatError
 * (`MODEL_FORMAT`) on bytes that do not decode as a ModelProto with an IR version and a graph, and on a key
 * that appears twice (which entry counts would be ambiguous).
 */
export function readOnnxMetadata(onnxBytes: Uint8Array): Map<string, string> {
    let model: onnx.ModelProto;
    try {
        model = onnx.ModelProto.decode(onnxBytes);
    } catch (err) {
        throw new ModelFormatError(`not an ONNX model: ${(err as Error).message}`, { cause: err });
    }
    const irVersion = typeof model.irVersion === "number" ? model.irVersion : model.irVersion.toNumber();
    if (!(irVersion > 0) || model.graph === null || model.graph === undefined) {
        throw new ModelFormatError(
            `not an ONNX model: ${irVersion > 0 ? "no graph" : "no IR version"} in ${onnxBytes.length} bytes`,
        );
    }
    const metadata = new Map<string, string>();
    for (const { key, value } of model.metadataProps) {
        const k = key ?? "";
        if (metadata.has(k)) throw new ModelFormatError(`metadata key "${k}" appears twice`);
        metadata.set(k, value ?? "");
    }
    return metadata;
}

/**
 * The manifest embedded in a model, checked against the registered hash and parsed. Throws ManifestError
 * `MANIFEST_NOT_FOUND` when the model has no `verity.manifest` entry, `MANIFEST_HASH_MISMATCH` (naming expected
 * and actual hash) when it is not the registered manifest, `INVALID_MANIFEST` when it does not parse; and
 * ModelFormatError when the bytes are not an ONNX model.
 */
export function extractManifest(onnxBytes: Uint8Array, expectedManifestHash: string): Manifest {
    const json = readOnnxMetadata(onnxBytes).get(MANIFEST_METADATA_KEY);
    if (json === undefined) {
        throw new ManifestError(
            "MANIFEST_NOT_FOUND",
            `the model has no "${MANIFEST_METADATA_KEY}" metadata entry (embed the manifest with embedManifest)`,
        );
    }
    const actual = manifestHash(json);
    if (actual !== expectedManifestHash.toLowerCase()) {
        throw new ManifestError(
            "MANIFEST_HASH_MISMATCH",
            `manifest hash mismatch: expected ${expectedManifestHash}, actual ${actual}`,
        );
    }
    return parseManifest(json);
}

/**
 * New model bytes with `manifestJson` as the `verity.manifest` metadata entry (set, or replacing an existing
 * one). The manifest is validated first. Every other byte of the model is kept as it is, fields this library's
 * ONNX schema does not know included: the old entries are cut out at the protobuf wire level and the new entry is
 * appended, never re-serialising the model.
 */
export function embedManifest(onnxBytes: Uint8Array, manifestJson: string): Uint8Array {
    parseManifest(manifestJson);
    readOnnxMetadata(onnxBytes); // throws unless the bytes are an ONNX model
    const kept: Uint8Array[] = [];
    let keptLength = 0;
    for (const field of topLevelFields(onnxBytes)) {
        const bytes = onnxBytes.subarray(field.start, field.end);
        if (field.number === METADATA_PROPS_FIELD && field.wireType === 2) {
            const entry = onnx.StringStringEntryProto.decode(onnxBytes.subarray(field.payloadStart, field.end));
            if (entry.key === MANIFEST_METADATA_KEY) continue;
        }
        kept.push(bytes);
        keptLength += bytes.length;
    }
    const entry = onnx.ModelProto.encode({
        metadataProps: [{ key: MANIFEST_METADATA_KEY, value: manifestJson }],
    }).finish();
    const out = new Uint8Array(keptLength + entry.length);
    let offset = 0;
    for (const bytes of kept) {
        out.set(bytes, offset);
        offset += bytes.length;
    }
    out.set(entry, offset);
    return out;
}

/** One top-level protobuf field: its number, wire type and byte range (tag included). */
interface WireField {
    number: number;
    wireType: number;
    start: number;
    /** Start of the payload of a length-delimited field (after tag and length). */
    payloadStart: number;
    end: number;
}

/** Splits protobuf message bytes into their top-level fields without decoding them. */
function topLevelFields(bytes: Uint8Array): WireField[] {
    const fields: WireField[] = [];
    let pos = 0;
    const varint = (): number => {
        let value = 0;
        for (let shift = 0; shift < 64; shift += 7) {
            const byte = bytes[pos++];
            if (byte === undefined) throw new ModelFormatError(`not an ONNX model: truncated varint at ${pos - 1}`);
            value += (byte & 0x7f) * 2 ** shift;
            if (byte < 0x80) return value;
        }
        throw new ModelFormatError(`not an ONNX model: varint too long at ${pos}`);
    };
    while (pos < bytes.length) {
        const start = pos;
        const tag = varint();
        const wireType = tag % 8;
        let payloadStart = pos;
        switch (wireType) {
            case 0:
                varint();
                break;
            case 1:
                pos += 8;
                break;
            case 2: {
                const length = varint();
                payloadStart = pos;
                pos += length;
                break;
            }
            case 5:
                pos += 4;
                break;
            default:
                throw new ModelFormatError(`not an ONNX model: wire type ${wireType} at offset ${start}`);
        }
        if (pos > bytes.length) throw new ModelFormatError(`not an ONNX model: field at ${start} is truncated`);
        fields.push({ number: Math.floor(tag / 8), wireType, start, payloadStart, end: pos });
    }
    return fields;
}
