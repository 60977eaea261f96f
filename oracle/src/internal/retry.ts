/**
 * Exponential backoff with jitter for transient faults, driven by `shouldRetry`. Reverts and other permanent
 * errors are thrown at once; an abort signal stops waiting immediately.
 */
import { shouldRetry } from "./errors";

/** First wait after a failure. */
export const BACKOFF_INITIAL_MS = 250;
/** Each wait is this many times the previous one... */
export const BACKOFF_FACTOR = 2;
/** ...up to this cap. */
export const BACKOFF_MAX_MS = 30_000;
/** Each wait is randomized by up to ± this fraction, so many clients do not retry in lockstep. */
export const BACKOFF_JITTER = 0.2;
/** Attempts (the first try included) before giving up. */
export const DEFAULT_MAX_ATTEMPTS = 8;

export interface RetryOptions {
    /** Attempts in total, the first included. Default DEFAULT_MAX_ATTEMPTS. */
    maxAttempts?: number;
    /** Stops waiting and rethrows when aborted. */
    signal?: AbortSignal;
    /** Called before each wait, e.g. to log the fault. */
    onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
    /** Random source in [0, 1), for tests. */
    random?: () => number;
    /** Sleep function, for tests. */
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The wait before retry number `attempt` (1 for the first retry). */
export function backoffDelayMs(attempt: number, random: () => number = Math.random): number {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * BACKOFF_FACTOR ** Math.max(0, attempt - 1));
    const jitter = 1 + BACKOFF_JITTER * (2 * random() - 1);
    return Math.round(base * jitter);
}

/** Resolves after `ms`, or rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) {
            reject(signal.reason);
            return;
        }
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        const onAbort = (): void => {
            clearTimeout(timer);
            reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

/**
 * Runs `operation` until it succeeds, a permanent error occurs, the attempts run out, or `signal` aborts.
 * The last error is rethrown unchanged.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
    }
    const wait = options.sleep ?? sleep;
    for (let attempt = 1; ; attempt++) {
        options.signal?.throwIfAborted();
        try {
            return await operation(attempt);
        } catch (error) {
            if (attempt >= maxAttempts || !shouldRetry(error)) throw error;
            const delayMs = backoffDelayMs(attempt, options.random);
            options.onRetry?.({ attempt, delayMs, error });
            await wait(delayMs, options.signal);
        }
    }
}
