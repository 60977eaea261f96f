import { expect } from "chai";
import fc from "fast-check";
import { FixedPointError, MAX_DECIMALS, fixedToFloat32, float32ToFixed } from "../../../oracle/src/protocol/fixedPoint";
import { float32ArrayToFixed } from "../../../oracle/src/protocol/fixedPointArrays";
import { DType } from "../../../oracle/src/protocol/tensorCodec";

const INT32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

describe("oracle/protocol/fixedPoint", function () {
    describe("float32ToFixed", function () {
        it("rounds half to even on exact ties", function () {
            // 0.5, 1.5, 2.5, -0.5, -1.5 are exact in float32.
            expect(float32ToFixed(0.5, 0, INT32)).to.equal(0n);
            expect(float32ToFixed(1.5, 0, INT32)).to.equal(2n);
            expect(float32ToFixed(2.5, 0, INT32)).to.equal(2n);
            expect(float32ToFixed(-0.5, 0, INT32)).to.equal(0n);
            expect(float32ToFixed(-1.5, 0, INT32)).to.equal(-2n);
            expect(float32ToFixed(0.125, 2, INT32)).to.equal(12n); // 12.5 -> 12
            expect(float32ToFixed(0.375, 2, INT32)).to.equal(38n); // 37.5 -> 38
        });

        it("scales the exact float32 value, not a float64 product", function () {
            // fround(1.005) = 1.00499999523162841796875, so 100.499999... rounds to 100 (and not via 100.49999999999999).
            expect(float32ToFixed(1.005, 2, INT32)).to.equal(100n);
            // fround(0.1) = 0.100000001490116119384765625: at 9 decimals 100000001.49... -> 100000001.
            expect(float32ToFixed(0.1, 9, INT64)).to.equal(100_000_001n);
            // At 18 decimals the exact value shows through.
            expect(float32ToFixed(0.1, 18, INT64)).to.equal(100_000_001_490_116_119n);
        });

        it("handles zero, negative zero, subnormals and large values", function () {
            expect(float32ToFixed(0, 6, INT32)).to.equal(0n);
            expect(float32ToFixed(-0, 6, INT32)).to.equal(0n);
            expect(float32ToFixed(1e-45, 18, INT64)).to.equal(0n); // smallest float32 subnormal
            expect(float32ToFixed(16_777_216, 0, INT32)).to.equal(16_777_216n);
            expect(float32ToFixed(-3.4e38, 0, { min: -(2n ** 200n), max: 2n ** 200n })).to.equal(
                -339_999_995_214_436_424_907_732_413_799_364_296_704n, // the exact float32 nearest -3.4e38 (checked with Python fractions)
            );
        });

        it("refuses NaN, infinities, out-of-range results and bad scales (FixedPointError)", function () {
            const codeOf = (f: () => unknown): string => {
                try {
                    f();
                } catch (error) {
                    expect(error).to.be.instanceOf(FixedPointError);
                    return (error as FixedPointError).code;
                }
                throw new Error("expected a FixedPointError");
            };
            expect(codeOf(() => float32ToFixed(NaN, 2, INT32))).to.equal("NON_FINITE");
            expect(codeOf(() => float32ToFixed(Infinity, 2, INT32))).to.equal("NON_FINITE");
            expect(codeOf(() => float32ToFixed(3e9, 0, INT32))).to.equal("OUT_OF_RANGE");
            expect(codeOf(() => float32ToFixed(1, -1, INT32))).to.equal("INVALID_DECIMALS");
            expect(codeOf(() => float32ToFixed(1, MAX_DECIMALS + 1, INT64))).to.equal("INVALID_DECIMALS");
            expect(codeOf(() => float32ToFixed(1, 1.5, INT64))).to.equal("INVALID_DECIMALS");
        });

        it("names what it converts: a plain value for a caller's input, the element for a model's output", function () {
            // The SDK exports float32ToFixed to encode inputs: its error must not blame a model output.
            expect(() => float32ToFixed(NaN, 2, INT32)).to.throw(
                FixedPointError,
                "value NaN is not finite: a fixed-point number must be finite",
            );
            expect(() => float32ArrayToFixed(Float32Array.of(1, Infinity), 2, DType.INT32)).to.throw(
                FixedPointError,
                "model output element 1 Infinity is not finite",
            );
            expect(() => float32ArrayToFixed(Float32Array.of(0, 0, 3e9), 0, DType.INT32)).to.throw(
                FixedPointError,
                "model output element 2 3000000000 at 0 decimals",
            );
        });

        it("agrees with an independent exact-rational reference on random floats (property)", function () {
            // Reference: x = n / 2^k exactly (via the float32's bits), then n * 10^d / 2^k rounded half-even.
            function reference(x: number, d: number): bigint {
                const bits = new DataView(new ArrayBuffer(4));
                bits.setFloat32(0, x);
                const u = bits.getUint32(0);
                const sign = u >>> 31 ? -1n : 1n;
                const exp = (u >>> 23) & 0xff;
                const frac = BigInt(u & 0x7fffff);
                const m = exp === 0 ? frac : frac | (1n << 23n);
                const e = (exp === 0 ? -149 : exp - 150) as number;
                const num = sign * m * 10n ** BigInt(d);
                if (e >= 0) return num * 2n ** BigInt(e);
                const den = 2n ** BigInt(-e);
                const q = num / den;
                const r = num - q * den;
                const twice = 2n * (r < 0n ? -r : r);
                if (twice > den || (twice === den && q % 2n !== 0n)) return q + (num < 0n ? -1n : 1n);
                return q;
            }
            const wide = { min: -(2n ** 300n), max: 2n ** 300n };
            fc.assert(
                fc.property(
                    fc.float({ noNaN: true, noDefaultInfinity: true }),
                    fc.integer({ min: 0, max: MAX_DECIMALS }),
                    (x, d) => {
                        expect(float32ToFixed(x, d, wide)).to.equal(reference(x, d));
                    },
                ),
                { numRuns: 2_000 },
            );
        });
    });

    describe("fixedToFloat32", function () {
        it("gives the model fround(value / 10^d)", function () {
            expect(fixedToFloat32(12_345n, 2)).to.equal(Math.fround(123.45));
            expect(fixedToFloat32(-5n, 1)).to.equal(Math.fround(-0.5));
            expect(fixedToFloat32(7n, 0)).to.equal(7);
        });

        it("round-trips every integer that float32 represents exactly at scale 0 (property)", function () {
            fc.assert(
                fc.property(fc.integer({ min: -(2 ** 24), max: 2 ** 24 }), (v) => {
                    expect(float32ToFixed(fixedToFloat32(BigInt(v), 0), 0, INT32)).to.equal(BigInt(v));
                }),
                { numRuns: 1_000 },
            );
        });
    });
});
