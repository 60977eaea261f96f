import { expect } from "chai";
import {
    BACKOFF_FACTOR,
    BACKOFF_INITIAL_MS,
    BACKOFF_JITTER,
    BACKOFF_MAX_MS,
    backoffDelayMs,
    sleep,
    withRetry,
} from "../../../oracle/src/internal/retry";
import { PermanentError, RetryableError } from "../../../oracle/src/internal/errors";

/** A sleep that records the waits instead of waiting. */
function recordingSleep(waits: number[]) {
    return async (ms: number): Promise<void> => {
        waits.push(ms);
    };
}

describe("oracle/internal/retry", function () {
    describe("backoffDelayMs", function () {
        it("grows by BACKOFF_FACTOR from BACKOFF_INITIAL_MS up to BACKOFF_MAX_MS, without jitter at random 0.5", function () {
            const mid = (): number => 0.5;
            expect(backoffDelayMs(1, mid)).to.equal(BACKOFF_INITIAL_MS);
            expect(backoffDelayMs(2, mid)).to.equal(BACKOFF_INITIAL_MS * BACKOFF_FACTOR);
            expect(backoffDelayMs(3, mid)).to.equal(BACKOFF_INITIAL_MS * BACKOFF_FACTOR ** 2);
            expect(backoffDelayMs(50, mid)).to.equal(BACKOFF_MAX_MS);
        });

        it("keeps the jitter within ±BACKOFF_JITTER", function () {
            expect(backoffDelayMs(1, () => 0)).to.equal(Math.round(BACKOFF_INITIAL_MS * (1 - BACKOFF_JITTER)));
            expect(backoffDelayMs(1, () => 0.999999)).to.be.at.most(
                Math.round(BACKOFF_INITIAL_MS * (1 + BACKOFF_JITTER)),
            );
        });
    });

    describe("withRetry", function () {
        it("retries transient faults with growing waits and returns the eventual result", async function () {
            const waits: number[] = [];
            let calls = 0;
            const result = await withRetry(
                async (attempt) => {
                    calls++;
                    if (attempt < 4) throw new RetryableError("RPC_DOWN", "down");
                    return "ok";
                },
                { sleep: recordingSleep(waits), random: () => 0.5 },
            );
            expect(result).to.equal("ok");
            expect(calls).to.equal(4);
            expect(waits).to.deep.equal([250, 500, 1_000]);
        });

        it("throws a permanent error at once, unchanged", async function () {
            const waits: number[] = [];
            const permanent = new PermanentError("REVERTED", "CoordinatorUnknownRequest");
            let calls = 0;
            const error = await withRetry(
                async () => {
                    calls++;
                    throw permanent;
                },
                { sleep: recordingSleep(waits) },
            ).catch((e: unknown) => e);
            expect(error).to.equal(permanent);
            expect(calls).to.equal(1);
            expect(waits).to.deep.equal([]);
        });

        it("gives up after maxAttempts with the last error", async function () {
            const waits: number[] = [];
            let calls = 0;
            const error = await withRetry(
                async (attempt) => {
                    calls++;
                    throw new RetryableError("RPC_DOWN", `attempt ${attempt}`);
                },
                { maxAttempts: 3, sleep: recordingSleep(waits) },
            ).catch((e: unknown) => e);
            expect(calls).to.equal(3);
            expect(waits).to.have.length(2);
            expect((error as Error).message).to.equal("attempt 3");
        });

        it("reports each retry to onRetry", async function () {
            const seen: number[] = [];
            await withRetry(
                async (attempt) => {
                    if (attempt < 3) throw new RetryableError("X", "x");
                },
                { sleep: recordingSleep([]), onRetry: ({ attempt }) => seen.push(attempt) },
            );
            expect(seen).to.deep.equal([1, 2]);
        });

        it("stops waiting when aborted, with the abort reason", async function () {
            const controller = new AbortController();
            const started = withRetry(
                async () => {
                    throw new RetryableError("X", "x");
                },
                { signal: controller.signal, random: () => 0.5 },
            );
            const reason = new Error("shutting down");
            setTimeout(() => controller.abort(reason), 10);
            expect(await started.catch((e: unknown) => e)).to.equal(reason);
        });

        it("rejects a non-positive attempt count (RangeError)", async function () {
            const error = await withRetry(async () => 1, { maxAttempts: 0 }).catch((e: unknown) => e);
            expect(error).to.be.instanceOf(RangeError);
        });
    });

    describe("sleep", function () {
        it("rejects at once when the signal is already aborted", async function () {
            const controller = new AbortController();
            controller.abort(new Error("gone"));
            expect(((await sleep(10_000, controller.signal).catch((e: unknown) => e)) as Error).message).to.equal(
                "gone",
            );
        });
    });
});
