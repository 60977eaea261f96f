/**
 * eth_getLogs over a long block range, as the CLI and the SDK read a request's or a model's history: one call per
 * chunk of blocks, because providers cap the range (often 2,000 to 10,000 blocks) or the number of results. When a
 * provider refuses a chunk in its own words for "too large" (RANGE_REFUSAL), the chunk is halved and retried, down
 * to a single block; any other error is the caller's, rate limiting included (halving would not help it). The node's follower applies the same rule to its scan.
 */
import type { Filter, Log, Provider } from "ethers";
import { describeError } from "../internal/errors";

/** How providers say an eth_getLogs range or result set is too large. */
export const RANGE_REFUSAL = /range|too many|too large|limit|exceed|more than \d+ (results|logs|blocks)|response size/i;

/** Rate limiting, which a smaller range does not cure (and which RANGE_REFUSAL's words would match). */
const RATE_LIMITED = /\b429\b|rate.?limit/i;

/**
 * How an endpoint says a range starts past its head: anvil's "BlockOutOfRangeError: block height is 67 but requested
 * was 70", geth's and reth's "block range extends beyond current head block". The endpoint is behind the head read a
 * moment before (a load balancer's other backend, or a chain that got shorter in between), not refusing a large
 * range: a smaller range does not cure it (RANGE_REFUSAL's words match it), waiting does.
 */
export const PAST_HEAD = /BlockOutOfRange|block height is \d+ but requested was|beyond (the )?current head/i;

/**
 * Everything an error says: ethers wraps a JSON-RPC error (`shortMessage` "could not coalesce error") and keeps the
 * provider's own words in `error.error.message` or `info.error.message`.
 */
function errorText(error: unknown): string {
    const e = error as { message?: unknown; error?: { message?: unknown }; info?: { error?: { message?: unknown } } };
    return [describeError(error).message, e?.message, e?.error?.message, e?.info?.error?.message]
        .filter((m): m is string => typeof m === "string")
        .join(" | ");
}

/** Whether the provider refused an eth_getLogs call for its range or result count (not for its rate). */
export function isRangeRefusal(error: unknown): boolean {
    const text = errorText(error);
    return RANGE_REFUSAL.test(text) && !RATE_LIMITED.test(text) && !PAST_HEAD.test(text);
}

/** Blocks per eth_getLogs call unless the caller says otherwise. */
export const DEFAULT_LOG_CHUNK_BLOCKS = 10_000;

/** A log filter without its block range (the range is what this module chooses). */
export type LogQuery = Omit<Filter, "fromBlock" | "toBlock">;

/**
 * Every log matching `query` in [fromBlock, toBlock] (default: the latest block), in chain order. `chunkBlocks` is
 * the first chunk size; refusals halve it for the rest of the call.
 */
export async function getLogsInChunks(
    provider: Provider,
    query: LogQuery,
    fromBlock: number,
    toBlock?: number,
    chunkBlocks = DEFAULT_LOG_CHUNK_BLOCKS,
): Promise<Log[]> {
    if (!Number.isInteger(chunkBlocks) || chunkBlocks < 1) {
        throw new RangeError(`chunkBlocks must be a positive integer, not ${chunkBlocks}`);
    }
    const last = toBlock ?? (await provider.getBlockNumber());
    const logs: Log[] = [];
    let range = chunkBlocks;
    for (let from = fromBlock; from <= last;) {
        const to = Math.min(last, from + range - 1);
        try {
            logs.push(...(await provider.getLogs({ ...query, fromBlock: from, toBlock: to })));
        } catch (error) {
            if (range > 1 && isRangeRefusal(error)) {
                range = Math.max(1, Math.floor(range / 2));
                continue;
            }
            throw error;
        }
        from = to + 1;
    }
    return logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
}
