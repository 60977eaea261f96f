/** The node's graceful stop, once its loop has ended: in-flight inferences get a grace period, then the executor closes. */
import type { Logger } from "../internal/logger";
import { sleep } from "../internal/retry";
import type { Executor } from "../runtime/executor";

/** How long shutdown waits for in-flight inferences before closing anyway. */
export const SHUTDOWN_GRACE_MS = 10_000;
/** How long shutdown waits for the executor to close after the grace period ran out. */
const SHUTDOWN_CLOSE_WAIT_MS = 1_000;

/**
 * Waits for `drains` (the roles' in-flight inferences) up to SHUTDOWN_GRACE_MS, then closes the executor: waiting
 * for it when everything drained, at most SHUTDOWN_CLOSE_WAIT_MS otherwise (the requests of runs still going stay
 * pending in the store; a result that arrives after the store is closed is simply not saved). Never throws.
 */
export async function drainAndClose(
    drains: readonly Promise<unknown>[],
    executor: Executor,
    logger: Logger,
): Promise<void> {
    // The grace timers are cancelled once the race is decided: a pending one would keep the process (a CLI, a test,
    // the bench) alive for the rest of the grace period.
    const timers = new AbortController();
    try {
        const expired = (ms: number) =>
            sleep(ms, timers.signal).then(
                () => false,
                () => false,
            );
        const drained = await Promise.race([Promise.all(drains).then(() => true), expired(SHUTDOWN_GRACE_MS)]);
        if (!drained) logger.warn("in-flight inferences did not finish in time; they stay pending for the next start");
        const closing = executor.close().catch(() => undefined);
        if (drained) await closing;
        else await Promise.race([closing, expired(SHUTDOWN_CLOSE_WAIT_MS)]);
    } finally {
        timers.abort();
    }
}
