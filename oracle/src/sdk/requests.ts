/**
 * A request's life read from the chain: its events in order (coordinator and resolver), the struct the
 * coordinator currently commits to, and the settled outcome. How the events are read (the state, and which
 * output the consumer received) is ../chain/requestOutcome.ts, shared with the CLI.
 */
import { getAddress, getBytes, keccak256, toBeHex, zeroPadValue, type Log } from "ethers";
import { applyRequestEvents, type Request } from "../chain/requestEvents";
import {
    announcedEvent,
    deliveredResult,
    lastEvent,
    parseRequestLogs as parseLogs,
    stateOf,
    type RequestEvent,
    type RequestState,
    type SettledStatus,
} from "../chain/requestOutcome";
import { ResultCode } from "../protocol/resultCodes";
import { decodeTensors, type Tensor } from "../protocol/tensorCodec";
import { resolverOf, type SdkContext } from "./context";
import { VerificationMode } from "../protocol/verificationMode";
import { VeritySdkError, wrapReverts } from "./errors";
import { getLogsInChunks } from "../chain/logs";

export { stateOf, type RequestEvent, type RequestState, type SettledStatus };

/** How a request ended. */
export interface SettledResult {
    requestId: bigint;
    modelId: string;
    consumer: string;
    status: SettledStatus;
    /** The delivered result code (255 = VOIDED); null when cancelled. */
    resultCode: number | null;
    /** The delivered output bytes; null when cancelled or voided, or when they could not be recovered. */
    output: Uint8Array | null;
    outputHash: string | null;
    /** `output` decoded, for result code OK; null otherwise (or when the bytes are not a canonical list). */
    tensors: Tensor[] | null;
    /** Why `output` is null although a result was delivered. */
    outputNote?: string;
    /** The operator whose result was finalized; for disputed results, the operator that was disputed. */
    operator: string | null;
    /** Whether the consumer's callback succeeded (null when cancelled; an EOA consumer always "fails"). */
    callbackSucceeded: boolean | null;
    /** Fee refunded to the consumer (cancelled, corrected, voided), else 0. */
    refundWei: bigint;
    transactions: { requested: string; submitted?: string; challenged?: string; settled: string };
    history: RequestEvent[];
}

export function requestIdTopic(requestId: bigint): string {
    return zeroPadValue(toBeHex(requestId), 32);
}

/** Raw logs of a request (coordinator and resolvers) in [fromBlock, toBlock], chunked. */
async function requestLogs(ctx: SdkContext, requestId: bigint, fromBlock: number, toBlock: number): Promise<Log[]> {
    const addresses = new Set([ctx.coordinatorAddress]);
    for (const mode of Object.values(VerificationMode)) {
        const resolver = await resolverOf(ctx, mode);
        if (resolver !== null) addresses.add(getAddress(resolver));
    }
    const query = { address: [...addresses], topics: [null, requestIdTopic(requestId)] };
    return getLogsInChunks(ctx.provider, query, fromBlock, toBlock, ctx.logChunkBlocks);
}

/** Parses the logs this SDK knows (coordinator events; ResultReexecuted from resolvers). */
export function parseRequestLogs(ctx: SdkContext, logs: readonly Log[]): RequestEvent[] {
    return parseLogs(ctx.coordinatorAddress, logs);
}

/** A request's logs and events from `fromBlock` (default: where this client saw it, else 0) to `toBlock`. */
export async function fetchRequest(
    ctx: SdkContext,
    requestId: bigint,
    opts: { fromBlock?: number; toBlock?: number } = {},
): Promise<{ logs: Log[]; events: RequestEvent[] }> {
    const fromBlock = opts.fromBlock ?? ctx.requestBlocks.get(requestId) ?? 0;
    const toBlock = opts.toBlock ?? (await ctx.provider.getBlockNumber());
    const logs = await requestLogs(ctx, requestId, fromBlock, toBlock);
    return { logs, events: parseRequestLogs(ctx, logs) };
}

export function unknownRequest(requestId: bigint, fromBlock: number): VeritySdkError {
    return new VeritySdkError(
        "UNKNOWN_REQUEST",
        `unknown request ${toBeHex(requestId, 32)}: no InferenceRequested event from block ${fromBlock} ` +
            "(check the coordinator address, or pass fromBlock)",
    );
}

/** The struct the coordinator commits to now (what cancel/finalize/challenge take back), and the state. */
export function currentRequest(
    requestId: bigint,
    logs: readonly Log[],
    events: readonly RequestEvent[],
    fromBlock: number,
): { request: Request; input: Uint8Array; state: RequestState } {
    const first = announcedEvent(events);
    if (first === undefined) throw unknownRequest(requestId, fromBlock);
    const request = applyRequestEvents(first.args.request as Request, logs);
    return { request, input: getBytes(first.args.input as string), state: stateOf(events) };
}

function decodeOk(resultCode: number, output: Uint8Array | null): Tensor[] | null {
    if (resultCode !== ResultCode.OK || output === null) return null;
    try {
        return decodeTensors(output);
    } catch {
        return null;
    }
}

/** The settled outcome, or null while the request is live. */
export async function settledResult(
    ctx: SdkContext,
    requestId: bigint,
    logs: readonly Log[],
    events: RequestEvent[],
    fromBlock: number,
): Promise<SettledResult | null> {
    const { request, state } = currentRequest(requestId, logs, events, fromBlock);
    if (state === "requested" || state === "submitted" || state === "disputed") return null;
    const requested = announcedEvent(events) as RequestEvent;
    const submitted = lastEvent(events, "ResultSubmitted");
    const challenged = lastEvent(events, "ResultChallenged");
    const base = {
        requestId,
        modelId: String(request.modelId),
        consumer: String(request.consumer),
        status: state,
        history: events,
    };
    const txs = (settled: RequestEvent) => ({
        requested: requested.transactionHash,
        ...(submitted !== undefined ? { submitted: submitted.transactionHash } : {}),
        ...(challenged !== undefined ? { challenged: challenged.transactionHash } : {}),
        settled: settled.transactionHash,
    });
    const delivered = await deliveredResult(events, { runner: ctx.provider, call: wrapReverts });
    if (delivered === null) {
        const cancelled = lastEvent(events, "RequestCancelled") as RequestEvent;
        return {
            ...base,
            resultCode: null,
            output: null,
            outputHash: null,
            tensors: null,
            operator: null,
            callbackSucceeded: null,
            refundWei: cancelled.args.refundWei as bigint,
            transactions: txs(cancelled),
        };
    }
    const { resultCode, output, outputNote } = delivered;
    return {
        ...base,
        resultCode,
        output,
        outputHash: output === null ? null : keccak256(output),
        tensors: decodeOk(resultCode, output),
        ...(outputNote !== undefined ? { outputNote } : {}),
        operator: submitted !== undefined ? (submitted.args.operator as string) : null,
        callbackSucceeded: delivered.settled.args.callbackSucceeded as boolean,
        refundWei: delivered.status === "finalized" ? 0n : BigInt(request.feeWei),
        transactions: txs(delivered.settled),
    };
}
