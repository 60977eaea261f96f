/**
 * `verity finalize <requestId>` (anyone: settle a submitted result whose challenge window has closed, paying the
 * operator and making the callback) and `verity cancel <requestId>` (the consumer: take back the fee of a request
 * nobody served before its deadline). Both rebuild the request's current struct from the coordinator's events
 * (`loadRequest`, shared with `verity dispute`) and refuse, before sending anything and with exit 4, when the
 * request is not in the state the action needs; the one-line error says when it will be.
 */
import { toBeHex, type Provider } from "ethers";
import { InferenceCoordinator__factory, type InferenceCoordinator } from "../../../typechain-types";
import { announcedRequests, applyRequestEvents, type AnnouncedRequest, type Request } from "../chain/requestEvents";
import {
    chainCall,
    CliError,
    connect,
    EXIT,
    formatAmount,
    loadDeployment,
    output,
    requireGas,
    progress,
    sendTx,
    signer,
    type Account,
    type ChainOptions,
    type Deployment,
} from "./context";
import type { Progress } from "../internal/progress";
import {
    formatHistory,
    historyFromLogs,
    parseRequestId,
    requestHistory,
    requestLogs,
    type RequestHistory,
} from "./history";

/** A request as the chain has it now: its struct (with every later event applied), input and history. */
export interface LoadedRequest {
    requestId: bigint;
    idHex: string;
    provider: Provider;
    deployment: Deployment;
    wallet: Account;
    coordinator: InferenceCoordinator;
    announced: AnnouncedRequest;
    request: Request;
    history: RequestHistory;
}

/** Connects, and rebuilds request `requestIdText` from the coordinator's events; a CliError when there is none. */
export async function loadRequest(requestIdText: string, opts: ChainOptions): Promise<LoadedRequest> {
    const requestId = parseRequestId(requestIdText);
    const idHex = toBeHex(requestId, 32);
    const { provider, chainId } = await connect(opts);
    const deployment = loadDeployment(opts, chainId);
    const wallet = signer(provider, opts.connection?.signer);
    const coordinatorAddress = deployment.address("coordinator");
    const coordinator = InferenceCoordinator__factory.connect(coordinatorAddress, wallet);
    const logs = await requestLogs(provider, deployment, requestId);
    const announced = announcedRequests(logs)[0];
    if (announced === undefined) {
        throw new CliError(
            `no request ${idHex} on the coordinator ${coordinatorAddress} since block ${deployment.manifest.block}: check the id and --deployment`,
        );
    }
    // One read of the logs serves both the struct and the history.
    const history = await historyFromLogs(provider, deployment, requestId, logs);
    const request = applyRequestEvents(announced.request, logs);
    return { requestId, idHex, provider, deployment, wallet, coordinator, announced, request, history };
}

/** The latest block's timestamp: the clock the coordinator's windows and deadlines are measured on. */
export async function chainNow(provider: Provider): Promise<number> {
    return (await chainCall(() => provider.getBlock("latest")))?.timestamp ?? Math.floor(Date.now() / 1000);
}

/**
 * The time the next block will carry, as well as it can be known: the latest block's timestamp, or the wall clock
 * when that is later (an idle local chain mines no blocks, so its latest timestamp stands still while the next
 * transaction's block gets the current time). When this is wrong the chain's own check refuses the transaction
 * at gas estimation, and that revert is reported.
 */
export async function nextBlockTime(provider: Provider): Promise<number> {
    return Math.max(await chainNow(provider), Math.floor(Date.now() / 1000));
}

function at(seconds: number): string {
    return new Date(seconds * 1000).toISOString();
}

export interface SettleReport {
    requestId: string;
    transactionHash: string;
    /** `finalize`: the status after it (finalized). `cancel`: cancelled. */
    status: RequestHistory["status"];
    history: RequestHistory;
}

/** Refuses (exit 4) unless the loaded request holds a submitted, undisputed result whose window has closed. */
export function requireFinalizable(r: LoadedRequest, now: number): void {
    const { history, idHex } = r;
    if (history.settled) {
        throw new CliError(
            `request ${idHex} is already ${history.status}: nothing to finalize (\`verity inspect ${idHex}\`)`,
            EXIT.REFUSED,
        );
    }
    if (history.status === "requested") {
        throw new CliError(
            `request ${idHex} has no result yet: an operator must submit one first (\`verity inspect ${idHex}\`)`,
            EXIT.REFUSED,
        );
    }
    if (history.status === "disputed") {
        throw new CliError(
            `request ${idHex} is disputed: the resolver settles it, not finalize (\`verity inspect ${idHex}\`)`,
            EXIT.REFUSED,
        );
    }
    const endsAt = Number(r.request.challengeEndsAt);
    if (now < endsAt) {
        throw new CliError(
            `the challenge window of request ${idHex} is open until ${at(endsAt)} (${endsAt - now}s from now): finalize it after that`,
            EXIT.REFUSED,
        );
    }
}

/** Sends `finalize(request, output)` for a loaded request that is finalizable; returns the new history. */
export async function sendFinalize(r: LoadedRequest, shown?: Progress): Promise<SettleReport> {
    await requireGas(r.wallet);
    const receipt = await sendTx(
        "finalizing the result",
        () => r.coordinator.finalize(r.request, r.history.output ?? "0x"),
        shown,
    );
    const history = await requestHistory(r.provider, r.deployment, r.requestId, r.announced.blockNumber);
    return { requestId: r.idHex, transactionHash: receipt.hash, status: history.status, history };
}

/** `verity finalize <requestId>`: settles a submitted result after its challenge window. */
export async function finalize(requestIdText: string, opts: ChainOptions): Promise<SettleReport> {
    const loaded = await loadRequest(requestIdText, opts);
    requireFinalizable(loaded, await nextBlockTime(loaded.provider));
    let report: SettleReport;
    try {
        report = await sendFinalize(loaded, progress(opts.json));
    } catch (error) {
        // Lost a race (a node finalized it, or a challenge came in, since we looked): say so, not the revert.
        // A failed re-read keeps the original error.
        const after = await loadRequest(requestIdText, opts).catch(() => undefined);
        const last = after?.history.events[after.history.events.length - 1];
        const ours = last?.from.toLowerCase() === loaded.wallet.address.toLowerCase();
        // (When the last event is our own finalization, the transaction went through and what failed came after.)
        if (after !== undefined && after.history.status !== "submitted" && !ours) {
            throw new CliError(
                `request ${loaded.idHex} became ${after.history.status} meanwhile${last ? ` (${last.event} from ${last.from})` : ""}: nothing to finalize`,
                EXIT.REFUSED,
            );
        }
        throw error;
    }
    output(opts.json, report, `finalized\n${formatHistory(report.history)}`);
    return report;
}

/** `verity cancel <requestId>`: the consumer takes back the fee of a request nobody served before its deadline. */
export async function cancel(requestIdText: string, opts: ChainOptions): Promise<SettleReport> {
    const r = await loadRequest(requestIdText, opts);
    const { history, idHex, request } = r;
    if (history.status !== "requested") {
        throw new CliError(
            `request ${idHex} is ${history.status}${history.operator ? ` (served by ${history.operator})` : ""}: only a request nobody served can be cancelled`,
            EXIT.REFUSED,
        );
    }
    const consumer = String(request.consumer).toLowerCase();
    if (consumer !== r.wallet.address.toLowerCase()) {
        throw new CliError(
            `request ${idHex} belongs to the consumer ${String(request.consumer)}, not ${r.wallet.address}: only its consumer may cancel it`,
            EXIT.REFUSED,
        );
    }
    const deadline = Number(request.deadline);
    const now = await nextBlockTime(r.provider);
    if (now <= deadline) {
        throw new CliError(
            `request ${idHex} may be cancelled after its deadline ${at(deadline)} (${deadline - now + 1}s from now): an operator may still serve it`,
            EXIT.REFUSED,
        );
    }
    await requireGas(r.wallet);
    const shown = progress(opts.json);
    const receipt = await sendTx("cancelling the request", () => r.coordinator.cancelRequest(request), shown);
    const after = await requestHistory(r.provider, r.deployment, r.requestId, r.announced.blockNumber);
    const report: SettleReport = {
        requestId: idHex,
        transactionHash: receipt.hash,
        status: after.status,
        history: after,
    };
    output(
        opts.json,
        report,
        `cancelled: the fee of ${formatAmount(BigInt(request.feeWei))} is back in ${r.wallet.address}'s coordinator balance`,
    );
    return report;
}
