import { expect } from "chai";
import { getBytes, hexlify, keccak256 } from "ethers";

import {
    DType,
    DTYPES,
    MAX_ELEMENTS,
    MAX_RANK,
    MAX_TENSORS,
    TENSOR_ENCODING_VERSION,
    TensorCodecError,
    decodeTensors,
    elementSize,
    encodeTensors,
    getDTypeInfo,
    hashTensors,
    isDType,
    tensorElementAt,
    tensorListHash,
    validateTensors,
    type Tensor,
    type TensorCodecErrorCode,
} from "../../../oracle/src/protocol/tensorCodec";
import { describeError, PermanentError, shouldRetry, VerityError } from "../../../oracle/src/internal/errors";
import {
    EDGE_VECTORS,
    ELEMENT_AT_CASES,
    EMPTY_LIST_HEX,
    EXAMPLE_HASH,
    EXAMPLE_HEX,
    EXAMPLE_TENSORS,
    MALFORMED_CASES,
    SOLIDITY_ERRORS,
    edgeVectorHex,
} from "../../shared/tensorVectors";

/** Runs `fn`, expects a TensorCodecError with `code` (and `details`, if given), and returns it. */
function expectCodecError(
    fn: () => unknown,
    code: TensorCodecErrorCode,
    details?: Record<string, bigint>,
): TensorCodecError {
    let thrown: unknown;
    try {
        fn();
    } catch (error) {
        thrown = error;
    }
    expect(thrown, `expected TensorCodecError ${code}`).to.be.instanceOf(TensorCodecError);
    const error = thrown as TensorCodecError;
    expect(error.code, error.message).to.equal(code);
    if (details !== undefined) expect(error.details).to.deep.equal(details);
    return error;
}

/** The `details` of the TypeScript error matching the Solidity error `code` with `args`. */
function detailsOf(code: keyof typeof SOLIDITY_ERRORS, args: readonly bigint[]): Record<string, bigint> {
    const { params } = SOLIDITY_ERRORS[code];
    expect(args).to.have.length(params.length);
    return Object.fromEntries(params.map((param, i) => [param, args[i] ?? -1n]));
}

function scalar(dtype: DType, value: bigint): Tensor {
    return { dtype, shape: [], data: [value] };
}

describe("tensorCodec", function () {
    describe("dtypes", function () {
        it("uses the ONNX TensorProto.DataType codes of the integer dtypes", function () {
            expect([
                DType.UINT8,
                DType.INT8,
                DType.UINT16,
                DType.INT16,
                DType.INT32,
                DType.INT64,
                DType.BOOL,
                DType.UINT32,
            ]).to.deep.equal([2, 3, 4, 5, 6, 7, 9, 12]);
            expect([...DTYPES.keys()].sort((a, b) => a - b)).to.deep.equal([2, 3, 4, 5, 6, 7, 9, 12]);
        });

        it("gives each dtype its element size and inclusive range", function () {
            const table = [...DTYPES.values()].map((info) => [info.name, info.size, info.min, info.max]);
            expect(table).to.deep.equal([
                ["UINT8", 1, 0n, 255n],
                ["INT8", 1, -128n, 127n],
                ["UINT16", 2, 0n, 65535n],
                ["INT16", 2, -32768n, 32767n],
                ["INT32", 4, -(2n ** 31n), 2n ** 31n - 1n],
                ["INT64", 8, -(2n ** 63n), 2n ** 63n - 1n],
                ["BOOL", 1, 0n, 1n],
                ["UINT32", 4, 0n, 2n ** 32n - 1n],
            ]);
            expect(elementSize(DType.INT64)).to.equal(8);
        });

        it("recognises only the supported codes (isDType)", function () {
            expect(isDType(6)).to.be.true;
            for (const code of [0, 1, 8, 10, 11, 13, 16, 255, 2.5, -3]) expect(isDType(code), String(code)).to.be.false;
        });

        it("rejects an unknown dtype in getDTypeInfo (UNKNOWN_DTYPE)", function () {
            expectCodecError(() => getDTypeInfo(1 as DType), "UNKNOWN_DTYPE", { dtype: 1n });
        });

        it("exports the format's constants", function () {
            expect([TENSOR_ENCODING_VERSION, MAX_TENSORS, MAX_RANK, MAX_ELEMENTS]).to.deep.equal([1, 255, 8, 2 ** 24]);
        });
    });

    describe("encodeTensors", function () {
        it("encodes the worked example of docs/tensor-encoding.md byte for byte", function () {
            expect(hexlify(encodeTensors(EXAMPLE_TENSORS))).to.equal(EXAMPLE_HEX);
        });

        it("encodes the empty list as version and a zero count", function () {
            expect(hexlify(encodeTensors([]))).to.equal(EMPTY_LIST_HEX);
        });

        for (const vector of EDGE_VECTORS) {
            it(`writes ${DType[vector.dtype]} range edges as big-endian two's complement`, function () {
                const tensor: Tensor = { dtype: vector.dtype, shape: [vector.data.length], data: vector.data };
                expect(hexlify(encodeTensors([tensor]))).to.equal(edgeVectorHex(vector));
            });
        }

        it("encodes a rank-8 tensor and 255 tensors, the largest allowed", function () {
            const rank8: Tensor = { dtype: DType.INT16, shape: [1, 2, 1, 1, 1, 1, 1, 2], data: [1n, 2n, 3n, -4n] };
            expect(decodeTensors(encodeTensors([rank8]))).to.deep.equal([rank8]);
            const many = Array.from({ length: MAX_TENSORS }, (_, i) => scalar(DType.UINT8, BigInt(i)));
            const bytes = encodeTensors(many);
            expect(bytes.length).to.equal(2 + 255 * 3);
            expect(validateTensors(bytes)).to.equal(255);
        });

        it("rejects more than 255 tensors (TOO_MANY_TENSORS)", function () {
            const many = Array.from({ length: 256 }, () => scalar(DType.UINT8, 0n));
            expectCodecError(() => encodeTensors(many), "TOO_MANY_TENSORS", { have: 256n, max: 255n });
        });

        it("rejects an unknown dtype and names the tensor (UNKNOWN_DTYPE)", function () {
            const error = expectCodecError(
                () => encodeTensors([scalar(DType.INT8, 0n), scalar(1 as DType, 0n)]),
                "UNKNOWN_DTYPE",
                { tensorIndex: 1n, dtype: 1n },
            );
            expect(error.message).to.match(/tensor 1/);
        });

        it("rejects a rank above 8 (RANK_TOO_LARGE)", function () {
            const tensor: Tensor = { dtype: DType.UINT8, shape: Array<number>(9).fill(1), data: [0n] };
            expectCodecError(() => encodeTensors([tensor]), "RANK_TOO_LARGE", { tensorIndex: 0n, have: 9n, max: 8n });
        });

        it("rejects a zero dim (ZERO_DIM)", function () {
            const tensor: Tensor = { dtype: DType.UINT8, shape: [2, 1, 0], data: [] };
            expectCodecError(() => encodeTensors([tensor]), "ZERO_DIM", { tensorIndex: 0n, dimIndex: 2n });
        });

        for (const dim of [-1, 1.5, Number.NaN, 2 ** 32]) {
            it(`rejects a dim of ${dim}, which is not a u32 (INVALID_DIM)`, function () {
                const tensor: Tensor = { dtype: DType.UINT8, shape: [1, dim], data: [0n] };
                expectCodecError(() => encodeTensors([tensor]), "INVALID_DIM", { tensorIndex: 0n, dimIndex: 1n });
            });
        }

        it("rejects more than 2^24 elements before looking at the data (TOO_MANY_ELEMENTS)", function () {
            const tensor: Tensor = { dtype: DType.UINT8, shape: [4097, 4097], data: [] };
            expectCodecError(() => encodeTensors([tensor]), "TOO_MANY_ELEMENTS", {
                tensorIndex: 0n,
                have: 4097n * 4097n,
                max: 2n ** 24n,
            });
        });

        it("rejects data whose length is not the product of the dims (SHAPE_MISMATCH)", function () {
            const tensor: Tensor = { dtype: DType.INT32, shape: [2, 2], data: [1n, 2n, 3n] };
            const error = expectCodecError(() => encodeTensors([tensor]), "SHAPE_MISMATCH", {
                tensorIndex: 0n,
                have: 3n,
                want: 4n,
            });
            expect(error.message).to.match(/\[2, 2\]/);
        });

        it("rejects an element that is not a bigint (INVALID_VALUE)", function () {
            const tensor = { dtype: DType.INT32, shape: [2], data: [1n, 2 as unknown as bigint] };
            expectCodecError(() => encodeTensors([tensor]), "INVALID_VALUE", { tensorIndex: 0n, elementIndex: 1n });
        });

        for (const info of DTYPES.values()) {
            it(`rejects ${info.name} elements just outside its range (VALUE_OUT_OF_RANGE)`, function () {
                for (const value of [info.min - 1n, info.max + 1n]) {
                    const tensor: Tensor = { dtype: info.dtype, shape: [2], data: [0n, value] };
                    const error = expectCodecError(() => encodeTensors([tensor]), "VALUE_OUT_OF_RANGE", {
                        tensorIndex: 0n,
                        elementIndex: 1n,
                        value,
                        min: info.min,
                        max: info.max,
                    });
                    expect(error.message).to.match(/tensor 0: element 1/);
                }
            });
        }

        it("reports the first invalid tensor, checked in list order", function () {
            const bad = [
                { dtype: DType.INT8, shape: [1], data: [200n] },
                { dtype: 99 as DType, shape: [1], data: [0n] },
            ];
            expectCodecError(() => encodeTensors(bad), "VALUE_OUT_OF_RANGE");
        });

        it("hashes the encoding with keccak256 (hashTensors)", function () {
            expect(hashTensors(EXAMPLE_TENSORS)).to.equal(EXAMPLE_HASH);
            expect(hashTensors([])).to.equal(keccak256(EMPTY_LIST_HEX));
        });
    });

    describe("decodeTensors", function () {
        it("decodes the worked example", function () {
            expect(decodeTensors(getBytes(EXAMPLE_HEX))).to.deep.equal(EXAMPLE_TENSORS);
        });

        it("decodes the empty list", function () {
            expect(decodeTensors(getBytes(EMPTY_LIST_HEX))).to.deep.equal([]);
        });

        for (const vector of EDGE_VECTORS) {
            it(`decodes ${DType[vector.dtype]} range edges, sign-extending signed dtypes`, function () {
                expect(decodeTensors(getBytes(edgeVectorHex(vector)))).to.deep.equal([
                    { dtype: vector.dtype, shape: [vector.data.length], data: vector.data },
                ]);
            });
        }

        it("reads a Uint8Array that is a view into a larger buffer", function () {
            const padded = new Uint8Array(100);
            padded.set(getBytes(EXAMPLE_HEX), 7);
            const view = padded.subarray(7, 7 + 37);
            expect(decodeTensors(view)).to.deep.equal(EXAMPLE_TENSORS);
            expect(tensorElementAt(view, 1, 2)).to.equal(0x12345678n);
        });

        for (const c of MALFORMED_CASES) {
            it(`rejects ${c.what} (${c.code})`, function () {
                expectCodecError(() => decodeTensors(getBytes(c.hex)), c.code, detailsOf(c.code, c.args));
            });
        }

        it("names the tensor, element and offset in its messages", function () {
            const invalidBool = MALFORMED_CASES.find((c) => c.what === "a bool byte of 0xff");
            expect(invalidBool).to.not.equal(undefined);
            const error = expectCodecError(() => decodeTensors(getBytes(invalidBool?.hex ?? "0x")), "INVALID_BOOL");
            expect(error.message).to.equal("INVALID_BOOL: tensor 0: bool element 1 is 255 at offset 9, must be 0 or 1");
            const truncated = expectCodecError(() => decodeTensors(getBytes("0x010102010000")), "TRUNCATED");
            expect(truncated.message).to.match(/dim 0 of tensor 0 \(offset 4\)/);
        });
    });

    describe("validateTensors", function () {
        it("returns the tensor count of valid input", function () {
            expect(validateTensors(getBytes(EXAMPLE_HEX))).to.equal(3);
            expect(validateTensors(getBytes(EMPTY_LIST_HEX))).to.equal(0);
        });

        it("accepts exactly 2^24 elements and rejects one more (TOO_MANY_ELEMENTS)", function () {
            const header = getBytes("0x0101020101000000");
            const bytes = new Uint8Array(header.length + MAX_ELEMENTS);
            bytes.set(header);
            expect(validateTensors(bytes)).to.equal(1);
            bytes[7] = 1;
            expectCodecError(() => validateTensors(bytes), "TOO_MANY_ELEMENTS", {
                tensorIndex: 0n,
                have: 2n ** 24n + 1n,
                max: 2n ** 24n,
            });
        });

        for (const c of MALFORMED_CASES) {
            it(`rejects ${c.what} like decodeTensors (${c.code})`, function () {
                expectCodecError(() => validateTensors(getBytes(c.hex)), c.code, detailsOf(c.code, c.args));
            });
        }
    });

    describe("tensorListHash", function () {
        it("returns the keccak256 of canonical bytes", function () {
            expect(tensorListHash(getBytes(EXAMPLE_HEX))).to.equal(EXAMPLE_HASH);
        });

        it("refuses to hash non-canonical bytes (TRAILING_BYTES)", function () {
            expectCodecError(() => tensorListHash(getBytes(`${EXAMPLE_HEX}00`)), "TRAILING_BYTES");
        });
    });

    describe("tensorElementAt", function () {
        for (const c of ELEMENT_AT_CASES) {
            const name =
                c.error === undefined ? `returns ${c.value} for ${c.what}` : `rejects ${c.what} (${c.error.code})`;
            it(name, function () {
                const bytes = getBytes(c.hex);
                if (c.error === undefined) {
                    expect(tensorElementAt(bytes, c.tensorIndex, c.elementIndex)).to.equal(c.value);
                } else {
                    expectCodecError(
                        () => tensorElementAt(bytes, c.tensorIndex, c.elementIndex),
                        c.error.code,
                        detailsOf(c.error.code, c.error.args),
                    );
                }
            });
        }

        it("rejects negative and fractional indices (INDEX_OUT_OF_BOUNDS)", function () {
            const bytes = getBytes(EXAMPLE_HEX);
            expectCodecError(() => tensorElementAt(bytes, -1, 0), "INDEX_OUT_OF_BOUNDS");
            expectCodecError(() => tensorElementAt(bytes, 0, 0.5), "INDEX_OUT_OF_BOUNDS");
        });
    });

    describe("TensorCodecError", function () {
        it("is an Error with a code, frozen details and the code in its message", function () {
            const error = expectCodecError(() => decodeTensors(getBytes("0x0200")), "UNSUPPORTED_VERSION");
            expect(error).to.be.instanceOf(Error);
            expect(error.name).to.equal("TensorCodecError");
            expect(error.message).to.match(/^UNSUPPORTED_VERSION: version byte is 2/);
            expect(Object.isFrozen(error.details)).to.be.true;
        });

        it("is a PermanentError keeping its codec code (never retried: the same bytes fail again)", function () {
            const error = expectCodecError(() => decodeTensors(getBytes("0x01")), "TRUNCATED");
            expect(error).to.be.instanceOf(PermanentError).and.instanceOf(VerityError);
            expect(error.code).to.equal("TRUNCATED");
            expect(shouldRetry(error)).to.equal(false);
            expect(describeError(error)).to.deep.equal({ code: "TRUNCATED", message: error.message });
        });
    });
});
