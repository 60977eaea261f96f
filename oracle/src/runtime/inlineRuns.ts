/**
 * The executor's inline runs, on the main thread (executor.ts, "Inline runs"): the sessions of the models that
 * went inline, the queue of their runs, and the move of a model inline.
 *
 * - Same results. A session is loaded and run by the same code as in the inference workers (inference.ts) with
 *   the same session options, and an error goes through the serialization a worker's error crosses, so a result,
 *   an error result or an error is the same wherever it was computed. inference.ts, and with it onnxruntime, is
 *   loaded on the main thread only when the first model goes inline.
 * - Rounds. Runs queue in order. A round takes the runs at the head of the queue, up to `concurrency` of them,
 *   each with a concurrency slot (only the first waits for one), and starts them together: their onnxruntime
 *   calls, which onnxruntime-node makes from immediates, then fall in the same turn of the event loop. A turn so
 *   runs one round at most, and the executor gives the event loop a turn of its own at least once per `maxRunMs`
 *   of inline work.
 * - Measures. A round's time is the main thread's time on it: from starting its runs to their last result,
 *   without the wait for the event loop to reach their onnxruntime calls (other callbacks run meanwhile). Each run
 *   is reported with an even share of it, to the placements and as its `inferenceMs`.
 */
import type { Release, Semaphore } from "../internal/semaphore";
import { reviveError, serializeError, type RunOutcome, type VerifiableLoad } from "./executorProtocol";
import type { LoadedModel } from "./inference";
import { inputDependentCost } from "./inputDependentCost";
import type { Manifest } from "../protocol/manifest";
import type { Placement, Placements } from "./placement";

type Inference = typeof import("./inference");

/** A run's outcome other than a timeout (which is thrown). */
type Answer = Exclude<RunOutcome, { kind: "timeout" }>;

/** What loading a model takes: its bytes, manifest and, for a verifiable model, what it is checked against. */
export interface InlineSource {
    readonly onnx: Uint8Array;
    readonly manifest: Manifest;
    readonly verifiable?: VerifiableLoad;
}

/** What the inline runs share with the executor. */
export interface InlineContext {
    /** The workers' session setting (WorkerConfig), so that runs are the same. */
    readonly intraOpNumThreads: number;
    /** The time limit, checked after each run as in a worker. */
    readonly timeoutMs: number;
    /** Runs per round at most: the executor's concurrency. */
    readonly concurrency: number;
    /** The executor's concurrency slots. */
    readonly slots: Semaphore;
    readonly placements: Placements;
    /** The bound on one inline run (InlinePolicy.maxRunMs). */
    readonly maxRunMs: number;
    /** The error a run that took longer than `timeoutMs` (since `startedMs`) throws. */
    readonly timeoutError: (modelId: string, startedMs: number, runMs: number) => Error;
    /** Tells that a model moved (or stays in the workers for good), and why. */
    readonly placed: (modelId: string, placement: Placement, why: string) => void;
}

/** A run waiting for its turn. */
interface Job {
    readonly modelId: string;
    readonly input: Uint8Array;
    readonly type: "run" | "reference";
    readonly resolve: (answer: Answer | undefined) => void;
    readonly reject: (err: unknown) => void;
}

/** The main thread's sessions and runs. */
export class InlineRuns {
    readonly #ctx: InlineContext;
    #inference: Inference | undefined;
    readonly #models = new Map<string, LoadedModel>();
    readonly #jobs: Job[] = [];
    #draining = false;
    /** Inline run time (ms) since the event loop last had a turn of our making. */
    #sinceYieldMs = 0;
    #closed = false;

    constructor(ctx: InlineContext) {
        this.#ctx = ctx;
    }

    /** Runs waiting for their turn. */
    get waiting(): number {
        return this.#jobs.length;
    }

    /**
     * Moves a model the placements found fast enough (`why`) inline: checks that its cost cannot depend on its
     * input's values, loads it on this thread (blocking it for about as long as the load takes), and promotes it;
     * or, when either fails, keeps it in the workers for good. Never throws.
     */
    async promote(modelId: string, source: InlineSource, why: string): Promise<void> {
        const { placements, placed } = this.#ctx;
        let never = inputDependentCost(source.onnx, source.manifest);
        if (never !== undefined) never = `its run time can depend on its input's values: ${never}`;
        else {
            try {
                await this.#load(modelId, source);
            } catch (err) {
                never = `it did not load on the main thread: ${err instanceof Error ? err.message : String(err)}`;
            }
        }
        if (this.#closed) return;
        if (never !== undefined) {
            placements.never(modelId, never);
            placed(modelId, "worker", `fast enough to run inline (${why}), but ${never}`);
        } else {
            placements.promote(modelId);
            placed(modelId, "inline", why);
        }
    }

    /**
     * Runs the model inline (`run`: inference.ts's executeModel, `reference`: executeReference) once its turn
     * comes; throws what a worker run would (a timeout as InferenceTimeoutError). Undefined when the model went
     * back to the workers before its turn came.
     */
    run(modelId: string, input: Uint8Array, type: "run" | "reference"): Promise<Answer | undefined> {
        return new Promise((resolve, reject) => {
            this.#jobs.push({ modelId, input, type, resolve, reject });
            if (!this.#draining) void this.#drain();
        });
    }

    /** Releases every session, and any loaded later. Runs still queued must be done first (the executor waits). */
    async close(): Promise<void> {
        this.#closed = true;
        const models = [...this.#models.values()];
        this.#models.clear();
        await Promise.allSettled(models.map((model) => model.session.release()));
    }

    async #load(modelId: string, source: InlineSource): Promise<void> {
        if (this.#models.has(modelId) || this.#closed) return;
        this.#inference ??= await import("./inference");
        const model = await this.#inference.loadModel(
            modelId,
            source.onnx,
            source.manifest,
            this.#ctx.intraOpNumThreads,
            source.verifiable,
        );
        if (this.#closed) await model.session.release();
        else this.#models.set(modelId, model);
    }

    /** Runs the queued jobs in rounds, in order. */
    async #drain(): Promise<void> {
        const { slots, placements, concurrency } = this.#ctx;
        this.#draining = true;
        try {
            while (this.#jobs.length > 0) {
                const round: { job: Job; model: LoadedModel; release: Release }[] = [];
                for (let job = this.#jobs[0]; job !== undefined && round.length < concurrency; job = this.#jobs[0]) {
                    let release = slots.tryAcquire();
                    if (release === undefined) {
                        if (round.length > 0) break;
                        release = await slots.acquire();
                    }
                    this.#jobs.shift(); // still `job`: only this loop takes jobs out
                    const model = this.#models.get(job.modelId);
                    if (model !== undefined && placements.placement(job.modelId) === "inline") {
                        round.push({ job, model, release });
                    } else {
                        release();
                        job.resolve(undefined); // back in the workers meanwhile
                    }
                }
                if (round.length > 0) await this.#round(round);
            }
        } finally {
            this.#draining = false;
        }
    }

    /** Runs one round and settles its jobs; the placements get its time, and may send a model back. */
    async #round(round: readonly { job: Job; model: LoadedModel; release: Release }[]): Promise<void> {
        const { maxRunMs, timeoutMs, placements, timeoutError, placed } = this.#ctx;
        const inference = this.#inference!; // loaded with the first model
        if (this.#sinceYieldMs >= maxRunMs) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            this.#sinceYieldMs = 0;
        }
        // onnxruntime-node makes each onnxruntime call from an immediate, and immediates run in order: one queued
        // first marks when the calls start. (Were the calls made at once, the round would end before the mark.)
        let reached: number | undefined;
        setImmediate(() => (reached = performance.now()));
        const started = performance.now();
        const running = Promise.allSettled(
            round.map(({ job, model }) => {
                if (job.type === "run") return inference.executeModel(model, job.input, timeoutMs);
                try {
                    return Promise.resolve(inference.executeReference(model, job.input)); // synchronous: timed above
                } catch (err) {
                    return Promise.reject(err);
                }
            }),
        );
        const startedAll = performance.now();
        const settled = await running;
        const roundMs = startedAll - started + (performance.now() - Math.max(reached ?? startedAll, startedAll));
        this.#sinceYieldMs += roundMs;
        const runMs = roundMs / round.length;
        // A reference run (the interpreter alone) is held to the bound only; the medians are of model runs.
        const moved = placements.inlineRound(
            round.map(({ job }, i) => {
                const result = settled[i]!;
                const ok =
                    job.type === "run" &&
                    result.status === "fulfilled" &&
                    result.value.kind === "result" &&
                    result.value.outcome === "ok";
                return { modelId: job.modelId, ok };
            }),
            runMs,
        );
        round.forEach(({ job, release }, i) => {
            release();
            const result = settled[i]!;
            try {
                if (result.status === "rejected") {
                    // As the error would have crossed from a worker: the same class, code and message.
                    job.reject(reviveError(serializeError(result.reason)));
                } else if (result.value.kind === "timeout") {
                    job.reject(timeoutError(job.modelId, started, result.value.runMs));
                } else {
                    result.value.inferenceMs = runMs;
                    job.resolve(result.value);
                }
            } catch (err) {
                job.reject(err); // an `onInference` that threw: this run's, as in a worker run
            }
        });
        for (const [modelId, why] of moved ?? []) placed(modelId, "worker", why);
    }
}
