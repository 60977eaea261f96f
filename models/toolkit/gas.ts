/**
 * Estimated gas of one on-chain re-execution of a compiled model (a dispute or fraud proof pays it), from the
 * program's op counts and sizes. The per-unit costs are fitted to IntegerExecutor measurements
 * (bench/results/verify.json, `npm run bench:verify`); test/models/gas.spec.ts holds the estimate to within 15%
 * of the measured gas on models of every size. An estimate, not a bound: it leaves out the transaction's own
 * costs (21,000 base, calldata of the input) and the consumer callback a dispute delivers.
 */
import type { CompiledProgram } from "../../oracle/src/verify/program";
import { numel } from "../../oracle/src/verify/reference";

/** Gas limit of the block the estimate is compared with (Ethereum mainnet's 30M). */
export const BLOCK_GAS_LIMIT = 30_000_000;
/** Largest data chunk of a ProgramStore pointer contract (EIP-170's 24,576 bytes less the STOP prefix). */
export const CHUNK_BYTES = 24_575;

/** Fitted per-unit costs (see the file comment). */
export const GAS_COSTS = {
    /** One int8/uint8 multiply-accumulate of MatMulInteger. */
    perMac: 34,
    /** Per MatMulInteger output element (column setup, zero-point correction, store). */
    perMatMulOutput: 120,
    /** Per element of an elementwise op's output, and per element of a Gather/ArgMax/Cast/Relu/Clip. */
    perElement: 110,
    /** Per op (header decode, allocation). */
    perOp: 1_500,
    /** Per input or output element (decode, range check, encode). */
    perIoElement: 60,
    /** Per constant element decoded. */
    perConstElement: 60,
    /** Fixed: call overhead, header, registry lookup. */
    base: 30_000,
    /** Loading the program: per chunk (cold account access, EXTCODECOPY setup). */
    perChunk: 3_000,
    /** Loading the program: per 32-byte word (copy, keccak256, and memory). */
    perProgramWord: 12,
} as const;

export interface GasEstimate {
    /** Executing the program (IntegerExecutor.execute). */
    readonly execute: number;
    /** Loading and re-hashing the program from ProgramStore. */
    readonly load: number;
    /** execute + load + a memory-expansion term for the program and the tensors. */
    readonly total: number;
    /** ProgramStore chunks the program needs. */
    readonly chunks: number;
    readonly blockGasLimit: number;
    readonly fitsInBlock: boolean;
}

/** The estimated gas of one re-execution of `compiled`. */
export function estimateReexecution(compiled: CompiledProgram): GasEstimate {
    const c = GAS_COSTS;
    const { analysis, program } = compiled;
    let execute = c.base;
    let memoryWords = 0;
    for (const node of analysis.nodes) {
        const out = numel(node.output.shape);
        execute += c.perOp;
        memoryWords += out;
        if (node.opType === "MatMulInteger") {
            execute += node.macs * c.perMac + out * c.perMatMulOutput;
        } else if (node.opType !== "Reshape" && node.opType !== "Flatten") {
            execute += out * c.perElement;
        }
    }
    const io = [...analysis.inputs, ...analysis.outputs].reduce((s, v) => s + numel(v.shape), 0);
    execute += io * c.perIoElement;
    const constants = new Set(analysis.nodes.flatMap((n) => n.inputs.filter((v) => v?.constant !== undefined)));
    for (const v of constants) execute += numel(v!.shape) * c.perConstElement;
    memoryWords += io;

    const chunks = Math.max(1, Math.ceil(program.length / CHUNK_BYTES));
    const programWords = Math.ceil(program.length / 32);
    const load = chunks * c.perChunk + programWords * c.perProgramWord;
    // EVM memory costs 3 gas a word plus words² / 512 once expanded: the program copy and every tensor stay.
    const words = programWords + memoryWords;
    const memory = 3 * words + Math.floor((words * words) / 512);
    const total = execute + load + memory;
    return {
        execute,
        load,
        total,
        chunks,
        blockGasLimit: BLOCK_GAS_LIMIT,
        fitsInBlock: total <= BLOCK_GAS_LIMIT,
    };
}
