/**
 * The operator role: execute the requests assigned to this node and submit their results.
 *
 * `pending` → (assigned now, or the exclusive window is over) → executed with a concurrency bound → `computed`
 * (result stored) → submitted alone (`submitResult`) or in a batch of EIP-712-attested results
 * (`submitAttestedResults`, up to `batching.maxSize`, waiting at most `batching.maxWaitMs` for it to fill).
 *
 * Bad input never leaves a request stuck: the executor turns it into an INVALID_INPUT or MODEL_ERROR result,
 * which is submitted like any other. Only what the node cannot answer honestly (a model it could not load, an
 * inference timeout, a verification mode it does not support) is declined, which lets the consumer cancel and be
 * refunded after the deadline; and, with `operator.economics`, what would cost the node more than it pays
 * (./worth.ts), checked when the node would execute it. A declined request is done for this node (the store keeps
 * it `declined`, so a restart or a rescan does not take it up again): it is left to other operators or to its
 * consumer's cancellation.
 */
import { crashPoint } from "../internal/crashPoints";
import { describeError, shouldRetry } from "../internal/errors";
import { requestIdHex } from "../internal/logger";
import { decodeRevert, ZERO_BYTES32, type AttestedItem } from "../chain/coordinator";
import { applyRequestEvents, requestFromJson, requestToJson } from "../chain/requestEvents";
import { VerificationModeBigInt } from "../protocol/verificationMode";
import type { RevertError, TransactionReceipt } from "../chain/rpc";
import type { StoredRequest, StoredTx } from "../store/store";
import type { NodeContext, TxOutcomes } from "./context";
import { MAX_POSTPONES, POSTPONE_SECONDS, postponeOrGiveUp } from "./postpone";
import { sendGrouped } from "./sendGrouped";
import { carried, requestIdsWith } from "./txRequests";
import { createWorthCheck, type WorthAssessment } from "./worth";

/**
 * Executions admitted per inference slot. The executor runs `concurrency` at once and queues the rest; each one
 * that ends admits the next due request at once, so the slots stay busy between loop rounds while the queue stays
 * short (a request waiting in it is not getting closer to being served, only to its deadline).
 */
export const EXECUTIONS_QUEUED_PER_SLOT = 8;

/** Results considered for sending per pass, so one round stays short and the follower keeps up. */
export const MAX_SENDS_PER_ROUND = 256;
/** Passes over the results due per round: each sends what became due while the one before was sending. */
export const SEND_PASSES_PER_ROUND = 3;

export interface OperatorRole {
    /** Starts executions and sends submissions that are due. Never throws for one request's fault. */
    tick(): Promise<void>;
    /** Resolves when no execution is in flight. */
    drain(): Promise<void>;
    inflight(): number;
}

export function createOperatorRole(ctx: NodeContext): OperatorRole {
    const me = ctx.wallet.address.toLowerCase();
    const running = new Map<string, Promise<void>>();
    const { batching } = ctx.config;
    const worth = createWorthCheck(ctx.config, ctx.chain);

    /** The request names its exclusive window's holder, fixed when it was made. */
    function isAssigned(stored: StoredRequest): boolean {
        return String(requestFromJson(stored.request).assignedOperator).toLowerCase() === me;
    }

    /** Decides whether to execute now, later or never; returns true to execute now. */
    async function admit(stored: StoredRequest): Promise<boolean> {
        const request = requestFromJson(stored.request);
        const now = ctx.chainTime();
        if (now > Number(request.deadline)) {
            ctx.store.finish(stored.requestId, "expired", "deadline passed before execution");
            return false;
        }
        if (!ctx.servedModels.has(stored.modelId)) {
            if (ctx.modelMayLoad(stored.modelId)) {
                // A transient fetch failure is being retried: wait for it rather than decline.
                ctx.store.update(stored.requestId, "pending", { notBefore: now + POSTPONE_SECONDS });
            } else {
                decline(stored, "model not available on this node (see the model-loading error in the log)");
            }
            return false;
        }
        if (BigInt(request.mode) === VerificationModeBigInt.BISECTION) {
            decline(stored, "BISECTION models need execution traces, which this node does not produce yet");
            return false;
        }
        const exclusiveUntil = Number(request.exclusiveUntil);
        if (now < exclusiveUntil && !isAssigned(stored)) {
            // Another operator's exclusive window: come back when it ends, as a backup.
            ctx.store.update(stored.requestId, "pending", { notBefore: exclusiveUntil });
            return false;
        }
        if (worth !== undefined) {
            const assessment = await worth.assess({
                feeWei: BigInt(request.feeWei),
                protocolFeeWei: BigInt(request.protocolFeeWei),
                callbackGasLimit: BigInt(request.callbackGasLimit),
            });
            if (!assessment.worth) {
                declineUnprofitable(stored, assessment);
                return false;
            }
        }
        return true;
    }

    /** Declines a request that pays less than serving it costs (plus the margin), saying by how much. */
    function declineUnprofitable(stored: StoredRequest, a: WorthAssessment): void {
        ctx.store.finish(
            stored.requestId,
            "declined",
            `unprofitable: pays ${a.revenueWei} stake-token wei; serving costs ${a.costWei} (${a.gas} gas at ` +
                `${a.gasPriceWei} wei), and with the ${a.minMarginBps} bps margin needs ${a.requiredWei}`,
        );
        ctx.metrics.requestsFailed.inc({ model_id: stored.modelId, reason: "unprofitable" });
        ctx.logger.warn(
            {
                request_id: stored.requestId,
                model_id: stored.modelId,
                reason: "unprofitable",
                fee_wei: a.feeWei.toString(),
                protocol_fee_wei: a.protocolFeeWei.toString(),
                revenue_wei: a.revenueWei.toString(),
                cost_wei: a.costWei.toString(),
                required_wei: a.requiredWei.toString(),
                min_margin_bps: a.minMarginBps,
                gas: a.gas.toString(),
                callback_gas_limit: a.callbackGasLimit.toString(),
                gas_price_wei: a.gasPriceWei.toString(),
                cost_native_wei: a.costNativeWei.toString(),
            },
            "request declined: its fee does not cover what serving it costs",
        );
    }

    function decline(stored: StoredRequest, reason: string): void {
        ctx.store.finish(stored.requestId, "declined", reason);
        ctx.metrics.requestsFailed.inc({ model_id: stored.modelId, reason: "declined" });
        ctx.logger.warn({ request_id: stored.requestId, model_id: stored.modelId, reason }, "request declined");
    }

    async function execute(stored: StoredRequest): Promise<void> {
        try {
            const result = await ctx.executor.run(stored.modelId, stored.input);
            ctx.store.saveResult(stored.requestId, result);
            crashPoint("operator.result_saved");
            if (result.referenceMismatch !== undefined) {
                // A verifiable model on which onnxruntime (e.g. saturating int8 kernels) disagreed with the reference
                // semantics: the reference result is what was stored, and what the chain would decide.
                ctx.metrics.referenceMismatch.inc({ model_id: stored.modelId });
                ctx.logger.warn(
                    {
                        request_id: stored.requestId,
                        model_id: stored.modelId,
                        result_code: result.resultCode,
                        output_hash: result.outputHash,
                        onnxruntime_result_code: result.referenceMismatch.resultCode,
                        onnxruntime_output_hash: result.referenceMismatch.outputHash,
                    },
                    "onnxruntime disagrees with the reference interpreter; submitting the reference result",
                );
            }
            const log = {
                request_id: stored.requestId,
                model_id: stored.modelId,
                result_code: result.resultCode,
            };
            if (result.resultCode === 0) ctx.logger.info({ ...log, inference_ms: result.inferenceMs }, "executed");
            else
                ctx.logger.warn(
                    { ...log, reason: result.reason },
                    "input or model error; answering with an error code",
                );
        } catch (error) {
            if (ctx.signal.aborted) return; // shutting down: the request stays pending for the next start
            if (shouldRetry(error)) {
                // A crashed worker or exhausted resources: not the request's fault; try it again later.
                const attempts = ctx.store.postpone(
                    stored.requestId,
                    "pending",
                    ctx.chainTime() + POSTPONE_SECONDS,
                    describeError(error).message,
                );
                if (attempts <= MAX_POSTPONES) return;
            }
            decline(stored, describeError(error).message);
        }
    }

    async function startExecutions(): Promise<void> {
        const cap = ctx.config.inference.concurrency * EXECUTIONS_QUEUED_PER_SLOT;
        const room = cap - running.size;
        if (room <= 0) return;
        const due = ctx.store.requestsIn("pending", { readyAt: ctx.chainTime(), limit: room + running.size });
        for (const stored of due) {
            if (running.size >= cap) break;
            if (running.has(stored.requestId) || ctx.signal.aborted) continue;
            let admitted: boolean;
            try {
                admitted = await admit(stored);
            } catch (error) {
                // RPC trouble deciding assignment: try again next tick.
                ctx.logger.warn(
                    { request_id: stored.requestId, error: describeError(error) },
                    "admission check failed",
                );
                continue;
            }
            if (!admitted) continue;
            const job = execute(stored).finally(() => {
                running.delete(stored.requestId);
                // A result is ready to send: run a round now rather than at the next poll. And a place in the queue
                // is free: fill it now, not a round later (a round waits for the chain; on a slow endpoint, seconds).
                ctx.requestRound();
                void fillExecutions();
            });
            running.set(stored.requestId, job);
        }
    }

    let filling = false;
    let fillAgain = false;
    /** startExecutions, never two at once (they would admit the same request); a call meanwhile makes it go again. */
    async function fillExecutions(): Promise<void> {
        if (filling) {
            fillAgain = true;
            return;
        }
        filling = true;
        try {
            do {
                fillAgain = false;
                await startExecutions();
            } while (fillAgain && !ctx.signal.aborted);
        } catch (error) {
            ctx.logger.warn({ error: describeError(error) }, "starting executions failed; will retry");
        } finally {
            filling = false;
        }
    }

    function toItem(stored: StoredRequest): AttestedItem {
        if (stored.output === null || stored.resultCode === null) {
            throw new Error(`request ${requestIdHex(stored.requestId)} has no stored result`);
        }
        return {
            request: requestFromJson(stored.request),
            resultCode: stored.resultCode,
            output: stored.output,
            traceCommitment: ZERO_BYTES32,
        };
    }

    /** What a refused simulation means for one request. */
    function onRevert(stored: StoredRequest, revert: RevertError): void {
        const decoded = decodeRevert(revert.data);
        const request = requestFromJson(stored.request);
        const log = { request_id: stored.requestId, error: decoded.name };
        if (decoded.name === "CoordinatorNotAssignedOperator" && ctx.chainTime() < Number(request.exclusiveUntil)) {
            ctx.store.update(stored.requestId, "computed", { notBefore: Number(request.exclusiveUntil) });
            ctx.logger.info(log, "not the assigned operator after all; waiting for the exclusive window to end");
            return;
        }
        if (decoded.name === "StakingNotRegistered") {
            // Unregistered, or evicted once its active stake fell below the model's collateral: retrying cannot
            // help until the operator acts, so the request is left to the other operators.
            decline(
                stored,
                `this operator is not registered for model ${stored.modelId} (it unregistered, or was evicted when ` +
                    `its stake fell below the model's collateral): stake, then \`verity operator register-model ` +
                    `${stored.modelId}\``,
            );
            return;
        }
        if (decoded.name === "CoordinatorDeadlinePassed") {
            ctx.store.finish(stored.requestId, "expired", "deadline passed before submission");
            ctx.metrics.requestsFailed.inc({ model_id: stored.modelId, reason: "expired" });
            return;
        }
        postponeOrGiveUp(ctx, stored, "computed", `submission would revert: ${decoded.name}`);
    }

    async function submitOne(stored: StoredRequest): Promise<void> {
        const data = ctx.coordinator.encodeSubmit(toItem(stored));
        const sent = await ctx.tx.send("submit", ctx.coordinator.address, data, [stored.requestId], "submitting");
        if (!sent.sent) onRevert(stored, sent.revert);
    }

    async function submitBatch(batch: StoredRequest[]): Promise<void> {
        const data = await ctx.coordinator.encodeSubmitBatch(batch.map(toItem), ctx.wallet, ctx.config.chain.chainId);
        const ids = batch.map((s) => s.requestId);
        const sent = await ctx.tx.send("submit_batch", ctx.coordinator.address, data, ids, "submitting");
        if (!sent.sent) {
            // One bad item reverts the whole batch: send these one by one, where each gets its own verdict.
            ctx.logger.warn(
                { request_ids: ids, error: decodeRevert(sent.revert.data).name },
                "batch would revert; submitting its items one by one",
            );
            ctx.store.transaction(() => {
                for (const id of ids) ctx.store.update(id, "computed", { batchable: false });
            });
        }
    }

    /** Sends the results that are due; returns how many it tried. */
    async function sendSubmissions(): Promise<number> {
        const computed = ctx.store.requestsIn("computed", { readyAt: ctx.chainTime(), limit: MAX_SENDS_PER_ROUND });
        return sendGrouped(ctx, computed, {
            what: "submission",
            one: submitOne,
            many: submitBatch,
            maxWaitMs: batching.maxWaitMs,
        });
    }

    return {
        async tick() {
            await fillExecutions();
            // Results computed while sends were under way go out in this round too, not a round later (a round
            // waits for the chain first); a few passes at most, so that a send that keeps failing cannot hold it.
            for (let pass = 0; pass < SEND_PASSES_PER_ROUND && !ctx.signal.aborted; pass++) {
                if ((await sendSubmissions()) === 0) break;
            }
        },
        async drain() {
            await Promise.allSettled([...running.values()]);
        },
        inflight: () => running.size,
    };
}

/** How the operator's submissions end (`submit`, `submit_batch`). */
export function operatorTxOutcomes(ctx: NodeContext): TxOutcomes {
    return {
        kinds: new Set(["submit", "submit_batch"]),
        mined(tx: StoredTx, receipt: TransactionReceipt): void {
            const submittedIds = requestIdsWith(ctx, receipt, "ResultSubmitted");
            for (const stored of carried(ctx, tx)) {
                const id = stored.requestId;
                if (receipt.status === 1 && submittedIds.has(id)) {
                    const request = applyRequestEvents(requestFromJson(stored.request), receipt.logs);
                    ctx.store.update(id, "submitted", {
                        request: requestToJson(request),
                        notBefore: Number(request.challengeEndsAt),
                        txId: null,
                    });
                    ctx.metrics.requestsServed.inc({
                        model_id: stored.modelId,
                        result_code: String(stored.resultCode),
                    });
                    ctx.metrics.requestEndToEndSeconds.observe(
                        { model_id: stored.modelId },
                        (Date.now() - stored.seenAtMs) / 1000,
                    );
                } else if (receipt.status === 0 && tx.kind === "submit_batch") {
                    ctx.store.update(id, "computed", { batchable: false, txId: null });
                } else {
                    // Reverted on chain, or skipped by the batch: the chain moved between simulation and inclusion.
                    const why = receipt.status === 0 ? "submission reverted on chain" : "skipped by the batch";
                    postponeOrGiveUp(ctx, stored, "computed", why);
                }
            }
        },
        // A batch's requests go one by one; a single submission is declined (the consumer cancels and is refunded).
        refused(tx: StoredTx, reason: string): void {
            for (const stored of carried(ctx, tx)) {
                if (tx.kind === "submit_batch") {
                    ctx.store.update(stored.requestId, "computed", { batchable: false, txId: null });
                } else {
                    ctx.store.finish(stored.requestId, "declined", reason);
                    ctx.metrics.requestsFailed.inc({ model_id: stored.modelId, reason: "declined" });
                }
            }
        },
        // Not mined: its requests are computed again, to be sent anew.
        dropped(tx: StoredTx): void {
            for (const stored of carried(ctx, tx, { openOnly: false })) {
                if (stored.state === "submitting") ctx.store.update(stored.requestId, "computed", { txId: null });
            }
        },
    };
}
