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
 * the node can decline the request: exceeding the time limit (InferenceTimeoutError) and onnxruntime running out
 * of memory (InferenceResourceError).
 *
 * onnxruntime-node runs `session.run` synchronously on the JS thread (inside a setImmediate), so runs of all
 * models take turns on one thread and a timer cannot interrupt one: the time limit is checked when the run
 * returns (and, should a future binding run asynchronously, also by a timer racing the run). `concurrency` bounds
 * how many runs hold decoded inputs and pending outputs at once.
 */
import { keccak256 } from "ethers";
import * as ort from "onnxruntime-node";
import { PermanentError, RetryableError } from "../internal/errors";
import { Semaphore } from "../internal/semaphore";
import { FixedPointError } from "./fixedPoint";
import { fixedBytesToFloat32, float32ArrayToFixed } from "./fixedPointArrays";
import { ModelFormatError, wireDType, type Manifest, type TensorSpec } from "./manifest";
import { ResultCode } from "./resultCodes";
import {
    DType,
    TensorCodecError,
    encodeTensorsTyped,
    readTensorElements,
    scanTensors,
    type TensorLayout,
    type TypedTensor,
} from "./tensorCodec";

export { ResultCode } from "./resultCodes";

/** keccak256 of empty bytes: the outputHash of an INVALID_INPUT or MODEL_ERROR result. */
export const EMPTY_OUTPUT_HASH = keccak256(new Uint8Array(0));

/** What the operator submits for one request. */
export interface ExecutionResult {
    /** ResultCode.OK, INVALID_INPUT or MODEL_ERROR. */
    resultCode: number;
    /** Canonical tensor-list bytes of the outputs (OK), or empty bytes (the error codes). */
    output: Uint8Array;
    /** keccak256 of `output`. */
    outputHash: string;
    /** Why the result is an error code; for logs only, never submitted. */
    reason?: string;
    /** Wall time of the execution after it got a concurrency slot (decode, run, encode, hash), in ms. */
    inferenceMs: number;
}

/** The outcome label passed to `onInference` (e.g. a metrics label). */
export type InferenceOutcome = "ok" | "invalid_input" | "model_error" | "timeout";

/** Executor settings. */
export interface ExecutorOptions {
    /** Executions at once (an integer >= 1); more wait in FIFO order. */
    concurrency: number;
    /** A model run longer than this throws InferenceTimeoutError instead of giving a result. */
    timeoutMs: number;
    /** onnxruntime intra-op threads per session; onnxruntime's default (one per core) if omitted. */
    intraOpNumThreads?: number;
    /** Called once per execution with its duration in seconds (see `inferenceMs`) and outcome. Must not throw. */
    onInference?: (modelId: string, seconds: number, outcome: InferenceOutcome) => void;
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

/** onnxruntime ran out of memory. Not a result: the model may well succeed on a machine with more memory. */
export class InferenceResourceError extends RetryableError {}

/** onnxruntime error messages that mean "this machine ran out of resources", not "the model failed". */
const RESOURCE_FAILURE = /bad_alloc|failed to allocate|out of memory/i;

/** How one manifest tensor maps between the wire and onnxruntime. */
interface TensorPlan {
    readonly spec: TensorSpec;
    /** Wire dtype. */
    readonly dtype: DType;
    /** Decimal scale of a float32 tensor; undefined for an integer tensor (passed as is). */
    readonly decimals: number | undefined;
}

interface LoadedModel {
    readonly session: ort.InferenceSession;
    readonly inputs: readonly TensorPlan[];
    readonly outputs: readonly TensorPlan[];
    readonly outputNames: readonly string[];
}

/** Why an input does not fit the manifest (INVALID_INPUT) or an output is unusable (MODEL_ERROR). */
class Rejection extends Error {}

/** Runs loaded models with a bound on concurrent executions. */
export class Executor {
    readonly #options: ExecutorOptions;
    readonly #semaphore: Semaphore;
    readonly #models = new Map<string, LoadedModel>();
    readonly #loading = new Map<string, Promise<LoadedModel>>();
    readonly #inFlight = new Set<Promise<unknown>>();
    #closed = false;

    constructor(options: ExecutorOptions) {
        if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
            throw new PermanentError("INVALID_OPTIONS", `concurrency must be an integer >= 1: ${options.concurrency}`);
        }
        if (!(options.timeoutMs > 0)) {
            throw new PermanentError("INVALID_OPTIONS", `timeoutMs must be positive: ${options.timeoutMs}`);
        }
        this.#options = { ...options };
        this.#semaphore = new Semaphore(options.concurrency);
    }

    /** Executions holding a concurrency slot right now (at most `concurrency`). */
    get active(): number {
        return this.#semaphore.inUse;
    }

    /** Executions waiting for a slot. */
    get queued(): number {
        return this.#semaphore.waiting;
    }

    /**
     * Creates an onnxruntime session for the model and checks it against the manifest: the graph's inputs are
     * exactly the manifest's, the manifest's outputs are graph outputs, and where the graph declares an element
     * type or fixed dims they agree with the manifest. Throws ModelFormatError otherwise or when onnxruntime
     * cannot load the bytes. Loading a model id already loaded (or loading) is a no-op.
     */
    async load(modelId: string, onnx: Uint8Array, manifest: Manifest): Promise<void> {
        this.#checkOpen();
        if (this.#models.has(modelId)) return;
        let loading = this.#loading.get(modelId);
        if (loading === undefined) {
            loading = this.#createSession(modelId, onnx, manifest);
            this.#loading.set(modelId, loading);
        }
        try {
            const model = await loading;
            if (this.#closed) {
                await model.session.release();
                throw new PermanentError("EXECUTOR_CLOSED", "the executor is closed");
            }
            this.#models.set(modelId, model);
        } finally {
            this.#loading.delete(modelId);
        }
    }

    /** Whether `modelId` is loaded. */
    has(modelId: string): boolean {
        return this.#models.has(modelId);
    }

    /**
     * Runs the model on canonical input bytes. Never throws for a bad input or a failing model (those are
     * results); throws InferenceTimeoutError, InferenceResourceError, PermanentError `MODEL_NOT_LOADED` and
     * `EXECUTOR_CLOSED`.
     */
    async run(modelId: string, input: Uint8Array): Promise<ExecutionResult> {
        this.#checkOpen();
        const model = this.#models.get(modelId);
        if (model === undefined) throw new PermanentError("MODEL_NOT_LOADED", `model ${modelId} is not loaded`);
        const execution = this.#execute(modelId, model, input);
        this.#inFlight.add(execution);
        try {
            return await execution;
        } finally {
            this.#inFlight.delete(execution);
        }
    }

    /** Stops accepting runs and loads, waits for the runs already accepted, then releases every session. */
    async close(): Promise<void> {
        this.#closed = true;
        await Promise.allSettled([...this.#inFlight, ...this.#loading.values()]);
        const models = [...this.#models.values()];
        this.#models.clear();
        await Promise.all(models.map((model) => model.session.release()));
    }

    #checkOpen(): void {
        if (this.#closed) throw new PermanentError("EXECUTOR_CLOSED", "the executor is closed");
    }

    async #createSession(modelId: string, onnx: Uint8Array, manifest: Manifest): Promise<LoadedModel> {
        let session: ort.InferenceSession;
        try {
            session = await ort.InferenceSession.create(onnx, {
                logSeverityLevel: 4,
                ...(this.#options.intraOpNumThreads === undefined
                    ? {}
                    : { intraOpNumThreads: this.#options.intraOpNumThreads }),
            });
        } catch (err) {
            throw new ModelFormatError(`model ${modelId}: onnxruntime cannot load it: ${messageOf(err)}`, {
                cause: err,
            });
        }
        try {
            checkSessionAgainstManifest(modelId, session, manifest);
        } catch (err) {
            await session.release();
            throw err;
        }
        const plan = (spec: TensorSpec): TensorPlan => ({
            spec,
            dtype: wireDType(spec),
            decimals: spec.onnxType === "float32" ? spec.decimals : undefined,
        });
        return {
            session,
            inputs: manifest.inputs.map(plan),
            outputs: manifest.outputs.map(plan),
            outputNames: manifest.outputs.map((spec) => spec.name),
        };
    }

    async #execute(modelId: string, model: LoadedModel, input: Uint8Array): Promise<ExecutionResult> {
        const release = await this.#semaphore.acquire();
        const start = performance.now();
        let releaseLater = false;
        const finish = (outcome: InferenceOutcome, resultCode: number, output: Uint8Array, reason?: string) => {
            const outputHash = output.length === 0 ? EMPTY_OUTPUT_HASH : keccak256(output);
            const inferenceMs = performance.now() - start;
            this.#options.onInference?.(modelId, inferenceMs / 1000, outcome);
            const result: ExecutionResult = { resultCode, output, outputHash, inferenceMs };
            if (reason !== undefined) result.reason = reason;
            return result;
        };
        try {
            let feeds: Record<string, ort.Tensor>;
            try {
                feeds = toFeeds(model.inputs, input);
            } catch (err) {
                if (!(err instanceof Rejection || err instanceof TensorCodecError)) throw err;
                return finish("invalid_input", ResultCode.INVALID_INPUT, new Uint8Array(0), err.message);
            }

            const runStart = performance.now();
            const running = model.session.run(feeds, model.outputNames);
            let results: ort.InferenceSession.ReturnType;
            try {
                results = await withTimer(running, this.#options.timeoutMs);
            } catch (err) {
                if (err === TIMED_OUT) {
                    // The run goes on in the background: it keeps its slot, and close() waits for it, until it
                    // really ends.
                    releaseLater = true;
                    const background: Promise<void> = running
                        .then(release, release)
                        .finally(() => this.#inFlight.delete(background));
                    this.#inFlight.add(background);
                    return this.#timeout(modelId, start, performance.now() - runStart);
                }
                if (RESOURCE_FAILURE.test(messageOf(err))) {
                    throw new InferenceResourceError(
                        "INFERENCE_RESOURCES",
                        `model ${modelId}: onnxruntime ran out of resources: ${messageOf(err)}`,
                        { cause: err },
                    );
                }
                return finish(
                    "model_error",
                    ResultCode.MODEL_ERROR,
                    new Uint8Array(0),
                    `onnxruntime: ${messageOf(err)}`,
                );
            }
            const runMs = performance.now() - runStart;
            if (runMs > this.#options.timeoutMs) return this.#timeout(modelId, start, runMs);

            let output: Uint8Array;
            try {
                output = encodeTensorsTyped(fromResults(model.outputs, results));
            } catch (err) {
                if (!(err instanceof Rejection || err instanceof FixedPointError)) throw err;
                return finish("model_error", ResultCode.MODEL_ERROR, new Uint8Array(0), err.message);
            }
            return finish("ok", ResultCode.OK, output);
        } finally {
            if (!releaseLater) release();
        }
    }

    #timeout(modelId: string, start: number, runMs: number): never {
        this.#options.onInference?.(modelId, (performance.now() - start) / 1000, "timeout");
        throw new InferenceTimeoutError(modelId, this.#options.timeoutMs, runMs);
    }
}

/** Rejection value of `withTimer` when the timer wins. */
const TIMED_OUT = Symbol("timed out");

/** `promise`, or a rejection with TIMED_OUT after `ms`. */
async function withTimer<T>(promise: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(TIMED_OUT), ms);
    });
    try {
        return await Promise.race([promise, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

function messageOf(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

function shapeText(shape: readonly (number | string)[]): string {
    return `[${shape.join(", ")}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
    return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws ModelFormatError unless the session's inputs and outputs fit the manifest. */
function checkSessionAgainstManifest(modelId: string, session: ort.InferenceSession, manifest: Manifest): void {
    const fail = (why: string): never => {
        throw new ModelFormatError(`model ${modelId} does not match its manifest: ${why}`);
    };
    const inputNames = manifest.inputs.map((spec) => spec.name);
    for (const name of inputNames) {
        if (!session.inputNames.includes(name)) {
            fail(`no graph input "${name}" (graph inputs: ${session.inputNames.join(", ")})`);
        }
    }
    for (const name of session.inputNames) {
        if (!inputNames.includes(name)) fail(`graph input "${name}" is not in the manifest, so it would never be fed`);
    }
    for (const spec of manifest.outputs) {
        if (!session.outputNames.includes(spec.name)) {
            fail(`no graph output "${spec.name}" (graph outputs: ${session.outputNames.join(", ")})`);
        }
    }
    const check = (spec: TensorSpec, metadata: readonly ort.InferenceSession.ValueMetadata[], kind: string) => {
        const meta = metadata.find((m) => m.name === spec.name);
        if (meta === undefined) return; // older bindings without metadata
        if (!meta.isTensor) fail(`${kind} "${spec.name}" is not a tensor`);
        else {
            if (meta.type !== spec.onnxType)
                fail(`${kind} "${spec.name}" is ${meta.type}, the manifest says ${spec.onnxType}`);
            // An empty shape means "not declared"; symbolic dims accept any size.
            const declared = meta.shape;
            const mismatch =
                declared.length > 0 &&
                (declared.length !== spec.shape.length ||
                    declared.some((d, i) => typeof d === "number" && d !== spec.shape[i]));
            if (mismatch) {
                fail(
                    `${kind} "${spec.name}" has shape ${shapeText(declared)}, the manifest says ${shapeText(spec.shape)}`,
                );
            }
        }
    };
    manifest.inputs.forEach((spec) => check(spec, session.inputMetadata, "input"));
    manifest.outputs.forEach((spec) => check(spec, session.outputMetadata, "output"));
}

/** Decodes and checks the request input against the manifest; the onnxruntime feeds. Throws Rejection. */
function toFeeds(plans: readonly TensorPlan[], input: Uint8Array): Record<string, ort.Tensor> {
    const layouts = scanTensors(input); // TensorCodecError on malformed bytes
    if (layouts.length !== plans.length) {
        throw new Rejection(`the input holds ${layouts.length} tensors, the model takes ${plans.length}`);
    }
    const feeds: Record<string, ort.Tensor> = {};
    plans.forEach((plan, i) => {
        const layout = layouts[i] as TensorLayout;
        const { spec } = plan;
        if (layout.dtype !== plan.dtype) {
            throw new Rejection(`input ${i} ("${spec.name}") is ${DType[layout.dtype]}, the model takes ${spec.dtype}`);
        }
        if (!sameShape(layout.shape, spec.shape)) {
            throw new Rejection(
                `input ${i} ("${spec.name}") has shape ${shapeText(layout.shape)}, the model takes ${shapeText(spec.shape)}`,
            );
        }
        feeds[spec.name] =
            plan.decimals === undefined
                ? new ort.Tensor(spec.onnxType, readTensorElements(input, layout), spec.shape)
                : new ort.Tensor("float32", fixedBytesToFloat32(input, layout, plan.decimals), spec.shape);
    });
    return feeds;
}

/** The wire tensors of the outputs, in manifest order. Throws Rejection or FixedPointError (MODEL_ERROR). */
function fromResults(plans: readonly TensorPlan[], results: ort.InferenceSession.ReturnType): TypedTensor[] {
    return plans.map((plan) => {
        const { spec } = plan;
        const value = results[spec.name];
        if (!(value instanceof ort.Tensor)) throw new Rejection(`output "${spec.name}" is missing`);
        if (value.type !== spec.onnxType) {
            throw new Rejection(`output "${spec.name}" is ${value.type}, the manifest says ${spec.onnxType}`);
        }
        if (!sameShape(value.dims, spec.shape)) {
            throw new Rejection(
                `output "${spec.name}" has shape ${shapeText(value.dims)}, the manifest says ${shapeText(spec.shape)}`,
            );
        }
        const shape = [...spec.shape];
        if (plan.decimals !== undefined) {
            const data = float32ArrayToFixed(value.data as Float32Array, plan.decimals, plan.dtype);
            return { dtype: plan.dtype, shape, data };
        }
        return { dtype: plan.dtype, shape, data: value.data as TypedTensor["data"] };
    });
}
