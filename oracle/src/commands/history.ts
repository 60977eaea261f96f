/**
 * A request's history from the coordinator's events (`verity inspect <requestId>`, and what `request --wait`,
 * `finalize`, `cancel` and `dispute` read): requested, served by whom and when, the output, disputes and their
 * outcomes, the settlement and the callback.
 */
import { getBytes, hexlify, MaxUint256, toBeHex, type Log, type Provider } from "ethers";
import { InferenceCoordinator__factory } from "../../../typechain-types";
import { decodeTensors, DType } from "../models/tensorCodec";
import { ResultCode } from "../models/resultCodes";
import { getLogsInChunks } from "../chain/logs";
import { requestFromRequested } from "../chain/requestEvents";
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

const SETTLING_EVENTS = new Set([
    "ResultFinalized",
    "ResultDelivered",
    "RequestCancelled",
    "DisputeExpired",
    "ResultVoided",
]);

/** One event in a request's history. */
export interface HistoryEvent {
    event: string;
    block: number;
    timestamp: number;
    transactionHash: string;
    from: string;
    args: Record<string, unknown>;
}

export interface RequestHistory {
    requestId: string;
    status: "unknown" | "requested" | "submitted" | "disputed" | "finalized" | "cancelled" | "voided";
    settled: boolean;
    modelId?: string;
    consumer?: string;
    feeWei?: bigint;
    input?: string;
    operator?: string;
    servedAt?: number;
    resultCode?: number;
    output?: string;
    outputTensors?: { dtype: string; shape: number[]; data: string[] }[];
    challengeEndsAt?: number;
    disputes: {
        challenger: string;
        bondWei: bigint;
        operatorAtFault?: boolean;
        slashedWei?: bigint;
        expired?: boolean;
    }[];
    callback?: { succeeded: boolean; gasUsed: bigint; note?: string };
    events: HistoryEvent[];
}

function tensorsOf(bytes: string): RequestHistory["outputTensors"] {
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

/** The coordinator's logs of one request (every event indexes requestId first), from `fromBlock` on. */
export async function requestLogs(
    provider: Provider,
    deployment: Deployment,
    requestId: bigint,
    fromBlock = deployment.manifest.block,
): Promise<Log[]> {
    const query = { address: deployment.address("coordinator"), topics: [null, toBeHex(requestId, 32)] };
    return chainCall(() => getLogsInChunks(provider, query, fromBlock));
}

/**
 * Block timestamps (by block hash, so a reorg cannot serve a stale one) and transaction senders already read: a
 * caller that rebuilds the same history again and again (`request --wait` polling) passes one to read each once.
 */
export interface HistoryLookups {
    timestamps: Map<string, number>;
    senders: Map<string, string>;
}

/** Rebuilds a request's history from the coordinator's events. */
export async function requestHistory(
    provider: Provider,
    deployment: Deployment,
    requestId: bigint,
    fromBlock = deployment.manifest.block,
    lookups?: HistoryLookups,
): Promise<RequestHistory> {
    const logs = await requestLogs(provider, deployment, requestId, fromBlock);
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
    const coordinator = InferenceCoordinator__factory.connect(deployment.address("coordinator"), provider);
    const h: RequestHistory = {
        requestId: toBeHex(requestId, 32),
        status: "unknown",
        settled: false,
        disputes: [],
        events: [],
    };
    for (const log of logs) {
        const parsed = coordinator.interface.parseLog(log);
        if (parsed === null || parsed.name === "Deposited" || parsed.name === "Withdrawn") continue;
        let timestamp = lookups.timestamps.get(log.blockHash);
        if (timestamp === undefined) {
            timestamp = (await chainCall(() => provider.getBlock(log.blockHash)))?.timestamp ?? 0;
            lookups.timestamps.set(log.blockHash, timestamp);
        }
        let from = lookups.senders.get(log.transactionHash);
        if (from === undefined) {
            from = (await chainCall(() => provider.getTransaction(log.transactionHash)))?.from ?? "";
            lookups.senders.set(log.transactionHash, from);
        }
        const args: Record<string, unknown> = {};
        parsed.fragment.inputs.forEach((input, i) => {
            if (input.name === "terms") return;
            const value: unknown = parsed.args[i];
            args[input.name] = value;
        });
        h.events.push({
            event: parsed.name,
            block: log.blockNumber,
            timestamp,
            transactionHash: log.transactionHash,
            from,
            args,
        });
        const a = parsed.args;
        switch (parsed.name) {
            case "InferenceRequested":
                h.status = "requested";
                h.modelId = a.modelId as string;
                h.consumer = a.consumer as string;
                h.feeWei = BigInt(requestFromRequested(parsed).feeWei);
                h.input = hexlify(a.input as string);
                break;
            case "ResultSubmitted":
                h.status = "submitted";
                h.operator = a.operator as string;
                h.servedAt = timestamp;
                h.resultCode = Number(a.resultCode);
                h.output = hexlify(a.output as string);
                h.outputTensors = tensorsOf(h.output);
                h.challengeEndsAt = Number(a.challengeEndsAt);
                break;
            case "ResultChallenged":
                h.status = "disputed";
                h.disputes.push({ challenger: a.challenger as string, bondWei: a.bondWei as bigint });
                break;
            case "DisputeResolved": {
                const d = h.disputes[h.disputes.length - 1];
                if (d)
                    Object.assign(d, {
                        operatorAtFault: a.operatorAtFault as boolean,
                        slashedWei: a.slashedWei as bigint,
                    });
                break;
            }
            case "ChallengeWindowRestarted":
                h.status = "submitted";
                h.challengeEndsAt = Number(a.challengeEndsAt);
                break;
            case "ResultVoided":
                h.status = "voided";
                h.settled = true;
                break;
            case "DisputeExpired": {
                const d = h.disputes[h.disputes.length - 1];
                if (d) d.expired = true;
                h.status = "voided";
                h.settled = true;
                break;
            }
            case "ResultFinalized":
                h.status = "finalized";
                h.settled = true;
                h.callback = { succeeded: a.callbackSucceeded as boolean, gasUsed: a.callbackGasUsed as bigint };
                break;
            case "ResultDelivered":
                h.status = Number(a.resultCode) === ResultCode.VOIDED ? "voided" : "finalized";
                h.settled = true;
                h.resultCode = Number(a.resultCode);
                h.callback = { succeeded: a.callbackSucceeded as boolean, gasUsed: a.callbackGasUsed as bigint };
                break;
            case "RequestCancelled":
                h.status = "cancelled";
                h.settled = true;
                break;
        }
        if (SETTLING_EVENTS.has(parsed.name)) h.settled = true;
    }
    if (h.callback !== undefined && h.consumer !== undefined && !h.callback.succeeded) {
        const code = await chainCall(() => provider.getCode(h.consumer as string));
        if (code === "0x") h.callback.note = "the consumer is an account without code: no callback is made";
    }
    return h;
}

/** A chain timestamp (seconds) as an ISO date, "?" when unknown. */
export function when(ts: number | undefined): string {
    return ts === undefined ? "?" : new Date(ts * 1000).toISOString();
}

export function formatHistory(h: RequestHistory): string {
    const lines = [`request ${h.requestId}: ${h.status}`];
    if (h.modelId !== undefined) lines.push(`  model     ${h.modelId}`, `  consumer  ${h.consumer}`);
    if (h.feeWei !== undefined) lines.push(`  fee       ${formatAmount(h.feeWei)}`);
    if (h.operator !== undefined) {
        lines.push(`  served by ${h.operator} at ${when(h.servedAt)} (result code ${h.resultCode})`);
        const tensors = h.outputTensors;
        lines.push(
            `  output    ${tensors ? tensors.map((t) => `${t.dtype}[${t.shape.join(",")}] ${t.data.join(" ")}`).join("; ") : h.output}`,
        );
    }
    for (const d of h.disputes) {
        const outcome =
            d.expired === true
                ? "expired"
                : d.operatorAtFault === undefined
                  ? "open"
                  : d.operatorAtFault
                    ? `operator at fault, slashed ${formatAmount(d.slashedWei ?? 0n)}`
                    : "challenge failed";
        lines.push(`  dispute   by ${d.challenger}, bond ${formatAmount(d.bondWei)}: ${outcome}`);
    }
    if (h.callback !== undefined) {
        lines.push(
            `  callback  ${h.callback.succeeded ? "succeeded" : "failed"} (${h.callback.gasUsed} gas)${h.callback.note ? `: ${h.callback.note}` : ""}`,
        );
    }
    lines.push("  events:");
    for (const e of h.events) lines.push(`    ${when(e.timestamp)} block ${e.block} ${e.event} (tx from ${e.from})`);
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
