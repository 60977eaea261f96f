import { expect } from "chai";
import fc from "fast-check";
import { FixedPointError, MAX_DECIMALS, fixedToFloat32, float32ToFixed } from "../../../oracle/src/protocol/fixedPoint";
import { fixedBytesToFloat32, float32ArrayToFixed } from "../../../oracle/src/protocol/fixedPointArrays";
import { DType, DTYPES, encodeTensors, scanTensors } from "../../../oracle/src/protocol/tensorCodec";

const INTEGER_DTYPES = [...DTYPES.values()].filter((info) => info.dtype !== DType.BOOL);

/** Any float32, by its bits: NaNs, infinities, subnormals, zeros of both signs and everything between. */
const float32Arb = fc.integer({ min: 0, max: 0xffff_ffff }).map((bits) => {
    const view = new DataView(new ArrayBuffer(4));
    view.setUint32(0, bits);
    return view.getFloat32(0);
});

/** Float32s in the range where fixed-point outputs live, with exact ties and edge values mixed in. */
const usefulFloat32Arb = fc.oneof(
    float32Arb,
    fc.double({ min: -1e12, max: 1e12, noNaN: true }).map(Math.fround),
    fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => Math.fround(n / 8)), // ties at small scales
    fc.constantFrom(0.5, -0.5, 1.5, 2.5, -2.5, 1.005, 0.1, 0.125, 0.375, 2 ** 31, -(2 ** 31), 2 ** 63, -(2 ** 63)),
);

/** The result of the reference conversion for one element: the integer, or the FixedPointError code. */
function reference(x: number, decimals: number, dtype: DType): bigint | string {
    try {
        return float32ToFixed(x, decimals, DTYPES.get(dtype)!);
    } catch (err) {
        expect(err).to.be.instanceOf(FixedPointError);
        return (err as FixedPointError).code;
    }
}

function fast(x: number, decimals: number, dtype: DType): bigint | string {
    try {
        const [value] = float32ArrayToFixed(Float32Array.of(x), decimals, dtype);
        return BigInt(value!);
    } catch (err) {
        expect(err).to.be.instanceOf(FixedPointError);
        return (err as FixedPointError).code;
    }
}

describe("oracle/protocol/fixedPointArrays", function () {
    describe("float32ArrayToFixed", function () {
        it("equals float32ToFixed element for element, errors included, for every dtype and scale (property)", function () {
            fc.assert(
                fc.property(
                    usefulFloat32Arb,
                    fc.integer({ min: 0, max: MAX_DECIMALS }),
                    fc.constantFrom(...INTEGER_DTYPES),
                    (x, decimals, info) => {
                        expect(fast(x, decimals, info.dtype)).to.equal(reference(x, decimals, info.dtype));
                    },
                ),
                { numRuns: 4_000 },
            );
        });

        it("matches the documented examples and rounds ties to even", function () {
            expect(fast(2.5, 0, DType.INT32)).to.equal(2n);
            expect(fast(3.5, 0, DType.INT32)).to.equal(4n);
            expect(fast(-2.5, 0, DType.INT32)).to.equal(-2n);
            expect(fast(0.375, 2, DType.INT32)).to.equal(38n);
            expect(fast(1.005, 2, DType.INT32)).to.equal(100n);
            expect(fast(0.1, 9, DType.INT64)).to.equal(100_000_001n);
            expect(fast(0.1, 18, DType.INT64)).to.equal(100_000_001_490_116_119n); // beyond the exact fast path
        });

        it("fills the int64 range exactly, at both ends", function () {
            const out = float32ArrayToFixed(Float32Array.of(-(2 ** 63), 2 ** 62, -1, 123_456.75), 0, DType.INT64);
            expect(out).to.be.instanceOf(BigInt64Array);
            expect(Array.from(out as BigInt64Array)).to.deep.equal([-(2n ** 63n), 2n ** 62n, -1n, 123_457n]);
            expect(fast(2 ** 63, 0, DType.INT64)).to.equal("OUT_OF_RANGE");
        });

        it("converts a whole array into the wire dtype's typed array and stops at the first bad element", function () {
            const data = Float32Array.of(0.5, 1.25, -3);
            const out = float32ArrayToFixed(data, 2, DType.INT16);
            expect(out).to.be.instanceOf(Int16Array);
            expect(Array.from(out as Int16Array)).to.deep.equal([50, 125, -300]);
            expect(() => float32ArrayToFixed(Float32Array.of(1, NaN), 2, DType.INT32)).to.throw(
                FixedPointError,
                /not finite/,
            );
            expect(() => float32ArrayToFixed(Float32Array.of(1, 70_000), 0, DType.UINT16)).to.throw(
                FixedPointError,
                /outside/,
            );
            expect(() => float32ArrayToFixed(data, 19, DType.INT64)).to.throw(FixedPointError, /decimals/);
            expect(() => float32ArrayToFixed(data, 0, DType.BOOL)).to.throw(FixedPointError, /BOOL/);
        });
    });

    describe("fixedBytesToFloat32", function () {
        /** Element-wise fixedBytesToFloat32 of the last tensor of a list whose tensors hold `values`. */
        function convert(dtype: DType, values: bigint[], decimals: number): number[] {
            // A leading odd-sized tensor puts the data at an unaligned offset, as in real inputs.
            const bytes = encodeTensors([
                { dtype: DType.INT8, shape: [3], data: [1n, 2n, 3n] },
                { dtype, shape: [values.length], data: values },
            ]);
            const layout = scanTensors(bytes)[1]!;
            const out = fixedBytesToFloat32(bytes, layout, decimals);
            expect(out).to.be.instanceOf(Float32Array).with.length(values.length);
            return Array.from(out);
        }

        it("equals fixedToFloat32 element for element for every dtype and scale (property)", function () {
            fc.assert(
                fc.property(
                    fc.constantFrom(...DTYPES.values()),
                    fc.integer({ min: 0, max: MAX_DECIMALS }),
                    fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
                    (info, decimals, seeds) => {
                        const span = info.max - info.min + 1n;
                        const values = seeds.map((seed, i) =>
                            i < 4
                                ? [info.min, info.max, 0n, info.max - 1n][i]!
                                : info.min + ((BigInt(seed) * 2_654_435_761n) % span),
                        );
                        expect(convert(info.dtype, values, decimals)).to.deep.equal(
                            values.map((v) => fixedToFloat32(v, decimals)),
                        );
                    },
                ),
                { numRuns: 1_000 },
            );
        });

        it("rounds int64 values beyond 2^53 like Number(bigint)", function () {
            const values = [
                2n ** 53n + 1n,
                -(2n ** 63n),
                2n ** 63n - 1n,
                9_007_199_254_740_993n,
                -(2n ** 60n) - 12_345n,
            ];
            expect(convert(DType.INT64, values, 0)).to.deep.equal(values.map((v) => fixedToFloat32(v, 0)));
            expect(convert(DType.INT32, [12_345n, -1n], 4)).to.deep.equal([Math.fround(1.2345), Math.fround(-0.0001)]);
        });

        it("refuses a bad scale", function () {
            expect(() => convert(DType.INT32, [1n], -1)).to.throw(FixedPointError, /decimals/);
        });
    });
});
