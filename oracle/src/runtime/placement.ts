/**
 * Where the executor runs each model: in an inference worker (where every model starts) or inline on the main
 * thread, decided from measured times (see executor.ts, "Inline runs"). Bookkeeping only: no threads, no
 * onnxruntime; the executor measures, reports here, and acts on the answers.
 *
 * - Samples. For each model, the run times of its OK worker runs (decode, run, encode, hash, and the reference
 *   interpreter for a verifiable model, as the worker measured them); for all models together, the hop of each
 *   worker run (from posting the input to holding the answer on the main thread, minus the worker's run time);
 *   for an inline model, the main thread's time on each of its OK inline runs. Error results are left out of the
 *   run-time samples: a malformed input stops before the model runs, so a stream of them would make any model
 *   look fast.
 * - The trade. Inline, a run costs the main thread its run time and nothing else; in a worker, it costs the main
 *   thread only its half of the hop, but waits for the whole hop, and `concurrency` workers run in parallel while
 *   inline runs take turns on one thread. Under a backlog, inline serves a model faster as long as its run time
 *   is below hop / (concurrency - 1) (at concurrency 1 and 2: the hop itself), and it always answers sooner. So
 *   the thresholds below are fractions of the median hop divided by max(1, concurrency - 1): the "hop budget".
 * - Going inline needs full windows (`samples` of each) and: the median worker run time at most `promoteBelow`
 *   times the hop budget, and the 90th percentile at most `maxRunMs`. The main thread must then load the model
 *   too, which blocks it for the load (onnxruntime copies and pre-packs the weights): a model file over
 *   `maxModelBytes` never goes inline; nor does a model whose run time can depend on its input's values, which the
 *   executor checks before loading it (inputDependentCost.ts).
 * - Going back to the workers: at once when the model's inline runs (whatever their results) take longer than
 *   `maxRunMs` in four rounds in a row (OVER_BOUND_IN_A_ROW; a round is the inline runs the executor starts
 *   together, and each run's time is its share of the round's), past its first WARMUP_ROUNDS rounds; otherwise when a full window of inline runs has a
 *   median above `demoteAbove` times the hop budget. Both windows of the model then start over, so going inline
 *   again needs a fresh window of worker runs.
 */

/** Where a model's runs go. */
export type Placement = "worker" | "inline";

/** When a model runs inline (ExecutorOptions.inline). */
export interface InlinePolicy {
    /** Size of every window: the last `samples` run times per model and hops; decisions wait for full windows. */
    readonly samples: number;
    /** Inline when the median worker run time is at most this fraction of the hop budget (see above). */
    readonly promoteBelow: number;
    /** Back to the workers when the median inline run time exceeds this multiple of the hop budget. */
    readonly demoteAbove: number;
    /**
     * The bound on one inline run, in ms: a model whose 90th-percentile run time exceeds it stays in the workers,
     * and one whose inline runs take longer in four rounds in a row goes back. Never above `timeoutMs`.
     */
    readonly maxRunMs: number;
    /** The largest model file (bytes) that may be loaded on the main thread. */
    readonly maxModelBytes: number;
}

/**
 * The defaults: inline below the hop budget, back above twice it (room for noise, so that a model near the line
 * does not go back and forth). A hop costs 50 to 200 µs (two thread switches, two message copies), so at the
 * default concurrency a model goes inline when its run takes tens of µs, far below the 2 ms bound; a model of a
 * few MiB loads in a few ms.
 */
export const DEFAULT_INLINE_POLICY: InlinePolicy = {
    samples: 64,
    promoteBelow: 1,
    demoteAbove: 2,
    maxRunMs: 2,
    maxModelBytes: 4 * 1024 * 1024,
};

/** The last `size` values pushed. */
class Window {
    readonly #values: Float64Array;
    #next = 0;
    #count = 0;

    constructor(size: number) {
        this.#values = new Float64Array(size);
    }

    get full(): boolean {
        return this.#count === this.#values.length;
    }

    push(value: number): void {
        this.#values[this.#next] = value;
        this.#next = (this.#next + 1) % this.#values.length;
        this.#count = Math.min(this.#count + 1, this.#values.length);
    }

    clear(): void {
        this.#next = 0;
        this.#count = 0;
    }

    /** The `q` quantile (0..1) of the values held, nearest rank; NaN when empty. */
    quantile(q: number): number {
        const sorted = this.#values.slice(0, this.#count).sort();
        return sorted[Math.min(this.#count - 1, Math.floor(q * this.#count))] ?? NaN;
    }
}

interface ModelTimes {
    placement: Placement;
    /** Run times of OK worker runs, ms. */
    readonly worker: Window;
    /** Run times of OK inline runs, ms. */
    readonly inline: Window;
    /** Why the model never runs inline, once known. */
    never?: string;
    /** Asked to go inline (`workerRun` said so), not yet `promote`d or refused with `never`. */
    promoting: boolean;
    /** Samples (worker ones, or inline ones once inline) since the last check. */
    sinceCheck: number;
    /** Rounds of inline runs in a row in which its runs took over `maxRunMs`. */
    overBound: number;
    /** Rounds since it went inline. */
    inlineRounds: number;
}

/**
 * Rounds in a row in which a model's inline runs took over `maxRunMs` that send it back to the workers. One is far
 * from enough: the measure is wall-clock time, and on a busy machine the operating system pauses the main thread
 * for a few ms in the middle of some runs, and garbage collections (of the whole node's heap) land in others,
 * while the model's own cost, fixed by its shapes, has not changed. On the benchmark's shared machine such pauses
 * hit a round in a few hundred, sometimes two or three in a row; a model that really got slower is over the bound
 * every time, and four rounds of it cost the event loop four of its runs.
 */
const OVER_BOUND_IN_A_ROW = 4;

/**
 * Rounds after a model goes inline that are not held to `maxRunMs`: the first runs of a fresh session are slower
 * (onnxruntime allocates its buffers), and on the main thread the code of a run, the reference interpreter's in
 * particular, starts out not yet compiled by V8 for it. A model measured within the bound in the workers runs
 * within it here once warm.
 */
const WARMUP_ROUNDS = 8;

function ms(value: number): string {
    return `${value < 1 ? value.toFixed(3) : value.toFixed(1)} ms`;
}

/** The placement of every loaded model, and the times it is decided from. */
export class Placements {
    readonly #policy: InlinePolicy;
    readonly #models = new Map<string, ModelTimes>();
    readonly #hops: Window;
    /** Checks run every this many new samples of a model (sorting a window is not free next to a 15 µs run). */
    readonly #checkEvery: number;

    /** The share of the median hop a model's run time is compared with (the hop budget, see above). */
    readonly #hopShare: number;

    /** `concurrency`: the executor's (its worker threads). */
    constructor(policy: InlinePolicy, concurrency: number) {
        this.#policy = policy;
        this.#hopShare = 1 / Math.max(1, concurrency - 1);
        this.#hops = new Window(policy.samples);
        this.#checkEvery = Math.max(1, Math.floor(policy.samples / 4));
    }

    /** Starts tracking a model, in the workers. `bytes`: the size of its ONNX file. */
    add(modelId: string, bytes: number): void {
        const { samples, maxModelBytes } = this.#policy;
        const times: ModelTimes = {
            placement: "worker",
            worker: new Window(samples),
            inline: new Window(samples),
            promoting: false,
            sinceCheck: 0,
            overBound: 0,
            inlineRounds: 0,
        };
        if (bytes > maxModelBytes) {
            times.never = `its file has ${bytes} bytes; the main thread loads no model over ${maxModelBytes} bytes`;
        }
        this.#models.set(modelId, times);
    }

    placement(modelId: string): Placement | undefined {
        return this.#models.get(modelId)?.placement;
    }

    /** Why the model never runs inline, if that is known. */
    neverInline(modelId: string): string | undefined {
        return this.#models.get(modelId)?.never;
    }

    /**
     * Records a worker run: `runMs` the worker's time of an OK run (undefined for an error result), `hopMs` the hop.
     * Returns why the model should now go inline, once: the caller then loads it on the main thread and calls
     * `promote` (or `never` if it cannot).
     */
    workerRun(modelId: string, runMs: number | undefined, hopMs: number): string | undefined {
        this.#hops.push(hopMs);
        const times = this.#models.get(modelId);
        if (times === undefined || runMs === undefined) return undefined;
        times.worker.push(runMs);
        if (times.placement !== "worker" || times.never !== undefined || times.promoting) return undefined;
        if (++times.sinceCheck < this.#checkEvery || !times.worker.full || !this.#hops.full) return undefined;
        times.sinceCheck = 0;
        const { promoteBelow, maxRunMs } = this.#policy;
        const median = times.worker.quantile(0.5);
        const p90 = times.worker.quantile(0.9);
        const budget = this.#hopShare * this.#hops.quantile(0.5);
        if (!(median <= promoteBelow * budget && p90 <= maxRunMs)) return undefined;
        times.promoting = true;
        return `median run ${ms(median)} (90th percentile ${ms(p90)}) against a hop budget of ${ms(budget)}`;
    }

    /** The model, loaded on the main thread, now runs inline. */
    promote(modelId: string): void {
        const times = this.#models.get(modelId);
        if (times === undefined) return;
        times.promoting = false;
        times.placement = "inline";
        times.inline.clear();
        times.sinceCheck = 0;
        times.inlineRounds = 0;
    }

    /** The model never runs inline, for `reason`. */
    never(modelId: string, reason: string): void {
        const times = this.#models.get(modelId);
        if (times === undefined) return;
        times.promoting = false;
        times.never = reason;
    }

    /**
     * Records a round of inline runs (started together, see Executor): `runs`, in which a model may appear more
     * than once (`ok`: an OK result of a model run, the only kind that goes into the medians), and `runMs`, each
     * run's share of the round's time. Returns the models that go back to the workers, with why, if any; their
     * windows start over.
     */
    inlineRound(
        runs: readonly { readonly modelId: string; readonly ok: boolean }[],
        runMs: number,
    ): Map<string, string> | undefined {
        const { maxRunMs, demoteAbove } = this.#policy;
        let moved: Map<string, string> | undefined;
        runs.forEach(({ modelId, ok }, i) => {
            const times = this.#models.get(modelId);
            if (times === undefined || times.placement !== "inline") return;
            let why: string | undefined;
            // Once per round for the bound (the first of the model's runs in it), every OK run for the medians.
            if (runs.findIndex((run) => run.modelId === modelId) === i && ++times.inlineRounds > WARMUP_ROUNDS) {
                times.overBound = runMs > maxRunMs ? times.overBound + 1 : 0;
                if (times.overBound >= OVER_BOUND_IN_A_ROW) {
                    why = `its inline runs took over the ${ms(maxRunMs)} bound ${OVER_BOUND_IN_A_ROW} times in a row (the last ${ms(runMs)})`;
                }
            }
            if (why === undefined && ok) {
                times.inline.push(runMs);
                if (++times.sinceCheck >= this.#checkEvery && times.inline.full) {
                    times.sinceCheck = 0;
                    const median = times.inline.quantile(0.5);
                    const budget = this.#hopShare * this.#hops.quantile(0.5);
                    if (median > demoteAbove * budget) {
                        why = `median inline run ${ms(median)} against a hop budget of ${ms(budget)}`;
                    }
                }
            }
            if (why === undefined) return;
            times.placement = "worker";
            times.worker.clear();
            times.inline.clear();
            times.sinceCheck = 0;
            times.overBound = 0;
            (moved ??= new Map()).set(modelId, why);
        });
        return moved;
    }
}
