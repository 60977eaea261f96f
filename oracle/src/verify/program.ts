/**
 * The on-chain program of a verifiable model: a compact, deterministic encoding of the analysed graph that
 * contracts/verify/IntegerExecutor.sol interprets. Anyone can re-derive it from the ONNX file (`compileModel`)
 * and compare its keccak256 with the `programHash` the registry binds to the model.
 *
 * Format, version 1 (all integers big-endian; iN are two's complement). docs/verifiable-subset.md has the
 * same description with the executor's gas model.
 *
 * ```
 * Program  := version:u8 (= 1) | slotCount:u16
 *             | inputCount:u8  | Input * inputCount          (inputs are slots 0 .. inputCount-1)
 *             | constCount:u16 | Const * constCount
 *             | opCount:u16    | Op * opCount
 *             | outputCount:u8 | slot:u16 * outputCount
 * Input    := dtype:u8 | rank:u8 | dim:u32 * rank | min:i64 | max:i64      (declared range, inclusive)
 * Const    := slot:u16 | dtype:u8 | rank:u8 | dim:u32 * rank | element * numel
 *             (each element elementSize(dtype) bytes: 1 for int8/uint8, 4 for int32, 8 for int64)
 * Op       := opcode:u8 | out:u16 | dtype:u8 | rank:u8 | dim:u32 * rank | body
 * ```
 *
 * dtype codes are ONNX's (uint8 2, int8 3, int32 6, int64 7). Every op states its output's dtype and shape, so
 * the executor never infers shapes. Bodies:
 *
 * | op | code | body |
 * | --- | --- | --- |
 * | MatMulInteger | 1 | `a:u16 k:u32 n:u32 aZero:i16 bSigned:u8 bZeroCount:u16 bZero:i16*bZeroCount weights:u8*(n*k)` |
 * | Add, Sub, Mul, Div, Max, Min | 2..7 | `a:u16 aMap b:u16 bMap` |
 * | Relu | 8 | `x:u16` |
 * | Clip | 9 | `x:u16 min:i64 max:i64` |
 * | ArgMax | 10 | `x:u16 outer:u32 dim:u32 inner:u32 selectLastIndex:u8` |
 * | Reshape (and Flatten) | 11 | `x:u16` |
 * | Cast | 12 | `x:u16` (the header's dtype is the target) |
 * | Gather | 13 | `data:u16 indices:u16 outer:u32 dim:u32 inner:u32` |
 *
 * MatMulInteger's B is [k, n], stored column by column (column j's k weights are contiguous), each weight as one
 * byte `w + 128` when B is int8 (`bSigned` = 1) or `w` when uint8, so the executor reads 32 weights per word and
 * never sign-extends. bZeroCount is 1 (one zero point) or n (one per column). Rows of A are [.., k]; the output
 * is A's shape with the last dim replaced by n (a 1-D A gives [n]).
 *
 * A broadcast map tells which operand element goes with output element i: `0` the same index i; `1 m:u32`
 * index i mod m (the operand is a trailing block of the output, e.g. a bias; a scalar has m = 1); `2
 * stride:u32 * rank` index = sum over output dims j of (digit j of i) * stride j (0 for a broadcast dim).
 *
 * Slots: the manifest's inputs first (in manifest order), then constants in order of first use, then node
 * outputs in node order (a variadic Max/Min becomes a chain of binary ops, one slot per link; a single-input
 * Max/Min and every Flatten are encoded as Reshape). Outputs are in manifest order.
 *
 * Well-formedness (the executor reverts on a program that breaks any of these; `compileModel` never writes one):
 * every slot is written exactly once, before it is read, and every output slot is written; no bytes follow the
 * outputs; every dim is at least 1, every tensor holds at most 2^24 elements and has rank at most 8; the operands
 * of Add/Sub/Mul/Div/Max/Min, Relu, Clip and Reshape have the output's dtype; MatMulInteger's A is int8/uint8 and
 * its output int32; ArgMax's output is int64; Gather's output has its data's dtype and its indices are int32 or
 * int64; zero points lie in their operand's dtype and Clip's bounds in the output's; bSigned and
 * selectLastIndex are 0 or 1, bZeroCount is 1 or n; a kind-1 map's m is the operand's element count and divides
 * the output's; a kind-2 map never indexes past the operand. Shapes are checked through element counts;
 * declared input ranges are taken as given.
 */
import { keccak256 } from "../internal/keccak";
import type { Manifest } from "../protocol/manifest";
import { INT_DTYPE_CODES, numel, strides, type IntDType, type IntTensor } from "./reference";
import { analyseModel, SubsetError, type Analysis, type AnalysedNode, type ValueFacts } from "./subset";

/** The program format version this file writes. */
export const PROGRAM_VERSION = 1;

/** Opcodes of the program format. */
export const OPCODES = {
    MatMulInteger: 1,
    Add: 2,
    Sub: 3,
    Mul: 4,
    Div: 5,
    Max: 6,
    Min: 7,
    Relu: 8,
    Clip: 9,
    ArgMax: 10,
    Reshape: 11,
    Cast: 12,
    Gather: 13,
} as const;

/** A compiled model: the program bytes, their hash (the registry's `programHash`) and the analysis behind it. */
export interface CompiledProgram {
    readonly program: Uint8Array;
    readonly programHash: string;
    readonly analysis: Analysis;
}

const ELEMENT_SIZE: Readonly<Record<IntDType, number>> = { int8: 1, uint8: 1, int32: 4, int64: 8 };

class ByteWriter {
    private chunks: number[] = [];

    u8(v: number): void {
        this.uint(BigInt(v), 1);
    }
    u16(v: number): void {
        this.uint(BigInt(v), 2);
    }
    u32(v: number): void {
        this.uint(BigInt(v), 4);
    }
    i16(v: bigint): void {
        this.int(v, 2);
    }
    i64(v: bigint): void {
        this.int(v, 8);
    }
    int(v: bigint, size: number): void {
        const bits = BigInt(size * 8);
        if (v < -(1n << (bits - 1n)) || v >= 1n << (bits - 1n)) throw new RangeError(`${v} does not fit i${bits}`);
        this.uint(BigInt.asUintN(size * 8, v), size);
    }
    uint(v: bigint, size: number): void {
        if (v < 0n || v >= 1n << BigInt(size * 8)) throw new RangeError(`${v} does not fit u${size * 8}`);
        for (let i = size - 1; i >= 0; i--) this.chunks.push(Number((v >> BigInt(i * 8)) & 0xffn));
    }
    bytes(b: Uint8Array): void {
        for (const x of b) this.chunks.push(x);
    }
    finish(): Uint8Array {
        return Uint8Array.from(this.chunks);
    }
}

/**
 * Checks the model (analyseModel) and compiles it into its on-chain program. Deterministic: the same ONNX bytes
 * and manifest always give the same program. Throws SubsetError for a model outside the subset or too large for
 * the format.
 */
export function compileModel(onnxBytes: Uint8Array, manifest?: Manifest): CompiledProgram {
    const analysis = analyseModel(onnxBytes, manifest);
    const program = encodeProgram(analysis);
    return { program, programHash: keccak256(program), analysis };
}

/** Encodes an analysed model (see the format above). */
export function encodeProgram(analysis: Analysis): Uint8Array {
    const slots = new Map<ValueFacts, number>();
    const consts: { slot: number; tensor: IntTensor }[] = [];
    let next = 0;
    for (const input of analysis.inputs) slots.set(input, next++);

    const ops = new ByteWriter();
    let opCount = 0;
    const slotOf = (v: ValueFacts): number => {
        let slot = slots.get(v);
        if (slot === undefined) {
            if (v.constant === undefined) throw new Error(`internal: value ${v.name} has no slot`);
            slot = next++;
            slots.set(v, slot);
            consts.push({ slot, tensor: v.constant });
        }
        return slot;
    };
    const header = (op: keyof typeof OPCODES, out: number, dtype: IntDType, shape: readonly number[]) => {
        ops.u8(OPCODES[op]);
        ops.u16(out);
        ops.u8(INT_DTYPE_CODES[dtype]);
        ops.u8(shape.length);
        for (const d of shape) ops.u32(d);
        opCount++;
    };

    for (const node of analysis.nodes) {
        const where = { node: node.label, op: node.opType };
        const ins = node.inputs;
        const out = node.output;
        const operand = (i: number): ValueFacts => ins[i]!;
        switch (node.opType) {
            case "MatMulInteger": {
                const a = slotOf(operand(0));
                const b = operand(1).constant!;
                const [k, n] = b.shape as [number, number];
                const outSlot = next++;
                header("MatMulInteger", outSlot, "int32", out.shape);
                ops.u16(a);
                ops.u32(k);
                ops.u32(n);
                ops.i16(ins[2]?.constant?.data[0] ?? 0n);
                const signed = b.dtype === "int8";
                ops.u8(signed ? 1 : 0);
                const zb = ins[3]?.constant?.data ?? [0n];
                ops.u16(zb.length);
                for (const z of zb) ops.i16(z);
                const weights = new Uint8Array(n * k);
                const offset = signed ? 128n : 0n;
                for (let col = 0; col < n; col++) {
                    for (let q = 0; q < k; q++) weights[col * k + q] = Number(b.data[q * n + col]! + offset);
                }
                ops.bytes(weights);
                slots.set(out, outSlot);
                break;
            }
            case "Add":
            case "Sub":
            case "Mul":
            case "Div": {
                const a = slotOf(operand(0));
                const b = slotOf(operand(1));
                const outSlot = next++;
                header(node.opType, outSlot, out.dtype, out.shape);
                writeBinaryOperands(ops, a, operand(0).shape, b, operand(1).shape, out.shape);
                slots.set(out, outSlot);
                break;
            }
            case "Max":
            case "Min": {
                // A chain of binary ops; the intermediate shapes are the running broadcasts.
                let accSlot = slotOf(operand(0));
                let accShape = operand(0).shape;
                if (ins.length === 1) {
                    const outSlot = next++;
                    header("Reshape", outSlot, out.dtype, out.shape);
                    ops.u16(accSlot);
                    slots.set(out, outSlot);
                    break;
                }
                for (let i = 1; i < ins.length; i++) {
                    const b = slotOf(operand(i));
                    const shape = i === ins.length - 1 ? out.shape : broadcast(accShape, operand(i).shape);
                    const outSlot = next++;
                    header(node.opType, outSlot, out.dtype, shape);
                    writeBinaryOperands(ops, accSlot, accShape, b, operand(i).shape, shape);
                    accSlot = outSlot;
                    accShape = shape;
                }
                slots.set(out, accSlot);
                break;
            }
            case "Relu":
            case "Cast":
            case "Reshape":
            case "Flatten": {
                const x = slotOf(operand(0));
                const outSlot = next++;
                const op = node.opType === "Flatten" ? "Reshape" : node.opType;
                header(op, outSlot, out.dtype, out.shape);
                ops.u16(x);
                slots.set(out, outSlot);
                break;
            }
            case "Clip": {
                const x = slotOf(operand(0));
                const outSlot = next++;
                header("Clip", outSlot, out.dtype, out.shape);
                ops.u16(x);
                const range = out.dtype;
                const lo = ins[1]?.constant?.data[0];
                const hi = ins[2]?.constant?.data[0];
                ops.i64(lo ?? dtypeMin(range));
                ops.i64(hi ?? dtypeMax(range));
                slots.set(out, outSlot);
                break;
            }
            case "ArgMax": {
                const xv = operand(0);
                const x = slotOf(xv);
                const axis = node.attrs["axis"]!;
                const outSlot = next++;
                header("ArgMax", outSlot, "int64", out.shape);
                ops.u16(x);
                ops.u32(numel(xv.shape.slice(0, axis)));
                ops.u32(xv.shape[axis]!);
                ops.u32(numel(xv.shape.slice(axis + 1)));
                ops.u8(node.attrs["select_last_index"]!);
                slots.set(out, outSlot);
                break;
            }
            case "Gather": {
                const data = operand(0);
                const d = slotOf(data);
                const idx = slotOf(operand(1));
                const axis = normalisedAxis(node);
                const outSlot = next++;
                header("Gather", outSlot, out.dtype, out.shape);
                ops.u16(d);
                ops.u16(idx);
                ops.u32(numel(data.shape.slice(0, axis)));
                ops.u32(data.shape[axis]!);
                ops.u32(numel(data.shape.slice(axis + 1)));
                slots.set(out, outSlot);
                break;
            }
            default:
                throw new SubsetError("UNSUPPORTED_OP", "no encoding", where);
        }
    }
    const outputs = analysis.outputs.map(slotOf);
    if (next > 0xffff) throw new SubsetError("TOO_LARGE", `${next} values; the program format holds 65535`);
    if (opCount > 0xffff) throw new SubsetError("TOO_LARGE", `${opCount} ops; the program format holds 65535`);
    if (consts.length > 0xffff) throw new SubsetError("TOO_LARGE", `${consts.length} constants; at most 65535`);

    const w = new ByteWriter();
    w.u8(PROGRAM_VERSION);
    w.u16(next);
    w.u8(analysis.inputs.length);
    for (const input of analysis.inputs) {
        w.u8(INT_DTYPE_CODES[input.dtype]);
        w.u8(input.shape.length);
        for (const d of input.shape) w.u32(d);
        // Declared ranges are uniform per input (rangeFacts), so element 0 carries them.
        w.i64(input.lo[0] ?? 0n);
        w.i64(input.hi[0] ?? 0n);
    }
    w.u16(consts.length);
    for (const { slot, tensor } of consts) {
        w.u16(slot);
        w.u8(INT_DTYPE_CODES[tensor.dtype]);
        w.u8(tensor.shape.length);
        for (const d of tensor.shape) w.u32(d);
        // Two's complement of the element's width: uint8 200 is 0xc8, int8 -56 is 0xc8 too (the dtype tells).
        const size = ELEMENT_SIZE[tensor.dtype];
        for (const v of tensor.data) w.uint(BigInt.asUintN(size * 8, v), size);
    }
    w.u16(opCount);
    w.bytes(ops.finish());
    w.u8(outputs.length);
    for (const slot of outputs) w.u16(slot);
    return w.finish();
}

function dtypeMin(dtype: IntDType): bigint {
    return dtype === "uint8" ? 0n : -(1n << BigInt(ELEMENT_SIZE[dtype] * 8 - 1));
}

function dtypeMax(dtype: IntDType): bigint {
    return dtype === "uint8" ? 255n : (1n << BigInt(ELEMENT_SIZE[dtype] * 8 - 1)) - 1n;
}

function normalisedAxis(node: AnalysedNode): number {
    const axis = node.attrs["axis"] ?? 0;
    const rank = node.inputs[0]!.shape.length;
    return axis < 0 ? axis + rank : axis;
}

function broadcast(a: readonly number[], b: readonly number[]): number[] {
    const rank = Math.max(a.length, b.length);
    const out: number[] = [];
    for (let i = 0; i < rank; i++) {
        const x = a[a.length - rank + i] ?? 1;
        const y = b[b.length - rank + i] ?? 1;
        out.push(x === 1 ? y : x);
    }
    return out;
}

function writeBinaryOperands(
    w: ByteWriter,
    a: number,
    aShape: readonly number[],
    b: number,
    bShape: readonly number[],
    outShape: readonly number[],
): void {
    w.u16(a);
    writeMap(w, aShape, outShape);
    w.u16(b);
    writeMap(w, bShape, outShape);
}

/** The broadcast map of an operand of shape `shape` into an output of shape `outShape` (see the format). */
function writeMap(w: ByteWriter, shape: readonly number[], outShape: readonly number[]): void {
    const n = numel(shape);
    if (n === numel(outShape)) {
        w.u8(0);
        return;
    }
    // Leading 1s do not change the layout; the rest must equal the output's trailing dims for an i mod m map.
    let first = 0;
    while (first < shape.length && shape[first] === 1) first++;
    const core = shape.slice(first);
    const tail = outShape.slice(outShape.length - core.length);
    if (core.every((d, i) => d === tail[i])) {
        w.u8(1);
        w.u32(n);
        return;
    }
    w.u8(2);
    const inStrides = strides(shape);
    const offset = outShape.length - shape.length;
    for (let j = 0; j < outShape.length; j++) {
        const i = j - offset;
        w.u32(i < 0 || shape[i] === 1 ? 0 : inStrides[i]!);
    }
}
