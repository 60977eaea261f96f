/**
 * The reference interpreter of Verity's "verifiable subset" of ONNX: integer-only operators whose results an
 * on-chain re-execution must reproduce bit for bit. Its outputs equal onnxruntime's (CPU provider) on every
 * input it accepts; the differential tests in test/oracle/verify check that.
 *
 * Tensors hold bigint elements, so every intermediate is exact. Where onnxruntime would silently wrap (Add, Sub,
 * Mul, Div of INT_MIN by -1, MatMulInteger accumulation) the interpreter refuses instead: a result outside the
 * output dtype's range throws `INTEGER_OVERFLOW`, naming the op. The one deliberate wrap is Cast, which ONNX
 * defines (and onnxruntime implements) like C `static_cast` between integer types: two's-complement truncation
 * to the target width, e.g. Cast(int32 300 → uint8) = 44, Cast(int32 200 → int8) = -56.
 *
 * Operators (ai.onnx, as defined at opsets 14 to 26; `analyseModel` refuses other opsets): MatMulInteger, Add,
 * Sub, Mul, Div, Relu, Clip (min/max as inputs), Max, Min, ArgMax, Reshape, Flatten, Cast, Gather, and Constant
 * (its `value` tensor). Anything else is `UNSUPPORTED_OP`.
 *
 * Where onnxruntime 1.30 (CPU) accepts less than the ONNX spec, the interpreter follows onnxruntime, since the
 * node runs it: MatMulInteger takes only a scalar a_zero_point, and a per-column b_zero_point of a batched B must
 * have B's rank ([..., 1, N]); other zero-point shapes are `UNSUPPORTED_INPUT`. Relu has no int64 kernel in
 * onnxruntime's CPU provider; the interpreter computes it per spec, but the subset (subsetRules.ts) refuses it.
 */
import { onnx } from "onnx-proto";
import { PermanentError } from "../internal/errors";

/** Element types of the verifiable subset. */
export type IntDType = "int8" | "uint8" | "int32" | "int64";

/** A dense row-major integer tensor; `shape` [] is a scalar (one element). */
export interface IntTensor {
    dtype: IntDType;
    shape: number[];
    data: bigint[];
}

/** Error codes the interpreter raises. */
export type ReferenceErrorCode =
    | "INTEGER_OVERFLOW"
    | "DIVISION_BY_ZERO"
    | "UNSUPPORTED_OP"
    | "UNSUPPORTED_DTYPE"
    | "UNSUPPORTED_INPUT"
    | "INVALID_ARGUMENT"
    | "MISSING_VALUE";

/** A graph or input the interpreter cannot (or will not) execute. Permanent: the same input fails again. */
export class ReferenceExecutionError extends PermanentError {
    override readonly code: ReferenceErrorCode;

    constructor(code: ReferenceErrorCode, message: string) {
        super(code, message);
        this.code = code;
    }
}

/** ONNX TensorProto.DataType codes of the subset's dtypes (the same codes as tensorCodec's DType). */
export const INT_DTYPE_CODES: Readonly<Record<IntDType, number>> = { uint8: 2, int8: 3, int32: 6, int64: 7 };

export const DTYPE_BY_CODE: ReadonlyMap<number, IntDType> = new Map(
    Object.entries(INT_DTYPE_CODES).map(([name, code]) => [code, name as IntDType]),
);

/** Bit width and signedness of each dtype. */
const DTYPE_BITS: Readonly<Record<IntDType, { bits: bigint; signed: boolean }>> = {
    int8: { bits: 8n, signed: true },
    uint8: { bits: 8n, signed: false },
    int32: { bits: 32n, signed: true },
    int64: { bits: 64n, signed: true },
};

/** Inclusive value range of a dtype. */
export function dtypeRange(dtype: IntDType): { min: bigint; max: bigint } {
    const { bits, signed } = DTYPE_BITS[dtype];
    return signed ? { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n } : { min: 0n, max: (1n << bits) - 1n };
}

/** `value` converted like C `static_cast` to `dtype`: two's-complement truncation to its width. */
export function wrapToDType(value: bigint, dtype: IntDType): bigint {
    const { bits, signed } = DTYPE_BITS[dtype];
    return signed ? BigInt.asIntN(Number(bits), value) : BigInt.asUintN(Number(bits), value);
}

/** Number of elements of `shape` (1 for a scalar). */
export function numel(shape: readonly number[]): number {
    return shape.reduce((a, b) => a * b, 1);
}

/** A tensor, checked: integral non-negative dims, data length = numel, every element in the dtype's range. */
export function intTensor(dtype: IntDType, shape: readonly number[], data: readonly (bigint | number)[]): IntTensor {
    if (!(dtype in DTYPE_BITS)) throw invalid(`unsupported dtype ${String(dtype)}`, "UNSUPPORTED_DTYPE");
    for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) throw invalid(`invalid dim ${d}`);
    const n = numel(shape);
    if (data.length !== n) throw invalid(`shape [${shape.join(", ")}] holds ${n} elements, data has ${data.length}`);
    const { min, max } = dtypeRange(dtype);
    const values = data.map((v) => BigInt(v));
    for (const v of values) if (v < min || v > max) throw invalid(`${v} is out of the ${dtype} range`);
    return { dtype, shape: [...shape], data: values };
}

function invalid(message: string, code: ReferenceErrorCode = "INVALID_ARGUMENT"): ReferenceExecutionError {
    return new ReferenceExecutionError(code, message);
}

function checkRange(op: string, dtype: IntDType, value: bigint): bigint {
    const { min, max } = dtypeRange(dtype);
    if (value < min || value > max) {
        throw new ReferenceExecutionError(
            "INTEGER_OVERFLOW",
            `${op}: result ${value} is out of the ${dtype} range [${min}, ${max}]`,
        );
    }
    return value;
}

function requireDType(op: string, t: IntTensor, allowed: readonly IntDType[]): void {
    if (!allowed.includes(t.dtype)) {
        throw new ReferenceExecutionError(
            "UNSUPPORTED_DTYPE",
            `${op}: dtype ${t.dtype} is not one of ${allowed.join(", ")}`,
        );
    }
}

function requireSameDType(op: string, tensors: readonly IntTensor[]): IntDType {
    const first = tensors[0];
    if (first === undefined) throw invalid(`${op}: needs at least one input`);
    for (const t of tensors) {
        if (t.dtype !== first.dtype) throw invalid(`${op}: mixed dtypes ${first.dtype} and ${t.dtype}`);
    }
    return first.dtype;
}

/** Row-major strides of `shape`. */
export function strides(shape: readonly number[]): number[] {
    const out = new Array<number>(shape.length).fill(1);
    for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
    return out;
}

/** The numpy broadcast of `shapes` (right-aligned; each dim equal or 1). */
export function broadcastShapes(op: string, shapes: readonly (readonly number[])[]): number[] {
    const rank = Math.max(0, ...shapes.map((s) => s.length));
    const out = new Array<number>(rank).fill(1);
    for (const shape of shapes) {
        const offset = rank - shape.length;
        shape.forEach((d, i) => {
            const cur = out[offset + i]!;
            if (cur === 1) out[offset + i] = d;
            else if (d !== 1 && d !== cur) {
                throw invalid(`${op}: shapes ${shapes.map((s) => `[${s.join(", ")}]`).join(", ")} do not broadcast`);
            }
        });
    }
    return out;
}

/** For each element of `outShape`, the flat index of the broadcast element of `shape`. */
export function broadcastIndices(shape: readonly number[], outShape: readonly number[]): number[] {
    const offset = outShape.length - shape.length;
    const inStrides = strides(shape);
    const n = numel(outShape);
    const out = new Array<number>(n);
    const idx = new Array<number>(outShape.length).fill(0);
    for (let flat = 0; flat < n; flat++) {
        let src = 0;
        for (let i = 0; i < shape.length; i++) {
            if (shape[i] !== 1) src += idx[offset + i]! * inStrides[i]!;
        }
        out[flat] = src;
        for (let i = outShape.length - 1; i >= 0; i--) {
            idx[i]!++;
            if (idx[i]! < outShape[i]!) break;
            idx[i] = 0;
        }
    }
    return out;
}

/** `f` applied elementwise over the numpy broadcast of `inputs`. */
function broadcastMap(
    op: string,
    inputs: readonly IntTensor[],
    dtype: IntDType,
    f: (values: bigint[]) => bigint,
): IntTensor {
    const outShape = broadcastShapes(
        op,
        inputs.map((t) => t.shape),
    );
    const maps = inputs.map((t) => broadcastIndices(t.shape, outShape));
    const data = new Array<bigint>(numel(outShape));
    for (let i = 0; i < data.length; i++) data[i] = f(inputs.map((t, k) => t.data[maps[k]![i]!]!));
    return { dtype, shape: outShape, data };
}

const ARITHMETIC_DTYPES: readonly IntDType[] = ["int8", "uint8", "int32", "int64"];

/** ONNX Add with broadcasting; a result outside the dtype's range throws INTEGER_OVERFLOW. */
export function add(a: IntTensor, b: IntTensor): IntTensor {
    return binaryArithmetic("Add", a, b, (x, y) => x + y);
}

/** ONNX Sub with broadcasting; a result outside the dtype's range throws INTEGER_OVERFLOW. */
export function sub(a: IntTensor, b: IntTensor): IntTensor {
    return binaryArithmetic("Sub", a, b, (x, y) => x - y);
}

/** ONNX Mul with broadcasting; a result outside the dtype's range throws INTEGER_OVERFLOW. */
export function mul(a: IntTensor, b: IntTensor): IntTensor {
    return binaryArithmetic("Mul", a, b, (x, y) => x * y);
}

/**
 * ONNX Div of integers with broadcasting: the quotient truncated toward zero (C semantics, as onnxruntime
 * computes it; bigint division does the same). A zero divisor throws DIVISION_BY_ZERO; INT_MIN / -1 throws
 * INTEGER_OVERFLOW.
 */
export function div(a: IntTensor, b: IntTensor): IntTensor {
    return binaryArithmetic("Div", a, b, (x, y) => {
        if (y === 0n) throw new ReferenceExecutionError("DIVISION_BY_ZERO", `Div: division of ${x} by zero`);
        return x / y;
    });
}

function binaryArithmetic(op: string, a: IntTensor, b: IntTensor, f: (x: bigint, y: bigint) => bigint): IntTensor {
    const dtype = requireSameDType(op, [a, b]);
    requireDType(op, a, ARITHMETIC_DTYPES);
    return broadcastMap(op, [a, b], dtype, ([x, y]) => checkRange(op, dtype, f(x!, y!)));
}

/** ONNX Relu (opset 14 allows int8, int32, int64; onnxruntime 1.30's CPU provider has no int64 kernel). */
export function relu(x: IntTensor): IntTensor {
    requireDType("Relu", x, ["int8", "int32", "int64"]);
    return { dtype: x.dtype, shape: [...x.shape], data: x.data.map((v) => (v < 0n ? 0n : v)) };
}

/**
 * ONNX Clip (opset 11+: min and max are optional scalar inputs of the input's type). The result is
 * `min(max(x, lo), hi)`, so when lo > hi every element becomes hi (as the spec and onnxruntime say).
 */
export function clip(x: IntTensor, min?: IntTensor, max?: IntTensor): IntTensor {
    const lo = clipBound("min", x, min);
    const hi = clipBound("max", x, max);
    return {
        dtype: x.dtype,
        shape: [...x.shape],
        data: x.data.map((v) => {
            let r = v;
            if (lo !== undefined && r < lo) r = lo;
            if (hi !== undefined && r > hi) r = hi;
            return r;
        }),
    };
}

function clipBound(which: string, x: IntTensor, bound: IntTensor | undefined): bigint | undefined {
    if (bound === undefined) return undefined;
    if (bound.dtype !== x.dtype) throw invalid(`Clip: ${which} is ${bound.dtype}, input is ${x.dtype}`);
    if (bound.data.length !== 1 || bound.shape.length > 1) throw invalid(`Clip: ${which} must be a scalar`);
    return bound.data[0]!;
}

/** ONNX Max: elementwise maximum of one or more inputs, with broadcasting. */
export function max(...inputs: IntTensor[]): IntTensor {
    const dtype = requireSameDType("Max", inputs);
    return broadcastMap("Max", inputs, dtype, (vs) => vs.reduce((a, b) => (b > a ? b : a)));
}

/** ONNX Min: elementwise minimum of one or more inputs, with broadcasting. */
export function min(...inputs: IntTensor[]): IntTensor {
    const dtype = requireSameDType("Min", inputs);
    return broadcastMap("Min", inputs, dtype, (vs) => vs.reduce((a, b) => (b < a ? b : a)));
}

function normaliseAxis(op: string, axis: number, rank: number, inclusiveEnd = false): number {
    const limit = inclusiveEnd ? rank + 1 : rank;
    const a = axis < 0 ? axis + limit - (inclusiveEnd ? 1 : 0) : axis;
    if (!Number.isInteger(axis) || a < 0 || a >= limit)
        throw invalid(`${op}: axis ${axis} is out of range for rank ${rank}`);
    return a;
}

/**
 * ONNX ArgMax: int64 indices of the largest element along `axis`; ties go to the first occurrence, or the last
 * with `selectLastIndex`. `keepdims` keeps the reduced axis as a dim of 1.
 */
export function argMax(x: IntTensor, axis = 0, keepdims = true, selectLastIndex = false): IntTensor {
    const ax = normaliseAxis("ArgMax", axis, x.shape.length);
    const dim = x.shape[ax]!;
    if (dim === 0) throw invalid("ArgMax: the reduced axis is empty");
    const outer = numel(x.shape.slice(0, ax));
    const inner = numel(x.shape.slice(ax + 1));
    const data: bigint[] = [];
    for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
            let best = 0;
            for (let k = 1; k < dim; k++) {
                const v = x.data[(o * dim + k) * inner + i]!;
                const b = x.data[(o * dim + best) * inner + i]!;
                if (v > b || (selectLastIndex && v === b)) best = k;
            }
            data.push(BigInt(best));
        }
    }
    const shape = keepdims ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
    return { dtype: "int64", shape, data };
}

/**
 * ONNX Reshape (allowzero = 0): a 0 in `shape` copies the input's dim at that index, one -1 is inferred from
 * the remaining elements.
 */
export function reshape(x: IntTensor, shape: IntTensor): IntTensor {
    if (shape.dtype !== "int64" || shape.shape.length !== 1) throw invalid("Reshape: shape must be a 1-D int64 tensor");
    const dims = shape.data.map((d, i) => {
        if (d === 0n) {
            const copied = x.shape[i];
            if (copied === undefined)
                throw invalid(`Reshape: shape[${i}] = 0 but the input has rank ${x.shape.length}`);
            return copied;
        }
        if (d < -1n) throw invalid(`Reshape: invalid dim ${d}`);
        return Number(d);
    });
    const inferred = dims.filter((d) => d === -1).length;
    if (inferred > 1) throw invalid("Reshape: more than one -1 in shape");
    const total = numel(x.shape);
    if (inferred === 1) {
        const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        if (known === 0 || total % known !== 0) {
            throw invalid(`Reshape: cannot infer -1 for [${dims.join(", ")}] from ${total} elements`);
        }
        dims[dims.indexOf(-1)] = total / known;
    }
    if (numel(dims) !== total) throw invalid(`Reshape: [${dims.join(", ")}] does not hold ${total} elements`);
    return { dtype: x.dtype, shape: dims, data: [...x.data] };
}

/** ONNX Flatten: a 2-D tensor [prod(dims[:axis]), prod(dims[axis:])]; axis in [-rank, rank]. */
export function flatten(x: IntTensor, axis = 1): IntTensor {
    const rank = x.shape.length;
    const a = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(axis) || a < 0 || a > rank)
        throw invalid(`Flatten: axis ${axis} is out of range for rank ${rank}`);
    return { dtype: x.dtype, shape: [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))], data: [...x.data] };
}

/**
 * ONNX Cast between the subset's integer dtypes. Like C `static_cast` (and onnxruntime), an out-of-range value
 * wraps: it is truncated to the target width in two's complement (int32 300 → uint8 44, int64 2^31 → int32
 * -2^31). This is the only operator that wraps instead of throwing INTEGER_OVERFLOW.
 */
export function cast(x: IntTensor, to: IntDType): IntTensor {
    if (!(to in DTYPE_BITS)) throw invalid(`Cast: unsupported target dtype ${String(to)}`, "UNSUPPORTED_DTYPE");
    return { dtype: to, shape: [...x.shape], data: x.data.map((v) => wrapToDType(v, to)) };
}

/**
 * ONNX Gather: entries of `data` along `axis` picked by `indices` (int32 or int64; negative counts from the
 * end). Output shape = data.shape[:axis] + indices.shape + data.shape[axis+1:].
 */
export function gather(data: IntTensor, indices: IntTensor, axis = 0): IntTensor {
    if (indices.dtype !== "int32" && indices.dtype !== "int64") throw invalid("Gather: indices must be int32 or int64");
    const ax = normaliseAxis("Gather", axis, data.shape.length);
    const dim = data.shape[ax]!;
    const idx = indices.data.map((i) => {
        const n = Number(i);
        if (n < -dim || n >= dim) throw invalid(`Gather: index ${i} is out of range for a dim of ${dim}`);
        return n < 0 ? n + dim : n;
    });
    const outer = numel(data.shape.slice(0, ax));
    const inner = numel(data.shape.slice(ax + 1));
    const out: bigint[] = [];
    for (let o = 0; o < outer; o++) {
        for (const k of idx) {
            const base = (o * dim + k) * inner;
            for (let i = 0; i < inner; i++) out.push(data.data[base + i]!);
        }
    }
    const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    return { dtype: data.dtype, shape, data: out };
}

/**
 * ONNX MatMulInteger: (A - a_zero_point) · (B - b_zero_point) with numpy matmul semantics (1-D operands are
 * promoted and the promoted dim dropped; batch dims broadcast), int32 output. A and B are int8 or uint8 (any
 * combination); a zero point has its operand's dtype. A sum outside int32 throws INTEGER_OVERFLOW (onnxruntime
 * would wrap).
 *
 * Zero-point shapes follow onnxruntime, which accepts less than the ONNX spec (see `checkZeroPoints`): the spec's
 * per-row a_zero_point is refused with UNSUPPORTED_INPUT, because onnxruntime cannot run such a model.
 */
export function matMulInteger(a: IntTensor, b: IntTensor, aZeroPoint?: IntTensor, bZeroPoint?: IntTensor): IntTensor {
    const op = "MatMulInteger";
    requireDType(op, a, ["int8", "uint8"]);
    requireDType(op, b, ["int8", "uint8"]);
    if (a.shape.length === 0 || b.shape.length === 0) throw invalid(`${op}: operands must have rank >= 1`);
    checkZeroPoints(a, b, aZeroPoint, bZeroPoint);
    const a2 = aZeroPoint === undefined ? a : shifted(op, a, aZeroPoint);
    let bz = bZeroPoint;
    // A per-column N-vector of a 2-D B lines up with B's last dim; a [1] vector is a scalar.
    if (bz !== undefined && bz.shape.length === 1 && bz.data.length === 1) bz = { ...bz, shape: [] };
    const b2 = bz === undefined ? b : shifted(op, b, bz);
    const aShape = a2.shape.length === 1 ? [1, a2.shape[0]!] : a2.shape;
    const bShape = b2.shape.length === 1 ? [b2.shape[0]!, 1] : b2.shape;
    const [m, k] = aShape.slice(-2) as [number, number];
    const [k2, n] = bShape.slice(-2) as [number, number];
    if (k !== k2) throw invalid(`${op}: inner dims differ (${k} vs ${k2})`);
    const batch = broadcastShapes(op, [aShape.slice(0, -2), bShape.slice(0, -2)]);
    const aBatch = broadcastIndices(aShape.slice(0, -2), batch);
    const bBatch = broadcastIndices(bShape.slice(0, -2), batch);
    const out: bigint[] = [];
    for (let p = 0; p < aBatch.length; p++) {
        const aBase = aBatch[p]! * m * k;
        const bBase = bBatch[p]! * k * n;
        for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
                let s = 0n;
                for (let q = 0; q < k; q++) s += a2.data[aBase + i * k + q]! * b2.data[bBase + q * n + j]!;
                out.push(checkRange(op, "int32", s));
            }
        }
    }
    const shape = [...batch];
    if (a2.shape.length > 1) shape.push(m);
    if (b2.shape.length > 1) shape.push(n);
    return { dtype: "int32", shape, data: out };
}

/**
 * The zero-point shapes onnxruntime 1.30's CPU MatMulInteger accepts (matmul_integer.cc, IsBQuantParamSupported):
 * - a_zero_point: a scalar or a 1-element 1-D tensor only. The ONNX spec also allows a per-row M-vector (or
 *   [..., M, 1]); onnxruntime rejects it ("input1 zero point must be a scalar or 1D tensor of size 1").
 * - b_zero_point: a scalar or 1-element 1-D tensor; an N-vector (per column) when B is 2-D; or a tensor of B's
 *   rank whose second-to-last dim is 1 and whose other dims equal B's ([..., 1, N]; no broadcasting of 1s).
 *   onnxruntime rejects an N-vector for a batched (N-D) B, though numpy broadcasting would allow it.
 */
function checkZeroPoints(a: IntTensor, b: IntTensor, az: IntTensor | undefined, bz: IntTensor | undefined): void {
    const op = "MatMulInteger";
    if (az !== undefined) {
        if (az.dtype !== a.dtype) throw invalid(`${op}: a_zero_point is ${az.dtype}, A is ${a.dtype}`);
        if (az.shape.length > 1 || az.data.length !== 1) {
            throw new ReferenceExecutionError(
                "UNSUPPORTED_INPUT",
                `${op}: a_zero_point of shape [${az.shape.join(", ")}] (onnxruntime takes only a scalar)`,
            );
        }
    }
    if (bz !== undefined) {
        if (bz.dtype !== b.dtype) throw invalid(`${op}: b_zero_point is ${bz.dtype}, B is ${b.dtype}`);
        const zr = bz.shape.length;
        const br = b.shape.length;
        const ok =
            zr === 0 ||
            (zr === 1 && bz.data.length === 1) ||
            (zr === 1 && br === 2 && bz.shape[0] === b.shape[1]) ||
            (zr === br &&
                zr >= 2 &&
                bz.shape[zr - 2] === 1 &&
                bz.shape.every((d, i) => i === zr - 2 || d === b.shape[i]));
        if (!ok) {
            throw new ReferenceExecutionError(
                "UNSUPPORTED_INPUT",
                `${op}: b_zero_point of shape [${bz.shape.join(", ")}] for B of shape [${b.shape.join(", ")}]`,
            );
        }
    }
}

/** `x - zp` with zp broadcast to x's shape (the result's values are exact; its dtype label is irrelevant). */
function shifted(op: string, x: IntTensor, zp: IntTensor): IntTensor {
    const outShape = broadcastShapes(op, [x.shape, zp.shape]);
    if (outShape.length !== x.shape.length || outShape.some((d, i) => d !== x.shape[i])) {
        throw invalid(`${op}: zero point of shape [${zp.shape.join(", ")}] does not fit [${x.shape.join(", ")}]`);
    }
    const map = broadcastIndices(zp.shape, x.shape);
    return { dtype: "int64", shape: [...x.shape], data: x.data.map((v, i) => v - zp.data[map[i]!]!) };
}

// ----------------------------------------------------------------------------------------------------------------
// Graph execution

type Attributes = ReadonlyMap<string, onnx.IAttributeProto>;

function toBigInt(value: unknown): bigint {
    // protobufjs gives int64 fields as number or Long (whose toString is exact).
    return BigInt(typeof value === "number" ? value : String(value));
}

function intAttr(attrs: Attributes, name: string, fallback: number): number {
    const a = attrs.get(name);
    return a === undefined || a.i === undefined || a.i === null ? fallback : Number(toBigInt(a.i));
}

/** The IntTensor of an initializer (raw_data little-endian, or int32_data / int64_data). */
export function tensorFromProto(proto: onnx.ITensorProto): IntTensor {
    const dtype = DTYPE_BY_CODE.get(proto.dataType ?? 0);
    const name = proto.name ?? "";
    if (dtype === undefined) {
        throw new ReferenceExecutionError("UNSUPPORTED_DTYPE", `initializer ${name}: element type ${proto.dataType}`);
    }
    const shape = (proto.dims ?? []).map((d) => Number(toBigInt(d)));
    const n = numel(shape);
    let data: bigint[];
    if (proto.rawData && proto.rawData.length > 0) {
        const raw = proto.rawData;
        const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        const size = Number(DTYPE_BITS[dtype].bits / 8n);
        if (raw.length !== n * size) throw invalid(`initializer ${name}: raw_data has ${raw.length} bytes`);
        data = Array.from({ length: n }, (_, i) => {
            if (dtype === "int8") return BigInt(view.getInt8(i));
            if (dtype === "uint8") return BigInt(view.getUint8(i));
            if (dtype === "int32") return BigInt(view.getInt32(i * 4, true));
            return view.getBigInt64(i * 8, true);
        });
    } else {
        const source: unknown[] = dtype === "int64" ? (proto.int64Data ?? []) : (proto.int32Data ?? []);
        data = source.map(toBigInt);
    }
    return intTensor(dtype, shape, data);
}

/**
 * Runs the graph's nodes in order (ONNX requires node lists to be topologically sorted) over `inputs` and the
 * initializers, and returns the graph outputs by name. `model` is ModelProto bytes or a decoded ModelProto.
 */
export function runGraph(
    model: onnx.IModelProto | Uint8Array,
    inputs: Readonly<Record<string, IntTensor>>,
): Record<string, IntTensor> {
    const proto = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model;
    const graph = proto.graph;
    if (!graph) throw invalid("the model has no graph");
    const values = new Map<string, IntTensor>();
    for (const init of graph.initializer ?? []) values.set(init.name ?? "", tensorFromProto(init));
    for (const [name, t] of Object.entries(inputs)) values.set(name, intTensor(t.dtype, t.shape, t.data));

    (graph.node ?? []).forEach((node, index) => {
        const opType = node.opType ?? "";
        const label = node.name ? `node ${index} (${node.name})` : `node ${index}`;
        if ((node.domain ?? "") !== "" && node.domain !== "ai.onnx") {
            throw new ReferenceExecutionError(
                "UNSUPPORTED_OP",
                `${label}: op ${node.domain}.${opType} is not in the verifiable subset`,
            );
        }
        const attrs: Attributes = new Map((node.attribute ?? []).map((a) => [a.name ?? "", a]));
        const ins = (node.input ?? []).map((name) => {
            if (name === "") return undefined;
            const v = values.get(name);
            if (v === undefined)
                throw new ReferenceExecutionError("MISSING_VALUE", `${label}: input ${name} has no value`);
            return v;
        });
        const need = (i: number): IntTensor => {
            const v = ins[i];
            if (v === undefined) throw invalid(`${label} (${opType}): input ${i} is required`);
            return v;
        };
        let result: IntTensor;
        try {
            result = evalNode(opType, ins, need, attrs, label);
        } catch (err) {
            if (err instanceof ReferenceExecutionError && !err.message.startsWith(label)) {
                throw new ReferenceExecutionError(err.code, `${label}: ${err.message}`);
            }
            throw err;
        }
        const out = node.output?.[0];
        if (out === undefined || out === "") throw invalid(`${label} (${opType}): no output`);
        values.set(out, result);
    });

    const outputs: Record<string, IntTensor> = {};
    for (const o of graph.output ?? []) {
        const name = o.name ?? "";
        const v = values.get(name);
        if (v === undefined) throw new ReferenceExecutionError("MISSING_VALUE", `graph output ${name} has no value`);
        outputs[name] = v;
    }
    return outputs;
}

function evalNode(
    opType: string,
    ins: readonly (IntTensor | undefined)[],
    need: (i: number) => IntTensor,
    attrs: Attributes,
    label: string,
): IntTensor {
    switch (opType) {
        case "MatMulInteger":
            return matMulInteger(need(0), need(1), ins[2], ins[3]);
        case "Add":
            return add(need(0), need(1));
        case "Sub":
            return sub(need(0), need(1));
        case "Mul":
            return mul(need(0), need(1));
        case "Div":
            return div(need(0), need(1));
        case "Relu":
            return relu(need(0));
        case "Clip":
            return clip(need(0), ins[1], ins[2]);
        case "Max":
            return max(...ins.map((_, i) => need(i)));
        case "Min":
            return min(...ins.map((_, i) => need(i)));
        case "ArgMax":
            return argMax(
                need(0),
                intAttr(attrs, "axis", 0),
                intAttr(attrs, "keepdims", 1) !== 0,
                intAttr(attrs, "select_last_index", 0) !== 0,
            );
        case "Reshape":
            if (intAttr(attrs, "allowzero", 0) !== 0) throw invalid("Reshape: allowzero=1 is not supported");
            return reshape(need(0), need(1));
        case "Flatten":
            return flatten(need(0), intAttr(attrs, "axis", 1));
        case "Cast": {
            const to = DTYPE_BY_CODE.get(intAttr(attrs, "to", 0));
            if (to === undefined)
                throw new ReferenceExecutionError(
                    "UNSUPPORTED_DTYPE",
                    "Cast: target type is not an integer dtype of the subset",
                );
            return cast(need(0), to);
        }
        case "Gather":
            return gather(need(0), need(1), intAttr(attrs, "axis", 0));
        case "Constant": {
            // Only the `value` form (a tensor attribute); sparse_value and value_* lists are outside the subset.
            const value = attrs.get("value")?.t;
            if (!value || attrs.size !== 1) {
                throw new ReferenceExecutionError("UNSUPPORTED_INPUT", "Constant: only a `value` tensor is supported");
            }
            return tensorFromProto(value);
        }
        default:
            throw new ReferenceExecutionError(
                "UNSUPPORTED_OP",
                `${label}: op ${opType} is not in the verifiable subset`,
            );
    }
}
