/**
 * Turns confirmed coordinator events into request state in the store. Runs inside the follower's store
 * transaction, so it is synchronous and does no I/O.
 *
 * - InferenceRequested for a model this node follows: a new `pending` request.
 * - ResultSubmitted: ours → `submitted` (idempotent with the receipt path); someone else's → done/served_by_other.
 * - ResultChallenged / ChallengeWindowRestarted: `disputed` / back to `submitted` with the new window.
 * - ResultFinalized, RequestCancelled, DisputeResolved (operator at fault), DisputeExpired: done.
 */
import type { Logger } from "../internal/logger";
import type { NodeMetrics } from "../internal/metrics";
import type { RpcLog } from "../chain/rpc";
import { getBytes } from "ethers";
import {
    applyRequestEvents,
    parseCoordinatorLog,
    requestFromJson,
    requestFromResult,
    requestToJson,
    type Request,
} from "../chain/requestEvents";
import type { Store, StoredRequest } from "../store/store";
import type { IInferenceCoordinator } from "../../../typechain-types/contracts/InferenceCoordinator";

export interface TrackerDeps {
    store: Store;
    /** Our operator address (lowercase). */
    operator: string;
    /** Model ids this node follows (lowercase). */
    models: ReadonlySet<string>;
    metrics?: NodeMetrics;
    logger?: Logger;
}

export function createTracker(deps: TrackerDeps): (logs: RpcLog[]) => void {
    const { store, operator } = deps;

    const advance = (stored: StoredRequest, log: RpcLog): Request =>
        applyRequestEvents(requestFromJson(stored.request), [log]);

    return (logs) => {
        for (const log of logs) {
            const parsed = parseCoordinatorLog(log);
            if (parsed === null) continue;
            const requestId = (parsed.args[0] as bigint).toString();
            if (parsed.name === "InferenceRequested") {
                const request = requestFromResult(parsed.args.request as IInferenceCoordinator.RequestStructOutput);
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
                            String(parsed.args.outputHash),
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
                    store.finish(requestId, "voided");
                    break;
                default:
                    break;
            }
        }
    };
}
