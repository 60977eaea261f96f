/**
 * A request's life read from the chain: its events in order (coordinator and resolver), the struct the
 * coordinator currently commits to, and the settled outcome.
 *
 * Where a settled output comes from:
 * - finalized: the bytes of the last ResultSubmitted (finalize checks them against the stored hash).
 * - corrected by dispute: no event carries the corrected bytes (ResultDelivered has the result code only;
 *   the REEXECUTION resolver's ResultReexecuted has the output hash). The SDK recomputes them with the
 *   resolver's `reexecute(modelId, input)` view, the very computation the dispute ran (its program is immutable,
 *   keyed by the model's programHash), and accepts them only if their keccak256 equals ResultReexecuted's
 *   outputHash and the code equals ResultDelivered's. Decoding the challenge transaction's trace would need
 *   debug_traceTransaction, which most RPC providers do not serve. Other modes' resolvers deliver through
 *   `resolveDispute` called from their own contract, so the bytes are only in an internal call: `output` is null
 *   there, with `outputNote` saying why.
 */
import { getAddress, getBytes, keccak256, toBeHex, zeroPadValue, type Log, type LogDescription } from "ethers";
import { IReexecutionResolver__factory } from "../../../typechain-types";
import { applyRequestEvents, parseCoordinatorLog, requestFromRequested, type Request } from "../chain/requestEvents";
import { ResultCode } from "../models/resultCodes";
import { decodeTensors, type Tensor } from "../models/tensorCodec";
import { reexecutionResolverAt, resolverOf, VerificationMode, type SdkContext } from "./context";
import { VeritySdkError, wrapReverts } from "./errors";
import { getLogsInChunks } from "../chain/logs";

const resolverInterface = IReexecutionResolver__factory.createInterface();

/** One event of a request's history. */
export interface RequestEvent {
    /** Event name, e.g. "ResultSubmitted" or (from the REEXECUTION resolver) "ResultReexecuted". */
    name: string;
    source: "coordinator" | "resolver";
    /** The event's arguments by name; InferenceRequested's `request` is a plain Request. */
    args: Record<string, unknown>;
    address: string;
    blockNumber: number;
    transactionHash: string;
    logIndex: number;
}

export type SettledStatus = "finalized" | "corrected by dispute" | "voided" | "cancelled";

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

/** Where a live or settled request stands. */
export type RequestState = "requested" | "submitted" | "disputed" | SettledStatus;

export function requestIdTopic(requestId: bigint): string {
    return zeroPadValue(toBeHex(requestId), 32);
}

function plainArgs(parsed: LogDescription): Record<string, unknown> {
    const args: Record<string, unknown> = {};
    parsed.fragment.inputs.forEach((input, i) => {
        const value: unknown = parsed.args[i];
        // InferenceRequested's terms are given as the whole request they make up (`request`), below.
        if (parsed.name === "InferenceRequested" && input.name === "terms") return;
        args[input.name] = typeof value === "bigint" && input.type === "uint8" ? Number(value) : value;
    });
    if (parsed.name === "InferenceRequested") args.request = requestFromRequested(parsed);
    return args;
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
    const events: RequestEvent[] = [];
    for (const log of logs) {
        const fromCoordinator = getAddress(log.address) === ctx.coordinatorAddress;
        let parsed: LogDescription | null = null;
        if (fromCoordinator) {
            parsed = parseCoordinatorLog(log);
        } else {
            try {
                parsed = resolverInterface.parseLog({ topics: [...log.topics], data: log.data });
            } catch {
                parsed = null;
            }
        }
        if (parsed === null) continue;
        events.push({
            name: parsed.name,
            source: fromCoordinator ? "coordinator" : "resolver",
            args: plainArgs(parsed),
            address: getAddress(log.address),
            blockNumber: log.blockNumber,
            transactionHash: log.transactionHash,
            logIndex: log.index,
        });
    }
    return events;
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

function announced(events: readonly RequestEvent[]): RequestEvent | undefined {
    return events.find((e) => e.name === "InferenceRequested" && e.source === "coordinator");
}

/** The state a request's events put it in. */
export function stateOf(events: readonly RequestEvent[]): RequestState {
    let state: RequestState = "requested";
    for (const e of events) {
        if (e.source !== "coordinator") continue;
        switch (e.name) {
            case "ResultSubmitted":
            case "ChallengeWindowRestarted":
                state = "submitted";
                break;
            case "ResultChallenged":
                state = "disputed";
                break;
            case "ResultFinalized":
                state = "finalized";
                break;
            case "RequestCancelled":
                state = "cancelled";
                break;
            case "ResultDelivered":
                state = e.args.resultCode === ResultCode.VOIDED ? "voided" : "corrected by dispute";
                break;
            default:
                break;
        }
    }
    return state;
}

/** The struct the coordinator commits to now (what cancel/finalize/challenge take back), and the state. */
export function currentRequest(
    requestId: bigint,
    logs: readonly Log[],
    events: readonly RequestEvent[],
    fromBlock: number,
): { request: Request; input: Uint8Array; state: RequestState } {
    const first = announced(events);
    if (first === undefined) throw unknownRequest(requestId, fromBlock);
    const request = applyRequestEvents(first.args.request as Request, logs);
    return { request, input: getBytes(first.args.input as string), state: stateOf(events) };
}

function last(events: readonly RequestEvent[], name: string): RequestEvent | undefined {
    for (let i = events.length - 1; i >= 0; i--) if (events[i]?.name === name) return events[i];
    return undefined;
}

function decodeOk(resultCode: number, output: Uint8Array | null): Tensor[] | null {
    if (resultCode !== ResultCode.OK || output === null) return null;
    try {
        return decodeTensors(output);
    } catch {
        return null;
    }
}

/** The corrected output of a REEXECUTION dispute, checked against the resolver's ResultReexecuted hash. */
async function correctedOutput(
    ctx: SdkContext,
    request: Request,
    input: Uint8Array,
    events: readonly RequestEvent[],
    resultCode: number,
): Promise<{ output: Uint8Array | null; note?: string }> {
    const verdict = events
        .filter((e) => e.name === "ResultReexecuted" && e.source === "resolver" && e.args.operatorAtFault === true)
        .at(-1);
    if (verdict === undefined) {
        return {
            output: null,
            note: `mode ${String(request.mode)}: the resolver delivered the output in an internal call; no event carries it`,
        };
    }
    const { resultCode: code, output } = await wrapReverts("reexecute", () =>
        reexecutionResolverAt(ctx, verdict.address).reexecute(String(request.modelId), input),
    );
    const bytes = getBytes(output);
    if (Number(code) !== resultCode || keccak256(bytes) !== verdict.args.outputHash) {
        return { output: null, note: "reexecute() no longer matches the dispute's ResultReexecuted hash" };
    }
    return { output: bytes };
}

/** The settled outcome, or null while the request is live. */
export async function settledResult(
    ctx: SdkContext,
    requestId: bigint,
    logs: readonly Log[],
    events: RequestEvent[],
    fromBlock: number,
): Promise<SettledResult | null> {
    const { request, input, state } = currentRequest(requestId, logs, events, fromBlock);
    if (state === "requested" || state === "submitted" || state === "disputed") return null;
    const requested = announced(events) as RequestEvent;
    const submitted = last(events, "ResultSubmitted");
    const challenged = last(events, "ResultChallenged");
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
    if (state === "cancelled") {
        const cancelled = last(events, "RequestCancelled") as RequestEvent;
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
    if (state === "finalized") {
        const finalized = last(events, "ResultFinalized") as RequestEvent;
        const resultCode = Number((submitted as RequestEvent).args.resultCode);
        const output = getBytes((submitted as RequestEvent).args.output as string);
        return {
            ...base,
            resultCode,
            output,
            outputHash: keccak256(output),
            tensors: decodeOk(resultCode, output),
            operator: (submitted as RequestEvent).args.operator as string,
            callbackSucceeded: finalized.args.callbackSucceeded as boolean,
            refundWei: 0n,
            transactions: txs(finalized),
        };
    }
    const delivered = last(events, "ResultDelivered") as RequestEvent;
    const resultCode = Number(delivered.args.resultCode);
    const common = {
        ...base,
        resultCode,
        operator: submitted !== undefined ? (submitted.args.operator as string) : null,
        callbackSucceeded: delivered.args.callbackSucceeded as boolean,
        refundWei: BigInt(request.feeWei),
        transactions: txs(delivered),
    };
    if (state === "voided") return { ...common, output: null, outputHash: null, tensors: null };
    const { output, note } = await correctedOutput(ctx, request, input, events, resultCode);
    return {
        ...common,
        output,
        outputHash: output === null ? null : keccak256(output),
        tensors: decodeOk(resultCode, output),
        ...(note !== undefined ? { outputNote: note } : {}),
    };
}
