/**
 * Turns confirmed coordinator events into request state in the store. Runs inside the follower's store
 * transaction, so it is synchronous and does no I/O.
 *
 * - InferenceRequested for a model this node follows: a new `pending` request.
 * - ResultSubmitted: ours → `submitted` (idempotent with the receipt path); someone else's → done/served_by_other.
 * - ResultChallenged / ChallengeWindowRestarted: `disputed` / back to `submitted` with the new window.
 * - ResultFinalized, RequestCancelled, DisputeResolved (operator at fault), DisputeExpired, ResultVoided (the
 *   last of MAX_DISPUTE_ROUNDS inconclusive disputes): done.
 *
 * With `watchResults` (the challenger role), it also keeps every result another operator submits for a followed
 * REEXECUTION model, with the request's input, in the `watched` table (state unchecked), and follows it to its end:
 * challenges (ours are counted as opened), window restarts, DisputeResolved (our outcome: won or lost),
 * finalization, expiry. Being written in the follower's transaction, a watched result survives restarts, and a
 * reorg that removes its submission marks it reorged (it resumes if the new chain has the same submission). A
 * window restarted after another challenger's rejected dispute is followed: the chain's resolver has just called
 * the result right, so a `wrong` verdict of ours (committed or not) is checked with the chain again (`suspect`), and a result we had
 * closed as `window_closed` or `reverted` is taken up again (`unchecked`) in the new window.
 */
import type { Logger } from "../internal/logger";
import type { NodeMetrics } from "../internal/metrics";
import type { RpcLog } from "../chain/rpc";
import { getBytes, type LogDescription } from "ethers";
import {
    applyRequestEvents,
    parseCoordinatorLog,
    requestFromJson,
    requestFromRequested,
    requestToJson,
    type Request,
} from "../chain/requestEvents";
import { VerificationModeBigInt } from "../protocol/verificationMode";
import type { Store, StoredRequest } from "../store/store";

export interface TrackerDeps {
    store: Store;
    /** Our operator address (lowercase). */
    operator: string;
    /** Model ids this node follows (lowercase). */
    models: ReadonlySet<string>;
    metrics?: NodeMetrics;
    logger?: Logger;
    /** Keep other operators' results of followed REEXECUTION models for the challenger. */
    watchResults?: boolean;
}

export function createTracker(deps: TrackerDeps): (logs: RpcLog[]) => void {
    const { store, operator } = deps;

    const advance = (stored: StoredRequest, log: RpcLog): Request =>
        applyRequestEvents(requestFromJson(stored.request), [log]);

    /** The challenger's view of one event (see the file comment). */
    function watch(parsed: LogDescription, log: RpcLog, requestId: string): void {
        if (parsed.name === "ResultSubmitted") {
            const by = String(parsed.args.operator).toLowerCase();
            if (by === operator) return; // never our own
            const stored = store.getRequest(requestId);
            if (stored === undefined) return; // another model's, or announced before our start block: no input
            const request = advance(stored, log);
            if (BigInt(request.mode) !== VerificationModeBigInt.REEXECUTION) return;
            const added = store.addWatched({
                requestId,
                modelId: stored.modelId,
                blockNumber: log.blockNumber,
                request: requestToJson(request),
                input: stored.input,
                operator: by,
                resultCode: Number(parsed.args.resultCode),
                outputHash: String(request.outputHash),
            });
            if (added) {
                deps.logger?.info(
                    { request_id: requestId, model_id: stored.modelId, operator: by, block: log.blockNumber },
                    "watching another operator's result",
                );
            }
            return;
        }
        const watched = store.getWatched(requestId);
        if (watched === undefined) return;
        const advanced = (): Record<string, string> =>
            requestToJson(applyRequestEvents(requestFromJson(watched.request), [log]));
        const labels = { model_id: watched.modelId };
        const fields = { request_id: requestId, model_id: watched.modelId, operator: watched.operator };
        if (parsed.name === "ChallengeWindowRestarted") {
            // Only a rejected dispute restarts the window, and ours ends at DisputeResolved (lost): this is another
            // challenger's. The resolver in place has just called the result right: no verdict of ours stands.
            const request = advanced();
            if (watched.state === "done") {
                if (store.reopenWatched(requestId, request)) {
                    deps.logger?.warn(
                        { ...fields, challenge_ends_at: request.challengeEndsAt, was: watched.outcome },
                        "another challenger's dispute was rejected and the window restarted: checking the result again",
                    );
                }
            } else if (watched.state === "wrong" || watched.state === "committed") {
                // A commitment of ours stays on chain (with its salt here), to be revealed if the chain confirms again.
                store.updateWatched(requestId, "suspect", {
                    request,
                    notBefore: 0,
                    txId: null,
                    bondWei: null,
                    reason: "another challenger's dispute was rejected; asking the chain again",
                });
                deps.logger?.warn(
                    { ...fields, challenge_ends_at: request.challengeEndsAt },
                    "another challenger's dispute of a result we found wrong was rejected: asking the chain again",
                );
            } else {
                store.updateWatched(requestId, watched.state, { request });
            }
            return;
        }
        if (watched.state === "done") return;
        switch (parsed.name) {
            case "ResultChallenged":
                store.updateWatched(requestId, watched.state, { request: advanced() });
                if (String(parsed.args.challenger).toLowerCase() === operator) deps.metrics?.disputesOpened.inc(labels);
                break;
            case "DisputeResolved": {
                const ours = String(parsed.args.challenger).toLowerCase() === operator;
                const atFault = parsed.args.operatorAtFault === true;
                if (ours && atFault) {
                    store.finishWatched(requestId, "won", `slashed ${String(parsed.args.slashedWei)} wei`);
                    deps.metrics?.disputesWon.inc(labels);
                    deps.logger?.info(
                        { ...fields, payout_wei: String(parsed.args.challengerPayoutWei) },
                        "dispute won: the operator was slashed",
                    );
                } else if (ours) {
                    store.finishWatched(requestId, "lost", "the chain's re-execution agreed with the operator");
                    deps.metrics?.disputesLost.inc(labels);
                    deps.logger?.error(fields, "dispute lost: the bond is gone");
                } else if (atFault) {
                    store.finishWatched(
                        requestId,
                        "slashed_by_other",
                        `challenged by ${String(parsed.args.challenger)}`,
                    );
                }
                // Another challenger lost: the window restarts (ChallengeWindowRestarted, above) and we check again.
                break;
            }
            case "ResultFinalized":
                store.finishWatched(requestId, "finalized");
                break;
            case "DisputeExpired":
            case "ResultVoided":
                store.finishWatched(requestId, "voided");
                break;
            default:
                break;
        }
    }

    return (logs) => {
        for (const log of logs) {
            const parsed = parseCoordinatorLog(log);
            if (parsed === null) continue;
            const requestId = (parsed.args[0] as bigint).toString();
            if (deps.watchResults === true) watch(parsed, log, requestId);
            if (parsed.name === "InferenceRequested") {
                const request = requestFromRequested(parsed);
                const modelId = String(request.modelId).toLowerCase();
                if (!deps.models.has(modelId)) continue;
                const added = store.addRequest({
                    requestId,
                    modelId,
                    blockNumber: log.blockNumber,
                    blockHash: log.blockHash,
                    request: requestToJson(request),
                    input: getBytes(parsed.args.input as string),
                    notBefore: 0,
                });
                if (added) {
                    deps.metrics?.requestsSeen.inc({ model_id: modelId });
                    deps.logger?.info(
                        { request_id: requestId, model_id: modelId, block: log.blockNumber },
                        "request seen",
                    );
                }
                continue;
            }
            let stored = store.getRequest(requestId);
            if (stored === undefined) continue;
            if (stored.state === "done") {
                // The node gave up on a request on its own inference ("reverted"), but the chain shows our result
                // live: reopen it, so that it is finalized after all.
                // A challenge or window restart concerns our result only if the stored struct says we submitted it.
                const storedOperator = String(requestFromJson(stored.request).operator).toLowerCase();
                const ours =
                    (parsed.name === "ResultSubmitted" && String(parsed.args.operator).toLowerCase() === operator) ||
                    ((parsed.name === "ResultChallenged" || parsed.name === "ChallengeWindowRestarted") &&
                        storedOperator === operator);
                if (stored.outcome !== "reverted" || !ours) continue;
                store.reopen(requestId, "submitted");
                stored = store.getRequest(requestId) ?? stored;
                deps.logger?.warn(
                    { request_id: requestId, event: parsed.name },
                    "reopening a request the chain shows live",
                );
            }
            switch (parsed.name) {
                case "ResultSubmitted": {
                    const by = String(parsed.args.operator).toLowerCase();
                    if (by !== operator) {
                        store.finish(requestId, "served_by_other", `submitted by ${by}`);
                    } else if (stored.state !== "finalizing") {
                        const request = advance(stored, log);
                        // After a resync the stored result may be gone; the event carries it whole.
                        const output = getBytes(parsed.args.output as string);
                        store.restoreOutput(
                            requestId,
                            Number(parsed.args.resultCode),
                            output,
                            String(request.outputHash),
                        );
                        if (stored.state !== "submitted" && stored.state !== "disputed") {
                            // First news of our submission (the receipt path may not have seen it yet).
                            deps.metrics?.requestsServed.inc({
                                model_id: stored.modelId,
                                result_code: String(Number(parsed.args.resultCode)),
                            });
                            deps.metrics?.requestEndToEndSeconds.observe(
                                { model_id: stored.modelId },
                                (Date.now() - stored.seenAtMs) / 1000,
                            );
                        }
                        store.update(requestId, "submitted", {
                            request: requestToJson(request),
                            notBefore: Number(request.challengeEndsAt),
                            txId: null,
                        });
                    }
                    break;
                }
                case "ResultChallenged":
                    store.update(requestId, "disputed", { request: requestToJson(advance(stored, log)), txId: null });
                    deps.logger?.warn({ request_id: requestId }, "our result is challenged");
                    break;
                case "ChallengeWindowRestarted": {
                    const request = advance(stored, log);
                    store.update(requestId, "submitted", {
                        request: requestToJson(request),
                        notBefore: Number(request.challengeEndsAt),
                    });
                    break;
                }
                case "ResultFinalized":
                    if (stored.state === "finalizing") {
                        store.finish(requestId, "finalized");
                        deps.metrics?.requestsFinalized.inc({ model_id: stored.modelId });
                    } else {
                        store.finish(requestId, "finalized_by_other");
                    }
                    break;
                case "RequestCancelled":
                    store.finish(requestId, "cancelled");
                    break;
                case "DisputeResolved":
                    if (parsed.args.operatorAtFault === true) store.finish(requestId, "slashed");
                    break;
                case "DisputeExpired":
                case "ResultVoided":
                    store.finish(requestId, "voided");
                    break;
                default:
                    break;
            }
        }
    };
}
