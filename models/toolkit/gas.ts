/**
 * Estimated gas of one on-chain re-execution of a compiled model (a dispute or fraud proof pays it), from the
 * program's op counts and sizes. The per-unit costs are fitted to IntegerExecutor measurements
 * (bench/results/verify.json, `npm run bench:verify`); test/models/gas.spec.ts holds the estimate to within 20%
 * of the gas of ReexecutionResolver.reexecute measured on the hardhat network. An estimate, not a bound; the bound
 * registration checks (`disputeGas`) is the chain's own, computed by oracle/src/verify/disputeGas.ts.
 */
import type { CompiledProgram } from "../../oracle/src/verify/program";
import { programChunkCount } from "../../oracle/src/chain/programStore";
import { numel } from "../../oracle/src/verify/reference";
import { collateralFloorWei, disputeGasBound } from "../../oracle/src/verify/disputeGas";
import { DEPLOYMENT_DEFAULTS } from "../../oracle/src/protocol/deploymentDefaults";

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

/** The deployment defaults registration is checked against (`verity deploy`'s, the Ignition module's). */
export const DEFAULT_MAX_DISPUTE_GAS = BigInt(DEPLOYMENT_DEFAULTS.maxDisputeGas);
const DEFAULT_GAS_PRICE_WEI = DEPLOYMENT_DEFAULTS.disputeGasPriceWei;
const DEFAULT_REWARD_BPS = BigInt(DEPLOYMENT_DEFAULTS.challengerRewardBps);

export interface GasEstimate {
    /** Executing the program (IntegerExecutor.execute), typically. */
    readonly execute: number;
    /** Loading and re-hashing the program from ProgramStore, typically. */
    readonly load: number;
    /** execute + load. */
    readonly total: number;
    /**
     * The bound the chain checks at registration (oracle/src/verify/disputeGas.ts, equal to
     * ReexecutionResolver.disputeGasBound): the most gas a dispute over one result can need, with the largest
     * callback (5M) and input any request may have.
     */
    readonly disputeGas: bigint;
    /** The default deployment's `maxDisputeGas`: a model whose disputeGas exceeds it is refused. */
    readonly maxDisputeGas: bigint;
    /** disputeGas ≤ maxDisputeGas: the default deployment registers it as REEXECUTION. */
    readonly registrable: boolean;
    /** The least collateral the default deployment accepts (its gas price and challenger reward). */
    readonly collateralFloorWei: bigint;
    /** ProgramStore chunks the program needs. */
    readonly chunks: number;
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
    const disputeGas = disputeGasBound(program);
    return {
        execute,
        load,
        total,
        disputeGas,
        maxDisputeGas: DEFAULT_MAX_DISPUTE_GAS,
        registrable: disputeGas <= DEFAULT_MAX_DISPUTE_GAS,
        collateralFloorWei: collateralFloorWei(disputeGas, DEFAULT_GAS_PRICE_WEI, DEFAULT_REWARD_BPS),
        chunks,
    };
}
