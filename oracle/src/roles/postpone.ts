/**
 * What the node does when the chain disagrees with its view of a request (a simulation reverts, a batch skips an
 * item, a transaction reverts on chain). The node's view can simply be behind: a challenge or another operator's
 * submission it has not seen confirmed yet, collateral still locked by its own pending results. So such a request
 * is put off for a while, and confirmed events decide it meanwhile; only after MAX_POSTPONES disagreements does the
 * node give up on it (and a later event of ours can still reopen it).
 */
import type { RequestState, StoredRequest } from "../store/store";
import type { NodeContext } from "./context";

/** Chain seconds a disagreeing request waits before the node tries it again. */
export const POSTPONE_SECONDS = 30;
/** Disagreements after which the node stops trying (the deadline usually ends it before). */
export const MAX_POSTPONES = 5;

/** Puts `stored` back in `state` for POSTPONE_SECONDS, or finishes it as `reverted` after MAX_POSTPONES. */
export function postponeOrGiveUp(ctx: NodeContext, stored: StoredRequest, state: RequestState, why: string): void {
    const attempts = ctx.store.postpone(stored.requestId, state, ctx.chainTime() + POSTPONE_SECONDS, why);
    const log = { request_id: stored.requestId, model_id: stored.modelId, reason: why, attempts };
    if (attempts > MAX_POSTPONES) {
        ctx.store.finish(stored.requestId, "reverted", why);
        ctx.metrics.requestsFailed.inc({ model_id: stored.modelId, reason: "reverted" });
        ctx.logger.error(log, "the chain keeps refusing this request; giving up on it");
    } else {
        ctx.logger.warn(log, "the chain does not agree with our view of this request yet; trying again later");
    }
}
