/**
 * Fixed-point <-> float conversion between the chain and float models.
 *
 * On-chain tensors are integers. A model's manifest gives each float tensor a decimal scale `d`: the integer
 * `v` on chain stands for v / 10^d. Inputs go to the model as float32; float outputs come back as integers
 * before they are encoded and hashed.
 *
 * The output direction must give the same integer on every machine, because outputHash depends on it. So it is
 * defined exactly: the float32 value x (a dyadic rational m * 2^e) is multiplied by 10^d in exact rational
 * arithmetic, then rounded to the nearest integer, ties to even. No float64 multiplication is involved (that
 * would round 1.005 * 100 to 100.49999999999999), so any implementation with big integers reproduces it.
 */
import { PermanentError } from "../internal/errors";

/** Largest scale accepted (float32 has ~7 significant decimal digits; beyond 18 is never meaningful). */
export const MAX_DECIMALS = 18;

/** A value that cannot be converted (NaN, infinity, out of the target integer range, bad scale). */
export class FixedPointError extends PermanentError {}

function checkDecimals(decimals: number): void {
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
        throw new FixedPointError(
            "INVALID_DECIMALS",
            `decimals must be an integer in [0, ${MAX_DECIMALS}], got ${decimals}`,
        );
    }
}

/** The float32 the model sees for the on-chain integer `value` at scale `decimals`: fround(value / 10^d). */
export function fixedToFloat32(value: bigint, decimals: number): number {
    checkDecimals(decimals);
    // Exact to the nearest float64 first (value / 10^d as a correctly rounded division when both fit 2^53),
    // then to float32. Integers beyond 2^53 lose precision in any float model anyway.
    return Math.fround(Number(value) / 10 ** decimals);
}

/** Splits a finite double into an integer mantissa and a power-of-two exponent: x = mantissa * 2^exponent. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    const hi = view.getUint32(0);
    const lo = view.getUint32(4);
    const sign = hi >>> 31 === 1 ? -1n : 1n;
    const biased = (hi >>> 20) & 0x7ff;
    const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    if (biased === 0) return { mantissa: sign * fraction, exponent: -1074 }; // subnormal or zero
    return { mantissa: sign * ((1n << 52n) | fraction), exponent: biased - 1075 };
}

/** n / d rounded to the nearest integer, ties to even (d > 0). */
function divideRoundHalfEven(n: bigint, d: bigint): bigint {
    let q = n / d; // truncates toward zero
    const r = n - q * d;
    const twice = 2n * (r < 0n ? -r : r);
    if (twice > d || (twice === d && q % 2n !== 0n)) q += n < 0n ? -1n : 1n;
    return q;
}

/**
 * The on-chain integer for `x` at scale `decimals`: round_half_even(x * 10^d), computed exactly from the float32
 * value of x, and checked against [min, max] (the wire dtype's range). `what` names x in the error (a model's output
 * element for the node; "value" for a caller encoding its own input).
 */
export function float32ToFixed(
    x: number,
    decimals: number,
    range: { min: bigint; max: bigint },
    what = "value",
): bigint {
    checkDecimals(decimals);
    if (!Number.isFinite(x)) {
        throw new FixedPointError("NON_FINITE", `${what} ${x} is not finite: a fixed-point number must be finite`);
    }
    const { mantissa, exponent } = decompose(Math.fround(x));
    const scaled = mantissa * 10n ** BigInt(decimals);
    const result = exponent >= 0 ? scaled << BigInt(exponent) : divideRoundHalfEven(scaled, 1n << BigInt(-exponent));
    if (result < range.min || result > range.max) {
        throw new FixedPointError(
            "OUT_OF_RANGE",
            `${what} ${x} at ${decimals} decimals is ${result}, outside [${range.min}, ${range.max}]`,
        );
    }
    return result;
}
