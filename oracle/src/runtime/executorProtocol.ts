/**
 * What the Executor (main thread) and its inference workers (executorWorker.ts) share: the result types, the
 * errors that cross the thread boundary, and the messages. Free of onnxruntime, so that the main thread loads it
 * only once a model runs inline (inlineRuns.ts).
 */
import { keccak256 } from "../internal/keccak";
import { PermanentError, RetryableError, VerityError } from "../internal/errors";
import { ModelFormatError, type Manifest } from "../protocol/manifestTypes";

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
    /**
     * Wall time of the execution in its inference worker (decode, run, encode, hash, and the reference interpreter
     * for a verifiable model), in ms. It leaves out the wait for a concurrency slot and the hop between threads.
     * For an inline run (on the main thread): its share of the time the main thread spent on its round of inline
     * runs, the wait for its turn of the event loop left out.
     */
    inferenceMs: number;
    /**
     * Set for a verifiable (REEXECUTION) model when onnxruntime's result differed from the reference
     * interpreter's: what onnxruntime said. The result above is then the reference's (the canonical result).
     */
    referenceMismatch?: ReferenceMismatch;
}

/** onnxruntime's result of a verifiable model where it differed from the reference interpreter's. */
export interface ReferenceMismatch {
    /** onnxruntime's result code. */
    readonly resultCode: number;
    /** keccak256 of onnxruntime's output bytes. */
    readonly outputHash: string;
    /** Why onnxruntime's result was an error code, if it was. */
    readonly reason?: string;
}

/** How a verifiable model is loaded: checked against the program hash the registry binds to it. */
export interface VerifiableLoad {
    /** The registry's `programHash`; the model's compiled program must hash to it. */
    readonly programHash: string;
    /**
     * The REEXECUTION resolver's `maxDisputeGas`: a model whose worst-case dispute (the chain's bound,
     * verify/disputeGas.ts) needs more could not be disputed, so its results would carry no guarantee.
     */
    readonly maxDisputeGas?: bigint;
}

/** The canonical result of a verifiable model computed by the reference interpreter alone (the challenger's). */
export interface ReferenceResult {
    resultCode: number;
    output: Uint8Array;
    outputHash: string;
    /** Why the result is an error code; for logs only. */
    reason?: string;
    /** Wall time of the reference run in its worker, in ms. */
    inferenceMs: number;
}

/** The outcome label passed to `onInference` (e.g. a metrics label). */
export type InferenceOutcome = "ok" | "invalid_input" | "model_error" | "timeout";

/** onnxruntime ran out of memory. Not a result: the model may well succeed on a machine with more memory. */
export class InferenceResourceError extends RetryableError {}

/** What one execution in a worker came to. */
export type RunOutcome =
    | ({ kind: "result"; outcome: Exclude<InferenceOutcome, "timeout"> } & ExecutionResult)
    /** session.run itself returned after the limit (the main thread's timer normally fires first). */
    | { kind: "timeout"; runMs: number; inferenceMs: number }
    /** A reference-interpreter run (`reference` request). */
    | ({ kind: "reference" } & ReferenceResult);

/** The worker's `workerData`. */
export interface WorkerConfig {
    /** Absolute path of the worker module (executorWorker.ts under ts-node, executorWorker.js compiled). */
    readonly module: string;
    /** The tsconfig.json ts-node compiles with when `module` is TypeScript. */
    readonly tsconfig: string;
    /**
     * When `module` is TypeScript and the main thread runs under ts-node: the JavaScript of `module` and of the
     * repository modules it imports, by absolute path, transpiled once by the main thread so that the workers
     * need not load TypeScript. A module missing here makes the worker register ts-node after all.
     */
    readonly sources?: Readonly<Record<string, string>>;
    /** onnxruntime intra-op threads of each session in this worker. */
    readonly intraOpNumThreads: number;
    /** The run-time limit the worker checks after each session.run (see RunOutcome). */
    readonly timeoutMs: number;
}

/** Main thread -> worker. Every request but `exit` gets exactly one WorkerReply with the same id. */
export type WorkerRequest =
    | { type: "init"; id: number }
    /** End the thread with this exit code once the current message is done. */
    | { type: "exit"; id: number; code: number }
    /** `verifiable`: a REEXECUTION model, checked against its program hash; its runs return the reference result. */
    | { type: "load"; id: number; modelId: string; onnx: Uint8Array; manifest: Manifest; verifiable?: VerifiableLoad }
    | { type: "unload"; id: number; modelId: string }
    /** `input` is transferred. */
    | { type: "run"; id: number; modelId: string; input: Uint8Array }
    /** The reference interpreter alone on a verifiable model; `input` is transferred. */
    | { type: "reference"; id: number; modelId: string; input: Uint8Array };

/** Worker -> main thread. A run's (or reference run's) `value` is its RunOutcome, whose output is transferred. */
export type WorkerReply =
    { id: number; ok: true; value?: RunOutcome } | { id: number; ok: false; error: SerializedError };

/** An error thrown in a worker, as it crosses to the main thread. */
export interface SerializedError {
    readonly name: string;
    readonly message: string;
    /** VerityError `code`; undefined for other errors. */
    readonly code?: string;
    /** Whether it is a RetryableError. */
    readonly retryable: boolean;
}

/** `err` as it crosses the thread boundary (the stack and cause stay behind; the message names the cause). */
export function serializeError(err: unknown): SerializedError {
    if (!(err instanceof Error)) return { name: "Error", message: String(err), retryable: false };
    return {
        name: err.name,
        message: err.message,
        ...(err instanceof VerityError ? { code: err.code } : {}),
        retryable: err instanceof RetryableError,
    };
}

/**
 * The error a worker threw, rebuilt on the main thread: with its own class where callers test for it
 * (ModelFormatError, InferenceResourceError), else as a RetryableError or PermanentError with the same name, code
 * and message. A non-VerityError (a bug) becomes a plain Error of the same name and message.
 */
export function reviveError(serialized: SerializedError): Error {
    const { name, message, code } = serialized;
    if (code === undefined) {
        const err = new Error(message);
        err.name = name;
        return err;
    }
    if (name === "ModelFormatError") return new ModelFormatError(message);
    if (name === "InferenceResourceError") return new InferenceResourceError(code, message);
    const err = serialized.retryable ? new RetryableError(code, message) : new PermanentError(code, message);
    err.name = name;
    return err;
}
