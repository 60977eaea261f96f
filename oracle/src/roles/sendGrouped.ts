/**
 * How both roles send what is due: requests that may not be batched (batching off, or a batch holding them
 * reverted) one by one, the rest in groups of `batching.maxSize` (a group of one goes alone). Each send fails on
 * its own: a fault is logged and the request stays due for the next round.
 */
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

export async function sendGrouped(ctx: NodeContext, due: StoredRequest[], send: GroupedSend): Promise<void> {
    const { batching } = ctx.config;
    const singles = due.filter((s) => !batching.enabled || !s.batchable);
    const batchable = batching.enabled ? due.filter((s) => s.batchable) : [];
    for (const stored of singles) {
        if (ctx.signal.aborted) return;
        try {
            await send.one(stored);
        } catch (error) {
            ctx.logger.warn(
                { request_id: stored.requestId, error: describeError(error) },
                `${send.what} failed; will retry`,
            );
        }
    }
    while (batchable.length > 0 && !ctx.signal.aborted) {
        const oldest = batchable[0];
        const full = batchable.length >= batching.maxSize;
        if (!full && oldest !== undefined && Date.now() - oldest.updatedAtMs < send.maxWaitMs) return;
        const batch = batchable.splice(0, batching.maxSize);
        try {
            if (batch.length === 1 && batch[0] !== undefined) await send.one(batch[0]);
            else await send.many(batch);
        } catch (error) {
            ctx.logger.warn({ error: describeError(error) }, `${send.what} batch failed; will retry`);
        }
    }
}
