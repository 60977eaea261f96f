/**
 * A counting semaphore with a FIFO queue: at most `permits` holders at once, waiters served in arrival order.
 */

/** Gives back one permit; calling it again does nothing. */
export type Release = () => void;

/** A counting semaphore. */
export class Semaphore {
    readonly #permits: number;
    #inUse = 0;
    readonly #waiters: (() => void)[] = [];

    /** @param permits Holders allowed at once, an integer >= 1. */
    constructor(permits: number) {
        if (!Number.isInteger(permits) || permits < 1) {
            throw new RangeError(`Semaphore: permits must be an integer >= 1, got ${permits}`);
        }
        this.#permits = permits;
    }

    /** Total permits. */
    get permits(): number {
        return this.#permits;
    }

    /** Permits held right now. */
    get inUse(): number {
        return this.#inUse;
    }

    /** Callers waiting for a permit. */
    get waiting(): number {
        return this.#waiters.length;
    }

    /** A permit now, if one is free and nobody waits for one; else undefined. Saves `acquire`'s promise. */
    tryAcquire(): Release | undefined {
        if (this.#inUse >= this.#permits || this.#waiters.length > 0) return undefined;
        this.#inUse++;
        return this.#releaser();
    }

    /** Waits for a permit (FIFO) and returns the function that gives it back. */
    async acquire(): Promise<Release> {
        if (this.#inUse < this.#permits && this.#waiters.length === 0) {
            this.#inUse++;
        } else {
            // The releasing holder hands its permit straight to us, so #inUse never dips and nobody jumps the queue.
            await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
        return this.#releaser();
    }

    #releaser(): Release {
        let released = false;
        return () => {
            if (released) return;
            released = true;
            const next = this.#waiters.shift();
            if (next !== undefined) next();
            else this.#inUse--;
        };
    }

    /** Runs `fn` while holding a permit. */
    async use<T>(fn: () => Promise<T>): Promise<T> {
        const release = await this.acquire();
        try {
            return await fn();
        } finally {
            release();
        }
    }
}
