/**
 * The finalizer role: once the challenge window of one of our results has passed (by the time the next block can
 * carry at the earliest: `nextBlockTime`, checked by simulating the finalization),
 * settle it (`finalize`, or `finalizeBatch` when batching is on). Settlement pays the operator and runs the
 * consumer's callback; anyone may call it, the operator has the incentive.
 */
import { describeError } from "../internal/errors";
import { requestIdHex } from "../internal/logger";
import { decodeRevert } from "../chain/coordinator";
import { requestFromJson } from "../chain/requestEvents";
import type { TransactionReceipt } from "../chain/rpc";
import type { StoredRequest, StoredTx } from "../store/store";
import type { NodeContext, TxOutcomes } from "./context";
import { postponeOrGiveUp } from "./postpone";
import { sendGrouped } from "./sendGrouped";
import { MAX_SENDS_PER_ROUND } from "./operator";
import { carried, requestIdsWith } from "./txRequests";

export interface FinalizerRole {
    tick(): Promise<void>;
}

export function createFinalizerRole(ctx: NodeContext): FinalizerRole {
    function settlement(stored: StoredRequest): { request: ReturnType<typeof requestFromJson>; output: Uint8Array } {
        if (stored.output === null) throw new Error(`request ${requestIdHex(stored.requestId)} has no stored output`);
        return { request: requestFromJson(stored.request), output: stored.output };
    }

    async function finalizeOne(stored: StoredRequest): Promise<void> {
        const { request, output } = settlement(stored);
        const data = ctx.coordinator.encodeFinalize(request, output);
        const sent = await ctx.tx.send("finalize", ctx.coordinator.address, data, [stored.requestId], "finalizing");
        if (sent.sent) return;
        const decoded = decodeRevert(sent.revert.data);
        if (decoded.name === "CoordinatorChallengeWindowOpen") {
            // Our clock ran ahead of the next block's: try again a little later.
            ctx.store.update(stored.requestId, "submitted", { notBefore: ctx.nextBlockTime() + 1 });
            return;
        }
        // The commitment changed under us (challenged, finalized by someone else, reorged): confirmed events
        // will say what happened; until then, try again later.
        postponeOrGiveUp(ctx, stored, "submitted", `finalize would revert: ${decoded.name}`);
    }

    async function finalizeBatch(batch: StoredRequest[]): Promise<void> {
        const ids = batch.map((s) => s.requestId);
        const data = ctx.coordinator.encodeFinalizeBatch(batch.map(settlement));
        const sent = await ctx.tx.send("finalize_batch", ctx.coordinator.address, data, ids, "finalizing");
        if (sent.sent) return;
        ctx.logger.warn(
            { request_ids: ids, error: decodeRevert(sent.revert.data).name },
            "finalize batch would revert; finalizing its items one by one",
        );
        ctx.store.transaction(() => {
            for (const id of ids) ctx.store.update(id, "submitted", { batchable: false });
        });
    }

    /**
     * A dispute of one of our results that its resolver never decided: once `disputeTimeoutSeconds` have passed,
     * expire it (no slash; our collateral unlocks, challenger and consumer are refunded). Otherwise the collateral
     * stays locked until someone else bothers.
     */
    async function expireStaleDisputes(): Promise<void> {
        const due = ctx.store.requestsIn("disputed", { readyAt: ctx.nextBlockTime(), limit: MAX_SENDS_PER_ROUND });
        for (const stored of due) {
            if (ctx.signal.aborted) return;
            if (stored.txId !== null) continue; // our expireDispute is in flight
            try {
                const request = requestFromJson(stored.request);
                const expiresAt = await ctx.coordinator.disputeExpiresAt(BigInt(request.requestId));
                if (expiresAt === null) continue; // resolved meanwhile: the follower will say how
                if (ctx.nextBlockTime() < expiresAt) {
                    ctx.store.update(stored.requestId, "disputed", { notBefore: expiresAt });
                    continue;
                }
                const data = ctx.coordinator.encodeExpireDispute(request);
                const sent = await ctx.tx.send(
                    "expire_dispute",
                    ctx.coordinator.address,
                    data,
                    [stored.requestId],
                    "disputed",
                );
                if (!sent.sent) {
                    postponeOrGiveUp(
                        ctx,
                        stored,
                        "disputed",
                        `expireDispute would revert: ${decodeRevert(sent.revert.data).name}`,
                    );
                } else {
                    ctx.logger.warn({ request_id: stored.requestId }, "expiring a dispute its resolver never decided");
                }
            } catch (error) {
                ctx.logger.warn(
                    { request_id: stored.requestId, error: describeError(error) },
                    "expire check failed; will retry",
                );
            }
        }
    }

    return {
        async tick() {
            await expireStaleDisputes();
            // A request without its output (lost in a resync, before our ResultSubmitted was seen again) cannot be
            // finalized yet; the tracker restores the output from that event.
            const due = ctx.store
                .requestsIn("submitted", { readyAt: ctx.nextBlockTime(), limit: MAX_SENDS_PER_ROUND })
                .filter((s) => s.output !== null);
            // Finalizations do not wait for a batch to fill: everything due has waited its window already.
            await sendGrouped(ctx, due, { what: "finalize", one: finalizeOne, many: finalizeBatch, maxWaitMs: 0 });
        },
    };
}

/** How the finalizer's transactions end (`finalize`, `finalize_batch`, `expire_dispute`). */
export function finalizerTxOutcomes(ctx: NodeContext): TxOutcomes {
    return {
        kinds: new Set(["finalize", "finalize_batch", "expire_dispute"]),
        mined(tx: StoredTx, receipt: TransactionReceipt): void {
            const finalizedIds = requestIdsWith(ctx, receipt, "ResultFinalized");
            for (const stored of carried(ctx, tx)) {
                const id = stored.requestId;
                if (tx.kind === "expire_dispute") {
                    if (receipt.status === 1) ctx.store.finish(id, "voided", "dispute expired undecided");
                    else postponeOrGiveUp(ctx, stored, "disputed", "expireDispute reverted on chain");
                } else if (receipt.status === 1 && finalizedIds.has(id)) {
                    ctx.store.finish(id, "finalized");
                    ctx.metrics.requestsFinalized.inc({ model_id: stored.modelId });
                } else if (receipt.status === 0 && tx.kind === "finalize_batch") {
                    ctx.store.update(id, "submitted", { batchable: false, txId: null });
                } else {
                    // Challenged or finalized by someone else in between: confirmed events will say which.
                    const why = receipt.status === 0 ? "finalize reverted on chain" : "skipped by the finalize batch";
                    postponeOrGiveUp(ctx, stored, "submitted", why);
                }
            }
        },
        // A batch's requests go one by one; a single finalization is retried later.
        refused(tx: StoredTx, reason: string): void {
            for (const stored of carried(ctx, tx)) {
                if (tx.kind === "finalize_batch") {
                    ctx.store.update(stored.requestId, "submitted", { batchable: false, txId: null });
                } else postponeOrGiveUp(ctx, stored, "submitted", reason);
            }
        },
        // Not mined: its requests are submitted again, to be finalized anew.
        dropped(tx: StoredTx): void {
            for (const stored of carried(ctx, tx, { openOnly: false })) {
                if (stored.state === "finalizing") ctx.store.update(stored.requestId, "submitted", { txId: null });
            }
        },
    };
}
