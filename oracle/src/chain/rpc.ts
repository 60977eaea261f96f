/**
 * A small JSON-RPC client over HTTP with the node's fault model built in.
 *
 * The node talks to the chain through this client only (not an ethers Provider), so that every fault is
 * classified in one place: transport faults and overload are `RetryableError`s and are retried with backoff;
 * reverts are `RevertError`s and never are; transaction-pool answers ("nonce too low", "already known",
 * "replacement underpriced") are `TxPoolError`s, which the transaction sender interprets. ethers is used only for
 * ABI coding, hashing and signing.
 */
import { VerityError, PermanentError, RetryableError, revertData, shouldRetry } from "../internal/errors";
import { withRetry, type RetryOptions } from "../internal/retry";

/** Default time one JSON-RPC call may take before it counts as a transport fault. */
export const RPC_TIMEOUT_MS = 15_000;

/** JSON-RPC error codes meaning "overloaded / try later". -32603 is included only when no revert is attached. */
const RETRYABLE_JSON_RPC_CODES: ReadonlySet<number> = new Set([-32005, -32603, -32002, 429]);

/** A call that reverted (eth_call, eth_estimateGas, or a transaction rejected for reverting). Never retried. */
export class RevertError extends PermanentError {
    /** ABI-encoded revert data (custom error or Error(string)), "0x" when the node gave none. */
    readonly data: string;

    constructor(method: string, message: string, data: string) {
        super("CALL_REVERTED", `${method} reverted: ${message}`);
        this.data = data;
    }
}

/** What the transaction pool said about a raw transaction. */
export type TxPoolErrorKind =
    "nonce_too_low" | "nonce_too_high" | "already_known" | "underpriced" | "insufficient_funds";

/** A raw transaction refused by the pool for a reason the transaction sender handles itself. */
export class TxPoolError extends PermanentError {
    readonly kind: TxPoolErrorKind;

    constructor(kind: TxPoolErrorKind, message: string) {
        super(`TX_${kind.toUpperCase()}`, message);
        this.kind = kind;
    }
}

/** Any other JSON-RPC error answer. Retryable when the code says the node is overloaded. */
export class RpcError extends VerityError {
    readonly rpcCode: number;

    constructor(method: string, rpcCode: number, message: string) {
        super("RPC_ERROR", `${method}: JSON-RPC error ${rpcCode}: ${message}`);
        this.rpcCode = rpcCode;
    }
}

class RetryableRpcError extends RetryableError {}

const TX_POOL_PATTERNS: readonly [RegExp, TxPoolErrorKind][] = [
    [/nonce too low|nonce has already been used|is lower than the current nonce/i, "nonce_too_low"],
    // An earlier nonce of ours is not in the pool yet (Hardhat's automine cannot queue): send that one first.
    [/nonce too high|nonce gap/i, "nonce_too_high"],
    [/already known|known transaction|already imported|already in the mempool/i, "already_known"],
    // anvil (and reth) refuse a transaction whose fee cap is under the block's base fee, where geth keeps it pooled
    // until the fee falls: either way it is mined once the base fee is back under its cap (or it is bumped).
    [/underpriced|fee too low|replacement fee too low|less than (the )?block base fee/i, "underpriced"],
    [/insufficient funds/i, "insufficient_funds"],
];

/**
 * A call that halted instead of returning or reverting (an invalid opcode, out of gas, a stack overflow), as anvil
 * words it: "EVM error InvalidFEOpcode" (JSON-RPC -32603, which otherwise means an overloaded node) and, from
 * eth_estimateGas, "Out of gas: gas required exceeds allowance: …". Deterministic, like a revert without data.
 */
const EVM_HALT = /^(EVM error |out of gas: )/i;

/** Turns a JSON-RPC error object into the right error class. Exported for tests. */
export function classifyRpcError(method: string, error: { code?: unknown; message?: unknown; data?: unknown }): Error {
    const code = typeof error.code === "number" ? error.code : 0;
    const message = typeof error.message === "string" ? error.message : "unknown error";
    const data = revertData(error);
    if (data !== undefined || /revert|VM Exception/i.test(message) || EVM_HALT.test(message)) {
        return new RevertError(method, message, data ?? "0x");
    }
    for (const [pattern, kind] of TX_POOL_PATTERNS) {
        if (pattern.test(message)) return new TxPoolError(kind, `${method}: ${message}`);
    }
    // "header not found" / "unknown block": a load-balanced backend behind the head; the next one may have it.
    if (
        RETRYABLE_JSON_RPC_CODES.has(code) ||
        /rate limit|too many requests|timeout|try again|header not found|unknown block/i.test(message)
    ) {
        return new RetryableRpcError("RPC_OVERLOADED", `${method}: JSON-RPC error ${code}: ${message}`);
    }
    return new RpcError(method, code, message);
}

export interface RpcClientOptions {
    url: string;
    /** Per-call timeout. Default RPC_TIMEOUT_MS. */
    timeoutMs?: number;
    /** Retry policy of `call` (attempts, signal). */
    retry?: Omit<RetryOptions, "onRetry">;
    /** Observes every failed attempt (for logs and metrics). */
    onError?: (method: string, error: unknown, retryable: boolean) => void;
    /**
     * Calls made in the same event-loop turn travel as one JSON-RPC batch (one HTTP round trip) of at most this
     * many; 1 (the default) sends every call on its own. An endpoint that refuses batches is detected on the first
     * one: its calls are then sent singly, for good, and `onBatchRefused` says why.
     */
    maxBatchSize?: number;
    /** Called once if the endpoint refuses batches (batching is then off for this client). */
    onBatchRefused?: (reason: string) => void;
}

/** The JSON-RPC answer fields the client reads. */
interface Answer {
    id?: unknown;
    result?: unknown;
    error?: { code?: unknown; message?: unknown; data?: unknown } | null;
}

/** A call waiting in the current batch. */
interface Queued {
    id: number;
    method: string;
    params: readonly unknown[];
    resolve(value: unknown): void;
    reject(error: unknown): void;
}

/** What one HTTP exchange gave: the parsed body, or the fault that stopped it. */
type Exchange = { ok: true; body: unknown } | { ok: false; status: number } | { ok: false; error: RetryableRpcError };

let nextId = 1;

/**
 * JSON-RPC over HTTP: `send` is one attempt, `call` retries transient faults. With `maxBatchSize` > 1, calls made
 * in the same event-loop turn share one HTTP request (a JSON-RPC batch, answered in any order and matched by id);
 * each call still gets its own result or error, classified as if it had been sent alone. The calls of a batch are
 * written in the order they were made, which is the order a node applies transactions sent in one batch.
 */
export class RpcClient {
    readonly url: string;
    /** Scheme, host and port only: what error messages show (provider URLs often carry an API key). */
    readonly origin: string;
    private readonly timeoutMs: number;
    private readonly retry: Omit<RetryOptions, "onRetry">;
    private readonly onError?: RpcClientOptions["onError"];
    private readonly onBatchRefused?: RpcClientOptions["onBatchRefused"];
    private maxBatchSize: number;
    private queue: Queued[] = [];
    private flushScheduled = false;

    constructor(options: RpcClientOptions) {
        this.url = options.url;
        this.origin = new URL(options.url).origin;
        this.timeoutMs = options.timeoutMs ?? RPC_TIMEOUT_MS;
        this.retry = options.retry ?? {};
        this.onError = options.onError;
        this.onBatchRefused = options.onBatchRefused;
        const size = options.maxBatchSize ?? 1;
        if (!Number.isInteger(size) || size < 1) {
            throw new RangeError(`maxBatchSize must be a positive integer, got ${size}`);
        }
        this.maxBatchSize = size;
    }

    /** Whether calls made together travel as one batch (false when configured off or refused by the endpoint). */
    get batching(): boolean {
        return this.maxBatchSize > 1;
    }

    /** One attempt. Transport faults and HTTP 5xx/429 become RetryableError; error answers are classified. */
    send<T>(method: string, params: readonly unknown[]): Promise<T> {
        const id = nextId++;
        if (!this.batching) return this.sendAlone<T>(id, method, params);
        return new Promise<T>((resolve, reject) => {
            this.queue.push({ id, method, params, resolve: resolve as (value: unknown) => void, reject });
            if (this.flushScheduled) return;
            this.flushScheduled = true;
            // After every call this turn (and the promise continuations it runs) has made.
            setImmediate(() => {
                this.flushScheduled = false;
                const queued = this.queue;
                this.queue = [];
                for (let i = 0; i < queued.length; i += this.maxBatchSize) {
                    void this.sendBatch(queued.slice(i, i + this.maxBatchSize));
                }
            });
        });
    }

    /** `send` with retries of transient faults (exponential backoff); reverts and pool errors are thrown at once. */
    call<T>(method: string, params: readonly unknown[], options: { maxAttempts?: number } = {}): Promise<T> {
        return withRetry(() => this.send<T>(method, params), {
            ...this.retry,
            ...options,
            onRetry: ({ error }) => this.onError?.(method, error, true),
        }).catch((error: unknown) => {
            this.onError?.(method, error, shouldRetry(error));
            throw error;
        });
    }

    private async sendAlone<T>(id: number, method: string, params: readonly unknown[]): Promise<T> {
        const exchange = await this.post(JSON.stringify({ jsonrpc: "2.0", id, method, params }), method);
        if (!exchange.ok) throw this.exchangeFault(exchange, method);
        return answerOf(method, exchange.body) as T;
    }

    /** Sends `calls` as one batch (a lone call as a plain request) and settles each from its own answer. */
    private async sendBatch(calls: Queued[]): Promise<void> {
        const settleAlone = (call: Queued): void => {
            this.sendAlone(call.id, call.method, call.params).then(call.resolve, call.reject);
        };
        if (calls.length === 1 || !this.batching) {
            calls.forEach(settleAlone);
            return;
        }
        const what = `batch of ${calls.length} calls (${[...new Set(calls.map((c) => c.method))].join(", ")})`;
        const body = JSON.stringify(calls.map(({ id, method, params }) => ({ jsonrpc: "2.0", id, method, params })));
        const exchange = await this.post(body, what);
        // The endpoint answered the batch as a whole with an HTTP error or a single error object: it does not take
        // batches (or not this large). Send these alone and every later call too.
        if (exchange.ok && !Array.isArray(exchange.body)) {
            // One answer for the whole batch. An overload answer (a rate limiter's -32005) is a transient fault of
            // every call in it; any other error says batches are not taken.
            const error = (exchange.body as Answer | null)?.error;
            const fault = error === undefined || error === null ? undefined : classifyRpcError(what, error);
            if (fault !== undefined && shouldRetry(fault)) {
                for (const call of calls) call.reject(retagged(fault, call.method));
                return;
            }
        }
        const refusal = !exchange.ok
            ? "status" in exchange && exchange.status < 500 && exchange.status !== 429
                ? `HTTP ${exchange.status}`
                : undefined
            : Array.isArray(exchange.body)
              ? undefined
              : `answered with ${describeBody(exchange.body)}`;
        if (refusal !== undefined) {
            this.refuseBatching(refusal);
            calls.forEach(settleAlone);
            return;
        }
        if (!exchange.ok) {
            const fault = this.exchangeFault(exchange, what);
            for (const call of calls) call.reject(retagged(fault, call.method));
            return;
        }
        const answers = new Map<unknown, unknown>();
        for (const answer of exchange.body as unknown[]) {
            if (typeof answer === "object" && answer !== null) answers.set((answer as Answer).id, answer);
        }
        if (answers.size === 0 || (answers.size === 1 && answers.has(null))) {
            // Only an error not tied to any call (id null): the batch itself was refused.
            this.refuseBatching(`answered with ${describeBody(exchange.body)}`);
            calls.forEach(settleAlone);
            return;
        }
        for (const call of calls) {
            const answer = answers.get(call.id);
            if (answer === undefined) {
                call.reject(
                    new RetryableRpcError("RPC_BAD_RESPONSE", `${call.method}: the batch answer has no entry for it`),
                );
                continue;
            }
            try {
                call.resolve(answerOf(call.method, answer));
            } catch (error) {
                call.reject(error);
            }
        }
    }

    private refuseBatching(reason: string): void {
        if (!this.batching) return;
        this.maxBatchSize = 1;
        this.onBatchRefused?.(reason);
    }

    /** One HTTP POST of `body`; `what` names the call(s) in faults. */
    private async post(body: string, what: string): Promise<Exchange> {
        let response: Response;
        let text: string;
        try {
            response = await fetch(this.url, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body,
                // The call's own timeout, or shutdown, whichever comes first.
                signal:
                    this.retry.signal === undefined
                        ? AbortSignal.timeout(this.timeoutMs)
                        : AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.retry.signal]),
            });
            text = await response.text();
        } catch (cause) {
            return {
                ok: false,
                error: new RetryableRpcError("RPC_UNREACHABLE", `${what}: ${this.origin} did not answer`, { cause }),
            };
        }
        if (!response.ok) return { ok: false, status: response.status };
        try {
            return { ok: true, body: JSON.parse(text) };
        } catch (cause) {
            // A truncated or garbled body is a transport fault: the same call may well succeed.
            return {
                ok: false,
                error: new RetryableRpcError("RPC_BAD_RESPONSE", `${what}: response is not JSON`, { cause }),
            };
        }
    }

    /** The error a failed exchange means for `what`. */
    private exchangeFault(exchange: Exclude<Exchange, { ok: true }>, what: string): Error {
        if ("error" in exchange) return exchange.error;
        const message = `${what}: HTTP ${exchange.status} from ${this.origin}`;
        return exchange.status === 429 || exchange.status >= 500
            ? new RetryableRpcError("RPC_HTTP_STATUS", message)
            : new PermanentError("RPC_HTTP_STATUS", message);
    }
}

/** The result of one JSON-RPC answer, or the classified error it carries. */
function answerOf(method: string, parsed: unknown): unknown {
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new RetryableRpcError("RPC_BAD_RESPONSE", `${method}: response is not a JSON-RPC object`);
    }
    const answer = parsed as Answer;
    if (answer.error !== undefined && answer.error !== null) throw classifyRpcError(method, answer.error);
    if (!("result" in answer)) {
        throw new RetryableRpcError("RPC_BAD_RESPONSE", `${method}: response has neither result nor error`);
    }
    return answer.result;
}

/** A short description of an unexpected answer, for the batch-refused notice. */
function describeBody(body: unknown): string {
    const text = JSON.stringify(body) ?? String(body);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** A batch-wide fault, named after one call of the batch (each call's retry and log see its own method). */
function retagged(fault: Error, method: string): Error {
    if (!(fault instanceof VerityError)) return fault;
    const message = `${method} (in a ${fault.message})`;
    return fault instanceof RetryableError
        ? new RetryableRpcError(fault.code, message, { cause: fault })
        : new PermanentError(fault.code, message, { cause: fault });
}

// -------------------------------------------------------------------------------------------------------------
// Typed helpers for the calls the node makes
// -------------------------------------------------------------------------------------------------------------

/** Parses a JSON-RPC quantity, refusing anything else (a malformed answer must not become NaN). */
export function quantity(value: unknown, what: string): bigint {
    if (typeof value !== "string" || !/^0x[0-9a-fA-F]+$/.test(value)) {
        throw new RetryableRpcError(
            "RPC_BAD_RESPONSE",
            `${what}: expected a hex quantity, got ${JSON.stringify(value)}`,
        );
    }
    return BigInt(value);
}

export function toQuantity(value: bigint | number): string {
    return `0x${value.toString(16)}`;
}

/** The header fields the node uses. */
export interface BlockHeader {
    number: number;
    hash: string;
    parentHash: string;
    timestamp: number;
    baseFeePerGas: bigint;
}

/** A log as returned by eth_getLogs, typed. */
export interface RpcLog {
    address: string;
    topics: string[];
    data: string;
    blockNumber: number;
    blockHash: string;
    transactionHash: string;
    index: number;
    removed: boolean;
}

export interface TransactionReceipt {
    transactionHash: string;
    blockNumber: number;
    blockHash: string;
    status: 0 | 1;
    gasUsed: bigint;
    effectiveGasPrice: bigint;
    logs: RpcLog[];
}

function parseLog(raw: Record<string, unknown>): RpcLog {
    return {
        address: String(raw.address),
        topics: (raw.topics as string[]) ?? [],
        data: String(raw.data),
        blockNumber: Number(quantity(raw.blockNumber, "log.blockNumber")),
        blockHash: String(raw.blockHash),
        transactionHash: String(raw.transactionHash),
        index: Number(quantity(raw.logIndex, "log.logIndex")),
        removed: raw.removed === true,
    };
}

/** The chain calls the node makes, typed and validated. Every method retries transient faults. */
export class ChainClient {
    constructor(readonly rpc: RpcClient) {}

    /** The chain id. `maxAttempts` bounds retries (start-up uses few, so a wrong URL fails fast and clearly). */
    async chainId(maxAttempts?: number): Promise<number> {
        const options = maxAttempts === undefined ? {} : { maxAttempts };
        return Number(quantity(await this.rpc.call("eth_chainId", [], options), "eth_chainId"));
    }

    async blockNumber(): Promise<number> {
        return Number(quantity(await this.rpc.call("eth_blockNumber", []), "eth_blockNumber"));
    }

    /** The header of block `tag` (a number or "latest"), or null if the node does not have it. */
    async getBlock(tag: number | "latest"): Promise<BlockHeader | null> {
        const raw = await this.rpc.call<Record<string, unknown> | null>("eth_getBlockByNumber", [
            typeof tag === "number" ? toQuantity(tag) : tag,
            false,
        ]);
        if (raw === null) return null;
        if (typeof raw.hash !== "string") {
            throw new RetryableRpcError("RPC_BAD_RESPONSE", `eth_getBlockByNumber(${tag}): block without hash`);
        }
        return {
            number: Number(quantity(raw.number, "block.number")),
            hash: raw.hash,
            parentHash: String(raw.parentHash),
            timestamp: Number(quantity(raw.timestamp, "block.timestamp")),
            baseFeePerGas: raw.baseFeePerGas === undefined ? 0n : quantity(raw.baseFeePerGas, "block.baseFeePerGas"),
        };
    }

    async getLogs(filter: {
        address: string;
        fromBlock: number;
        toBlock: number;
        topics: (string | string[] | null)[];
    }): Promise<RpcLog[]> {
        const raw = await this.rpc.call<Record<string, unknown>[]>("eth_getLogs", [
            {
                address: filter.address,
                fromBlock: toQuantity(filter.fromBlock),
                toBlock: toQuantity(filter.toBlock),
                topics: filter.topics,
            },
        ]);
        if (!Array.isArray(raw)) throw new RetryableRpcError("RPC_BAD_RESPONSE", "eth_getLogs: result is not a list");
        return raw.map(parseLog);
    }

    /** eth_call at "latest"; reverts throw RevertError. */
    async call(to: string, data: string, from?: string): Promise<string> {
        return this.rpc.call<string>("eth_call", [{ to, data, ...(from ? { from } : {}) }, "latest"]);
    }

    async estimateGas(tx: { from: string; to: string; data: string }): Promise<bigint> {
        return quantity(await this.rpc.call("eth_estimateGas", [tx]), "eth_estimateGas");
    }

    async getTransactionCount(address: string, tag: "latest" | "pending"): Promise<number> {
        return Number(quantity(await this.rpc.call("eth_getTransactionCount", [address, tag]), "nonce"));
    }

    async getBalance(address: string): Promise<bigint> {
        return quantity(await this.rpc.call("eth_getBalance", [address, "latest"]), "eth_getBalance");
    }

    /** The node's suggested priority fee, or `fallback` if it does not implement eth_maxPriorityFeePerGas. */
    async maxPriorityFeePerGas(fallback: bigint): Promise<bigint> {
        try {
            return quantity(await this.rpc.call("eth_maxPriorityFeePerGas", []), "eth_maxPriorityFeePerGas");
        } catch (error) {
            if (error instanceof RpcError) return fallback;
            throw error;
        }
    }

    /** Broadcasts a signed transaction once (the sender decides about retries); returns its hash. */
    async sendRawTransaction(raw: string): Promise<string> {
        return this.rpc.call<string>("eth_sendRawTransaction", [raw], { maxAttempts: 3 });
    }

    async getTransactionReceipt(hash: string): Promise<TransactionReceipt | null> {
        const raw = await this.rpc.call<Record<string, unknown> | null>("eth_getTransactionReceipt", [hash]);
        if (raw === null) return null;
        if (raw.blockNumber === null || raw.blockNumber === undefined) return null;
        return {
            transactionHash: String(raw.transactionHash),
            blockNumber: Number(quantity(raw.blockNumber, "receipt.blockNumber")),
            blockHash: String(raw.blockHash),
            status: quantity(raw.status, "receipt.status") === 1n ? 1 : 0,
            gasUsed: quantity(raw.gasUsed, "receipt.gasUsed"),
            effectiveGasPrice:
                raw.effectiveGasPrice === undefined ? 0n : quantity(raw.effectiveGasPrice, "receipt.effectiveGasPrice"),
            logs: ((raw.logs as Record<string, unknown>[]) ?? []).map(parseLog),
        };
    }

    /** Whether the node still knows the transaction (mined or in its pool). */
    async hasTransaction(hash: string): Promise<boolean> {
        return (await this.rpc.call<unknown>("eth_getTransactionByHash", [hash])) !== null;
    }
}

/**
 * Whether the chain mines a block only when a transaction arrives (a development chain's automine: Hardhat, anvil
 * without `--block-time`). On such a chain nothing else makes blocks, so an event waiting for `confirmations` more
 * blocks waits for that many unrelated transactions. Asked with Hardhat's `hardhat_getAutomine` (anvil answers it
 * too) and anvil's own `anvil_getAutomine`; a chain that knows neither (any production chain) does not automine.
 */
export async function chainAutomines(send: (method: string, params: unknown[]) => Promise<unknown>): Promise<boolean> {
    for (const method of ["hardhat_getAutomine", "anvil_getAutomine"]) {
        try {
            return (await send(method, [])) === true;
        } catch {
            // Method unknown to this chain (or the call failed): try the other name, else assume a real chain.
        }
    }
    return false;
}
