/**
 * Where a request stands and what its consumer received, read from its events: the one reading of them that the
 * SDK (`waitForResult`, `getRequest`) and the CLI (`verity inspect`, `request --wait`, `finalize`, `dispute`) share.
 *
 * Where a delivered output comes from:
 * - finalized: the bytes of the last ResultSubmitted (finalize checks them against the stored hash).
 * - corrected by dispute: no event carries the corrected bytes (ResultDelivered has the result code only;
 *   the REEXECUTION resolver's ResultReexecuted has the output hash). They are recomputed with the resolver's
 *   `reexecute(modelId, input)` view, the very computation the dispute ran (its program is immutable, keyed by the
 *   model's programHash), and accepted only if their keccak256 equals ResultReexecuted's outputHash and the code
 *   equals ResultDelivered's. Decoding the challenge transaction's trace would need debug_traceTransaction, which
 *   most RPC providers do not serve. Other modes' resolvers deliver through `resolveDispute` called from their own
 *   contract, so the bytes are only in an internal call: `output` is null there, with `outputNote` saying why.
 * - voided: the VOIDED code and no output.
 */
import { getAddress, getBytes, keccak256, type ContractRunner, type Log, type LogDescription } from "ethers";
import { IReexecutionResolver__factory } from "../../../typechain-types";
import { ResultCode } from "../protocol/resultCodes";
import { parseCoordinatorLog, requestFromRequested, type Request } from "./requestEvents";

const resolverInterface = IReexecutionResolver__factory.createInterface();

/** One event of a request's history. */
export interface RequestEvent {
    /** Event name, e.g. "ResultSubmitted" or (from the REEXECUTION resolver) "ResultReexecuted". */
    name: string;
    source: "coordinator" | "resolver";
    /** The event's arguments by name (uint8s as numbers); InferenceRequested's `request` is a plain Request. */
    args: Record<string, unknown>;
    address: string;
    blockNumber: number;
    blockHash: string;
    transactionHash: string;
    logIndex: number;
}

export type SettledStatus = "finalized" | "corrected by dispute" | "voided" | "cancelled";

/** Where a live or settled request stands. */
export type RequestState = "requested" | "submitted" | "disputed" | SettledStatus;

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

/**
 * The events among a request's logs that this reading knows: the coordinator's (logs from `coordinatorAddress`)
 * and ResultReexecuted from resolvers (any other address), in the logs' order. Only events of a request count:
 * a query by a request id's topic also matches an account's Deposited or Withdrawn when the id is that address.
 */
export function parseRequestLogs(coordinatorAddress: string, logs: readonly Log[]): RequestEvent[] {
    const coordinator = getAddress(coordinatorAddress);
    const events: RequestEvent[] = [];
    for (const log of logs) {
        const fromCoordinator = getAddress(log.address) === coordinator;
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
        if (parsed === null || parsed.fragment.inputs[0]?.name !== "requestId") continue;
        events.push({
            name: parsed.name,
            source: fromCoordinator ? "coordinator" : "resolver",
            args: plainArgs(parsed),
            address: getAddress(log.address),
            blockNumber: log.blockNumber,
            blockHash: log.blockHash,
            transactionHash: log.transactionHash,
            logIndex: log.index,
        });
    }
    return events;
}

/** The request's InferenceRequested event, if among `events`. */
export function announcedEvent(events: readonly RequestEvent[]): RequestEvent | undefined {
    return events.find((e) => e.name === "InferenceRequested" && e.source === "coordinator");
}

/** The last event named `name` among `events`. */
export function lastEvent(events: readonly RequestEvent[], name: string): RequestEvent | undefined {
    for (let i = events.length - 1; i >= 0; i--) if (events[i]?.name === name) return events[i];
    return undefined;
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
                // Every dispute that ends the request delivers: the resolver's result, or VOIDED.
                state = Number(e.args.resultCode) === ResultCode.VOIDED ? "voided" : "corrected by dispute";
                break;
            default:
                break;
        }
    }
    return state;
}

/** What the consumer of a settled (not cancelled) request received. */
export interface DeliveredResult {
    status: Exclude<SettledStatus, "cancelled">;
    /** The delivered result code (255 = VOIDED). */
    resultCode: number;
    /** The delivered output bytes; null when voided, or when they could not be recovered (`outputNote`). */
    output: Uint8Array | null;
    /** Why `output` is null although a result other than VOIDED was delivered. */
    outputNote?: string;
    /** The event that delivered it: ResultFinalized, or ResultDelivered after a dispute. */
    settled: RequestEvent;
    /** The operator's last submission: the one finalized, or the one a dispute proved wrong. */
    submitted?: RequestEvent;
    /** For a result corrected by a REEXECUTION dispute: the resolver's ResultReexecuted that fixed it. */
    verdict?: RequestEvent;
}

/** How `deliveredResult` reads the chain: a runner for the resolver's view, and the caller's error wrapping. */
export interface ViewAccess {
    runner: ContractRunner;
    call<T>(action: string, fn: () => Promise<T>): Promise<T>;
}

/** The corrected output of a REEXECUTION dispute, checked against the resolver's ResultReexecuted hash. */
async function correctedOutput(
    events: readonly RequestEvent[],
    resultCode: number,
    chain: ViewAccess,
): Promise<{ output: Uint8Array | null; note?: string; verdict?: RequestEvent }> {
    const verdict = events
        .filter((e) => e.name === "ResultReexecuted" && e.source === "resolver" && e.args.operatorAtFault === true)
        .at(-1);
    const requested = announcedEvent(events);
    if (verdict === undefined || requested === undefined) {
        const mode = (requested?.args.request as Request | undefined)?.mode;
        return {
            output: null,
            note: `mode ${String(mode)}: the resolver delivered the output in an internal call; no event carries it`,
        };
    }
    const resolver = IReexecutionResolver__factory.connect(verdict.address, chain.runner);
    const { resultCode: code, output } = await chain.call("reexecute", () =>
        resolver.reexecute(requested.args.modelId as string, requested.args.input as string),
    );
    const bytes = getBytes(output);
    if (Number(code) !== resultCode || keccak256(bytes) !== verdict.args.outputHash) {
        return { output: null, note: "reexecute() no longer matches the dispute's ResultReexecuted hash", verdict };
    }
    return { output: bytes, verdict };
}

/** What the consumer received, or null while the request is live or when it was cancelled. */
export async function deliveredResult(
    events: readonly RequestEvent[],
    chain: ViewAccess,
): Promise<DeliveredResult | null> {
    const status = stateOf(events);
    const submitted = lastEvent(events, "ResultSubmitted");
    const withSubmission = submitted !== undefined ? { submitted } : {};
    if (status === "finalized") {
        const resultCode = Number((submitted as RequestEvent).args.resultCode);
        const output = getBytes((submitted as RequestEvent).args.output as string);
        return { status, resultCode, output, settled: lastEvent(events, "ResultFinalized")!, ...withSubmission };
    }
    if (status !== "voided" && status !== "corrected by dispute") return null;
    const settled = lastEvent(events, "ResultDelivered")!;
    const resultCode = Number(settled.args.resultCode);
    if (status === "voided") return { status, resultCode, output: null, settled, ...withSubmission };
    const { output, note, verdict } = await correctedOutput(events, resultCode, chain);
    return {
        status,
        resultCode,
        output,
        ...(note !== undefined ? { outputNote: note } : {}),
        settled,
        ...withSubmission,
        ...(verdict !== undefined ? { verdict } : {}),
    };
}
