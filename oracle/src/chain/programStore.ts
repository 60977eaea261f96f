/**
 * Storing a compiled program in the ProgramStore (contracts/verify/ProgramStore.sol): written as data contracts
 * of `PROGRAM_CHUNK_BYTES` each (the store takes only that canonical split: full chunks, then one non-empty last
 * one), then registered under its keccak256. One implementation for the CLI, the demo, the tests and the
 * benchmarks.
 */
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { keccak256 } from "../internal/keccak";
import { PermanentError } from "../internal/errors";
import type { ProgramStore } from "../../../typechain-types";
import { PROGRAM_CHUNK_BYTES, programChunkCount } from "../protocol/programChunks";

export { PROGRAM_CHUNK_BYTES, programChunkCount } from "../protocol/programChunks";

export interface StoreProgramOptions {
    /** Sends one transaction and waits for its receipt (default: send, then wait). `what` describes it. */
    send?: (what: string, tx: () => Promise<ContractTransactionResponse>) => Promise<TransactionReceipt | null>;
    /** Called before each chunk is written (index from 0). */
    onChunk?: (index: number, count: number) => void;
}

/** Writes `program` into `store` chunk by chunk and registers it; returns its hash and the chunk count. */
export async function storeProgram(
    store: ProgramStore,
    program: Uint8Array,
    opts: StoreProgramOptions = {},
): Promise<{ programHash: string; chunks: number }> {
    const send = opts.send ?? (async (_what, tx) => (await tx()).wait());
    const count = programChunkCount(program.length);
    const pointers: string[] = [];
    for (let i = 0; i < count; i++) {
        opts.onChunk?.(i, count);
        const chunk = program.slice(i * PROGRAM_CHUNK_BYTES, (i + 1) * PROGRAM_CHUNK_BYTES);
        const receipt = await send("storing a program chunk", () => store.writeChunk(chunk));
        const written = receipt?.logs
            .map((log) => store.interface.parseLog(log))
            .find((event) => event?.name === "ProgramChunkWritten");
        if (!written) {
            throw new PermanentError(
                "PROGRAM_STORE",
                "the ProgramStore emitted no ProgramChunkWritten: is the store address right?",
            );
        }
        pointers.push(String(written.args[0]));
    }
    await send("registering the program", () => store.register(pointers));
    return { programHash: keccak256(program), chunks: count };
}
