/**
 * Hand-built IntegerExecutor programs (format: oracle/src/verify/program.ts) that take each op's most expensive
 * path per element, at any size: what a hostile publisher could store and register, which `compileModel` would
 * never write. Used to hold `IntegerExecutor.gasBound` above measured runs where fixed costs cannot hide a
 * per-element shortfall.
 */
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
function i64(v: bigint): number[] {
    const out: number[] = [];
    let x = BigInt.asUintN(64, v);
    for (let i = 0; i < 8; i++) {
        out.unshift(Number(x & 0xffn));
        x >>= 8n;
    }
    return out;
}
const header = (dtype: number, dims: readonly number[]): number[] => [dtype, dims.length, ...dims.flatMap(u32)];

export interface HostileCase {
    name: string;
    program: Uint8Array;
    input: Uint8Array;
}

/** One input slot 0 of `dtype`/`dims` in [lo, hi], `ops` writing slots from 1, output = the last op's slot. */
function program(
    input: { dtype: number; dims: number[]; lo: bigint; hi: bigint },
    consts: number[][],
    ops: number[][],
    slotCount: number,
    output: number,
): Uint8Array {
    return Uint8Array.from([
        1,
        ...u16(slotCount),
        1,
        ...header(input.dtype, input.dims),
        ...i64(input.lo),
        ...i64(input.hi),
        ...u16(consts.length),
        ...consts.flat(),
        ...u16(ops.length),
        ...ops.flat(),
        1,
        ...u16(output),
    ]);
}

function inputOf(dtype: number, dims: number[], value: (i: number) => bigint): Uint8Array {
    const n = dims.reduce((a, b) => a * b, 1);
    return encodeTensors([{ dtype, shape: dims, data: Array.from({ length: n }, (_, i) => value(i)) }]);
}

/**
 * A program the executor's validation accepts, 56 bytes long: one int32 input of 4,096 x 4,096 (2^24) elements
 * added to itself. Re-executing it needs 2^25 words of memory, far more gas than any transaction may use.
 */
export function hugeAddProgram(): Uint8Array {
    const dims = [4096, 4096];
    const add = [2, ...u16(1), ...header(DType.INT32, dims), ...u16(0), 0, ...u16(0), 0];
    return program({ dtype: DType.INT32, dims, lo: 0n, hi: 0n }, [], [add], 2, 1);
}

/** The hostile programs, each with `n` as its scaling size and an input that runs it to the end. */
export function hostileCases(n: number): HostileCase[] {
    const cases: HostileCase[] = [];
    // MatMulInteger with k = 1 (a partial 32-lane group per row), k = 33 (a whole group and a partial one): rows of
    // A are the expensive part; and n output columns of one row.
    for (const k of [1, 31, 33]) {
        const rows = Math.max(1, Math.floor(n / k));
        const weights = new Array<number>(k).fill(130);
        const matmul = [1, ...u16(1), ...header(DType.INT32, [rows, 1]), ...u16(0), ...u32(k), ...u32(1)];
        matmul.push(...u16(0), 1, ...u16(1), ...u16(0), ...weights);
        cases.push({
            name: `MatMulInteger, ${rows} rows of k = ${k}, n = 1`,
            program: program({ dtype: DType.INT8, dims: [rows, k], lo: -128n, hi: 127n }, [], [matmul], 2, 1),
            input: inputOf(DType.INT8, [rows, k], (i) => BigInt((i % 256) - 128)),
        });
    }
    {
        const matmul = [1, ...u16(1), ...header(DType.INT32, [1, n]), ...u16(0), ...u32(1), ...u32(n)];
        matmul.push(...u16(0), 1, ...u16(1), ...u16(0), ...new Array<number>(n).fill(3));
        cases.push({
            name: `MatMulInteger, one row of k = 1, n = ${n}`,
            program: program({ dtype: DType.INT8, dims: [1, 1], lo: -128n, hi: 127n }, [], [matmul], 2, 1),
            input: inputOf(DType.INT8, [1, 1], () => -128n),
        });
    }
    // Unary ops on int64 (the widest decode and encode).
    const wide = { dtype: DType.INT64, dims: [n], lo: -1_000_000n, hi: 1_000_000n };
    const wideInput = inputOf(DType.INT64, [n], (i) => BigInt(i % 2 === 0 ? -i : i));
    cases.push({
        name: `Relu, int64 [${n}]`,
        program: program(wide, [], [[8, ...u16(1), ...header(DType.INT64, [n]), ...u16(0)]], 2, 1),
        input: wideInput,
    });
    cases.push({
        name: `Clip, int64 [${n}], both bounds hit`,
        program: program(
            wide,
            [],
            [[9, ...u16(1), ...header(DType.INT64, [n]), ...u16(0), ...i64(-10n), ...i64(10n)]],
            2,
            1,
        ),
        input: wideInput,
    });
    cases.push({
        name: `Cast int64 to int32, [${n}]`,
        program: program(wide, [], [[12, ...u16(1), ...header(DType.INT32, [n]), ...u16(0)]], 2, 1),
        input: wideInput,
    });
    cases.push({
        name: `Reshape, int64 [${n}]`,
        program: program(wide, [], [[11, ...u16(1), ...header(DType.INT64, [n, 1]), ...u16(0)]], 2, 1),
        input: wideInput,
    });
    // ArgMax with dim = 1 (one output per input element) and with one long row (dim = n).
    cases.push({
        name: `ArgMax, [${n}, 1] over a dim of 1`,
        program: program(
            { dtype: DType.INT64, dims: [n, 1], lo: -1_000_000n, hi: 1_000_000n },
            [],
            [[10, ...u16(1), ...header(DType.INT64, [n, 1]), ...u16(0), ...u32(n), ...u32(1), ...u32(1), 1]],
            2,
            1,
        ),
        input: inputOf(DType.INT64, [n, 1], (i) => BigInt(i)),
    });
    cases.push({
        name: `ArgMax, [1, ${n}] over the long dim, select_last_index`,
        program: program(
            { dtype: DType.INT64, dims: [1, n], lo: -1_000_000n, hi: 1_000_000n },
            [],
            [[10, ...u16(1), ...header(DType.INT64, [1, 1]), ...u16(0), ...u32(1), ...u32(n), ...u32(1), 1]],
            2,
            1,
        ),
        input: inputOf(DType.INT64, [1, n], (i) => BigInt(i)),
    });
    // Gather of single elements: n indices into a 4-element constant table (one row copy per index).
    cases.push({
        name: `Gather, ${n} int64 indices of rows of 1`,
        program: program(
            { dtype: DType.INT64, dims: [n], lo: -4n, hi: 3n },
            [[...u16(1), ...header(DType.INT64, [4]), ...i64(7n), ...i64(8n), ...i64(9n), ...i64(10n)]],
            [[13, ...u16(2), ...header(DType.INT64, [n]), ...u16(1), ...u16(0), ...u32(1), ...u32(4), ...u32(1)]],
            3,
            2,
        ),
        input: inputOf(DType.INT64, [n], (i) => BigInt((i % 8) - 4)),
    });
    // Binary ops: both operands through strided maps over a rank-8 output [n, 1, ..., 1], so that every step of
    // the odometer carries through seven dims of 1 (the most work per element); Div also divides.
    const rank8 = [n, 1, 1, 1, 1, 1, 1, 1];
    const strided = [2, ...u32(1), ...new Array<number[]>(7).fill(u32(0)).flat()];
    for (const [opcode, name] of [
        [2, "Add"],
        [5, "Div"],
        [6, "Max"],
    ] as const) {
        cases.push({
            name: `${name}, int64 rank-8 [${n}, 1, ..., 1], both operands strided`,
            program: program(
                { dtype: DType.INT64, dims: [n], lo: 1n, hi: 1_000_000n },
                [],
                [[opcode, ...u16(1), ...header(DType.INT64, rank8), ...u16(0), ...strided, ...u16(0), ...strided]],
                2,
                1,
            ),
            input: inputOf(DType.INT64, [n], (i) => BigInt(i + 1)),
        });
    }
    // Many tiny ops: n / 4 chained Relus of one int64 (per-op costs: headers, dispatch, allocation).
    {
        const count = Math.max(1, Math.floor(n / 4));
        const ops = Array.from({ length: count }, (_, i) => [8, ...u16(i + 1), ...header(DType.INT64, [1]), ...u16(i)]);
        cases.push({
            name: `${count} chained Relu ops of one int64`,
            program: program({ dtype: DType.INT64, dims: [1], lo: -5n, hi: 5n }, [], ops, count + 1, count),
            input: inputOf(DType.INT64, [1], () => 3n),
        });
    }
    // A block map (kind 1) of a scalar, and plain maps.
    cases.push({
        name: `Mul, int64 [${n}] by a broadcast scalar (kind 1) and itself (kind 0)`,
        program: program(
            { dtype: DType.INT64, dims: [n], lo: -1_000n, hi: 1_000n },
            [[...u16(1), ...header(DType.INT64, [1]), ...i64(-3n)]],
            [[4, ...u16(2), ...header(DType.INT64, [n]), ...u16(0), 0, ...u16(1), 1, ...u32(1)]],
            3,
            2,
        ),
        input: inputOf(DType.INT64, [n], (i) => BigInt((i % 2000) - 1000)),
    });
    return cases;
}
