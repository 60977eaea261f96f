/**
 * The worst-case gas of a REEXECUTION dispute, computed exactly as the chain computes it at registration:
 * `IntegerExecutor.gasBound(program)` (executorGasBound below) and `ReexecutionResolver.disputeGasBound`
 * (disputeGasBound below). The registry refuses a model whose bound, with the largest callback and input any request
 * may have, exceeds the resolver's `maxDisputeGas`, so `verity model check` and the node can say offline what
 * registration will say. test/oracle/verify/disputeGas.spec.ts holds both functions equal to the contracts' views
 * on every op of the subset, and the constants below to theirs.
 *
 * Program format: oracle/src/verify/program.ts. The program is assumed well formed (a compiled one is); the
 * chain validates it first and reverts otherwise.
 */
import { programChunkCount } from "../protocol/programChunks";

/** Per-element and fixed costs of IntegerExecutor's gas bound (its `_G_*` constants). */
export const EXECUTOR_GAS = {
    fixed: 30_000n,
    tensor: 1_500n,
    op: 6_000n,
    slot: 150n,
    inputElement: 180n,
    constElement: 150n,
    outputElement: 120n,
    matMulOut: 550n,
    matMulA: 300n,
    matMulRow: 5_500n,
    matMulGroup: 240n,
    binary: 200n,
    mapBlock: 40n,
    mapStrided: 120n,
    mapStridedDim: 200n,
    unary: 150n,
    argMaxIn: 160n,
    argMaxOut: 200n,
    gather: 200n,
} as const;

/** ReexecutionResolver's constants of a dispute's gas. */
export const RESOLVER_GAS = {
    disputeBase: 400_000n,
    chunk: 5_500n,
    programWord: 12n,
    copyWord: 6n,
    frameWords: 48n,
} as const;

/** The coordinator's hard caps (`MAX_CALLBACK_GAS_LIMIT`, `MAX_INPUT_BYTES`): the worst request a dispute faces. */
export const MAX_CALLBACK_GAS_LIMIT = 5_000_000n;
export const MAX_INPUT_BYTES = 131_072n;

/** Opcodes of the program format (program.ts). */
const OP = { MATMUL: 1, MIN: 7, ARGMAX: 10, RESHAPE: 11, CLIP: 9, GATHER: 13 } as const;

const ELEMENT_SIZE: Readonly<Record<number, number>> = { 2: 1, 3: 1, 6: 4, 7: 8 };

interface Slot {
    dtype: number;
    numel: bigint;
    rank: number;
}

class Reader {
    constructor(readonly bytes: Uint8Array) {}
    u8(p: number): number {
        const v = this.bytes[p];
        if (v === undefined) throw new RangeError(`program truncated at byte ${p}`);
        return v;
    }
    u16(p: number): number {
        return (this.u8(p) << 8) | this.u8(p + 1);
    }
    u32(p: number): number {
        return this.u16(p) * 65_536 + this.u16(p + 2);
    }
    /** dtype | rank | dims at `p`: the slot it describes and the offset past it. */
    header(p: number): { slot: Slot; next: number } {
        const dtype = this.u8(p);
        const rank = this.u8(p + 1);
        let numel = 1n;
        for (let j = 0; j < rank; j++) numel *= BigInt(this.u32(p + 2 + 4 * j));
        return { slot: { dtype, numel, rank }, next: p + 2 + 4 * rank };
    }
}

function size(dtype: number): number {
    const s = ELEMENT_SIZE[dtype];
    if (s === undefined) throw new RangeError(`unknown dtype ${dtype}`);
    return s;
}

function memory(words: bigint): bigint {
    return 3n * words + (words * words) / 512n;
}

/** IntegerExecutor.gasBound(program): the most gas `execute` spends, and the length of a successful output. */
export function executorGasBound(program: Uint8Array): { gas: bigint; outputBytes: bigint } {
    const G = EXECUTOR_GAS;
    const r = new Reader(program);
    const slots: (Slot | undefined)[] = new Array<Slot | undefined>(r.u16(1));
    const slotOf = (i: number): Slot => {
        const s = slots[i];
        if (s === undefined) throw new RangeError(`slot ${i} is read before it is written`);
        return s;
    };
    const inputCount = r.u8(3);
    let gas = 0n;
    let words = 32n + BigInt(slots.length);
    let p = 4;
    for (let i = 0; i < inputCount; i++) {
        const { slot, next } = r.header(p);
        slots[i] = slot;
        gas += G.inputElement * slot.numel;
        words += slot.numel;
        p = next + 16;
    }
    const constCount = r.u16(p);
    p += 2;
    for (let i = 0; i < constCount; i++) {
        const { slot, next } = r.header(p + 2);
        slots[r.u16(p)] = slot;
        gas += G.constElement * slot.numel;
        words += slot.numel;
        p = next + Number(slot.numel) * size(slot.dtype);
    }
    const opCount = r.u16(p);
    p += 2;
    for (let i = 0; i < opCount; i++) {
        const opcode = r.u8(p);
        const { slot: out, next: b } = r.header(p + 3);
        slots[r.u16(p + 1)] = out;
        const numel = out.numel;
        if (opcode === OP.MATMUL) {
            const k = BigInt(r.u32(b + 2));
            const n = BigInt(r.u32(b + 6));
            const zeroCount = r.u16(b + 13);
            const rows = slotOf(r.u16(b)).numel / k;
            const groups = (k + 31n) / 32n;
            gas += rows * (G.matMulRow + G.matMulA * k + n * (G.matMulOut + G.matMulGroup * groups));
            words += rows * n + 4n * groups + 16n;
            p = b + 15 + 2 * zeroCount + Number(n * k);
        } else if (opcode <= OP.MIN) {
            gas += G.binary * numel;
            words += numel;
            let q = b;
            for (let j = 0; j < 2; j++) {
                const kind = r.u8(q + 2);
                if (kind === 0) {
                    q += 3;
                } else if (kind === 1) {
                    gas += 300n + G.mapBlock * numel;
                    words += numel;
                    q += 7;
                } else {
                    gas += 300n + (G.mapStrided + G.mapStridedDim * BigInt(out.rank)) * numel;
                    words += numel + 3n * BigInt(out.rank);
                    q += 3 + 4 * out.rank;
                }
            }
            p = q;
        } else if (opcode === OP.ARGMAX) {
            gas += G.argMaxIn * slotOf(r.u16(b)).numel + G.argMaxOut * numel;
            words += numel;
            p = b + 15;
        } else if (opcode === OP.GATHER) {
            gas += G.gather * numel;
            words += numel;
            p = b + 16;
        } else if (opcode === OP.RESHAPE) {
            p = b + 2;
        } else {
            gas += G.unary * numel;
            words += numel;
            p = opcode === OP.CLIP ? b + 18 : b + 2;
        }
    }
    const outputCount = r.u8(p);
    let outputBytes = 2n;
    for (let i = 0; i < outputCount; i++) {
        const slot = slotOf(r.u16(p + 1 + 2 * i));
        gas += G.outputElement * slot.numel;
        outputBytes += 2n + 4n * BigInt(slot.rank) + slot.numel * BigInt(size(slot.dtype));
    }
    const tensors = BigInt(inputCount + constCount + outputCount);
    gas += G.fixed + G.tensor * tensors + G.op * BigInt(opCount) + G.slot * BigInt(slots.length);
    words += 2n * (outputBytes / 32n + 4n);
    return { gas: gas + memory(words), outputBytes };
}

/**
 * ReexecutionResolver.disputeGasBound for `program` stored in ProgramStore chunks: the most gas a dispute
 * transaction over one of its results needs, for a request with `callbackGasLimit` and an input of `inputBytes`
 * (by default the largest any request may have, as registration checks).
 */
export function disputeGasBound(
    program: Uint8Array,
    callbackGasLimit: bigint = MAX_CALLBACK_GAS_LIMIT,
    inputBytes: bigint = MAX_INPUT_BYTES,
): bigint {
    const R = RESOLVER_GAS;
    const { gas: executionGas, outputBytes } = executorGasBound(program);
    const programWords = (BigInt(program.length) + 31n) / 32n;
    const inputWords = (inputBytes + 31n) / 32n;
    const outputWords = 4n + (outputBytes + 31n) / 32n;
    // The resolver's frame (see ReexecutionResolver.disputeGasBound: the same terms, in the same order).
    let words = R.frameWords + programWords + inputWords + 3n * outputWords;
    let frame =
        BigInt(programChunkCount(program.length)) * R.chunk +
        R.programWord * programWords +
        (R.copyWord + 6n) * inputWords +
        R.copyWord * 3n * outputWords +
        memory(words) +
        (executionGas * 64n) / 63n +
        1n;
    // DisputeLogic's frame, with the consumer callback.
    words = R.frameWords + inputWords + 3n * outputWords;
    frame =
        memory(words) +
        R.copyWord * (inputWords + 3n * outputWords) +
        (frame * 64n) / 63n +
        1n +
        ((callbackGasLimit + 5_000n) * 64n) / 63n +
        1n;
    // The coordinator's frame.
    words = R.frameWords + inputWords;
    return R.disputeBase + 16n * inputBytes + memory(words) + R.copyWord * inputWords + (frame * 64n) / 63n + 1n;
}

/**
 * The least collateral ReexecutionResolver.checkModel accepts: the challenger's share (`challengerRewardBps`) of it
 * must pay `disputeGas` at `gasPriceWei` stake-token units per gas. 0 when the deployment states no gas price.
 */
export function collateralFloorWei(disputeGas: bigint, gasPriceWei: bigint, challengerRewardBps: bigint): bigint {
    if (gasPriceWei === 0n) return 0n;
    if (challengerRewardBps === 0n)
        throw new RangeError("a coordinator that pays no challenger reward admits no model");
    return (disputeGas * gasPriceWei * 10_000n + challengerRewardBps - 1n) / challengerRewardBps;
}
