/**
 * One inference, start to finish, as an inference worker runs it (see executorWorker.ts): the onnxruntime session
 * of a model checked against its manifest, the request input decoded and checked against the manifest, the run,
 * the outputs checked and encoded canonically, and their hash.
 *
 * Result codes (see executor.ts for the whole contract):
 * - A well-formed input that fits the manifest runs; the outputs are encoded in manifest order (OK).
 * - Malformed bytes, or a tensor count, dtype or shape that does not fit the manifest: INVALID_INPUT.
 * - The model failing on a well-formed input (onnxruntime throws, an output is missing or of the wrong type or
 *   shape, a float output that is NaN, infinite or outside the wire dtype): MODEL_ERROR.
 * - onnxruntime running out of memory is not a result: InferenceResourceError.
 *
 * Verifiable (REEXECUTION) models. What counts as correct for them is the reference semantics (the TypeScript
 * interpreter and the on-chain executor), not whatever onnxruntime prints: onnxruntime's int8 kernels can saturate
 * intermediate int16 sums on CPUs without VNNI (docs/node.md). Such a model is loaded with `verifiable`: it is
 * compiled (it must be in the verifiable subset) and its program must hash to the registered `programHash`, or
 * the load fails for good. Each run then computes onnxruntime's result and the reference interpreter's; when they
 * differ, the reference result is returned, with onnxruntime's in `referenceMismatch`.
 */
import * as ort from "onnxruntime-node";
import { PermanentError } from "../internal/errors";
import { keccak256 } from "../internal/keccak";
import type * as DisputeGas from "../verify/disputeGas";
import type * as Execute from "../verify/execute";
import type { VerifiableModel } from "../verify/execute";
import {
    EMPTY_OUTPUT_HASH,
    InferenceResourceError,
    type InferenceOutcome,
    type RunOutcome,
    type VerifiableLoad,
} from "./executorProtocol";
import { FixedPointError } from "../protocol/fixedPoint";
import { fixedBytesToFloat32, float32ArrayToFixed } from "../protocol/fixedPointArrays";
import { ModelFormatError, wireDType, type Manifest, type TensorSpec } from "../protocol/manifestTypes";
import { inputMismatch, sameShape, shapeText, type InputRule } from "../protocol/inputCheck";
import { ResultCode } from "../protocol/resultCodes";
import {
    DType,
    TensorCodecError,
    encodeTensorsTyped,
    readTensorElements,
    scanTensors,
    type TensorLayout,
    type TypedTensor,
} from "../protocol/tensorCodec";

/**
 * The reference interpreter and the dispute-gas bound (verify/), loaded with the first verifiable model: a worker
 * that serves none never loads them (they and onnx-proto took about a third of a worker's start-up).
 */
let verifier: { readonly execute: typeof Execute; readonly disputeGas: typeof DisputeGas } | undefined;

function loadVerifier(): NonNullable<typeof verifier> {
    return (verifier ??= {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        execute: require("../verify/execute") as typeof Execute,
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        disputeGas: require("../verify/disputeGas") as typeof DisputeGas,
    });
}

/** onnxruntime error messages that mean "this machine ran out of resources", not "the model failed". */
const RESOURCE_FAILURE = /bad_alloc|failed to allocate|out of memory/i;

/** How one manifest tensor maps between the wire and onnxruntime (for an input, also the rule it is checked by). */
interface TensorPlan extends InputRule {
    readonly spec: TensorSpec;
    /** Wire dtype. */
    readonly dtype: DType;
    /** Decimal scale of a float32 tensor; undefined for an integer tensor (passed as is). */
    readonly decimals: number | undefined;
}

/** A model ready to run: its session and how to map its inputs and outputs. */
export interface LoadedModel {
    readonly modelId: string;
    readonly session: ort.InferenceSession;
    readonly inputs: readonly TensorPlan[];
    readonly outputs: readonly TensorPlan[];
    readonly outputNames: readonly string[];
    /** Set for a verifiable model: the reference interpreter's view of it, whose result is the canonical one. */
    readonly reference?: VerifiableModel;
}

/** Why an input does not fit the manifest (INVALID_INPUT) or an output is unusable (MODEL_ERROR). */
class Rejection extends Error {}

/**
 * The smallest model onnxruntime loads: Identity on a float32[1] (buildOnnxModel in onnxGraph.ts writes these
 * bytes; test/oracle/runtime/warmUp.spec.ts checks what they hold).
 */
export const WARM_UP_MODEL =
    "CAgSBnZlcml0eTpKCh4KAXgSAXkaCklkZW50aXR5XzAiCElkZW50aXR5OgASBnZlcml0eVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEBE=";

/**
 * Creates (and releases) a session of a trivial model, so that onnxruntime initialises itself now: its first
 * session in a process costs some 30 ms more than the next ones (100 ms on a busy machine), which an inference
 * worker pays here while the node's start-up is busy elsewhere, instead of in its first model load. Never
 * throws: a failure here surfaces, if it is real, in the load that follows.
 */
export async function warmUpOnnxruntime(): Promise<void> {
    try {
        const session = await ort.InferenceSession.create(Buffer.from(WARM_UP_MODEL, "base64"), {
            logSeverityLevel: 4,
            intraOpNumThreads: 1,
            interOpNumThreads: 1,
        });
        await session.release();
    } catch {
        // ignored (see above)
    }
}

/**
 * Creates an onnxruntime session for the model and checks it against the manifest: the graph's inputs are
 * exactly the manifest's, the manifest's outputs are graph outputs, and where the graph declares an element type
 * or fixed dims they agree with the manifest. Throws ModelFormatError otherwise or when onnxruntime cannot load
 * the bytes. With `verifiable`, also compiles the model for the reference interpreter and throws PermanentError
 * MODEL_NOT_VERIFIABLE when it is outside the verifiable subset, PROGRAM_HASH_MISMATCH when its program does not
 * hash to `verifiable.programHash` (serving it would risk slashing: disputes re-execute the registered program),
 * and DISPUTE_TOO_EXPENSIVE when its worst-case dispute exceeds `verifiable.maxDisputeGas` (the registry refuses
 * such a model; a node still checks what it serves).
 */
export async function loadModel(
    modelId: string,
    onnx: Uint8Array,
    manifest: Manifest,
    intraOpNumThreads: number | undefined,
    verifiable?: VerifiableLoad,
): Promise<LoadedModel> {
    const reference = verifiable === undefined ? undefined : loadReference(modelId, onnx, manifest, verifiable);
    let session: ort.InferenceSession;
    try {
        session = await ort.InferenceSession.create(onnx, {
            logSeverityLevel: 4,
            ...(intraOpNumThreads === undefined ? {} : { intraOpNumThreads }),
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
        name: spec.name,
        shape: spec.shape,
        ...(spec.range === undefined ? {} : { range: spec.range }),
        dtype: wireDType(spec),
        decimals: spec.onnxType === "float32" ? spec.decimals : undefined,
    });
    return {
        modelId,
        session,
        inputs: manifest.inputs.map(plan),
        outputs: manifest.outputs.map(plan),
        outputNames: manifest.outputs.map((spec) => spec.name),
        ...(reference === undefined ? {} : { reference }),
    };
}

/** Compiles a verifiable model and checks its program hash (see `loadModel`). */
function loadReference(
    modelId: string,
    onnx: Uint8Array,
    manifest: Manifest,
    verifiable: VerifiableLoad,
): VerifiableModel {
    let reference: VerifiableModel;
    try {
        reference = loadVerifier().execute.loadVerifiableModel(onnx, manifest);
    } catch (err) {
        throw new PermanentError(
            "MODEL_NOT_VERIFIABLE",
            `model ${modelId} is registered for re-execution but is outside the verifiable subset: ${messageOf(err)}`,
            { cause: err },
        );
    }
    const compiled = reference.compiled.programHash.toLowerCase();
    if (compiled !== verifiable.programHash.toLowerCase()) {
        throw new PermanentError(
            "PROGRAM_HASH_MISMATCH",
            `model ${modelId}: its compiled program hashes to ${compiled}, the registry says ${verifiable.programHash}; ` +
                "disputes would re-execute another program than the ONNX file's",
        );
    }
    if (verifiable.maxDisputeGas !== undefined) {
        const disputeGas = loadVerifier().disputeGas.disputeGasBound(reference.compiled.program);
        if (disputeGas > verifiable.maxDisputeGas) {
            throw new PermanentError(
                "DISPUTE_TOO_EXPENSIVE",
                `model ${modelId}: a dispute over one of its results could need ${disputeGas} gas, more than the ` +
                    `REEXECUTION resolver's maxDisputeGas (${verifiable.maxDisputeGas}); its results could not be ` +
                    "disputed, so this node does not serve it",
            );
        }
    }
    return reference;
}

/**
 * Runs the model on canonical input bytes. Never throws for a bad input or a failing model (those are results);
 * throws InferenceResourceError when onnxruntime runs out of memory. A run that returns after `timeoutMs` is
 * reported as a timeout, not a result. For a verifiable model the result is the reference interpreter's whenever
 * onnxruntime's differs from it (`referenceMismatch` then holds onnxruntime's).
 */
export function executeModel(model: LoadedModel, input: Uint8Array, timeoutMs: number): Promise<RunOutcome> {
    // Not itself async: a small model's whole run takes µs, and a promise layer costs a little of that.
    return model.reference === undefined
        ? executeOnnx(model, input, timeoutMs)
        : executeVerifiable(model, model.reference, input, timeoutMs);
}

/** `executeModel` of a verifiable model. Its `inferenceMs` includes the reference interpreter's run. */
async function executeVerifiable(
    model: LoadedModel,
    referenceModel: VerifiableModel,
    input: Uint8Array,
    timeoutMs: number,
): Promise<RunOutcome> {
    const start = performance.now();
    const outcome = await executeOnnx(model, input, timeoutMs);
    if (outcome.kind !== "result") return outcome;
    const reference = loadVerifier().execute.runVerifiable(referenceModel, input);
    if (reference.resultCode === outcome.resultCode && reference.outputHash === outcome.outputHash) {
        return { ...outcome, inferenceMs: performance.now() - start };
    }
    return {
        kind: "result",
        outcome: outcomeLabel(reference.resultCode),
        resultCode: reference.resultCode,
        output: new Uint8Array(reference.output),
        outputHash: reference.outputHash,
        inferenceMs: performance.now() - start,
        ...(reference.reason === undefined ? {} : { reason: reference.reason }),
        referenceMismatch: {
            resultCode: outcome.resultCode,
            outputHash: outcome.outputHash,
            ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
        },
    };
}

/** The reference interpreter's result alone (a verifiable model's canonical result; the challenger's check). */
export function executeReference(model: LoadedModel, input: Uint8Array): RunOutcome {
    if (model.reference === undefined) {
        throw new PermanentError("MODEL_NOT_VERIFIABLE", `model ${model.modelId} was not loaded as a verifiable model`);
    }
    const start = performance.now();
    const reference = loadVerifier().execute.runVerifiable(model.reference, input);
    return {
        kind: "reference",
        resultCode: reference.resultCode,
        output: new Uint8Array(reference.output),
        outputHash: reference.outputHash,
        inferenceMs: performance.now() - start,
        ...(reference.reason === undefined ? {} : { reason: reference.reason }),
    };
}

function outcomeLabel(resultCode: number): Exclude<InferenceOutcome, "timeout"> {
    if (resultCode === ResultCode.OK) return "ok";
    return resultCode === ResultCode.INVALID_INPUT ? "invalid_input" : "model_error";
}

/** The onnxruntime half of `executeModel`. */
async function executeOnnx(model: LoadedModel, input: Uint8Array, timeoutMs: number): Promise<RunOutcome> {
    const start = performance.now();
    const finish = (
        outcome: Exclude<InferenceOutcome, "timeout">,
        resultCode: number,
        output: Uint8Array,
        reason?: string,
    ): RunOutcome => {
        const outputHash = output.length === 0 ? EMPTY_OUTPUT_HASH : keccak256(output);
        const inferenceMs = performance.now() - start;
        return {
            kind: "result",
            outcome,
            resultCode,
            output,
            outputHash,
            inferenceMs,
            ...(reason === undefined ? {} : { reason }),
        };
    };

    let feeds: Record<string, ort.Tensor>;
    try {
        feeds = toFeeds(model.inputs, input);
    } catch (err) {
        if (!(err instanceof Rejection || err instanceof TensorCodecError)) throw err;
        return finish("invalid_input", ResultCode.INVALID_INPUT, new Uint8Array(0), err.message);
    }

    const runStart = performance.now();
    let results: ort.InferenceSession.ReturnType;
    try {
        results = await model.session.run(feeds, model.outputNames);
    } catch (err) {
        if (RESOURCE_FAILURE.test(messageOf(err))) {
            throw new InferenceResourceError(
                "INFERENCE_RESOURCES",
                `model ${model.modelId}: onnxruntime ran out of resources: ${messageOf(err)}`,
                { cause: err },
            );
        }
        return finish("model_error", ResultCode.MODEL_ERROR, new Uint8Array(0), `onnxruntime: ${messageOf(err)}`);
    }
    const runMs = performance.now() - runStart;
    if (runMs > timeoutMs) return { kind: "timeout", runMs, inferenceMs: performance.now() - start };

    let output: Uint8Array;
    try {
        output = encodeTensorsTyped(fromResults(model.outputs, results));
    } catch (err) {
        if (!(err instanceof Rejection || err instanceof FixedPointError)) throw err;
        return finish("model_error", ResultCode.MODEL_ERROR, new Uint8Array(0), err.message);
    }
    return finish("ok", ResultCode.OK, output);
}

// -------------------------------------------------------------------------------------------------------------
// Checks and conversions
// -------------------------------------------------------------------------------------------------------------

function messageOf(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
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

/** Decodes and checks the request input against the manifest (inputCheck.ts); the onnxruntime feeds. Throws Rejection. */
function toFeeds(plans: readonly TensorPlan[], input: Uint8Array): Record<string, ort.Tensor> {
    const layouts = scanTensors(input); // TensorCodecError on malformed bytes
    const mismatch = inputMismatch(input, layouts, plans);
    if (mismatch !== undefined) throw new Rejection(mismatch);
    const feeds: Record<string, ort.Tensor> = {};
    plans.forEach((plan, i) => {
        const layout = layouts[i] as TensorLayout;
        const { spec } = plan;
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
