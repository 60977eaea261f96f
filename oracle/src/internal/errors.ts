/**
 * The node's error model: one base class with a stable `code` and a `cause`, a subclass for faults worth
 * retrying, and one classifier (`shouldRetry`) that every retry loop uses. Reverts are never retried.
 *
 * No imports: the inference workers and the CLI's entry load this module first, and ethers (whose error codes it
 * reads as plain fields) takes longer to load than a worker takes to start.
 */

/** Base of every error the node raises itself. `code` is stable and machine-readable. */
export class VerityError extends Error {
    readonly code: string;

    constructor(code: string, message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = new.target.name;
        this.code = code;
    }
}

/** A fault that may go away if the same operation is tried again (network, rate limit, node overloaded). */
export class RetryableError extends VerityError {}

/** A fault that will not go away by retrying (bad input, a revert, a wrong config). */
export class PermanentError extends VerityError {}

/** ethers error codes of transport-level faults: the request may not have reached the node. */
const RETRYABLE_ETHERS_CODES: ReadonlySet<string> = new Set(["NETWORK_ERROR", "TIMEOUT", "SERVER_ERROR"]);

/** JSON-RPC error codes that mean "try again later" (rate limits, overload, resource unavailable). */
const RETRYABLE_RPC_CODES: ReadonlySet<number> = new Set([-32005, -32603, 429]);

/** HTTP statuses worth a retry. */
const RETRYABLE_HTTP_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Node.js socket error codes worth a retry. */
const RETRYABLE_SOCKET_CODES: ReadonlySet<string> = new Set([
    "ECONNRESET",
    "ECONNREFUSED",
    "ETIMEDOUT",
    "EPIPE",
    "EAI_AGAIN",
    "ENOTFOUND",
    "UND_ERR_SOCKET",
    "UND_ERR_CONNECT_TIMEOUT",
]);

function field(value: unknown, key: string): unknown {
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Whether `err` is worth retrying. The one place that decides it.
 *
 * - VerityError subclasses say so themselves.
 * - Reverts (ethers CALL_EXCEPTION, with or without revert data) never are: the same call reverts again.
 * - Transport faults (ethers NETWORK_ERROR, TIMEOUT, SERVER_ERROR, socket errors, HTTP 408/425/429/5xx) and
 *   JSON-RPC "limit exceeded" / internal errors are.
 * - Anything unrecognised is not: a bug should surface, not loop.
 */
export function shouldRetry(err: unknown): boolean {
    if (err instanceof RetryableError) return true;
    if (err instanceof VerityError) return false;
    const code = field(err, "code");
    if (code === "CALL_EXCEPTION") return false; // ethers' isError(err, "CALL_EXCEPTION")
    if (typeof code === "string" && (RETRYABLE_ETHERS_CODES.has(code) || RETRYABLE_SOCKET_CODES.has(code))) {
        return true;
    }
    if (typeof code === "number" && RETRYABLE_RPC_CODES.has(code)) return true;
    const status = field(field(err, "response"), "status") ?? field(err, "status");
    if (typeof status === "number" && RETRYABLE_HTTP_STATUSES.has(status)) return true;
    // ethers wraps JSON-RPC errors: { code: "UNKNOWN_ERROR", error: { code: -32005, message } }.
    const inner = field(err, "error");
    if (inner !== undefined && inner !== err) return shouldRetry(inner);
    const cause = field(err, "cause");
    if (cause !== undefined && cause !== err) return shouldRetry(cause);
    return false;
}

/**
 * `error` and the errors nested in it, outermost first (ethers wraps the node's JSON-RPC error as `error` or
 * `info.error`), at most five deep.
 */
export function* errorChain(error: unknown): Generator<object> {
    for (let e: unknown = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
        yield e;
        e = field(e, "error") ?? field(field(e, "info"), "error");
    }
}

/** Revert data as a node returns it: `0x` and whole bytes. */
const HEX_DATA = /^0x([0-9a-fA-F]{2})*$/;

/** Where ethers, Hardhat and JSON-RPC errors nest the error (or object) that carries the revert data. */
const REVERT_DATA_KEYS = ["data", "error", "info", "cause", "revert"] as const;

/** How deep `revertData` looks: the error itself and five levels of nesting. */
const REVERT_DATA_DEPTH = 5;

/**
 * The revert data a failed call or transaction carries, wherever the error holds it: its own `data` (an ethers
 * CALL_EXCEPTION, a JSON-RPC error object), `data.data`, `error.data` at any depth (ethers wrapping the node's
 * JSON-RPC error), `info.error.data`, or a wrapper's `cause`. The one place that decides it.
 *
 * Data with a 4-byte selector wins over shorter data found first; empty data (`0x`, a revert without data) or data
 * too short for a selector is returned when that is all there is; undefined when the error carries no hex data.
 */
export function revertData(error: unknown): string | undefined {
    let short: string | undefined;
    const seen = new Set<object>();
    const visit = (e: unknown, depth: number): string | undefined => {
        if (typeof e !== "object" || e === null || depth > REVERT_DATA_DEPTH || seen.has(e)) return undefined;
        seen.add(e);
        const data = field(e, "data");
        if (typeof data === "string" && HEX_DATA.test(data)) {
            if (data.length >= 10) return data;
            short ??= data;
        }
        for (const key of REVERT_DATA_KEYS) {
            const found = visit(field(e, key), depth + 1);
            if (found !== undefined) return found;
        }
        return undefined;
    };
    return visit(error, 0) ?? short;
}

/**
 * The JSON-RPC node's own error message: inside an ethers error (`info.error.message`, or a nested `error`), or
 * a provider error's own (Hardhat's in-process one), e.g. "invalid opcode" from a chain without Cancun; undefined
 * when there is none.
 */
export function rpcMessage(error: unknown): string | undefined {
    let outermost = true;
    for (const e of errorChain(error)) {
        const message = field(e, "message");
        if (!outermost && typeof message === "string" && message.length > 0) return message;
        outermost = false;
    }
    // A provider error that is not an ethers wrapper (Hardhat's in-process one) carries the node's text itself.
    const own = field(error, "message");
    if (typeof own === "string" && own.length > 0 && field(error, "shortMessage") === undefined) return own;
    return undefined;
}

/** A short description of any thrown value, for logs (never includes stack traces or secrets). */
export function describeError(err: unknown): { code: string; message: string } {
    if (err instanceof VerityError) return { code: err.code, message: err.message };
    const code = field(err, "code");
    const short = field(err, "shortMessage");
    let message = short ?? field(err, "message");
    // ethers' "missing revert data" says nothing; what the node said (an invalid opcode, out of gas) does.
    const said = typeof short === "string" ? rpcMessage(err) : undefined;
    if (typeof message === "string" && said !== undefined && !message.includes(said)) {
        message = `${message}; the RPC said: ${said}`;
    }
    return {
        code: typeof code === "string" || typeof code === "number" ? String(code) : "UNKNOWN",
        message: typeof message === "string" ? message : String(err),
    };
}
