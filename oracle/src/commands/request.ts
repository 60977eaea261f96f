/**
 * `verity request`: send an inference request from the key's own account, depositing the fee first; with --wait,
 * wait for the request to settle and print its history (as `verity inspect` does); with --finalize as well,
 * finalize the result itself once its challenge window closes, for a chain where no node finalizes.
 */
import { toBeHex, type Provider } from "ethers";
import { ERC20__factory, InferenceCoordinator__factory, ModelRegistry__factory } from "../../../typechain-types";
import { decodeTensors, TensorCodecError } from "../protocol/tensorCodec";
import { TensorJsonError, tensorsJsonBytes } from "../protocol/tensorJson";
import {
    chainCall,
    CliError,
    connect,
    EXIT,
    formatAmount,
    loadDeployment,
    output,
    POLL_INTERVAL_MS,
    progress,
    readFileOrFail,
    requireGas,
    sendTx,
    signer,
    type ChainOptions,
    type Deployment,
} from "./context";
import { createProgress } from "../internal/progress";
import { formatHistory, requestHistory, when, type HistoryLookups, type RequestHistory } from "./history";
import { loadRequest, nextBlockTime, sendFinalize } from "./settle";

/**
 * Tensors as JSON (`[{ "dtype": "int8", "shape": [1, 4], "data": [1, -2, 3, 4] }]`) to canonical bytes, by the
 * shared parser (protocol/tensorJson.ts); its messages become the command's one-line errors.
 */
export function parseTensorsJson(text: string, where: string): Uint8Array {
    try {
        return tensorsJsonBytes(text, where);
    } catch (error) {
        if (error instanceof TensorJsonError) throw new CliError(error.message);
        throw error;
    }
}

function readInput(opts: { input?: string; tensors?: string }): Uint8Array {
    if ((opts.input === undefined) === (opts.tensors === undefined)) {
        throw new CliError("give the input as exactly one of --input <file> or --tensors '<json>'");
    }
    if (opts.tensors !== undefined) return parseTensorsJson(opts.tensors, "--tensors");
    const path = opts.input as string;
    const bytes = readFileOrFail(path, "input file");
    if (path.endsWith(".json")) return parseTensorsJson(bytes.toString("utf8"), path);
    try {
        decodeTensors(bytes);
    } catch (error) {
        const why = error instanceof TensorCodecError ? error.message : String(error);
        throw new CliError(
            `${path} is not a canonical tensor list (${why}): give a .json tensor file or use --tensors`,
        );
    }
    return new Uint8Array(bytes);
}

export interface RequestOptions extends ChainOptions {
    model: string;
    input?: string;
    tensors?: string;
    wait?: boolean;
    /** With wait: finalize the result once its challenge window closes (when no node does). */
    finalize?: boolean;
    timeout: string;
    deadline: string;
    callbackGas: string;
}

/** Sends the request (depositing the fee if needed); with `wait`, waits for it to settle. Prints and returns it. */
export async function request(opts: RequestOptions) {
    // Everything that can be checked before paying the fee is checked first.
    if (opts.finalize === true && opts.wait !== true) throw new CliError("--finalize needs --wait");
    const timeoutSeconds = Number(opts.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
        throw new CliError(`--timeout must be a number of seconds, not "${opts.timeout}"`);
    }
    const input = readInput(opts);
    const { provider, chainId } = await connect(opts);
    const deployment = loadDeployment(opts, chainId);
    const wallet = signer(provider, opts.connection?.signer);
    await requireGas(wallet);
    const shown = progress(opts.json);
    const coordinatorAddress = deployment.address("coordinator");
    const coordinator = InferenceCoordinator__factory.connect(coordinatorAddress, wallet);
    const registry = ModelRegistry__factory.connect(deployment.address("registry"), wallet);
    const terms = await chainCall(() => registry.getModelTerms(opts.model), "reading the model");
    if (!terms.active) throw new CliError(`model ${opts.model} is not active: check the id`, EXIT.REFUSED);
    const callbackGasLimit = Number(opts.callbackGas);
    const fee = await chainCall(() => coordinator.quoteFee(opts.model, callbackGasLimit), "quoting the fee");
    const balance = await chainCall(() => coordinator.balanceOf(wallet.address));
    if (balance < fee) {
        const need = fee - balance;
        const token = ERC20__factory.connect(deployment.address("stakeToken"), wallet);
        const held = await chainCall(() => token.balanceOf(wallet.address));
        if (held < need) {
            throw new CliError(
                `the fee is ${formatAmount(fee)} but ${wallet.address} holds ${formatAmount(held)} of the token ${await token.getAddress()}: get more tokens first`,
                EXIT.REFUSED,
            );
        }
        if ((await chainCall(() => token.allowance(wallet.address, coordinatorAddress))) < need) {
            await sendTx("approving the fee", () => token.approve(coordinatorAddress, need), shown);
        }
        await sendTx(
            `depositing the fee (${formatAmount(need)})`,
            () => coordinator.deposit(wallet.address, need),
            shown,
        );
    }
    const now = (await chainCall(() => provider.getBlock("latest")))?.timestamp ?? Math.floor(Date.now() / 1000);
    const receipt = await sendTx(
        "requesting inference",
        () =>
            coordinator.requestInference(opts.model, input, {
                callbackGasLimit,
                deadline: now + Number(opts.deadline),
                preferredOperator: "0x0000000000000000000000000000000000000000",
                maxFeeWei: fee,
            }),
        shown,
    );
    let requestId: bigint | undefined;
    for (const log of receipt.logs) {
        const parsed = coordinator.interface.parseLog(log);
        if (parsed?.name === "InferenceRequested") requestId = parsed.args.requestId as bigint;
    }
    if (requestId === undefined) throw new CliError("the request transaction emitted no InferenceRequested event");
    const requestHex = toBeHex(requestId, 32);
    const sent = { requestId: requestHex, feeWei: fee, transactionHash: receipt.hash, block: receipt.blockNumber };
    if (!opts.wait) {
        output(
            opts.json,
            sent,
            `${requestHex}\nrequested (fee ${formatAmount(fee)}); follow it with \`verity inspect ${requestHex}\``,
        );
        return { ...sent, history: undefined };
    }
    const history = await waitForSettlement(
        requestId,
        receipt.blockNumber,
        { ...opts, timeoutSeconds },
        { provider, deployment },
    );
    output(opts.json, history, formatHistory(history));
    return { ...sent, history };
}

/** What the wait line says while a request is not settled yet. */
function waitingFor(h: RequestHistory, now: number, finalizing: boolean): string {
    switch (h.status) {
        case "requested":
            return `${h.requestId.slice(0, 10)}… waiting for an operator to serve it`;
        case "disputed":
            return `${h.requestId.slice(0, 10)}… disputed: waiting for the resolver`;
        default: {
            const left = Math.max(0, (h.challengeEndsAt ?? now) - now);
            const then = finalizing ? "then finalizing it" : "then a finalizer settles it";
            return `${h.requestId.slice(0, 10)}… served by ${h.operator?.slice(0, 10)}…: challenge window ${left > 0 ? `closes in ${left}s` : "closed"}, ${then}`;
        }
    }
}

/** Where plain stage lines go: stderr, or anything shaped like it. */
interface LineStream {
    isTTY?: boolean;
    write(chunk: string): unknown;
}

/**
 * Plain progress for `request --wait` when stderr is not a terminal (a pipe, CI, a log file), where the spinner
 * draws nothing: one line per stage as it happens (requested, served, disputed, settled), never a countdown.
 * Undefined on a terminal (the spinner shows the same) and with --json (stdout is the only output).
 */
export function stageLines(json: boolean | undefined, stream: LineStream = process.stderr) {
    if (json === true || stream.isTTY === true) return undefined;
    let last = "";
    return (h: RequestHistory): void => {
        const key = `${h.status}/${h.operator ?? ""}/${h.disputes.length}/${h.challengeEndsAt ?? ""}`;
        if (key === last) return;
        last = key;
        stream.write(`${stageText(h)}\n`);
    };
}

/** One stage of a request, for a log line: the full id, what happened and what comes next. */
function stageText(h: RequestHistory): string {
    switch (h.status) {
        case "requested":
        case "unknown":
            return `${h.requestId} requested: waiting for an operator to serve it`;
        case "submitted":
            return `${h.requestId} served by ${h.operator} (result code ${h.resultCode} ${h.result?.name}): challenge window closes at ${when(h.challengeEndsAt)}`;
        case "disputed":
            return `${h.requestId} disputed by ${h.disputes[h.disputes.length - 1]?.challenger}: waiting for the resolver`;
        default:
            return `${h.requestId} ${h.status}`;
    }
}

/**
 * Polls the request's history until it settles (exit 5 after `opts.timeoutSeconds`), showing its state on a
 * terminal, or as one plain line per stage when stderr is not one (`stageLines`). With `opts.finalize`, finalizes a submitted result itself as soon as its window has closed; when a
 * node finalizes it first, that is the settlement it reports.
 */
export async function waitForSettlement(
    requestId: bigint,
    fromBlock: number,
    opts: ChainOptions & { timeoutSeconds: number; finalize?: boolean },
    chain: { provider: Provider; deployment: Deployment },
): Promise<RequestHistory> {
    const requestHex = toBeHex(requestId, 32);
    const deadline = Date.now() + opts.timeoutSeconds * 1000;
    // Each poll rebuilds the history; block times and senders already read are not read again.
    const lookups: HistoryLookups = { timestamps: new Map(), senders: new Map() };
    const spinner = createProgress({ enabled: !opts.json }).spinner(`waiting for ${requestHex.slice(0, 10)}…`);
    const stage = stageLines(opts.json);
    // The request was just mined: its id comes first, before any poll (a fast operator may serve it before one).
    stage?.({ requestId: requestHex, status: "requested", settled: false, disputes: [], events: [] });
    try {
        for (;;) {
            const history = await requestHistory(chain.provider, chain.deployment, requestId, fromBlock, lookups);
            stage?.(history);
            if (history.settled) {
                spinner.succeed(`${requestHex.slice(0, 10)}… ${history.status}`);
                return history;
            }
            const now = await nextBlockTime(chain.provider);
            spinner.update(waitingFor(history, now, opts.finalize === true));
            if (Date.now() > deadline) {
                throw new CliError(
                    `request ${requestHex} did not settle within ${opts.timeoutSeconds}s (status: ${history.status}): follow it with \`verity inspect ${requestHex}\`${history.status === "submitted" && opts.finalize !== true ? ", or finalize it yourself with `verity finalize`" : ""}`,
                    EXIT.TIMEOUT,
                );
            }
            if (opts.finalize === true && history.status === "submitted" && now >= (history.challengeEndsAt ?? now)) {
                await tryFinalize(requestHex, opts);
                continue;
            }
            await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
        }
    } catch (error) {
        spinner.fail(`${requestHex.slice(0, 10)}… not settled`);
        throw error;
    }
}

/**
 * Finalizes the request if it still needs it. Chain time may lag the wall clock (a local chain mines only on a
 * transaction), so a window that the chain still holds open is not an error: the caller polls again. Neither is
 * losing the race to a node that finalizes first: the next poll sees the settlement.
 */
async function tryFinalize(requestHex: string, opts: ChainOptions): Promise<void> {
    const loaded = await loadRequest(requestHex, opts);
    if (loaded.history.status !== "submitted") return;
    try {
        await sendFinalize(loaded);
    } catch (error) {
        // Finalized by a node, or challenged, since we looked: the next poll reports (or waits for) it.
        const after = await loadRequest(requestHex, opts);
        if (after.history.status !== "submitted") return;
        if (error instanceof CliError && /CoordinatorChallengeWindowOpen/.test(error.message)) {
            await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS * 4));
            return;
        }
        throw error;
    }
}
