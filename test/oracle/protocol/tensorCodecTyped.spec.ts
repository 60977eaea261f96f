import { expect } from "chai";
import fc from "fast-check";
import {
    DType,
    DTYPES,
    TensorCodecError,
    decodeTensors,
    decodeTensorsTyped,
    encodeTensors,
    encodeTensorsTyped,
    readTensorElements,
    scanTensors,
    validateTensors,
    typedArrayFor,
    type DTypeInfo,
    type Tensor,
    type TypedTensor,
} from "../../../oracle/src/protocol/tensorCodec";
import { EDGE_VECTORS, EXAMPLE_HEX, EXAMPLE_TENSORS, edgeVectorHex } from "../../shared/tensorVectors";

/** The typed twin of a bigint tensor. */
function toTyped(tensor: Tensor): TypedTensor {
    const data = typedArrayFor(tensor.dtype, tensor.data.length);
    tensor.data.forEach((v, i) => {
        if (data instanceof BigInt64Array) data[i] = v;
        else data[i] = Number(v);
    });
    return { dtype: tensor.dtype, shape: [...tensor.shape], data };
}

/** The bigint twin of a typed tensor. */
function fromTyped(tensor: TypedTensor): Tensor {
    return {
        dtype: tensor.dtype,
        shape: tensor.shape,
        data: Array.from(tensor.data as ArrayLike<number | bigint>, (v) => BigInt(v)),
    };
}

/** The outcome of `fn`: its value, or the code and details of the TensorCodecError it throws. */
function outcome<T>(fn: () => T): { ok: T } | { code: string; details: Readonly<Record<string, bigint>> } {
    try {
        return { ok: fn() };
    } catch (err) {
        if (!(err instanceof TensorCodecError)) throw err;
        return { code: err.code, details: err.details };
    }
}

const hex = (bytes: Uint8Array): string => `0x${Buffer.from(bytes).toString("hex")}`;
const bytesOf = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.slice(2), "hex"));

function valueArb(info: DTypeInfo): fc.Arbitrary<bigint> {
    return fc.oneof(fc.constantFrom(info.min, info.max, 0n), fc.bigInt({ min: info.min, max: info.max }));
}

const tensorArb: fc.Arbitrary<Tensor> = fc
    .tuple(fc.constantFrom(...DTYPES.values()), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }))
    .chain(([info, shape]) =>
        fc
            .array(valueArb(info), {
                minLength: shape.reduce((a, b) => a * b, 1),
                maxLength: shape.reduce((a, b) => a * b, 1),
            })
            .map((data) => ({ dtype: info.dtype, shape, data })),
    );

describe("oracle/protocol/tensorCodec (typed-array fast path)", function () {
    it("typedArrayFor gives the onnxruntime array class of each dtype", function () {
        const expected: Record<number, string> = {
            [DType.UINT8]: "Uint8Array",
            [DType.INT8]: "Int8Array",
            [DType.UINT16]: "Uint16Array",
            [DType.INT16]: "Int16Array",
            [DType.INT32]: "Int32Array",
            [DType.INT64]: "BigInt64Array",
            [DType.BOOL]: "Uint8Array",
            [DType.UINT32]: "Uint32Array",
        };
        for (const info of DTYPES.values()) {
            expect(typedArrayFor(info.dtype, 3).constructor.name).to.equal(expected[info.dtype]);
        }
        expect(() => typedArrayFor(1 as DType, 1)).to.throw(TensorCodecError, /UNKNOWN_DTYPE/);
    });

    it("decodes and encodes the worked example and every edge vector like the bigint codec", function () {
        const decoded = decodeTensorsTyped(bytesOf(EXAMPLE_HEX));
        expect(decoded.map(fromTyped)).to.deep.equal(EXAMPLE_TENSORS);
        expect(hex(encodeTensorsTyped(decoded))).to.equal(EXAMPLE_HEX);
        for (const vector of EDGE_VECTORS) {
            const h = edgeVectorHex(vector);
            const [tensor] = decodeTensorsTyped(bytesOf(h));
            expect(fromTyped(tensor!).data).to.deep.equal(vector.data);
            expect(hex(encodeTensorsTyped([tensor!]))).to.equal(h);
        }
    });

    it("encodes exactly like encodeTensors and decodes exactly like decodeTensors (property)", function () {
        fc.assert(
            fc.property(fc.array(tensorArb, { maxLength: 5 }), (tensors) => {
                const bytes = encodeTensors(tensors);
                expect(hex(encodeTensorsTyped(tensors.map(toTyped)))).to.equal(hex(bytes));
                expect(decodeTensorsTyped(bytes).map(fromTyped)).to.deep.equal(decodeTensors(bytes));
            }),
            { numRuns: 300 },
        );
    });

    it("rejects any byte string with the same error and details as decodeTensors (property)", function () {
        const mutated = fc
            .tuple(fc.array(tensorArb, { maxLength: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
            .map(([tensors, at, value, cut]) => {
                const bytes = Array.from(encodeTensors(tensors));
                if (bytes.length > 0) bytes[at % bytes.length] = value;
                return Uint8Array.from(bytes.slice(0, bytes.length - (cut % 3)));
            });
        fc.assert(
            fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 40 })), (bytes) => {
                const typed = outcome(() => decodeTensorsTyped(bytes).map(fromTyped));
                expect(typed).to.deep.equal(outcome(() => decodeTensors(bytes)));
            }),
            { numRuns: 500 },
        );
    });

    it("scanTensors locates each tensor's elements and validates like validateTensors", function () {
        const bytes = bytesOf(EXAMPLE_HEX);
        const layouts = scanTensors(bytes);
        expect(layouts).to.deep.equal([
            { dtype: DType.INT8, shape: [2, 2], numel: 4, dataOffset: 12 },
            { dtype: DType.INT32, shape: [3], numel: 3, dataOffset: 22 },
            { dtype: DType.BOOL, shape: [], numel: 1, dataOffset: 36 },
        ]);
        expect(Array.from(readTensorElements(bytes, layouts[1]!) as Int32Array)).to.deep.equal([-2, 0, 0x12345678]);
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 40 }), (random) => {
                const scanned = outcome(() => scanTensors(random).length);
                expect(scanned).to.deep.equal(outcome(() => validateTensors(random)));
            }),
            { numRuns: 300 },
        );
    });

    it("decodes into arrays of its own, not views of the input", function () {
        const bytes = encodeTensors([{ dtype: DType.INT8, shape: [2], data: [1n, 2n] }]);
        const [tensor] = decodeTensorsTyped(bytes);
        bytes[bytes.length - 1] = 9;
        expect(Array.from(tensor!.data as Int8Array)).to.deep.equal([1, 2]);
    });

    it("refuses what encodeTensors refuses, with the same codes", function () {
        const cases: [TypedTensor[], string][] = [
            [[{ dtype: DType.INT32, shape: [1, 3], data: new Int32Array(4) }], "SHAPE_MISMATCH"],
            [[{ dtype: DType.INT32, shape: [0], data: new Int32Array(0) }], "ZERO_DIM"],
            [[{ dtype: DType.INT32, shape: [1.5], data: new Int32Array(1) }], "INVALID_DIM"],
            [[{ dtype: DType.INT32, shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], data: new Int32Array(1) }], "RANK_TOO_LARGE"],
            [[{ dtype: DType.INT8, shape: [4097, 4096], data: new Int8Array(1) }], "TOO_MANY_ELEMENTS"],
            [[{ dtype: 1 as DType, shape: [1], data: new Uint8Array(1) }], "UNKNOWN_DTYPE"],
            [
                Array.from({ length: 256 }, () => ({ dtype: DType.UINT8, shape: [], data: new Uint8Array(1) })),
                "TOO_MANY_TENSORS",
            ],
        ];
        for (const [tensors, code] of cases) {
            const typed = outcome(() => encodeTensorsTyped(tensors));
            expect(typed).to.have.property("code", code);
            expect(typed).to.deep.equal(outcome(() => encodeTensors(tensors.map(fromTyped))));
        }
    });

    it("refuses a typed array of another class (INVALID_VALUE) and a bool other than 0/1 (VALUE_OUT_OF_RANGE)", function () {
        expect(() => encodeTensorsTyped([{ dtype: DType.INT64, shape: [1], data: new Int32Array(1) }])).to.throw(
            TensorCodecError,
            /INVALID_VALUE: tensor 0: INT64 elements must be a BigInt64Array, got Int32Array/,
        );
        expect(() => encodeTensorsTyped([{ dtype: DType.UINT16, shape: [1], data: new Int16Array(1) }])).to.throw(
            /INVALID_VALUE/,
        );
        const bool = outcome(() => encodeTensorsTyped([{ dtype: DType.BOOL, shape: [2], data: Uint8Array.of(1, 2) }]));
        expect(bool).to.deep.equal(outcome(() => encodeTensors([{ dtype: DType.BOOL, shape: [2], data: [1n, 2n] }])));
        expect(bool).to.have.property("code", "VALUE_OUT_OF_RANGE");
    });
});
