/**
 * VerityClient: what an off-chain consumer or tool does with a Verity deployment. Request inference (the signer
 * is the consumer), wait for the settled result by following the coordinator's events, read a request's history,
 * cancel, manage the prepaid balance, and sign / verify operator attestations.
 */
import { getAddress, getBytes, isHexString, toBeHex, ZeroAddress, type BytesLike } from "ethers";
import { announcedRequests, type Request } from "../chain/requestEvents";
import { encodeTensors, type Tensor } from "../protocol/tensorCodec";
import {
    buildAttestation,
    checkAgainstChain,
    proveFraud,
    signAttestation,
    verifyAttestation,
    type Attestation,
    type AttestationVerification,
    type ChainCheck,
} from "./attestations";
import { createContext, requireSigner, tokenOf, type ContextOptions, type SdkContext } from "./context";
import { VeritySdkError, wrapReverts } from "./errors";
import { sendTransaction } from "./transactions";
import {
    currentRequest,
    fetchRequest,
    parseRequestLogs,
    settledResult,
    stateOf,
    unknownRequest,
    type RequestEvent,
    type RequestState,
    type SettledResult,
} from "./requests";

/** Input of a request: canonical tensor-list bytes (or 0x-hex), or tensors to encode. */
export type InferenceInput = BytesLike | readonly Tensor[];

export interface RequestOptions {
    /** Gas the consumer's callback gets (paid for). Default 0: an EOA consumer has no callback. */
    callbackGasLimit?: number;
    /** Absolute deadline (unix seconds). Default: latest block time + `deadlineSeconds`. */
    deadline?: number;
    /** Seconds from the latest block to the deadline. Default 3,600 (the coordinator's minimum if larger). */
    deadlineSeconds?: number;
    /** Operator given the exclusive window. Default: the rotation. */
    preferredOperator?: string;
    /** Most the consumer pays. Default: the fee quoted just before sending. */
    maxFeeWei?: bigint;
    /** Deposit (approve + deposit) the shortfall when the prepaid balance does not cover the fee. Default false. */
    deposit?: boolean;
}

export interface SentRequest {
    requestId: bigint;
    /** The struct the coordinator committed to (as emitted in InferenceRequested). */
    request: Request;
    input: Uint8Array;
    feeWei: bigint;
    transactionHash: string;
    blockNumber: number;
}

export interface WaitOptions {
    /** Give up (TIMEOUT) after this many ms. Default: wait forever. */
    timeoutMs?: number;
    /** Abort the wait (ABORTED). */
    signal?: AbortSignal;
    /** First block to search. Default: the request's block when this client sent it, else 0. */
    fromBlock?: number;
}

export interface VerityClient {
    readonly coordinatorAddress: string;
    /** The TypeChain-typed coordinator (connected to the provider) for anything not wrapped here. */
    readonly coordinator: SdkContext["coordinator"];
    /** The fee for `modelId` with `callbackGasLimit` now (model fee + callback gas). */
    quoteFee(modelId: string, callbackGasLimit?: number): Promise<bigint>;
    /** `account`'s prepaid balance at the coordinator (default: the signer's). */
    balanceOf(account?: string): Promise<bigint>;
    /** Credits `amountWei` to `account` (default: the signer), approving the token first when needed. */
    deposit(amountWei: bigint, opts?: { account?: string }): Promise<string>;
    /** Withdraws from the signer's balance to `to` (default: the signer). Returns the transaction hash. */
    withdraw(amountWei: bigint, opts?: { to?: string }): Promise<string>;
    /** Requests inference as the signer (the request's consumer). */
    requestInference(modelId: string, input: InferenceInput, options?: RequestOptions): Promise<SentRequest>;
    /** Resolves with the settled outcome once the request is finalized, corrected, voided or cancelled. */
    waitForResult(requestId: bigint, opts?: WaitOptions): Promise<SettledResult>;
    /** The request's events (coordinator and resolver) in chain order. */
    getRequestHistory(requestId: bigint, opts?: { fromBlock?: number }): Promise<RequestEvent[]>;
    /** The struct the coordinator commits to now, the input and the state. */
    getRequest(
        requestId: bigint,
        opts?: { fromBlock?: number },
    ): Promise<{ request: Request; input: Uint8Array; state: RequestState }>;
    /** The settled outcome now, or null while the request is live. */
    getResult(requestId: bigint, opts?: { fromBlock?: number }): Promise<SettledResult | null>;
    /** Cancels an unserved request after its deadline (only its consumer may). Returns the transaction hash. */
    cancel(requestId: bigint, opts?: { fromBlock?: number }): Promise<string>;
    /** Signs an attestation with the client's signer under the coordinator's EIP-712 domain. */
    signAttestation(attestation: Attestation): Promise<string>;
    /** Recovers and checks an attestation's signer and how its stake backs it now. */
    verifyAttestation(
        attestation: Attestation,
        signature: string,
        opts?: { expectedSigner?: string },
    ): Promise<AttestationVerification>;
    /** Compares an attestation with the chain's own re-execution (REEXECUTION models). */
    checkAgainstChain(attestation: Attestation, input: InferenceInput): Promise<ChainCheck>;
    /** Submits a wrong off-chain attestation as a fraud proof (slashes its signer). Returns the transaction hash. */
    proveFraud(attestation: Attestation, signature: string, input: InferenceInput): Promise<string>;
}

/** Canonical input bytes from bytes, hex or tensors. */
export function inputBytes(input: InferenceInput): Uint8Array {
    if (Array.isArray(input)) return encodeTensors(input as readonly Tensor[]);
    if (typeof input === "string" && !isHexString(input)) {
        throw new VeritySdkError("INVALID_ARGUMENT", "input must be bytes, 0x-hex or a list of tensors");
    }
    return getBytes(input as BytesLike);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
        const onAbort = () => {
            clearTimeout(timer);
            reject(new VeritySdkError("ABORTED", "waitForResult aborted", { cause: signal?.reason }));
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

function pendingHint(state: RequestState, request: Request): string {
    switch (state) {
        case "requested":
            return `no operator has submitted yet (deadline ${String(request.deadline)})`;
        case "submitted":
            return `result submitted; challenge window ends at ${String(request.challengeEndsAt)}, then anyone may finalize`;
        case "disputed":
            return "the result is disputed and the dispute is open";
        default:
            return state;
    }
}

/** Builds a client for the coordinator at `options.coordinator`. */
export function createVerityClient(options: ContextOptions): VerityClient {
    const ctx = createContext(options);
    const c = ctx.coordinator;

    async function signerAddress(action: string): Promise<string> {
        return requireSigner(ctx, action).getAddress();
    }

    /** Sends a transaction (see transactions.ts), waits for its receipt, and returns its hash. */
    async function send(action: string, fn: Parameters<typeof sendTransaction>[2]): Promise<string> {
        return (await sendTransaction(ctx, action, fn)).hash;
    }

    // Deposits of one client run one after another: approve sets the allowance (it does not add to it), so two
    // interleaved approve + deposit pairs would leave the second deposit without allowance.
    let deposits: Promise<unknown> = Promise.resolve();

    async function deposit(amountWei: bigint, opts: { account?: string } = {}): Promise<string> {
        const signer = requireSigner(ctx, "deposit");
        if (amountWei <= 0n) throw new VeritySdkError("INVALID_ARGUMENT", "deposit amount must be positive");
        const run = async (): Promise<string> => {
            const owner = await signer.getAddress();
            const account = getAddress(opts.account ?? owner);
            const token = await tokenOf(ctx);
            const allowance = await token.allowance(owner, ctx.coordinatorAddress);
            if (allowance < amountWei) {
                await send("approve", (s, overrides) =>
                    token.connect(s).approve(ctx.coordinatorAddress, amountWei, overrides),
                );
            }
            return send("deposit", (s, overrides) => c.connect(s).deposit(account, amountWei, overrides));
        };
        const result = deposits.then(run, run);
        deposits = result.catch(() => undefined);
        return result;
    }

    async function waitForResult(requestId: bigint, opts: WaitOptions = {}): Promise<SettledResult> {
        const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
        const fromBlock = opts.fromBlock ?? ctx.requestBlocks.get(requestId) ?? 0;
        const logs: Awaited<ReturnType<typeof fetchRequest>>["logs"] = [];
        let next = fromBlock;
        let checkedKnown = false;
        for (;;) {
            if (opts.signal?.aborted) {
                throw new VeritySdkError("ABORTED", "waitForResult aborted", { cause: opts.signal.reason });
            }
            const latest = await ctx.provider.getBlockNumber();
            const head = latest - ctx.confirmations;
            if (head >= next) {
                logs.push(...(await fetchRequest(ctx, requestId, { fromBlock: next, toBlock: head })).logs);
                next = head + 1;
            }
            const events = parseRequestLogs(ctx, logs);
            if (!checkedKnown) {
                if (!events.some((e) => e.name === "InferenceRequested")) {
                    // Not confirmed yet, or unknown: look up to the latest block once.
                    const unconfirmed = await fetchRequest(ctx, requestId, { fromBlock, toBlock: latest });
                    if (!unconfirmed.events.some((e) => e.name === "InferenceRequested")) {
                        throw unknownRequest(requestId, fromBlock);
                    }
                }
                checkedKnown = true;
            }
            if (events.some((e) => e.name === "InferenceRequested")) {
                const settled = await settledResult(ctx, requestId, logs, events, fromBlock);
                if (settled !== null) return settled;
            }
            const remaining = deadline - Date.now();
            if (remaining <= 0) {
                const hint = events.some((e) => e.name === "InferenceRequested")
                    ? pendingHint(stateOf(events), currentRequest(requestId, logs, events, fromBlock).request)
                    : "its InferenceRequested event is not confirmed yet";
                throw new VeritySdkError(
                    "TIMEOUT",
                    `request ${toBeHex(requestId, 32)} not settled after ${String(opts.timeoutMs)} ms: ${hint}`,
                );
            }
            await sleep(Math.min(ctx.pollIntervalMs, remaining), opts.signal);
        }
    }

    async function loadRequest(requestId: bigint, opts: { fromBlock?: number } = {}) {
        const fromBlock = opts.fromBlock ?? ctx.requestBlocks.get(requestId) ?? 0;
        const { logs, events } = await fetchRequest(ctx, requestId, { fromBlock });
        return { logs, events, fromBlock };
    }

    return {
        coordinatorAddress: ctx.coordinatorAddress,
        coordinator: c,

        quoteFee: (modelId, callbackGasLimit = 0) =>
            wrapReverts("quoteFee", () => c.quoteFee(modelId, callbackGasLimit)),

        async balanceOf(account) {
            return c.balanceOf(account ?? (await signerAddress("balanceOf without an account")));
        },

        deposit,

        async withdraw(amountWei, opts = {}) {
            const signer = requireSigner(ctx, "withdraw");
            const to = getAddress(opts.to ?? (await signer.getAddress()));
            return send("withdraw", (s, overrides) => c.connect(s).withdraw(to, amountWei, overrides));
        },

        async requestInference(modelId, input, options = {}) {
            const signer = requireSigner(ctx, "requestInference");
            const consumer = await signer.getAddress();
            const bytes = inputBytes(input);
            const callbackGasLimit = options.callbackGasLimit ?? 0;
            const feeWei = await wrapReverts("quoteFee", () => c.quoteFee(modelId, callbackGasLimit));
            let deadline = options.deadline;
            if (deadline === undefined) {
                const [block, params] = await Promise.all([ctx.provider.getBlock("latest"), c.getParams()]);
                const seconds = options.deadlineSeconds ?? Math.max(3_600, Number(params.minDeadlineSeconds) + 60);
                deadline = (block?.timestamp ?? Math.floor(Date.now() / 1000)) + seconds;
            }
            if (options.deposit === true) {
                const balance = await c.balanceOf(consumer);
                if (balance < feeWei) await deposit(feeWei - balance);
            }
            const requestOptions = {
                callbackGasLimit,
                deadline,
                preferredOperator: options.preferredOperator ?? ZeroAddress,
                maxFeeWei: options.maxFeeWei ?? feeWei,
            };
            const receipt = await sendTransaction(ctx, "requestInference", (s, overrides) =>
                c.connect(s).requestInference(modelId, bytes, requestOptions, overrides),
            );
            const mine = announcedRequests(receipt.logs).find(
                (a) => getAddress(String(a.request.consumer)) === getAddress(consumer),
            );
            if (mine === undefined) throw new VeritySdkError("WRONG_STATE", "requestInference: no InferenceRequested");
            const requestId = BigInt(mine.request.requestId);
            ctx.requestBlocks.set(requestId, receipt.blockNumber);
            return {
                requestId,
                request: mine.request,
                input: bytes,
                feeWei: BigInt(mine.request.feeWei),
                transactionHash: receipt.hash,
                blockNumber: receipt.blockNumber,
            };
        },

        waitForResult,

        async getRequestHistory(requestId, opts = {}) {
            const { events, fromBlock } = await loadRequest(requestId, opts);
            if (!events.some((e) => e.name === "InferenceRequested")) throw unknownRequest(requestId, fromBlock);
            return events;
        },

        async getRequest(requestId, opts = {}) {
            const { logs, events, fromBlock } = await loadRequest(requestId, opts);
            return currentRequest(requestId, logs, events, fromBlock);
        },

        async getResult(requestId, opts = {}) {
            const { logs, events, fromBlock } = await loadRequest(requestId, opts);
            return settledResult(ctx, requestId, logs, events, fromBlock);
        },

        async cancel(requestId, opts = {}) {
            requireSigner(ctx, "cancel");
            const { logs, events, fromBlock } = await loadRequest(requestId, opts);
            const { request, state } = currentRequest(requestId, logs, events, fromBlock);
            if (state !== "requested") {
                throw new VeritySdkError("WRONG_STATE", `cannot cancel request ${toBeHex(requestId, 32)}: ${state}`);
            }
            return send("cancelRequest", (s, overrides) => c.connect(s).cancelRequest(request, overrides));
        },

        signAttestation: (attestation) => signAttestation(ctx, attestation),
        verifyAttestation: (attestation, signature, opts) => verifyAttestation(ctx, attestation, signature, opts),
        checkAgainstChain: (attestation, input) => checkAgainstChain(ctx, attestation, inputBytes(input)),
        proveFraud: (attestation, signature, input) => proveFraud(ctx, attestation, signature, inputBytes(input)),
    };
}

export { buildAttestation };
