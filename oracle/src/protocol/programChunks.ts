/**
 * How the ProgramStore contract keeps a compiled program: as data contracts of at most PROGRAM_CHUNK_BYTES each
 * (contracts/verify/ProgramStore.sol). The chain layer stores programs this way; the verification layer counts
 * the chunks a dispute loads.
 */

/** Data bytes of a full chunk: EIP-170's 24,576-byte code limit less the STOP prefix. */
export const PROGRAM_CHUNK_BYTES = 24_575;

/** Number of chunks `programBytes` bytes take. */
export function programChunkCount(programBytes: number): number {
    return Math.max(1, Math.ceil(programBytes / PROGRAM_CHUNK_BYTES));
}
