/**
 * A request's history from the coordinator's and its resolvers' events (`verity inspect <requestId>`, and what
 * `request --wait`, `finalize`, `cancel` and `dispute` read): requested, served by whom and when, disputes and their
 * outcomes, the result the consumer received (the operator's, or the one a dispute delivered in its place), the
 * settlement and the callback. The events are read as the SDK reads them (../chain/requestOutcome.ts).
 */
import { getBytes, hexlify, MaxUint256, toBeHex, ZeroAddress, type Log, type Provider } from "ethers";
import { InferenceCoordinator__factory } from "../../../typechain-types";
import { decodeTensors, DType } from "../protocol/tensorCodec";
import { describeResultCode, ResultCode } from "../protocol/resultCodes";
import { getLogsInChunks } from "../chain/logs";
import type { Request } from "../chain/requestEvents";
import { VerificationModeBigInt } from "../protocol/verificationMode";
import { deliveredResult, parseRequestLogs, stateOf, type RequestState } from "../chain/requestOutcome";
import {
    chainCall,
    CliError,
    connect,
    formatAmount,
    loadDeployment,
    output,
    toJson,
    type ChainOptions,
    type Deployment,
} from "./context";

const SETTLED: ReadonlySet<RequestHistory["status"]> = new Set([
    "finalized",
    "corrected by dispute",
    "voided",
    "cancelled",
]);

/** One event in a request's history. */
export interface HistoryEvent {
    event: string;
    /** The coordinator, or the resolver of the request's verification mode (ResultReexecuted). */
    source: "coordinator" | "resolver";
    block: number;
    timestamp: number;
    transactionHash: string;
    from: string;
    args: Record<string, unknown>;
}

/** A result code with its name and fixed meaning (`describeResultCode`). */
export interface ResultCodeInfo {
    code: number;
    name: string;
    meaning: string;
}

type Tensors = { dtype: string; shape: number[]; data: string[] }[];

/** A result as submitted by an operator: its code and output. */
export interface HistoryResult {
    result: ResultCodeInfo;
    output: string;
    outputTensors?: Tensors;
}

export interface RequestHistory {
    requestId: string;
    status: "unknown" | RequestState;
    settled: boolean;
    modelId?: string;
    consumer?: string;
    feeWei?: bigint;
    input?: string;
    operator?: string;
    servedAt?: number;
    /**
     * The result the consumer received once settled (after a dispute, the one the dispute delivered; VOIDED when
     * voided), before that the operator's submitted one. `resultCode` is `result.code`.
     */
    resultCode?: number;
    result?: ResultCodeInfo;
    /** The result's output bytes; absent when voided or when a dispute's output cannot be recovered (`outputNote`). */
    output?: string;
    outputTensors?: Tensors;
    /** Why `output` is absent although a result was delivered. */
    outputNote?: string;
    /** The operator's submitted result when the consumer received another (corrected by a dispute, or voided). */
    submitted?: HistoryResult;
    /** The dispute whose verdict delivered the result, as an index into `disputes` ("corrected by dispute"). */
    correctedBy?: number;
    challengeEndsAt?: number;
    disputes: {
        challenger: string;
        bondWei: bigint;
        /** The transaction that opened the dispute (`challenge`, the reveal). */
        transactionHash: string;
        operatorAtFault?: boolean;
        slashedWei?: bigint;
        expired?: boolean;
    }[];
    callback?: { succeeded: boolean; gasUsed: bigint; note?: string };
    events: HistoryEvent[];
}

function tensorsOf(bytes: string): Tensors | undefined {
    try {
        return decodeTensors(getBytes(bytes)).map((t) => ({
            dtype: DType[t.dtype].toLowerCase(),
            shape: t.shape,
            data: t.data.map(String),
        }));
    } catch {
        return undefined;
    }
}

function codeInfo(code: number): ResultCodeInfo {
    return { code, ...describeResultCode(code) };
}

/**
 * Where a request's events come from: the coordinator, and every resolver set on it (the REEXECUTION resolver's
 * ResultReexecuted tells which output a dispute delivered). A request's mode has its resolver before the request
 * is made, and resolvers never change, so a caller may keep the list for as long as it follows one request.
 */
export async function eventSources(provider: Provider, deployment: Deployment): Promise<string[]> {
    const coordinator = InferenceCoordinator__factory.connect(deployment.address("coordinator"), provider);
    const resolvers = await chainCall(
        () => Promise.all(Object.values(VerificationModeBigInt).map((mode) => coordinator.getResolver(mode))),
        "reading the resolvers",
    );
    return [deployment.address("coordinator"), ...resolvers.filter((address) => address !== ZeroAddress)];
}

/** The logs of one request (every request event indexes requestId first), from `fromBlock` on. */
export async function requestLogs(
    provider: Provider,
    deployment: Deployment,
    requestId: bigint,
    fromBlock = deployment.manifest.block,
    sources?: string[],
): Promise<Log[]> {
    const address = sources ?? (await eventSources(provider, deployment));
    const query = { address, topics: [null, toBeHex(requestId, 32)] };
    return chainCall(() => getLogsInChunks(provider, query, fromBlock));
}

/**
 * Block timestamps (by block hash, so a reorg cannot serve a stale one), transaction senders and the event sources
 * already read: a caller that rebuilds the same history again and again (`request --wait` polling) passes one to
 * read each once.
 */
export interface HistoryLookups {
    timestamps: Map<string, number>;
    senders: Map<string, string>;
    sources?: string[];
}

/** Rebuilds a request's history from the chain's events. */
export async function requestHistory(
    provider: Provider,
    deployment: Deployment,
    requestId: bigint,
    fromBlock = deployment.manifest.block,
    lookups?: HistoryLookups,
): Promise<RequestHistory> {
    let sources = lookups?.sources;
    if (sources === undefined) {
        sources = await eventSources(provider, deployment);
        if (lookups !== undefined) lookups.sources = sources;
    }
    const logs = await requestLogs(provider, deployment, requestId, fromBlock, sources);
    return historyFromLogs(provider, deployment, requestId, logs, lookups);
}

/** A request's history from its logs (`requestLogs`); reads each block's time and each transaction's sender. */
export async function historyFromLogs(
    provider: Provider,
    deployment: Deployment,
    requestId: bigint,
    logs: readonly Log[],
    lookups: HistoryLookups = { timestamps: new Map(), senders: new Map() },
): Promise<RequestHistory> {
    const h: RequestHistory = {
        requestId: toBeHex(requestId, 32),
        status: "unknown",
        settled: false,
        disputes: [],
        events: [],
    };
    const events = parseRequestLogs(deployment.address("coordinator"), logs).filter(
        (e) => e.args.requestId === requestId,
    );
    for (const e of events) {
        let timestamp = lookups.timestamps.get(e.blockHash);
        if (timestamp === undefined) {
            timestamp = (await chainCall(() => provider.getBlock(e.blockHash)))?.timestamp ?? 0;
            lookups.timestamps.set(e.blockHash, timestamp);
        }
        let from = lookups.senders.get(e.transactionHash);
        if (from === undefined) {
            from = (await chainCall(() => provider.getTransaction(e.transactionHash)))?.from ?? "";
            lookups.senders.set(e.transactionHash, from);
        }
        // InferenceRequested's `request` (the struct the SDK rebuilds) is left out: the fields above show it.
        const { request: _request, ...args } = e.args;
        h.events.push({
            event: e.name,
            source: e.source,
            block: e.blockNumber,
            timestamp,
            transactionHash: e.transactionHash,
            from,
            args,
        });
        const a = e.args;
        switch (e.name) {
            case "InferenceRequested":
                h.modelId = a.modelId as string;
                h.consumer = a.consumer as string;
                h.feeWei = BigInt((a.request as Request).feeWei);
                h.input = hexlify(a.input as string);
                break;
            case "ResultSubmitted":
                h.operator = a.operator as string;
                h.servedAt = timestamp;
                setResult(h, Number(a.resultCode), hexlify(a.output as string));
                h.challengeEndsAt = Number(a.challengeEndsAt);
                break;
            case "ResultChallenged":
                h.disputes.push({
                    challenger: a.challenger as string,
                    bondWei: a.bondWei as bigint,
                    transactionHash: e.transactionHash,
                });
                break;
            case "DisputeResolved": {
                const d = h.disputes[h.disputes.length - 1];
                if (d) Object.assign(d, { operatorAtFault: a.operatorAtFault as boolean, slashedWei: a.slashedWei });
                break;
            }
            case "ChallengeWindowRestarted":
                h.challengeEndsAt = Number(a.challengeEndsAt);
                break;
            case "DisputeExpired": {
                const d = h.disputes[h.disputes.length - 1];
                if (d) d.expired = true;
                break;
            }
            case "ResultFinalized":
            case "ResultDelivered":
                h.callback = { succeeded: a.callbackSucceeded as boolean, gasUsed: a.callbackGasUsed as bigint };
                break;
        }
    }
    if (events.some((e) => e.name === "InferenceRequested")) h.status = stateOf(events);
    h.settled = SETTLED.has(h.status);
    const delivered = await deliveredResult(events, {
        runner: provider,
        call: (action, fn) => chainCall(fn, `re-executing the disputed request (${action})`),
    });
    if (delivered !== null && delivered.status !== "finalized") {
        // The consumer received another result than the operator's: the one the dispute delivered, or VOIDED.
        if (h.output !== undefined && h.result !== undefined) {
            h.submitted = {
                result: h.result,
                output: h.output,
                ...(h.outputTensors !== undefined ? { outputTensors: h.outputTensors } : {}),
            };
        }
        delete h.output;
        delete h.outputTensors;
        setResult(h, delivered.resultCode, delivered.output === null ? undefined : hexlify(delivered.output));
        if (delivered.outputNote !== undefined) h.outputNote = delivered.outputNote;
        if (delivered.status === "corrected by dispute") h.correctedBy = h.disputes.length - 1;
    }
    if (h.callback !== undefined && h.consumer !== undefined && !h.callback.succeeded) {
        const code = await chainCall(() => provider.getCode(h.consumer as string));
        if (code === "0x") h.callback.note = "the consumer is an account without code: no callback is made";
    }
    return h;
}

/** Sets the history's result: its code (named) and, when known, its output. */
function setResult(h: RequestHistory, code: number, outputHex: string | undefined): void {
    h.resultCode = code;
    h.result = codeInfo(code);
    if (outputHex === undefined) return;
    h.output = outputHex;
    const tensors = tensorsOf(outputHex);
    if (tensors !== undefined) h.outputTensors = tensors;
    else delete h.outputTensors;
}

/** A chain timestamp (seconds) as an ISO date, "?" when unknown. */
export function when(ts: number | undefined): string {
    return ts === undefined ? "?" : new Date(ts * 1000).toISOString();
}

/** A result code for a line of text: "0 OK", "1 INVALID_INPUT: <its meaning>". */
function codeText(result: ResultCodeInfo): string {
    return result.code === ResultCode.OK
        ? `${result.code} ${result.name}`
        : `${result.code} ${result.name}: ${result.meaning}`;
}

/** An output for a line of text: its tensors, "none" for an error result's empty output, else the bytes. */
function outputText(r: { result: ResultCodeInfo; output?: string; outputTensors?: Tensors }): string {
    if (r.output === undefined) return "none";
    if (r.outputTensors !== undefined && r.result.code === ResultCode.OK) {
        return r.outputTensors.map((t) => `${t.dtype}[${t.shape.join(",")}] ${t.data.join(" ")}`).join("; ");
    }
    if (r.output === "0x") return "none: an error result carries no output (its reason is not published on chain)";
    return r.output;
}

export function formatHistory(h: RequestHistory): string {
    const lines = [`request ${h.requestId}: ${h.status}`];
    if (h.modelId !== undefined) lines.push(`  model     ${h.modelId}`, `  consumer  ${h.consumer}`);
    if (h.feeWei !== undefined) lines.push(`  fee       ${formatAmount(h.feeWei)}`);
    if (h.operator !== undefined) lines.push(`  served by ${h.operator} at ${when(h.servedAt)}`);
    if (h.submitted !== undefined) {
        lines.push(
            `  submitted ${h.submitted.result.code} ${h.submitted.result.name}, output ${outputText(h.submitted)}`,
        );
    }
    h.disputes.forEach((d, i) => {
        const outcome =
            d.expired === true
                ? "expired"
                : d.operatorAtFault === undefined
                  ? "open"
                  : d.operatorAtFault
                    ? `operator at fault, slashed ${formatAmount(d.slashedWei ?? 0n)}`
                    : "challenge failed";
        const delivered = h.correctedBy === i ? "; the consumer received the dispute's result instead" : "";
        lines.push(
            `  dispute   by ${d.challenger} (tx ${d.transactionHash}), bond ${formatAmount(d.bondWei)}: ${outcome}${delivered}`,
        );
    });
    if (h.result !== undefined) {
        lines.push(`  result    ${codeText(h.result)}`);
        if (h.result.code !== ResultCode.VOIDED) {
            const shown =
                h.output === undefined && h.outputNote !== undefined
                    ? `unknown: ${h.outputNote}`
                    : outputText({ ...h, result: h.result });
            lines.push(`  output    ${shown}`);
        }
    }
    if (h.callback !== undefined) {
        lines.push(
            `  callback  ${h.callback.succeeded ? "succeeded" : "failed"} (${h.callback.gasUsed} gas)${h.callback.note ? `: ${h.callback.note}` : ""}`,
        );
    }
    lines.push("  events:");
    for (const e of h.events) {
        const source = e.source === "resolver" ? " (resolver)" : "";
        lines.push(`    ${when(e.timestamp)} block ${e.block} ${e.event}${source} (tx from ${e.from})`);
    }
    return lines.join("\n");
}

/** A request id as the user typed it (0x… or decimal), or a CliError. */
export function parseRequestId(text: string): bigint {
    try {
        const requestId = BigInt(text);
        if (requestId < 0n || requestId > MaxUint256) throw new Error("out of range");
        return requestId;
    } catch {
        throw new CliError(`invalid request id "${text}": give the 0x… id \`verity request\` printed`);
    }
}

/** Prints the request's history from the coordinator's events and returns it. */
export async function inspect(requestIdText: string, opts: ChainOptions): Promise<RequestHistory> {
    const requestId = parseRequestId(requestIdText);
    const { provider, chainId } = await connect(opts);
    const deployment = loadDeployment(opts, chainId);
    const history = await requestHistory(provider, deployment, requestId);
    if (history.events.length === 0) {
        throw new CliError(
            `no request ${toBeHex(requestId, 32)} on the coordinator ${deployment.address("coordinator")} since block ${deployment.manifest.block}: check the id and --deployment`,
        );
    }
    output(opts.json, JSON.parse(toJson(history)) as unknown, formatHistory(history));
    return history;
}
