/**
 * Hand-checked vectors for the tensor encoding, shared by the Solidity and TypeScript unit tests and the
 * cross-implementation property test, so both sides are held to the same bytes and the same errors.
 */
import { concat, hexlify, toBeHex } from "ethers";
import { DType, type Tensor, type TensorCodecErrorCode } from "../../oracle/src/protocol/tensorCodec";

/** The worked example of docs/tensor-encoding.md. */
export const EXAMPLE_TENSORS: readonly Tensor[] = [
    { dtype: DType.INT8, shape: [2, 2], data: [1n, -1n, 127n, -128n] },
    { dtype: DType.INT32, shape: [3], data: [-2n, 0n, 0x12345678n] },
    { dtype: DType.BOOL, shape: [], data: [1n] },
];
export const EXAMPLE_HEX = "0x01030302000000020000000201ff7f80060100000003fffffffe0000000012345678090001";
export const EXAMPLE_HASH = "0x75fecbe316fd41d3b5a7fca32cc9f4558f6e23be4d297244f824053a704b746d";
export const EMPTY_LIST_HEX = "0x0100";

/** Per dtype: values at the edges of its range and their big-endian two's complement bytes. */
export const EDGE_VECTORS: readonly { readonly dtype: DType; readonly data: bigint[]; readonly dataHex: string }[] = [
    { dtype: DType.UINT8, data: [0n, 1n, 255n], dataHex: "0001ff" },
    { dtype: DType.INT8, data: [-128n, -1n, 0n, 127n], dataHex: "80ff007f" },
    { dtype: DType.UINT16, data: [0n, 258n, 65535n], dataHex: "00000102ffff" },
    { dtype: DType.INT16, data: [-32768n, -1n, 32767n], dataHex: "8000ffff7fff" },
    { dtype: DType.INT32, data: [-(2n ** 31n), -1n, 2n ** 31n - 1n], dataHex: "80000000ffffffff7fffffff" },
    {
        dtype: DType.INT64,
        data: [-(2n ** 63n), -1n, 2n ** 63n - 1n],
        dataHex: "8000000000000000ffffffffffffffff7fffffffffffffff",
    },
    { dtype: DType.BOOL, data: [0n, 1n], dataHex: "0001" },
    { dtype: DType.UINT32, data: [0n, 0xdeadbeefn, 2n ** 32n - 1n], dataHex: "00000000deadbeefffffffff" },
];

/** The encoding of a one-tensor list holding a vector of `vector.data`. */
export function edgeVectorHex(vector: (typeof EDGE_VECTORS)[number]): string {
    return hexlify(
        concat(["0x0101", toBeHex(vector.dtype, 1), "0x01", toBeHex(vector.data.length, 4), `0x${vector.dataHex}`]),
    );
}

/** The Solidity error for each TypeScript error code, and the order of its arguments in `details`. */
export const SOLIDITY_ERRORS: Readonly<
    Record<Exclude<TensorCodecErrorCode, "INVALID_DIM" | "INVALID_VALUE">, { name: string; params: string[] }>
> = {
    UNSUPPORTED_VERSION: { name: "TensorsUnsupportedVersion", params: ["have", "want"] },
    UNKNOWN_DTYPE: { name: "TensorsUnknownDtype", params: ["tensorIndex", "dtype"] },
    RANK_TOO_LARGE: { name: "TensorsRankTooLarge", params: ["tensorIndex", "have", "max"] },
    ZERO_DIM: { name: "TensorsZeroDim", params: ["tensorIndex", "dimIndex"] },
    TOO_MANY_ELEMENTS: { name: "TensorsTooManyElements", params: ["tensorIndex", "have", "max"] },
    TOO_MANY_TENSORS: { name: "TensorsTooManyTensors", params: ["have", "max"] },
    TRUNCATED: { name: "TensorsTruncated", params: ["have", "want"] },
    TRAILING_BYTES: { name: "TensorsTrailingBytes", params: ["have", "want"] },
    INVALID_BOOL: { name: "TensorsInvalidBool", params: ["tensorIndex", "elementIndex", "value"] },
    VALUE_OUT_OF_RANGE: {
        name: "TensorsValueOutOfRange",
        params: ["tensorIndex", "elementIndex", "value", "min", "max"],
    },
    SHAPE_MISMATCH: { name: "TensorsShapeMismatch", params: ["tensorIndex", "have", "want"] },
    INDEX_OUT_OF_BOUNDS: {
        name: "TensorsIndexOutOfBounds",
        params: ["tensorIndex", "elementIndex", "tensorCount", "elementCount"],
    },
};

export type SolidityErrorCode = keyof typeof SOLIDITY_ERRORS;

/** A non-canonical input and the error both decoders must report for it. */
export interface MalformedCase {
    /** What is wrong, as it reads in a test name. */
    readonly what: string;
    readonly hex: string;
    readonly code: SolidityErrorCode;
    /** The Solidity error's arguments, in order (also `details` of the TypeScript error, by name). */
    readonly args: readonly bigint[];
}

const MAX_ELEMENTS = 2n ** 24n;
const BOOLS_40 = "00".repeat(40);

function setByte(hex: string, index: number, byte: string): string {
    const at = 2 + 2 * index;
    return hex.slice(0, at) + byte + hex.slice(at + 2);
}

/** Malformed inputs of every decode error class, each hand-checked. */
export const MALFORMED_CASES: readonly MalformedCase[] = [
    { what: "empty input", hex: "0x", code: "TRUNCATED", args: [0n, 1n] },
    { what: "version 0", hex: "0x0000", code: "UNSUPPORTED_VERSION", args: [0n, 1n] },
    { what: "version 2", hex: "0x0200", code: "UNSUPPORTED_VERSION", args: [2n, 1n] },
    { what: "a missing count byte", hex: "0x01", code: "TRUNCATED", args: [1n, 2n] },
    { what: "a missing tensor", hex: "0x0101", code: "TRUNCATED", args: [2n, 3n] },
    { what: "a missing rank byte", hex: "0x010106", code: "TRUNCATED", args: [3n, 4n] },
    { what: "dtype 1 (FLOAT)", hex: "0x01010100", code: "UNKNOWN_DTYPE", args: [0n, 1n] },
    { what: "dtype 8 (STRING)", hex: "0x01010800", code: "UNKNOWN_DTYPE", args: [0n, 8n] },
    { what: "dtype 13 (UINT64)", hex: "0x01010d00", code: "UNKNOWN_DTYPE", args: [0n, 13n] },
    { what: "dtype 255", hex: "0x0101ff00", code: "UNKNOWN_DTYPE", args: [0n, 255n] },
    { what: "rank 9", hex: "0x01010209", code: "RANK_TOO_LARGE", args: [0n, 9n, 8n] },
    { what: "rank 255", hex: "0x010102ff", code: "RANK_TOO_LARGE", args: [0n, 255n, 8n] },
    { what: "a dim cut short", hex: "0x010102010000", code: "TRUNCATED", args: [6n, 8n] },
    { what: "a zero dim", hex: "0x010102020000000100000000", code: "ZERO_DIM", args: [0n, 1n] },
    { what: "a zero dim before a missing dim", hex: "0x01010202000000000000", code: "ZERO_DIM", args: [0n, 0n] },
    {
        what: "2^24 + 1 elements",
        hex: "0x0101020101000001",
        code: "TOO_MANY_ELEMENTS",
        args: [0n, MAX_ELEMENTS + 1n, MAX_ELEMENTS],
    },
    {
        what: "eight dims of 2^32 - 1",
        hex: `0x01010208${"ffffffff".repeat(8)}`,
        code: "TOO_MANY_ELEMENTS",
        args: [0n, (2n ** 32n - 1n) ** 8n, MAX_ELEMENTS],
    },
    { what: "data cut short", hex: "0x01010601000000030000000100000002", code: "TRUNCATED", args: [16n, 20n] },
    { what: "a missing second tensor", hex: "0x0102020007", code: "TRUNCATED", args: [5n, 6n] },
    { what: "a trailing byte after the empty list", hex: "0x010000", code: "TRAILING_BYTES", args: [3n, 2n] },
    { what: "a trailing byte after the example", hex: `${EXAMPLE_HEX}00`, code: "TRAILING_BYTES", args: [38n, 37n] },
    { what: "a bool scalar of 2", hex: "0x0101090002", code: "INVALID_BOOL", args: [0n, 0n, 2n] },
    { what: "a bool byte of 0xff", hex: "0x010109010000000300ff01", code: "INVALID_BOOL", args: [0n, 1n, 255n] },
    {
        what: "a bad bool inside the first full word of 40",
        hex: setByte(`0x0101090100000028${BOOLS_40}`, 8 + 5, "02"),
        code: "INVALID_BOOL",
        args: [0n, 5n, 2n],
    },
    {
        what: "a bad bool at the end of the first full word of 40",
        hex: setByte(`0x0101090100000028${BOOLS_40}`, 8 + 31, "80"),
        code: "INVALID_BOOL",
        args: [0n, 31n, 128n],
    },
    {
        what: "a bad bool in the tail after the first full word of 40",
        hex: setByte(`0x0101090100000028${BOOLS_40}`, 8 + 35, "03"),
        code: "INVALID_BOOL",
        args: [0n, 35n, 3n],
    },
    {
        what: "an unknown dtype in the second tensor",
        hex: setByte(EXAMPLE_HEX, 16, "0d"),
        code: "UNKNOWN_DTYPE",
        args: [1n, 13n],
    },
    {
        what: "an invalid bool in the third tensor",
        hex: setByte(EXAMPLE_HEX, 36, "02"),
        code: "INVALID_BOOL",
        args: [2n, 0n, 2n],
    },
    {
        what: "a count larger than the tensors present",
        hex: setByte(EXAMPLE_HEX, 1, "04"),
        code: "TRUNCATED",
        args: [37n, 38n],
    },
    {
        what: "a count smaller than the tensors present",
        hex: setByte(EXAMPLE_HEX, 1, "02"),
        code: "TRAILING_BYTES",
        args: [37n, 34n],
    },
];

/** elementAt calls on the worked example and other lists, with their value or error. */
export const ELEMENT_AT_CASES: readonly {
    readonly what: string;
    readonly hex: string;
    readonly tensorIndex: number;
    readonly elementIndex: number;
    readonly value?: bigint;
    readonly error?: { readonly code: SolidityErrorCode; readonly args: readonly bigint[] };
}[] = [
    ...EXAMPLE_TENSORS.flatMap((tensor, tensorIndex) =>
        tensor.data.map((value, elementIndex) => ({
            what: `element ${elementIndex} of tensor ${tensorIndex} of the example`,
            hex: EXAMPLE_HEX,
            tensorIndex,
            elementIndex,
            value,
        })),
    ),
    {
        what: "a tensor past the end of the list",
        hex: EXAMPLE_HEX,
        tensorIndex: 3,
        elementIndex: 0,
        error: { code: "INDEX_OUT_OF_BOUNDS", args: [3n, 0n, 3n, 0n] },
    },
    {
        what: "an element past the end of the first tensor",
        hex: EXAMPLE_HEX,
        tensorIndex: 0,
        elementIndex: 4,
        error: { code: "INDEX_OUT_OF_BOUNDS", args: [0n, 4n, 3n, 4n] },
    },
    {
        what: "an element past the end of a scalar",
        hex: EXAMPLE_HEX,
        tensorIndex: 2,
        elementIndex: 1,
        error: { code: "INDEX_OUT_OF_BOUNDS", args: [2n, 1n, 3n, 1n] },
    },
    {
        what: "any tensor of the empty list",
        hex: EMPTY_LIST_HEX,
        tensorIndex: 0,
        elementIndex: 0,
        error: { code: "INDEX_OUT_OF_BOUNDS", args: [0n, 0n, 0n, 0n] },
    },
    {
        what: "an invalid bool read",
        hex: setByte(EXAMPLE_HEX, 36, "07"),
        tensorIndex: 2,
        elementIndex: 0,
        error: { code: "INVALID_BOOL", args: [2n, 0n, 7n] },
    },
    {
        what: "a tensor after an unknown dtype",
        hex: setByte(EXAMPLE_HEX, 2, "01"),
        tensorIndex: 1,
        elementIndex: 0,
        error: { code: "UNKNOWN_DTYPE", args: [0n, 1n] },
    },
    {
        what: "a tensor whose data is cut short",
        hex: EXAMPLE_HEX.slice(0, 2 + 2 * 30),
        tensorIndex: 1,
        elementIndex: 0,
        error: { code: "TRUNCATED", args: [30n, 34n] },
    },
    {
        what: "a wrong version",
        hex: setByte(EXAMPLE_HEX, 0, "02"),
        tensorIndex: 0,
        elementIndex: 0,
        error: { code: "UNSUPPORTED_VERSION", args: [2n, 1n] },
    },
    {
        what: "an element before trailing bytes (not checked)",
        hex: `${EXAMPLE_HEX}00`,
        tensorIndex: 1,
        elementIndex: 2,
        value: 0x12345678n,
    },
    {
        what: "an element before an invalid later tensor (not checked)",
        hex: setByte(EXAMPLE_HEX, 36, "02"),
        tensorIndex: 1,
        elementIndex: 0,
        value: -2n,
    },
];
