/**
 * The canonical tensor-list encoding (version 1), byte for byte the same as `contracts/libraries/Tensors.sol`.
 * A request's input and a result's output are such bytes; `inputHash` / `outputHash` is their keccak256.
 *
 * ```
 * TensorList := version:u8 (= 1) | count:u8 | Tensor * count
 * Tensor     := dtype:u8 | rank:u8 (0..8) | dim:u32 * rank | data
 * data       := numel elements of elementSize(dtype) bytes, big-endian two's complement
 * numel      := product of dims (1 for rank 0); every dim >= 1; numel <= 2^24
 * ```
 *
 * Decoding checks fields in the order they are read (each field is bounds-checked, then validated), exactly like
 * the Solidity library, so a malformed input gets the same error class (and the same error arguments, in
 * `TensorCodecError.details`) on both sides. See docs/tensor-encoding.md.
 */
import { PermanentError } from "../internal/errors";
import { keccak256 } from "../internal/keccak";

/** The encoding version this codec reads and writes. */
export const TENSOR_ENCODING_VERSION = 1;
/** Most tensors in one list (the count is one byte). */
export const MAX_TENSORS = 255;
/** Highest rank of a tensor. */
export const MAX_RANK = 8;
/** Most elements in one tensor (2^24). */
export const MAX_ELEMENTS = 2 ** 24;
/** Largest dim a u32 can hold. */
const MAX_DIM = 0xffff_ffff;

/** ONNX TensorProto.DataType codes of the supported (integer) dtypes. */
export enum DType {
    UINT8 = 2,
    INT8 = 3,
    UINT16 = 4,
    INT16 = 5,
    INT32 = 6,
    INT64 = 7,
    BOOL = 9,
    UINT32 = 12,
}

/** Size and inclusive value range of a dtype's elements. */
export interface DTypeInfo {
    readonly dtype: DType;
    readonly name: string;
    /** Bytes per element. */
    readonly size: 1 | 2 | 4 | 8;
    readonly signed: boolean;
    readonly min: bigint;
    readonly max: bigint;
}

function dtypeInfo(dtype: DType, size: 1 | 2 | 4 | 8, signed: boolean): DTypeInfo {
    const bits = BigInt(size * 8);
    const isBool = dtype === DType.BOOL;
    return Object.freeze({
        dtype,
        name: DType[dtype],
        size,
        signed,
        min: signed ? -(1n << (bits - 1n)) : 0n,
        max: isBool ? 1n : signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n,
    });
}

/** Every supported dtype, by code. */
export const DTYPES: ReadonlyMap<number, DTypeInfo> = new Map(
    [
        dtypeInfo(DType.UINT8, 1, false),
        dtypeInfo(DType.INT8, 1, true),
        dtypeInfo(DType.UINT16, 2, false),
        dtypeInfo(DType.INT16, 2, true),
        dtypeInfo(DType.INT32, 4, true),
        dtypeInfo(DType.INT64, 8, true),
        dtypeInfo(DType.BOOL, 1, false),
        dtypeInfo(DType.UINT32, 4, false),
    ].map((info) => [info.dtype, info] as const),
);

/** Whether `code` is a supported dtype code. */
export function isDType(code: number): code is DType {
    return DTYPES.has(code);
}

/** Size, signedness and range of a supported dtype. */
export function getDTypeInfo(dtype: DType): DTypeInfo {
    const info = DTYPES.get(dtype);
    if (info === undefined) {
        throw new TensorCodecError("UNKNOWN_DTYPE", `unknown dtype ${String(dtype)}`, dtypeDetail(dtype));
    }
    return info;
}

/** Bytes per element of a supported dtype. */
export function elementSize(dtype: DType): number {
    return getDTypeInfo(dtype).size;
}

/** One integer tensor; `data` holds the elements in row-major order. */
export interface Tensor {
    dtype: DType;
    /** The dims; empty for a scalar. Every dim is an integer from 1 to 2^32 - 1. */
    shape: number[];
    data: bigint[];
}

/**
 * Error codes. Each code but the TypeScript-only ones is the Solidity error `Tensors<PascalCase>` with the same
 * arguments (see `details`). INVALID_DIM and INVALID_VALUE are TypeScript-only: a dim that is not an integer in
 * [0, 2^32 - 1] or an element that is not a bigint cannot be expressed in the Solidity types.
 */
export type TensorCodecErrorCode =
    | "UNSUPPORTED_VERSION"
    | "UNKNOWN_DTYPE"
    | "RANK_TOO_LARGE"
    | "ZERO_DIM"
    | "TOO_MANY_ELEMENTS"
    | "TOO_MANY_TENSORS"
    | "TRUNCATED"
    | "TRAILING_BYTES"
    | "INVALID_BOOL"
    | "VALUE_OUT_OF_RANGE"
    | "SHAPE_MISMATCH"
    | "INDEX_OUT_OF_BOUNDS"
    | "INVALID_DIM"
    | "INVALID_VALUE";

/**
 * A value that is not a canonical tensor list (decode) or a tensor list that cannot be encoded (encode). Permanent:
 * the same bytes fail the same way again.
 */
export class TensorCodecError extends PermanentError {
    override readonly name = "TensorCodecError";
    declare readonly code: TensorCodecErrorCode;
    /** The Solidity error's arguments by parameter name, e.g. `{ tensorIndex: 1n, dimIndex: 0n }`. */
    readonly details: Readonly<Record<string, bigint>>;

    constructor(
        code: TensorCodecErrorCode,
        message: string,
        details: Record<string, bigint> = {},
        options?: ErrorOptions,
    ) {
        super(code, `${code}: ${message}`, options);
        this.details = Object.freeze({ ...details });
    }
}

function dtypeDetail(dtype: number): Record<string, bigint> {
    return Number.isSafeInteger(dtype) ? { dtype: BigInt(dtype) } : {};
}

// -------------------------------------------------------------------------------------------------------------
// Encoding
// -------------------------------------------------------------------------------------------------------------

/**
 * Encodes a list of tensors canonically. Validates everything first, in the order of the Solidity `encode`: the
 * list length, then per tensor the dtype, the rank, each dim, the element count, the data length, each value.
 */
export function encodeTensors(tensors: readonly Tensor[]): Uint8Array {
    return encodeList(tensors, checkTensor, (tensor, info, view, offset) => {
        for (const value of tensor.data) {
            writeElement(view, offset, info, value);
            offset += info.size;
        }
    });
}

/**
 * The layout both encoders share: the list check, then each tensor checked by `check` (in the Solidity order),
 * then the header bytes, with `writeData` filling each tensor's elements at `offset`.
 */
function encodeList<T extends { dtype: DType; shape: readonly number[]; data: { length: number } }>(
    tensors: readonly T[],
    check: (tensor: T, i: number) => DTypeInfo,
    writeData: (tensor: T, info: DTypeInfo, view: DataView, offset: number) => void,
): Uint8Array {
    if (tensors.length > MAX_TENSORS) {
        throw new TensorCodecError("TOO_MANY_TENSORS", `${tensors.length} tensors, at most ${MAX_TENSORS}`, {
            have: BigInt(tensors.length),
            max: BigInt(MAX_TENSORS),
        });
    }
    const infos = tensors.map((tensor, i) => check(tensor, i));
    let size = 2;
    tensors.forEach((tensor, i) => {
        size += 2 + 4 * tensor.shape.length + tensor.data.length * infoAt(infos, i).size;
    });

    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    out[0] = TENSOR_ENCODING_VERSION;
    out[1] = tensors.length;
    let offset = 2;
    tensors.forEach((tensor, i) => {
        const info = infoAt(infos, i);
        out[offset] = tensor.dtype;
        out[offset + 1] = tensor.shape.length;
        offset += 2;
        for (const dim of tensor.shape) {
            view.setUint32(offset, dim);
            offset += 4;
        }
        writeData(tensor, info, view, offset);
        offset += tensor.data.length * info.size;
    });
    return out;
}

/** keccak256 of the canonical encoding of `tensors` (0x-prefixed hex). */
export function hashTensors(tensors: readonly Tensor[]): string {
    return keccak256(encodeTensors(tensors));
}

function infoAt(infos: readonly DTypeInfo[], i: number): DTypeInfo {
    const info = infos[i];
    if (info === undefined) throw new Error(`internal: no dtype info for tensor ${i}`);
    return info;
}

/**
 * The header checks shared by both encoders, in the order of the Solidity `encode`: dtype, rank, each dim, the
 * element count. Returns the dtype info and the element count.
 */
function checkHeader(dtype: number, shape: readonly number[], i: number): { info: DTypeInfo; numel: bigint } {
    const info = DTYPES.get(dtype);
    if (info === undefined) {
        throw new TensorCodecError("UNKNOWN_DTYPE", `tensor ${i}: unknown dtype ${String(dtype)}`, {
            tensorIndex: BigInt(i),
            ...dtypeDetail(dtype),
        });
    }
    if (shape.length > MAX_RANK) {
        throw new TensorCodecError("RANK_TOO_LARGE", `tensor ${i}: rank ${shape.length}, at most ${MAX_RANK}`, {
            tensorIndex: BigInt(i),
            have: BigInt(shape.length),
            max: BigInt(MAX_RANK),
        });
    }
    let numel = 1n;
    shape.forEach((dim, j) => {
        if (!Number.isInteger(dim) || dim < 0 || dim > MAX_DIM) {
            throw new TensorCodecError("INVALID_DIM", `tensor ${i}: dim ${j} is ${dim}, not a u32`, {
                tensorIndex: BigInt(i),
                dimIndex: BigInt(j),
            });
        }
        if (dim === 0) throw zeroDim(i, j);
        numel *= BigInt(dim);
    });
    if (numel > BigInt(MAX_ELEMENTS)) throw tooManyElements(i, numel);
    return { info, numel };
}

/** Validates tensor `i` for encoding; returns its dtype info. */
function checkTensor(tensor: Tensor, i: number): DTypeInfo {
    const { info, numel } = checkHeader(tensor.dtype, tensor.shape, i);
    const { shape, data } = tensor;
    if (BigInt(data.length) !== numel) {
        throw new TensorCodecError(
            "SHAPE_MISMATCH",
            `tensor ${i}: ${data.length} elements, shape [${shape.join(", ")}] has ${numel}`,
            { tensorIndex: BigInt(i), have: BigInt(data.length), want: numel },
        );
    }
    data.forEach((value, j) => {
        if (typeof value !== "bigint") {
            throw new TensorCodecError(
                "INVALID_VALUE",
                `tensor ${i}: element ${j} is a ${typeof value}, not a bigint`,
                {
                    tensorIndex: BigInt(i),
                    elementIndex: BigInt(j),
                },
            );
        }
        if (value < info.min || value > info.max) {
            throw new TensorCodecError(
                "VALUE_OUT_OF_RANGE",
                `tensor ${i}: element ${j} is ${value}, ${info.name} holds ${info.min} to ${info.max}`,
                { tensorIndex: BigInt(i), elementIndex: BigInt(j), value, min: info.min, max: info.max },
            );
        }
    });
    return info;
}

function writeElement(view: DataView, offset: number, info: DTypeInfo, value: bigint): void {
    // Two's complement of the low bytes: the value has been range-checked, so nothing is lost.
    const bits = info.size * 8;
    switch (info.size) {
        case 1:
            view.setUint8(offset, Number(BigInt.asUintN(bits, value)));
            return;
        case 2:
            view.setUint16(offset, Number(BigInt.asUintN(bits, value)));
            return;
        case 4:
            view.setUint32(offset, Number(BigInt.asUintN(bits, value)));
            return;
        case 8:
            view.setBigUint64(offset, BigInt.asUintN(bits, value));
            return;
    }
}

// -------------------------------------------------------------------------------------------------------------
// Decoding and validation
// -------------------------------------------------------------------------------------------------------------

/** A parsed and validated tensor header whose data is known to be present. */
interface Header {
    readonly info: DTypeInfo;
    readonly shape: number[];
    readonly numel: number;
    readonly dataOffset: number;
    /** Offset just past the tensor's data. */
    readonly end: number;
}

/** Decodes canonical bytes into tensors; throws TensorCodecError on any non-canonical input. */
export function decodeTensors(bytes: Uint8Array): Tensor[] {
    const view = viewOf(bytes);
    return walkTensors(bytes).map((header) => {
        const data = new Array<bigint>(header.numel);
        for (let j = 0; j < header.numel; j++) {
            data[j] = readElement(view, header.dataOffset + j * header.info.size, header.info);
        }
        return { dtype: header.info.dtype, shape: header.shape, data };
    });
}

/**
 * Checks that `bytes` is canonical without materialising the data: the same checks, order and errors as
 * `decodeTensors`. Returns the number of tensors.
 */
export function validateTensors(bytes: Uint8Array): number {
    return walkTensors(bytes).length;
}

/**
 * The one walk over a tensor list that validates it (decodeTensors, validateTensors and scanTensors read through
 * it): the version byte, each header and its data, BOOL values, then that nothing trails the last tensor, in the
 * order the Solidity codec checks them. Returns the headers.
 */
function walkTensors(bytes: Uint8Array): Header[] {
    const view = viewOf(bytes);
    const count = readPreamble(bytes);
    const headers: Header[] = [];
    let offset = 2;
    for (let i = 0; i < count; i++) {
        const header = parseHeader(bytes, view, offset, i);
        if (header.info.dtype === DType.BOOL) checkBools(bytes, header, i);
        headers.push(header);
        offset = header.end;
    }
    checkNoTrailingBytes(bytes, offset);
    return headers;
}

/**
 * keccak256 (0x-prefixed hex) of canonical tensor-list bytes: the `outputHash` of a result. Throws
 * TensorCodecError if the bytes are not canonical, so a non-canonical output is never hashed.
 */
export function tensorListHash(bytes: Uint8Array): string {
    validateTensors(bytes);
    return keccak256(bytes);
}

/**
 * Reads element `elementIndex` (row-major) of tensor `tensorIndex`, like the Solidity `elementAt`: it checks the
 * version, the headers of tensors 0..tensorIndex and, for a BOOL tensor, the element read, but not later tensors,
 * trailing bytes or other bool elements. Use `validateTensors` on untrusted bytes.
 */
export function tensorElementAt(bytes: Uint8Array, tensorIndex: number, elementIndex: number): bigint {
    const view = viewOf(bytes);
    const count = readPreamble(bytes);
    const outOfBounds = (elementCount: number): TensorCodecError =>
        new TensorCodecError(
            "INDEX_OUT_OF_BOUNDS",
            `element ${elementIndex} of tensor ${tensorIndex}: the list has ${count} tensors` +
                (elementCount > 0 ? `, the tensor has ${elementCount} elements` : ""),
            {
                tensorIndex: BigInt(tensorIndex),
                elementIndex: BigInt(elementIndex),
                tensorCount: BigInt(count),
                elementCount: BigInt(elementCount),
            },
        );
    if (!Number.isSafeInteger(elementIndex) || elementIndex < 0) {
        throw new TensorCodecError("INDEX_OUT_OF_BOUNDS", `element index ${elementIndex} is not a natural number`);
    }
    if (!Number.isSafeInteger(tensorIndex) || tensorIndex < 0) {
        throw new TensorCodecError("INDEX_OUT_OF_BOUNDS", `tensor index ${tensorIndex} is not a natural number`);
    }
    if (tensorIndex >= count) throw outOfBounds(0);
    let offset = 2;
    for (let i = 0; ; i++) {
        const header = parseHeader(bytes, view, offset, i);
        if (i < tensorIndex) {
            offset = header.end;
            continue;
        }
        if (elementIndex >= header.numel) throw outOfBounds(header.numel);
        const elementOffset = header.dataOffset + elementIndex * header.info.size;
        const value = readElement(view, elementOffset, header.info);
        if (header.info.dtype === DType.BOOL && value > 1n)
            throw invalidBool(tensorIndex, elementIndex, value, elementOffset);
        return value;
    }
}

function viewOf(bytes: Uint8Array): DataView {
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function byteAt(bytes: Uint8Array, offset: number): number {
    const value = bytes[offset];
    if (value === undefined) throw new Error(`internal: read at offset ${offset} of ${bytes.length} bytes`);
    return value;
}

/** Throws TRUNCATED unless the input holds at least `want` bytes. */
function need(bytes: Uint8Array, want: number, what: string): void {
    if (bytes.length < want) {
        throw new TensorCodecError("TRUNCATED", `input ends at byte ${bytes.length}, ${what} needs ${want} bytes`, {
            have: BigInt(bytes.length),
            want: BigInt(want),
        });
    }
}

/** Checks the version byte; returns the tensor count. */
function readPreamble(bytes: Uint8Array): number {
    need(bytes, 1, "the version byte");
    const version = byteAt(bytes, 0);
    if (version !== TENSOR_ENCODING_VERSION) {
        throw new TensorCodecError(
            "UNSUPPORTED_VERSION",
            `version byte is ${version}, this codec reads version ${TENSOR_ENCODING_VERSION}`,
            { have: BigInt(version), want: BigInt(TENSOR_ENCODING_VERSION) },
        );
    }
    need(bytes, 2, "the tensor count");
    return byteAt(bytes, 1);
}

/** Reads and validates the header of tensor `i` at `offset` and checks that its data is present. */
function parseHeader(bytes: Uint8Array, view: DataView, offset: number, i: number): Header {
    need(bytes, offset + 1, `the dtype of tensor ${i} (offset ${offset})`);
    const dtype = byteAt(bytes, offset);
    const info = DTYPES.get(dtype);
    if (info === undefined) {
        throw new TensorCodecError("UNKNOWN_DTYPE", `tensor ${i}: unknown dtype ${dtype} at offset ${offset}`, {
            tensorIndex: BigInt(i),
            dtype: BigInt(dtype),
        });
    }
    need(bytes, offset + 2, `the rank of tensor ${i} (offset ${offset + 1})`);
    const rank = byteAt(bytes, offset + 1);
    if (rank > MAX_RANK) {
        throw new TensorCodecError(
            "RANK_TOO_LARGE",
            `tensor ${i}: rank ${rank} at offset ${offset + 1}, at most ${MAX_RANK}`,
            { tensorIndex: BigInt(i), have: BigInt(rank), max: BigInt(MAX_RANK) },
        );
    }
    const shape: number[] = [];
    let numel = 1n;
    let dataOffset = offset + 2;
    for (let j = 0; j < rank; j++) {
        need(bytes, dataOffset + 4, `dim ${j} of tensor ${i} (offset ${dataOffset})`);
        const dim = view.getUint32(dataOffset);
        if (dim === 0) throw zeroDim(i, j, dataOffset);
        shape.push(dim);
        numel *= BigInt(dim);
        dataOffset += 4;
    }
    if (numel > BigInt(MAX_ELEMENTS)) throw tooManyElements(i, numel);
    const end = dataOffset + Number(numel) * info.size;
    need(bytes, end, `the ${numel} ${info.name} elements of tensor ${i} (offset ${dataOffset})`);
    return { info, shape, numel: Number(numel), dataOffset, end };
}

/** Throws INVALID_BOOL at the first element of a BOOL tensor that is not 0 or 1. */
function checkBools(bytes: Uint8Array, header: Header, i: number): void {
    for (let j = 0; j < header.numel; j++) {
        const value = byteAt(bytes, header.dataOffset + j);
        if (value > 1) throw invalidBool(i, j, BigInt(value), header.dataOffset + j);
    }
}

function checkNoTrailingBytes(bytes: Uint8Array, end: number): void {
    if (bytes.length !== end) {
        throw new TensorCodecError(
            "TRAILING_BYTES",
            `${bytes.length - end} bytes after the last tensor, which ends at offset ${end}`,
            { have: BigInt(bytes.length), want: BigInt(end) },
        );
    }
}

function readElement(view: DataView, offset: number, info: DTypeInfo): bigint {
    switch (info.size) {
        case 1:
            return BigInt(info.signed ? view.getInt8(offset) : view.getUint8(offset));
        case 2:
            return BigInt(info.signed ? view.getInt16(offset) : view.getUint16(offset));
        case 4:
            return BigInt(info.signed ? view.getInt32(offset) : view.getUint32(offset));
        case 8:
            return info.signed ? view.getBigInt64(offset) : view.getBigUint64(offset);
    }
}

function zeroDim(i: number, j: number, offset?: number): TensorCodecError {
    const where = offset === undefined ? "" : ` (offset ${offset})`;
    return new TensorCodecError("ZERO_DIM", `tensor ${i}: dim ${j} is 0${where}, dims are at least 1`, {
        tensorIndex: BigInt(i),
        dimIndex: BigInt(j),
    });
}

function tooManyElements(i: number, numel: bigint): TensorCodecError {
    return new TensorCodecError("TOO_MANY_ELEMENTS", `tensor ${i}: ${numel} elements, at most ${MAX_ELEMENTS}`, {
        tensorIndex: BigInt(i),
        have: numel,
        max: BigInt(MAX_ELEMENTS),
    });
}

function invalidBool(i: number, j: number, value: bigint, offset: number): TensorCodecError {
    return new TensorCodecError(
        "INVALID_BOOL",
        `tensor ${i}: bool element ${j} is ${value} at offset ${offset}, must be 0 or 1`,
        { tensorIndex: BigInt(i), elementIndex: BigInt(j), value },
    );
}

// -------------------------------------------------------------------------------------------------------------
// Typed-array fast path (the node's executor): the same format, checks and errors, no bigint per element
// -------------------------------------------------------------------------------------------------------------

/** Elements of one tensor as a native typed array: the array class follows the dtype (see `typedArrayFor`). */
export type TypedElements =
    Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array | BigInt64Array;

/** One integer tensor whose elements live in a typed array (row-major, native byte order). */
export interface TypedTensor {
    dtype: DType;
    /** The dims; empty for a scalar. */
    shape: number[];
    data: TypedElements;
}

/** Whether this machine stores typed-array elements little-endian (every platform Node supports today). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A zeroed typed array of `length` elements for `dtype`: Uint8Array for UINT8 and BOOL, Int8Array, Uint16Array,
 * Int16Array, Int32Array, Uint32Array, BigInt64Array for INT64 (the classes onnxruntime uses for these types).
 */
export function typedArrayFor(dtype: DType, length: number): TypedElements {
    switch (dtype) {
        case DType.UINT8:
        case DType.BOOL:
            return new Uint8Array(length);
        case DType.INT8:
            return new Int8Array(length);
        case DType.UINT16:
            return new Uint16Array(length);
        case DType.INT16:
            return new Int16Array(length);
        case DType.INT32:
            return new Int32Array(length);
        case DType.UINT32:
            return new Uint32Array(length);
        case DType.INT64:
            return new BigInt64Array(length);
        default:
            throw new TensorCodecError("UNKNOWN_DTYPE", `unknown dtype ${String(dtype)}`, dtypeDetail(dtype));
    }
}

/** Whether `data` is an instance of the typed-array class `typedArrayFor(dtype)` returns. */
function isTypedArrayOf(dtype: DType, data: TypedElements): boolean {
    switch (dtype) {
        case DType.UINT8:
        case DType.BOOL:
            return data instanceof Uint8Array;
        case DType.INT8:
            return data instanceof Int8Array;
        case DType.UINT16:
            return data instanceof Uint16Array;
        case DType.INT16:
            return data instanceof Int16Array;
        case DType.INT32:
            return data instanceof Int32Array;
        case DType.UINT32:
            return data instanceof Uint32Array;
        case DType.INT64:
            return data instanceof BigInt64Array;
        default:
            return false;
    }
}

/** The raw bytes behind a typed array (a view, no copy). */
function bytesOf(data: TypedElements): Uint8Array {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Copies `count` elements of `size` bytes from `src` at `srcOffset` to `dst` at `dstOffset`, reversing the bytes
 * of each element on a little-endian host (big-endian wire <-> native order). The swap is Node's native
 * Buffer.swap16/32/64, in place on the copy.
 */
function copyElements(
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    count: number,
    size: number,
): void {
    const length = count * size;
    dst.set(src.subarray(srcOffset, srcOffset + length), dstOffset);
    if (size === 1 || !HOST_LITTLE_ENDIAN) return;
    const copy = Buffer.from(dst.buffer, dst.byteOffset + dstOffset, length);
    if (size === 2) copy.swap16();
    else if (size === 4) copy.swap32();
    else copy.swap64();
}

/** Where one tensor of a validated tensor list sits in the bytes. */
export interface TensorLayout {
    readonly dtype: DType;
    /** The dims; empty for a scalar. */
    readonly shape: number[];
    /** Number of elements. */
    readonly numel: number;
    /** Offset of the first element (big-endian, `elementSize(dtype)` bytes each) in the bytes scanned. */
    readonly dataOffset: number;
}

/**
 * Validates canonical bytes like `validateTensors` (the same checks, in the same order, with the same errors) and
 * returns where each tensor's elements are, so a caller can read them without decoding into bigints.
 */
export function scanTensors(bytes: Uint8Array): TensorLayout[] {
    return walkTensors(bytes).map((header) => ({
        dtype: header.info.dtype,
        shape: header.shape,
        numel: header.numel,
        dataOffset: header.dataOffset,
    }));
}

/** The elements of a tensor located by `scanTensors` in `bytes`, copied into a native typed array. */
export function readTensorElements(bytes: Uint8Array, layout: TensorLayout): TypedElements {
    const data = typedArrayFor(layout.dtype, layout.numel);
    copyElements(bytes, layout.dataOffset, bytesOf(data), 0, layout.numel, elementSize(layout.dtype));
    return data;
}

/**
 * Decodes canonical bytes into tensors backed by typed arrays (see `typedArrayFor`): the same checks, in the same
 * order and with the same errors as `decodeTensors`, without a bigint per element.
 */
export function decodeTensorsTyped(bytes: Uint8Array): TypedTensor[] {
    return scanTensors(bytes).map((layout) => ({
        dtype: layout.dtype,
        shape: layout.shape,
        data: readTensorElements(bytes, layout),
    }));
}

/**
 * Encodes tensors backed by typed arrays; byte for byte `encodeTensors` of the same values. The typed array must
 * be of the dtype's class (`typedArrayFor`), else INVALID_VALUE; its elements are then in range by construction,
 * except BOOL elements, which must be 0 or 1 (VALUE_OUT_OF_RANGE). Other checks and errors as `encodeTensors`.
 */
export function encodeTensorsTyped(tensors: readonly TypedTensor[]): Uint8Array {
    return encodeList(tensors, checkTypedTensor, (tensor, info, view, offset) => {
        copyElements(bytesOf(tensor.data), 0, new Uint8Array(view.buffer), offset, tensor.data.length, info.size);
    });
}

/** `checkTensor` for a typed tensor: dtype, rank, dims, element count, array class, BOOL values. */
function checkTypedTensor(tensor: TypedTensor, i: number): DTypeInfo {
    const { info, numel } = checkHeader(tensor.dtype, tensor.shape, i);
    const { shape, data } = tensor;
    if (!isTypedArrayOf(info.dtype, data)) {
        throw new TensorCodecError(
            "INVALID_VALUE",
            `tensor ${i}: ${info.name} elements must be a ${typedArrayFor(info.dtype, 0).constructor.name}, ` +
                `got ${data.constructor.name}`,
            { tensorIndex: BigInt(i) },
        );
    }
    if (BigInt(data.length) !== numel) {
        throw new TensorCodecError(
            "SHAPE_MISMATCH",
            `tensor ${i}: ${data.length} elements, shape [${shape.join(", ")}] has ${numel}`,
            { tensorIndex: BigInt(i), have: BigInt(data.length), want: numel },
        );
    }
    if (info.dtype === DType.BOOL) {
        for (let j = 0; j < data.length; j++) {
            const value = data[j] as number;
            if (value > 1) {
                throw new TensorCodecError(
                    "VALUE_OUT_OF_RANGE",
                    `tensor ${i}: element ${j} is ${value}, ${info.name} holds ${info.min} to ${info.max}`,
                    {
                        tensorIndex: BigInt(i),
                        elementIndex: BigInt(j),
                        value: BigInt(value),
                        min: info.min,
                        max: info.max,
                    },
                );
            }
        }
    }
    return info;
}
