/**
 * Estimated gas of one on-chain re-execution of a compiled model (a dispute or fraud proof pays it), from the
 * program's op counts and sizes. The per-unit costs are fitted to IntegerExecutor measurements
 * (bench/results/verify.json, `npm run bench:verify`); test/models/gas.spec.ts holds the estimate to within 20%
 * of the gas of ReexecutionResolver.reexecute measured on the hardhat network. An estimate, not a bound: it leaves out the transaction's own
 * costs (21,000 base, calldata of the input) and the consumer callback a dispute delivers.
 */
import type { CompiledProgram } from "../../oracle/src/verify/program";
import { programChunkCount } from "../../oracle/src/chain/programStore";
import { numel } from "../../oracle/src/verify/reference";

/** Gas limit of the block the estimate is compared with (Ethereum mainnet's 30M). */
export const BLOCK_GAS_LIMIT = 30_000_000;

/**
 * Fitted per-unit costs. The executor reads 32 packed weights per word and keeps sums in SIMD lanes, so a
 * multiply-accumulate costs about 6 gas; every other element an op writes costs about 180 (decode, bounds,
 * memory); the program travels into the executor's calldata by EXTCODECOPY, whose memory expansion
 * (words² / 512) dominates loading a large program.
 */
export const GAS_COSTS = {
    /** One int8/uint8 multiply-accumulate of MatMulInteger. */
    perMac: 5.7,
    /** Per element any op writes (MatMulInteger outputs included). */
    perElement: 182,
    /** Per op (header decode, allocation). */
    perOp: 1_000,
    /** Fixed part of execute (call, input decode and output encode of small tensors). */
    base: 60_000,
    /** Fixed part of loading: registry and ProgramStore lookups. */
    loadBase: 24_000,
    /** Per ProgramStore chunk (cold account access, EXTCODECOPY setup). */
    perChunk: 2_600,
} as const;

/** Margin on the estimate when deciding whether a dispute fits: the estimate is held to 20% of measured gas. */
export const ESTIMATE_MARGIN = 1.2;
/** What a dispute transaction costs besides the re-execution: intrinsic gas, the request struct and the input
 * as calldata, the bond transfer, the slash and the coordinator's bookkeeping (a generous bound). */
export const DISPUTE_OVERHEAD_GAS = 300_000;
/**
 * The consumer callback a dispute delivers, at the deployment default `maxCallbackGasLimit` (2.5M), with the
 * coordinator's 63/64 check and its 5,000-gas reserve.
 */
export const CALLBACK_BUDGET_GAS = Math.ceil((2_500_000 * 64) / 63) + 5_000;

export interface GasEstimate {
    /** Executing the program (IntegerExecutor.execute). */
    readonly execute: number;
    /** Loading and re-hashing the program from ProgramStore. */
    readonly load: number;
    /** execute + load. */
    readonly total: number;
    /**
     * A bound on the whole dispute transaction: total × ESTIMATE_MARGIN + DISPUTE_OVERHEAD_GAS +
     * CALLBACK_BUDGET_GAS. A model whose dispute might not fit in a block must not be registered as REEXECUTION:
     * its results could not be disputed.
     */
    readonly disputeGas: number;
    /** ProgramStore chunks the program needs. */
    readonly chunks: number;
    readonly blockGasLimit: number;
    /** disputeGas ≤ blockGasLimit. */
    readonly fitsInBlock: boolean;
}

/** The estimated gas of one re-execution of `compiled`. */
export function estimateReexecution(compiled: CompiledProgram): GasEstimate {
    const c = GAS_COSTS;
    const { analysis, program } = compiled;
    let execute: number = c.base;
    for (const node of analysis.nodes) {
        execute += c.perOp + numel(node.output.shape) * c.perElement + node.macs * c.perMac;
    }
    execute = Math.round(execute);
    const chunks = programChunkCount(program.length);
    // The program is copied once into the executor's calldata buffer: EVM memory costs 3 gas a word plus
    // words² / 512, and the copy and keccak256 a few gas a word more.
    const words = Math.ceil(program.length / 32);
    const load = Math.round(c.loadBase + chunks * c.perChunk + 12 * words + (words * words) / 512);
    const total = execute + load;
    const disputeGas = Math.round(total * ESTIMATE_MARGIN) + DISPUTE_OVERHEAD_GAS + CALLBACK_BUDGET_GAS;
    return {
        execute,
        load,
        total,
        disputeGas,
        chunks,
        blockGasLimit: BLOCK_GAS_LIMIT,
        fitsInBlock: disputeGas <= BLOCK_GAS_LIMIT,
    };
}
