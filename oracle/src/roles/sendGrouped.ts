/**
 * How both roles send what is due: requests that may not be batched (batching off, or a batch holding them
 * reverted) one by one, the rest in groups of `batching.maxSize` (a group of one goes alone). Up to
 * SEND_CONCURRENCY sends are under way at once (the transaction sender serializes only their nonces), so a slow
 * RPC endpoint's round trips overlap; one at a time on a chain that mines on arrival (NodeContext.sendConcurrency). Each send fails on its own: a fault is logged and the request stays due for
 * the next round.
 */
import { forEachConcurrently } from "../internal/concurrently";
import { describeError } from "../internal/errors";
import type { StoredRequest } from "../store/store";
import type { NodeContext } from "./context";

export interface GroupedSend {
    /** Names the action in log lines ("submission", "finalize"). */
    what: string;
    one(stored: StoredRequest): Promise<void>;
    many(batch: StoredRequest[]): Promise<void>;
    /** A partial group waits until its oldest member is this old (ms) before it is sent; 0: send at once. */
    maxWaitMs: number;
}

/** Sends (single or batch transactions) under way at once, unless the context says otherwise. */
export const SEND_CONCURRENCY = 32;

/** Sends what is due; returns how many requests it tried to send (a partial group left waiting is not counted). */
export async function sendGrouped(ctx: NodeContext, due: StoredRequest[], send: GroupedSend): Promise<number> {
    const { batching } = ctx.config;
    const singles = due.filter((s) => !batching.enabled || !s.batchable);
    const batchable = batching.enabled ? due.filter((s) => s.batchable) : [];
    const groups: StoredRequest[][] = singles.map((stored) => [stored]);
    while (batchable.length > 0) {
        const oldest = batchable[0];
        const full = batchable.length >= batching.maxSize;
        if (!full && oldest !== undefined && Date.now() - oldest.updatedAtMs < send.maxWaitMs) break;
        groups.push(batchable.splice(0, batching.maxSize));
    }
    let tried = 0;
    await forEachConcurrently(groups, ctx.sendConcurrency ?? SEND_CONCURRENCY, async (group) => {
        if (ctx.signal.aborted) return;
        const [first] = group;
        tried += group.length;
        try {
            if (group.length === 1 && first !== undefined) await send.one(first);
            else await send.many(group);
        } catch (error) {
            if (group.length === 1 && first !== undefined) {
                ctx.logger.warn(
                    { request_id: first.requestId, error: describeError(error) },
                    `${send.what} failed; will retry`,
                );
            } else ctx.logger.warn({ error: describeError(error) }, `${send.what} batch failed; will retry`);
        }
    });
    return tried;
}
