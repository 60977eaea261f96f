/**
 * Runs registered models on request inputs and turns the outcome into what an operator submits: a result code,
 * the canonical output bytes and their hash.
 *
 * - A well-formed input that fits the manifest runs; the outputs are encoded in manifest order (OK).
 * - Malformed bytes, or a tensor count, dtype or shape that does not fit the manifest: INVALID_INPUT.
 * - The model failing on a well-formed input (onnxruntime throws, an output is missing or of the wrong type or
 *   shape, a float output that is NaN, infinite or outside the wire dtype): MODEL_ERROR.
 * - Both error codes carry empty output bytes; `reason` says why, for logs only.
 *
 * What is NOT a result, because it says something about this machine rather than the model, is thrown instead so
 * the node can decline the request: exceeding the time limit (InferenceTimeoutError), onnxruntime running out of
 * memory (InferenceResourceError) and the inference worker dying during the run (RetryableError
 * INFERENCE_WORKER_EXITED).
 *
 * Threads. onnxruntime-node runs `session.run` synchronously on the calling JS thread, so the executor keeps
 * onnxruntime off the main thread (small models aside, see "Inline runs"): it runs `concurrency` worker threads (executorWorker.ts), one execution each
 * at a time. Decoding, the manifest checks, fixed-point conversion, the run, output checks, encoding and hashing
 * all happen in the worker (inference.ts); the main thread only posts the input bytes and receives the result,
 * so the node's event loop (chain follower, transaction sender, /healthz) keeps running during inferences, and
 * runs overlap up to `concurrency`. Each worker uses `intraOpNumThreads` onnxruntime threads; by default the
 * cores are split between the workers.
 *
 * Time limit. A worker run gets `timeoutMs` from the moment it is posted to its worker. When it runs over, the run throws
 * InferenceTimeoutError at once, its worker is taken out of service and a fresh one (which reloads every model)
 * takes its place, so the pool stays at `concurrency`. The old thread cannot be stopped inside onnxruntime:
 * Worker.terminate() during session.run makes onnxruntime-node 1.30 abort the whole process ("terminate called
 * after throwing an instance of 'Napi::Error'"). So it is asked to exit and does so when session.run returns;
 * until then it keeps a core busy (the machine runs one more inference than `concurrency`), and a model that
 * never returns keeps it for good. close() waits for such threads, and they keep the process alive: ending the
 * process under them would abort it too.
 *
 * Inline runs. The hop to a worker and back costs 50 to 200 µs, several times the whole run of a small model
 * (the tiny example model's, decoding to hashing: about 25 µs). So a model whose measured run time is below the hop runs inline, on the main
 * thread, by the same code (inference.ts) with the same session options, so that its results, error results
 * and errors are the same (an error goes through the same serialization as a worker's). Where each model runs is
 * decided per model from measured times (placement.ts): every model starts in the workers; after a full window
 * of runs, one whose median run is below the hop budget and whose 90th-percentile run is within `maxRunMs` (2 ms)
 * is loaded on the main thread and runs there from then on; one whose inline runs exceed `maxRunMs` in four
 * rounds in a row, or whose median inline run grows past twice the budget, goes back to the workers and is
 * measured afresh. Inline runs queue in order and run in rounds of at most `concurrency` (inlineRuns.ts), each
 * holding a concurrency slot, so `concurrency` still bounds the executions at once, and one turn of the event
 * loop runs at most one round.
 *
 * An inline run cannot be interrupted, so nothing may make it long. A model goes inline only if its cost is fixed
 * by its input shapes, which the manifest fixes: no control flow, no op that sizes its output from a computed
 * value, no custom ops (inputDependentCost.ts); such a model does the same work on every input, so its measured
 * run times bound the next ones, up to what the machine adds (a pause of the main thread by the operating system
 * or the garbage collector, which would delay the event loop anyway). Its file must also be small enough
 * (`maxModelBytes`) that loading it on the main thread, once, blocks it only briefly. The time limit still
 * holds: an inline run that took longer than `timeoutMs` throws InferenceTimeoutError when it returns, as a
 * worker run that returns late does. `inline: false` runs every model in the workers.
 *
 * Memory. Every worker holds its own session of every loaded model, so the weights are in memory once per worker
 * (`concurrency` times), plus one copy of each model's bytes on the main thread to reload a replacement worker.
 * Budget `concurrency` x model size (plus onnxruntime's working memory per run) when choosing `concurrency`. A
 * model that went inline has one more session, on the main thread (kept if it goes back to the workers), at most
 * `maxModelBytes` of weights.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, extname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { PermanentError, RetryableError } from "../internal/errors";
import { Semaphore } from "../internal/semaphore";
import {
    reviveError,
    type ExecutionResult,
    type InferenceOutcome,
    type ReferenceResult,
    type RunOutcome,
    type VerifiableLoad,
    type WorkerConfig,
    type WorkerReply,
    type WorkerRequest,
} from "./executorProtocol";
import { InlineRuns } from "./inlineRuns";
import type { Manifest } from "../protocol/manifest";
import { DEFAULT_INLINE_POLICY, Placements, type InlinePolicy, type Placement } from "./placement";

export { ResultCode } from "../protocol/resultCodes";
export {
    EMPTY_OUTPUT_HASH,
    InferenceResourceError,
    type ExecutionResult,
    type InferenceOutcome,
    type ReferenceMismatch,
    type ReferenceResult,
    type VerifiableLoad,
} from "./executorProtocol";
export { DEFAULT_INLINE_POLICY, type InlinePolicy, type Placement } from "./placement";

/** Executor settings. */
export interface ExecutorOptions {
    /**
     * Executions at once (an integer >= 1), inline ones included; more wait in FIFO order. It is also the number
     * of worker threads, one execution each at a time; inline runs take turns on the main thread.
     */
    concurrency: number;
    /** A model run longer than this throws InferenceTimeoutError instead of giving a result. */
    timeoutMs: number;
    /**
     * onnxruntime intra-op threads per session (each worker has its own sessions). Default: the cores split
     * between the workers, max(1, floor(os.availableParallelism() / concurrency)).
     */
    intraOpNumThreads?: number;
    /** Called once per execution with its duration in seconds (see `inferenceMs`) and outcome. Must not throw. */
    onInference?: (modelId: string, seconds: number, outcome: InferenceOutcome) => void;
    /**
     * When small models run inline, on the main thread (see "Inline runs" above): DEFAULT_INLINE_POLICY, with
     * these fields changed. `false`: every run in a worker.
     */
    inline?: Partial<InlinePolicy> | false;
    /**
     * Called when a model moves to the main thread ("inline") or back to the workers ("worker"), and when a model
     * fast enough to run inline is kept in the workers for good ("worker"), with why. What it throws is ignored.
     */
    onPlacement?: (modelId: string, placement: Placement, reason: string) => void;
}

/** How `Executor.load` loads a model. */
export interface LoadOptions {
    /**
     * A REEXECUTION model: compiled and checked against the registered program hash when loaded (a model outside
     * the verifiable subset, or whose program hashes differently, fails to load with a PermanentError), and run by
     * onnxruntime and the reference interpreter, whose result is the one returned.
     */
    verifiable?: VerifiableLoad;
}

/** The model run exceeded `timeoutMs`. Not a result: this machine was too slow, the node should decline. */
export class InferenceTimeoutError extends PermanentError {
    constructor(modelId: string, timeoutMs: number, elapsedMs: number) {
        super(
            "INFERENCE_TIMEOUT",
            `model ${modelId}: inference took ${Math.round(elapsedMs)} ms, longer than the ${timeoutMs} ms limit`,
        );
    }
}

/** First delay before replacing a worker that died before it was ready; doubled per such death in a row. */
const RESTART_BACKOFF_BASE_MS = 500;
/** Longest delay before replacing a worker that died before it was ready. */
const RESTART_BACKOFF_MAX_MS = 30_000;
/** A load fails (RetryableError) once workers have exited this many times while it was loading. */
const MAX_LOAD_WORKER_EXITS = 3;

/** The worker module next to this file: executorWorker.ts under ts-node, executorWorker.js once compiled. */
const WORKER_MODULE = join(__dirname, `executorWorker${extname(__filename)}`);
/** The repository's tsconfig.json, for ts-node in the workers (used only when WORKER_MODULE is TypeScript). */
const TSCONFIG = join(__dirname, "..", "..", "..", "tsconfig.json");

/**
 * A worker's first code. Loaders registered on the main thread (ts-node under hardhat or bin/verity.js) do not
 * carry over to worker threads, so under TypeScript the worker loads its modules from `sources` (see
 * WorkerConfig) and registers ts-node for any other TypeScript file, unless a preload (`node -r ts-node/register`,
 * inherited through execArgv) already did.
 */
const BOOTSTRAP = `"use strict";
const { workerData } = require("node:worker_threads");
const { module: entry, tsconfig, sources } = workerData;
if (entry.endsWith(".ts") && process[Symbol.for("ts-node.register.instance")] === undefined) {
    const registerTsNode = () => {
        delete require.extensions[".ts"];
        const tsNode = require.resolve("ts-node", { paths: [require("node:path").dirname(entry)] });
        require(tsNode).register({ transpileOnly: true, project: tsconfig });
    };
    if (sources === undefined) registerTsNode();
    else {
        require.extensions[".ts"] = (module, filename) => {
            const js = sources[filename];
            if (js !== undefined) return module._compile(js, filename);
            registerTsNode();
            return require.extensions[".ts"](module, filename);
        };
    }
}
require(entry);
`;

/** The `compile` of a ts-node service (the one registered on this thread, if any). */
interface TsNodeService {
    compile(code: string, fileName: string): string;
}

/** WorkerConfig.sources for this process: computed by the first executor; null when unavailable. */
let workerSources: Readonly<Record<string, string>> | null | undefined;

/**
 * The JavaScript of WORKER_MODULE and of the repository TypeScript modules it requires, transitively, transpiled
 * by this thread's ts-node: it saves each worker loading TypeScript and transpiling them again (about half a
 * second per worker start). Undefined when this thread does not run under ts-node or anything fails; the worker
 * then registers ts-node itself.
 */
function transpiledWorkerSources(): Readonly<Record<string, string>> | undefined {
    if (workerSources === undefined) {
        workerSources = null;
        const service = (process as unknown as Record<symbol, TsNodeService | undefined>)[
            Symbol.for("ts-node.register.instance")
        ];
        if (WORKER_MODULE.endsWith(".ts") && typeof service?.compile === "function") {
            try {
                const sources: Record<string, string> = {};
                const todo = [WORKER_MODULE];
                for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
                    if (sources[file] !== undefined) continue;
                    const js = service.compile(readFileSync(file, "utf8"), file);
                    sources[file] = js;
                    for (const [, request] of js.matchAll(/\brequire\("(\.{1,2}\/[^"]+)"\)/g)) {
                        const resolved = require.resolve(join(dirname(file), request as string));
                        if (resolved.endsWith(".ts")) todo.push(resolved);
                    }
                }
                workerSources = sources;
            } catch {
                // The workers register ts-node themselves.
            }
        }
    }
    return workerSources ?? undefined;
}

/** A loaded model's bytes and manifest, kept to load it into replacement workers. */
interface ModelSource {
    readonly onnx: Uint8Array;
    readonly manifest: Manifest;
    readonly verifiable?: VerifiableLoad;
}

/** Why a worker went away: its run timed out, it crashed, it failed to start, or the executor closed. */
type ExitReason = "timeout" | "crash" | "failed-start" | "closed";

/** The worker a request was sent to went away before answering. */
class WorkerGoneError extends Error {
    override readonly name = "WorkerGoneError";

    constructor(
        readonly reason: ExitReason,
        message: string,
        options?: { cause?: unknown },
    ) {
        super(message, options);
    }
}

function noop(): void {}

function messageOf(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

/**
 * One worker thread and its requests. The thread starts after `delayMs`; requests made before wait for it.
 * `ready` resolves once it answered its first request and loaded the `required` models; it rejects if the
 * worker goes away first or a load fails. `exited` resolves when the thread has ended (at once if it never
 * started).
 *
 * The thread is never terminated from outside (Worker.terminate): onnxruntime-node aborts the whole process when
 * its thread is terminated inside session.run. It is asked to exit instead, which it does when its current
 * message is done.
 */
class InferenceWorker {
    readonly ready: Promise<void>;
    readonly exited: Promise<void>;
    #exitedNow: () => void = noop;
    #isReady = false;
    #worker: Worker | undefined;
    #startTimer: NodeJS.Timeout | undefined;
    #unsent: { message: WorkerRequest; transfer: ArrayBuffer[] }[] = [];
    readonly #pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (err: unknown) => void }>();
    readonly #loads = new Map<string, Promise<void>>();
    #nextId = 1;
    #gone: WorkerGoneError | undefined;
    #crash: unknown;
    readonly #config: WorkerConfig;
    readonly #onGone: (worker: InferenceWorker, err: WorkerGoneError) => void;

    constructor(
        config: WorkerConfig,
        delayMs: number,
        required: readonly (readonly [string, ModelSource])[],
        optional: readonly (readonly [string, ModelSource])[],
        onGone: (worker: InferenceWorker, err: WorkerGoneError) => void,
    ) {
        this.#config = config;
        this.#onGone = onGone;
        this.exited = new Promise((resolve) => (this.#exitedNow = resolve));
        // Without delay the thread starts now, not from a timer: a busy main thread (a node's start-up) would put it
        // off by as long as it stays busy, while the thread can load its modules meanwhile.
        if (delayMs === 0) this.#start();
        else this.#startTimer = setTimeout(() => this.#start(), delayMs);
        this.ready = (async () => {
            await this.#call((id) => ({ type: "init", id }));
            await Promise.all(required.map(([modelId, source]) => this.load(modelId, source)));
            this.#isReady = true;
        })();
        this.ready.catch(noop);
        // Models still loading elsewhere: their own load awaits these.
        for (const [modelId, source] of optional) this.load(modelId, source).catch(noop);
    }

    /** Whether it became ready (took runs) before going away. */
    get isReady(): boolean {
        return this.#isReady;
    }

    /** Whether it takes no more requests (it was killed, or its thread ended). */
    get gone(): boolean {
        return this.#gone !== undefined;
    }

    /** Loads a model once per worker (later calls share the first call's promise). */
    load(modelId: string, source: ModelSource): Promise<void> {
        let loading = this.#loads.get(modelId);
        if (loading === undefined) {
            loading = this.#call((id) => ({
                type: "load",
                id,
                modelId,
                onnx: source.onnx,
                manifest: source.manifest,
                ...(source.verifiable === undefined ? {} : { verifiable: source.verifiable }),
            })).then(noop);
            const memo = loading;
            memo.catch(() => {
                if (this.#loads.get(modelId) === memo) this.#loads.delete(modelId);
            });
            this.#loads.set(modelId, loading);
        }
        return loading;
    }

    unload(modelId: string): void {
        this.#loads.delete(modelId);
        if (!this.gone) this.#call((id) => ({ type: "unload", id, modelId })).catch(noop);
    }

    /**
     * Runs a loaded model (`run`: onnxruntime, and the reference for a verifiable model; `reference`: the reference
     * interpreter alone) on a copy of `input` (the copy's buffer moves to the worker).
     */
    async run(modelId: string, input: Uint8Array, type: "run" | "reference" = "run"): Promise<RunOutcome> {
        const copy = new Uint8Array(input); // a copy even of a Buffer (whose slice() is a view)
        const outcome = await this.#call((id) => ({ type, id, modelId, input: copy }), [copy.buffer]);
        if (outcome === undefined) throw new Error("internal: the worker answered a run without an outcome");
        return outcome;
    }

    /**
     * Takes the worker out of service now: its pending requests reject with WorkerGoneError(reason) and `onGone`
     * is called. The thread exits once its current message (a run, a load) is done.
     */
    kill(reason: ExitReason, message: string): void {
        if (this.#gone !== undefined) return;
        this.#goneWith(new WorkerGoneError(reason, message));
        if (this.#worker === undefined) {
            clearTimeout(this.#startTimer);
            this.#exitedNow();
        } else {
            this.#worker.postMessage({ type: "exit", id: 0, code: 0 } satisfies WorkerRequest);
        }
    }

    /** Tests only: makes the thread exit with an error code, as a crash would, before its next request. */
    simulateCrash(): void {
        this.#worker?.postMessage({ type: "exit", id: 0, code: 70 } satisfies WorkerRequest);
    }

    #start(): void {
        this.#startTimer = undefined;
        let worker: Worker;
        try {
            worker = new Worker(BOOTSTRAP, { eval: true, workerData: this.#config });
        } catch (err) {
            // From a timer, so that `onGone` never runs inside the constructor (which may be calling this).
            this.#startTimer = setTimeout(() => {
                this.#startTimer = undefined;
                this.#goneWith(new WorkerGoneError("failed-start", `cannot start: ${messageOf(err)}`, { cause: err }));
                this.#exitedNow();
            }, 0);
            return;
        }
        this.#worker = worker;
        worker.on("message", (reply: WorkerReply) => {
            const pending = this.#pending.get(reply.id);
            if (pending === undefined) return;
            this.#pending.delete(reply.id);
            this.#updateRef();
            pending.resolve(reply);
        });
        worker.on("error", (err) => (this.#crash = err)); // "exit" follows
        worker.on("messageerror", (err) => this.kill("crash", `unreadable message: ${err.message}`));
        worker.on("exit", (code) => {
            const why = this.#crash === undefined ? "" : `: ${messageOf(this.#crash)}`;
            this.#goneWith(
                new WorkerGoneError(this.#isReady ? "crash" : "failed-start", `exited with code ${code}${why}`, {
                    cause: this.#crash,
                }),
            );
            this.#exitedNow();
        });
        for (const { message, transfer } of this.#unsent) worker.postMessage(message, transfer);
        this.#unsent = [];
        this.#updateRef();
    }

    #goneWith(err: WorkerGoneError): void {
        if (this.#gone !== undefined) return;
        this.#gone = err;
        this.#unsent = [];
        const pending = [...this.#pending.values()];
        this.#pending.clear();
        for (const { reject } of pending) reject(err);
        this.#updateRef();
        this.#onGone(this, err);
    }

    /** Sends a request; its reply's value, or the worker's error rebuilt, or WorkerGoneError. */
    async #call(make: (id: number) => WorkerRequest, transfer: ArrayBuffer[] = []): Promise<RunOutcome | undefined> {
        if (this.#gone !== undefined) throw this.#gone;
        const message = make(this.#nextId++);
        const reply = await new Promise<WorkerReply>((resolve, reject) => {
            this.#pending.set(message.id, { resolve, reject });
            if (this.#worker === undefined) this.#unsent.push({ message, transfer });
            else {
                this.#worker.postMessage(message, transfer);
                this.#updateRef();
            }
        });
        if (!reply.ok) throw reviveError(reply.error);
        return reply.value;
    }

    /**
     * An idle worker does not keep the process alive. One with requests in flight does, and so does one on its
     * way out: ending the process under a thread inside onnxruntime would abort it.
     */
    #updateRef(): void {
        if (this.#worker === undefined) return;
        if (this.#gone !== undefined || this.#pending.size > 0) this.#worker.ref();
        else this.#worker.unref();
    }
}

/** Tests only: makes the executor's worker `slot` exit abruptly, as a crash would. */
export let simulateWorkerCrash: (executor: Executor, slot?: number) => void;

/** Runs loaded models in a pool of worker threads, with a bound on concurrent executions. */
export class Executor {
    static {
        simulateWorkerCrash = (executor, slot = 0) => executor.#workers[slot]?.simulateCrash();
    }

    readonly #options: ExecutorOptions;
    readonly #config: WorkerConfig;
    readonly #semaphore: Semaphore;
    readonly #models = new Map<string, ModelSource>();
    /** Models being loaded (their bytes go to workers started meanwhile too). */
    readonly #loadingSources = new Map<string, ModelSource>();
    readonly #loading = new Map<string, Promise<void>>();
    readonly #inFlight = new Set<Promise<unknown>>();
    /** One worker per concurrency slot, started with the executor; a worker that goes away is replaced. */
    #workers: InferenceWorker[] = [];
    /** Every worker whose thread has not ended yet, including those taken out of service. */
    readonly #threads = new Set<InferenceWorker>();
    /** Ready workers without a run. */
    readonly #idle: InferenceWorker[] = [];
    /** Executions holding a slot and waiting for a ready worker (one is starting), FIFO. */
    readonly #waiting: { resolve: (worker: InferenceWorker) => void; reject: (err: unknown) => void }[] = [];
    /** Workers that died before they were ready, in a row: the backoff before the next replacement. */
    #startFailures = 0;
    #closed = false;
    #closing: Promise<void> | undefined;
    /** Where each model runs; undefined when inline runs are off. */
    readonly #placements: Placements | undefined;
    /** The runs on the main thread; undefined when inline runs are off. */
    readonly #inline: InlineRuns | undefined;

    constructor(options: ExecutorOptions) {
        if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
            throw new PermanentError("INVALID_OPTIONS", `concurrency must be an integer >= 1: ${options.concurrency}`);
        }
        if (!(options.timeoutMs > 0)) {
            throw new PermanentError("INVALID_OPTIONS", `timeoutMs must be positive: ${options.timeoutMs}`);
        }
        this.#options = { ...options };
        this.#semaphore = new Semaphore(options.concurrency);
        const sources = transpiledWorkerSources();
        this.#config = {
            module: WORKER_MODULE,
            tsconfig: TSCONFIG,
            ...(sources === undefined ? {} : { sources }),
            intraOpNumThreads:
                options.intraOpNumThreads ?? Math.max(1, Math.floor(availableParallelism() / options.concurrency)),
            timeoutMs: options.timeoutMs,
        };
        if (options.inline !== false) {
            const given = { ...DEFAULT_INLINE_POLICY, ...options.inline };
            if (!(Number.isInteger(given.samples) && given.samples >= 1)) {
                throw new PermanentError("INVALID_OPTIONS", `inline.samples must be an integer >= 1: ${given.samples}`);
            }
            // An inline run cannot be stopped: the bound on one is never above the time limit.
            const policy: InlinePolicy = { ...given, maxRunMs: Math.min(given.maxRunMs, options.timeoutMs) };
            this.#placements = new Placements(policy, options.concurrency);
            this.#inline = new InlineRuns({
                intraOpNumThreads: this.#config.intraOpNumThreads,
                timeoutMs: options.timeoutMs,
                concurrency: options.concurrency,
                slots: this.#semaphore,
                placements: this.#placements,
                maxRunMs: policy.maxRunMs,
                timeoutError: (modelId, startedMs, runMs) => this.#timeoutError(modelId, startedMs, runMs),
                placed: (modelId, placement, why) => this.#placed(modelId, placement, why),
            });
        }
        // The workers start now rather than at the first load: a thread and its modules (onnxruntime above all)
        // take a few hundred ms to start, which a node's start-up spends on its chain calls meanwhile. An idle
        // worker does not keep the process alive.
        for (let slot = 0; slot < options.concurrency; slot++) this.#workers.push(this.#startWorker(0));
    }

    /** Executions holding a concurrency slot right now (at most `concurrency`). */
    get active(): number {
        return this.#semaphore.inUse;
    }

    /** Executions waiting for a slot (inline runs waiting for their turn on the main thread included). */
    get queued(): number {
        return this.#semaphore.waiting + (this.#inline?.waiting ?? 0);
    }

    /** Where the model's runs go now: "worker" or "inline"; undefined when it is not loaded. */
    placement(modelId: string): Placement | undefined {
        if (!this.#models.has(modelId)) return undefined;
        return this.#placements?.placement(modelId) ?? "worker";
    }

    /**
     * Loads the model into every worker and checks it against the manifest: the graph's inputs are exactly the
     * manifest's, the manifest's outputs are graph outputs, and where the graph declares an element type or fixed dims
     * they agree with the manifest. Throws ModelFormatError otherwise or when onnxruntime cannot load the bytes,
     * InferenceResourceError when a worker runs out of memory, and RetryableError INFERENCE_WORKER_EXITED when workers
     * keep exiting. With `options.verifiable` it also throws PermanentError MODEL_NOT_VERIFIABLE or
     * PROGRAM_HASH_MISMATCH (see LoadOptions). Loading a model id already loaded (or loading) is a no-op.
     */
    async load(modelId: string, onnx: Uint8Array, manifest: Manifest, options: LoadOptions = {}): Promise<void> {
        this.#checkOpen();
        if (this.#models.has(modelId)) return;
        let loading = this.#loading.get(modelId);
        if (loading === undefined) {
            // A copy of our own, exactly sized (a view's whole buffer would be cloned to every worker).
            const source: ModelSource = {
                onnx: new Uint8Array(onnx),
                manifest,
                ...(options.verifiable === undefined ? {} : { verifiable: options.verifiable }),
            };
            loading = this.#loadEverywhere(modelId, source).finally(() => this.#loading.delete(modelId));
            this.#loading.set(modelId, loading);
        }
        await loading;
    }

    /** Whether `modelId` is loaded. */
    has(modelId: string): boolean {
        return this.#models.has(modelId);
    }

    /** Whether `modelId` is loaded as a verifiable model (its runs return the reference interpreter's result). */
    isVerifiable(modelId: string): boolean {
        return this.#models.get(modelId)?.verifiable !== undefined;
    }

    /**
     * Runs the model on canonical input bytes. Never throws for a bad input or a failing model (those are
     * results); throws InferenceTimeoutError, InferenceResourceError, RetryableError `INFERENCE_WORKER_EXITED`,
     * PermanentError `MODEL_NOT_LOADED` and `EXECUTOR_CLOSED`.
     */
    async run(modelId: string, input: Uint8Array): Promise<ExecutionResult> {
        this.#checkOpen();
        if (!this.#models.has(modelId)) {
            throw new PermanentError("MODEL_NOT_LOADED", `model ${modelId} is not loaded`);
        }
        const execution = this.#execute(modelId, input);
        this.#inFlight.add(execution);
        try {
            return await execution;
        } finally {
            this.#inFlight.delete(execution);
        }
    }

    /**
     * The canonical result of a verifiable model on canonical input bytes, computed by the reference interpreter
     * alone (no onnxruntime run), in a worker like any run and under the same concurrency bound and time limit.
     * Never throws for a bad input (INVALID_INPUT is a result); throws InferenceTimeoutError, RetryableError
     * INFERENCE_WORKER_EXITED, PermanentError MODEL_NOT_LOADED, MODEL_NOT_VERIFIABLE and EXECUTOR_CLOSED.
     */
    async reference(modelId: string, input: Uint8Array): Promise<ReferenceResult> {
        this.#checkOpen();
        const source = this.#models.get(modelId);
        if (source === undefined) throw new PermanentError("MODEL_NOT_LOADED", `model ${modelId} is not loaded`);
        if (source.verifiable === undefined) {
            throw new PermanentError("MODEL_NOT_VERIFIABLE", `model ${modelId} was not loaded as a verifiable model`);
        }
        const execution = this.#run(modelId, input, "reference");
        this.#inFlight.add(execution);
        try {
            const outcome = await execution;
            if (outcome.kind !== "reference") throw new Error("internal: a reference run answered with a model run");
            const { resultCode, output, outputHash, reason, inferenceMs } = outcome;
            return { resultCode, output, outputHash, inferenceMs, ...(reason === undefined ? {} : { reason }) };
        } finally {
            this.#inFlight.delete(execution);
        }
    }

    /**
     * Stops accepting runs and loads, waits for the runs and loads already accepted, then ends the workers and
     * waits for their threads to end, including those still inside a run that timed out.
     */
    async close(): Promise<void> {
        this.#closed = true;
        this.#closing ??= (async () => {
            await Promise.allSettled([...this.#inFlight, ...this.#loading.values()]);
            const workers = this.#workers;
            this.#workers = [];
            this.#idle.length = 0;
            this.#models.clear();
            for (const worker of workers) worker.kill("closed", "the executor is closed");
            await Promise.all([this.#inline?.close(), ...[...this.#threads].map((worker) => worker.exited)]);
        })();
        await this.#closing;
    }

    #checkOpen(): void {
        if (this.#closed) throw closedError();
    }

    async #loadEverywhere(modelId: string, source: ModelSource): Promise<void> {
        this.#loadingSources.set(modelId, source);
        try {
            // Until every current worker has it: a worker replaced meanwhile got it at start (#loadingSources).
            for (let exits = 0; ;) {
                const workers = [...this.#workers];
                const settled = await Promise.allSettled(workers.map((worker) => worker.load(modelId, source)));
                let exited: WorkerGoneError | undefined;
                for (const outcome of settled) {
                    if (outcome.status === "fulfilled") continue;
                    if (!(outcome.reason instanceof WorkerGoneError)) throw outcome.reason;
                    exited = outcome.reason;
                }
                if (exited !== undefined && ++exits >= MAX_LOAD_WORKER_EXITS) {
                    throw new RetryableError(
                        "INFERENCE_WORKER_EXITED",
                        `model ${modelId}: inference workers went away ${exits} times while loading it ` +
                            `(last: ${exited.message})`,
                        { cause: exited },
                    );
                }
                if (exited === undefined && workers.every((worker, slot) => this.#workers[slot] === worker)) break;
            }
            this.#checkOpen();
            this.#models.set(modelId, source);
            this.#placements?.add(modelId, source.onnx.length);
        } catch (err) {
            for (const worker of this.#workers) worker.unload(modelId);
            throw err;
        } finally {
            this.#loadingSources.delete(modelId);
        }
    }

    #startWorker(delayMs: number): InferenceWorker {
        const worker = new InferenceWorker(
            this.#config,
            delayMs,
            [...this.#models],
            [...this.#loadingSources],
            (gone, err) => this.#onWorkerGone(gone, err),
        );
        this.#threads.add(worker);
        void worker.exited.then(() => this.#threads.delete(worker));
        worker.ready.then(
            () => {
                this.#startFailures = 0;
                this.#release(worker);
            },
            (err: unknown) => {
                if (err instanceof WorkerGoneError) return; // already replaced
                worker.kill("failed-start", `could not reload the loaded models: ${messageOf(err)}`);
            },
        );
        return worker;
    }

    #onWorkerGone(worker: InferenceWorker, err: WorkerGoneError): void {
        const slot = this.#workers.indexOf(worker);
        if (slot < 0) return; // closed
        const idle = this.#idle.indexOf(worker);
        if (idle >= 0) this.#idle.splice(idle, 1);
        if (err.reason === "closed") return;
        if (worker.isReady) {
            this.#workers[slot] = this.#startWorker(0);
            return;
        }
        // Died while starting: try again later, unless closing, when nothing new may need it.
        if (this.#closed) {
            if (this.#workers.every((w) => w.gone)) {
                for (const waiter of this.#waiting.splice(0)) waiter.reject(closedError());
            }
            return;
        }
        const delayMs = Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_BASE_MS * 2 ** this.#startFailures++);
        this.#workers[slot] = this.#startWorker(delayMs);
    }

    /** A ready worker for one execution (the caller holds a slot, so one is idle or starting). */
    #acquire(): Promise<InferenceWorker> {
        const worker = this.#idle.shift();
        if (worker !== undefined) return Promise.resolve(worker);
        return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
    }

    /** Gives a ready worker back to the next waiting execution or the idle list. */
    #release(worker: InferenceWorker): void {
        if (worker.gone || !this.#workers.includes(worker)) return;
        const waiter = this.#waiting.shift();
        if (waiter !== undefined) waiter.resolve(worker);
        else this.#idle.push(worker);
    }

    async #execute(modelId: string, input: Uint8Array): Promise<ExecutionResult> {
        const outcome = await this.#run(modelId, input, "run");
        if (outcome.kind !== "result") throw new Error("internal: a model run answered with a reference run");
        const { outcome: label, resultCode, output, outputHash, reason, inferenceMs, referenceMismatch } = outcome;
        this.#options.onInference?.(modelId, inferenceMs / 1000, label);
        const result: ExecutionResult = { resultCode, output, outputHash, inferenceMs };
        if (reason !== undefined) result.reason = reason;
        if (referenceMismatch !== undefined) result.referenceMismatch = referenceMismatch;
        return result;
    }

    /** One run: inline if the model runs inline (still, once its turn comes), else in a worker. */
    async #run(
        modelId: string,
        input: Uint8Array,
        type: "run" | "reference",
    ): Promise<Exclude<RunOutcome, { kind: "timeout" }>> {
        if (this.#inline !== undefined && this.#placements?.placement(modelId) === "inline") {
            const outcome = await this.#inline.run(modelId, input, type);
            if (outcome !== undefined) return outcome;
        }
        return this.#dispatch(modelId, input, type);
    }

    /** One run in a worker under the concurrency bound and time limit; a timeout throws. */
    async #dispatch(
        modelId: string,
        input: Uint8Array,
        type: "run" | "reference",
    ): Promise<Exclude<RunOutcome, { kind: "timeout" }>> {
        const release = await this.#semaphore.acquire();
        try {
            const worker = await this.#acquire();
            const { timeoutMs } = this.#options;
            const dispatched = performance.now();
            let timer: NodeJS.Timeout | undefined;
            let outcome: RunOutcome;
            try {
                const running = worker.run(modelId, input, type);
                timer = setTimeout(() => worker.kill("timeout", `the run exceeded ${timeoutMs} ms`), timeoutMs);
                outcome = await running;
            } catch (err) {
                if (!(err instanceof WorkerGoneError)) throw err;
                if (err.reason === "timeout") this.#timeout(modelId, dispatched, performance.now() - dispatched);
                throw new RetryableError(
                    "INFERENCE_WORKER_EXITED",
                    `model ${modelId}: the inference worker went away during the run: ${err.message}`,
                    { cause: err },
                );
            } finally {
                clearTimeout(timer);
                this.#release(worker);
            }
            if (outcome.kind === "timeout") this.#timeout(modelId, dispatched, outcome.runMs);
            this.#workerRan(modelId, type, outcome, performance.now() - dispatched - outcome.inferenceMs);
            return outcome;
        } finally {
            release();
        }
    }

    /** Reports a worker run's times to the placements, and moves the model inline when they say so. */
    #workerRan(modelId: string, type: "run" | "reference", outcome: RunOutcome, hopMs: number): void {
        const source = this.#models.get(modelId);
        if (this.#placements === undefined || this.#inline === undefined || source === undefined) return;
        const ok = type === "run" && outcome.kind === "result" && outcome.outcome === "ok";
        const why = this.#placements.workerRun(modelId, ok ? outcome.inferenceMs : undefined, hopMs);
        if (why === undefined) return;
        const moving = this.#inline.promote(modelId, source, why);
        this.#inFlight.add(moving);
        void moving.finally(() => this.#inFlight.delete(moving));
    }

    /** Tells `onPlacement`, whose errors are ignored: a logging hook must not stall the inline runs. */
    #placed(modelId: string, placement: Placement, why: string): void {
        try {
            this.#options.onPlacement?.(modelId, placement, why);
        } catch {
            // ignored
        }
    }

    #timeout(modelId: string, dispatched: number, runMs: number): never {
        throw this.#timeoutError(modelId, dispatched, runMs);
    }

    #timeoutError(modelId: string, dispatched: number, runMs: number): InferenceTimeoutError {
        this.#options.onInference?.(modelId, (performance.now() - dispatched) / 1000, "timeout");
        return new InferenceTimeoutError(modelId, this.#options.timeoutMs, runMs);
    }
}

function closedError(): PermanentError {
    return new PermanentError("EXECUTOR_CLOSED", "the executor is closed");
}
