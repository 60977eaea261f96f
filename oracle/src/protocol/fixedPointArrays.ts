/**
 * Whole-tensor fixed-point conversion for the executor: the same rule and the same results as `fixedToFloat32`
 * and `float32ToFixed` (fixedPoint.ts) element for element, without a bigint per element where plain float64
 * arithmetic is provably exact.
 *
 * Output direction (float32 x -> round_half_even(x * 10^d)): x = m * 2^e with |m| < 2^24, and for d <= 12,
 * 10^d = 5^d * 2^d with 5^d < 2^28, so m * 5^d < 2^52 and the float64 product x * 10^d is exact. Rounding an
 * exact float64 half-to-even is exact too (floor, and the difference y - floor(y) is exact). So for d <= 12 the
 * fast path is the exact rule; larger scales, NaN, infinities and out-of-range values go through
 * `float32ToFixed` itself (which converts or throws the same FixedPointError).
 */
import { FixedPointError, MAX_DECIMALS, float32ToFixed } from "./fixedPoint";
import { DType, getDTypeInfo, typedArrayFor, type TensorLayout, type TypedElements } from "./tensorCodec";

/** Largest scale whose float64 product with any float32 is exact (see the file comment). */
const MAX_EXACT_DECIMALS = 12;
/** 10^d for d <= MAX_EXACT_DECIMALS, as exact literals. */
const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];
const TWO_POW_32 = 4294967296;
/** Whether this machine stores typed-array elements little-endian. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkDecimals(decimals: number): void {
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
        throw new FixedPointError(
            "INVALID_DECIMALS",
            `decimals must be an integer in [0, ${MAX_DECIMALS}], got ${decimals}`,
        );
    }
}

/**
 * The float32 inputs a float model sees for the on-chain integers of one tensor, read straight from canonical
 * bytes (located and validated by `scanTensors`) at scale `decimals`: element i is
 * `fixedToFloat32(value_i, decimals)`. No bigint and no intermediate array per element; each dtype has its own
 * loop so that each stays monomorphic (fast) in a node serving many dtypes.
 */
export function fixedBytesToFloat32(bytes: Uint8Array, layout: TensorLayout, decimals: number): Float32Array {
    checkDecimals(decimals);
    // The same expression as fixedToFloat32: Math.fround(Number(value) / 10 ** decimals).
    const divisor = 10 ** decimals;
    const n = layout.numel;
    const at = layout.dataOffset;
    const out = new Float32Array(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (layout.dtype) {
        case DType.UINT8:
        case DType.BOOL:
            for (let i = 0; i < n; i++) out[i] = view.getUint8(at + i) / divisor;
            break;
        case DType.INT8:
            for (let i = 0; i < n; i++) out[i] = view.getInt8(at + i) / divisor;
            break;
        case DType.UINT16:
            for (let i = 0; i < n; i++) out[i] = view.getUint16(at + 2 * i) / divisor;
            break;
        case DType.INT16:
            for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i) / divisor;
            break;
        case DType.INT32:
            for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i) / divisor;
            break;
        case DType.UINT32:
            for (let i = 0; i < n; i++) out[i] = view.getUint32(at + 4 * i) / divisor;
            break;
        case DType.INT64:
            for (let i = 0; i < n; i++) {
                // hi * 2^32 and lo are exact; their sum is rounded once, like Number(bigint).
                const hi = view.getInt32(at + 8 * i);
                const lo = view.getUint32(at + 8 * i + 4);
                out[i] = (hi * TWO_POW_32 + lo) / divisor;
            }
            break;
        default:
            throw new FixedPointError("INVALID_DTYPE", `unknown dtype ${String(layout.dtype)}`);
    }
    return out;
}

/**
 * The on-chain integers for a float model's outputs: element i is `float32ToFixed(data[i], decimals, range of
 * dtype)`, in the typed array of `dtype` (see `typedArrayFor`). Throws FixedPointError (NON_FINITE,
 * OUT_OF_RANGE, INVALID_DECIMALS) at the first element that cannot be converted. `dtype` is an integer
 * dtype other than BOOL.
 */
export function float32ArrayToFixed(data: Float32Array, decimals: number, dtype: DType): TypedElements {
    checkDecimals(decimals);
    const info = getDTypeInfo(dtype);
    if (dtype === DType.BOOL) throw new FixedPointError("INVALID_DTYPE", "a float output cannot be read as BOOL");
    const out = typedArrayFor(dtype, data.length);
    if (decimals > MAX_EXACT_DECIMALS) {
        for (let i = 0; i < data.length; i++) {
            const value = float32ToFixed(data[i] as number, decimals, info, `model output element ${i}`);
            if (out instanceof BigInt64Array) out[i] = value;
            else out[i] = Number(value);
        }
        return out;
    }
    const scale = POW10[decimals] as number;
    const min = Number(info.min);
    const maxExclusive = Number(info.max + 1n); // a power of two: exact
    // Integers are computed into a Float64Array (one monomorphic loop for every dtype), then converted natively
    // by TypedArray.set (exact: each value is an integer in the target range) or, for INT64, split into words.
    const values = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) {
        const x = data[i] as number;
        const y = x * scale; // exact (file comment)
        let r = Math.floor(y);
        const diff = y - r; // exact
        if (diff > 0.5 || (diff === 0.5 && r % 2 !== 0)) r += 1;
        // NaN and infinities fail this test too; float32ToFixed then throws the precise error.
        if (!(r >= min && r < maxExclusive)) {
            float32ToFixed(x, decimals, info, `model output element ${i}`);
            throw new Error(`internal: fast fixed-point path refused ${x} at ${decimals} decimals`);
        }
        values[i] = r;
    }
    if (!(out instanceof BigInt64Array)) {
        out.set(values);
        return out;
    }
    const words = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let i = 0; i < values.length; i++) {
        // An integer in [-2^63, 2^63): split into exact 32-bit words.
        const r = values[i] as number;
        const hi = Math.floor(r / TWO_POW_32);
        const lo = r - hi * TWO_POW_32;
        words.setInt32(8 * i + (HOST_LITTLE_ENDIAN ? 4 : 0), hi, HOST_LITTLE_ENDIAN);
        words.setUint32(8 * i + (HOST_LITTLE_ENDIAN ? 0 : 4), lo, HOST_LITTLE_ENDIAN);
    }
    return out;
}
