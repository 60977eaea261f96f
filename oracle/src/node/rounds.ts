/**
 * The main loop's rhythm: a round, then sleep until the next poll (`pollIntervalMs`), until work becomes ready
 * (`requestRound`), or until shutdown; then at least `minGapMs` more, so that a stream of finished inferences cannot
 * turn the loop into a busy poll of the RPC endpoint. Work that becomes ready during a round gets the next round at
 * once: its steps may have read the store before it was ready.
 */
import { sleep } from "../internal/retry";

export class Rounds {
    readonly #signal: AbortSignal;
    readonly #pollIntervalMs: number;
    readonly #minGapMs: number;
    #waiters: (() => void)[] = [];
    #wake: (() => void) | undefined;
    #requested = false;

    constructor(options: { signal: AbortSignal; pollIntervalMs: number; minGapMs: number }) {
        this.#signal = options.signal;
        this.#pollIntervalMs = options.pollIntervalMs;
        this.#minGapMs = options.minGapMs;
    }

    /** Asks for another round soon: now if the loop sleeps, right after the current one otherwise. */
    requestRound(): void {
        if (this.#wake !== undefined) this.#wake();
        else this.#requested = true;
    }

    /** Resolves once the next round is complete. */
    nextRound(): Promise<void> {
        return new Promise<void>((resolve) => this.#waiters.push(resolve));
    }

    /** Runs `round` (with its number, from 0) until the signal aborts; resolves when the loop has stopped. */
    async run(round: (n: number) => Promise<void>): Promise<void> {
        for (let n = 0; !this.#signal.aborted; n++) {
            await round(n);
            if (this.#signal.aborted) break;
            const waiters = this.#waiters;
            this.#waiters = [];
            for (const wake of waiters) wake();
            if (this.#requested) this.#requested = false;
            else await this.#sleepUntilWoken();
            try {
                await sleep(this.#minGapMs, this.#signal);
            } catch {
                break;
            }
        }
    }

    #sleepUntilWoken(): Promise<void> {
        return new Promise<void>((resolve) => {
            const done = (): void => {
                clearTimeout(timer);
                this.#signal.removeEventListener("abort", done);
                this.#wake = undefined;
                resolve();
            };
            const timer = setTimeout(done, this.#pollIntervalMs);
            this.#signal.addEventListener("abort", done, { once: true });
            this.#wake = done;
        });
    }
}
