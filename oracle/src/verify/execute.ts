/**
 * The canonical result of a verifiable (REEXECUTION) model on request input bytes, computed by the reference
 * interpreter: exactly what the on-chain executor (contracts/verify/IntegerExecutor.sol) returns for the model's
 * compiled program, and so what an honest operator must submit and what a challenger compares against.
 *
 * - The input must be exactly a tensor list of the manifest's inputs (count, dtype, shape) with every element in
 *   the input's declared range (manifest `range`, else the whole dtype): otherwise INVALID_INPUT, empty output.
 * - A value leaving its dtype, a zero divisor or a Gather index out of range is MODEL_ERROR, empty output (never
 *   for a model that passed `analyseModel`, whose inputs are range-checked first).
 * - Otherwise OK with the outputs in manifest order, canonically encoded.
 */
import { onnx } from "onnx-proto";
import { keccak256 } from "../internal/keccak";
import type { Manifest } from "../models/manifest";
import { ResultCode } from "../models/resultCodes";
import { DType, TensorCodecError, decodeTensors, encodeTensors, type Tensor } from "../models/tensorCodec";
import { compileModel, type CompiledProgram } from "./program";
import { INT_DTYPE_CODES, ReferenceExecutionError, runGraph, type IntDType, type IntTensor } from "./reference";
import type { ValueFacts } from "./subset";

/** A verifiable model ready to run: the decoded graph, its manifest and its compiled program. */
export interface VerifiableModel {
    readonly proto: onnx.IModelProto;
    readonly manifest: Manifest;
    readonly compiled: CompiledProgram;
}

/** A canonical result. */
export interface VerifiableResult {
    readonly resultCode: number;
    readonly output: Uint8Array;
    readonly outputHash: string;
    /** Why the result is an error code; for logs only. */
    readonly reason?: string;
}

/** Checks and compiles the model (throws SubsetError outside the subset) and keeps what a run needs. */
export function loadVerifiableModel(onnxBytes: Uint8Array, manifest?: Manifest): VerifiableModel {
    const compiled = compileModel(onnxBytes, manifest);
    return { proto: onnx.ModelProto.decode(onnxBytes), manifest: compiled.analysis.manifest, compiled };
}

const DTYPE_NAMES: ReadonlyMap<number, IntDType> = new Map(
    Object.entries(INT_DTYPE_CODES).map(([name, code]) => [code, name as IntDType]),
);

function result(resultCode: number, output: Uint8Array, reason?: string): VerifiableResult {
    return { resultCode, output, outputHash: keccak256(output), ...(reason === undefined ? {} : { reason }) };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
    return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The model's canonical result on `input` (see the file comment). Never throws for a bad input. */
export function runVerifiable(model: VerifiableModel, input: Uint8Array): VerifiableResult {
    const invalid = (reason: string) => result(ResultCode.INVALID_INPUT, new Uint8Array(0), reason);
    let tensors: Tensor[];
    try {
        tensors = decodeTensors(input);
    } catch (err) {
        if (err instanceof TensorCodecError) return invalid(err.message);
        throw err;
    }
    const specs: readonly ValueFacts[] = model.compiled.analysis.inputs;
    if (tensors.length !== specs.length) {
        return invalid(`the input holds ${tensors.length} tensors, the model takes ${specs.length}`);
    }
    const feeds: Record<string, IntTensor> = {};
    for (let i = 0; i < specs.length; i++) {
        const spec = specs[i]!;
        const t = tensors[i]!;
        if (DTYPE_NAMES.get(t.dtype) !== spec.dtype) {
            return invalid(`input ${i} ("${spec.name}") is ${DType[t.dtype]}, the model takes ${spec.dtype}`);
        }
        if (!sameShape(t.shape, spec.shape)) {
            return invalid(
                `input ${i} ("${spec.name}") has shape [${t.shape.join(", ")}], the model takes [${spec.shape.join(", ")}]`,
            );
        }
        const [lo, hi] = [spec.lo[0] ?? 0n, spec.hi[0] ?? 0n];
        const bad = t.data.findIndex((v) => v < lo || v > hi);
        if (bad >= 0) {
            return invalid(`input ${i} ("${spec.name}") element ${bad} is ${t.data[bad]}, outside [${lo}, ${hi}]`);
        }
        feeds[spec.name] = { dtype: spec.dtype, shape: t.shape, data: t.data };
    }
    let outputs: Record<string, IntTensor>;
    try {
        outputs = runGraph(model.proto, feeds);
    } catch (err) {
        if (err instanceof ReferenceExecutionError) {
            return result(ResultCode.MODEL_ERROR, new Uint8Array(0), err.message);
        }
        throw err;
    }
    const encoded = model.manifest.outputs.map((spec): Tensor => {
        const t = outputs[spec.name]!;
        return { dtype: INT_DTYPE_CODES[t.dtype] as DType, shape: t.shape, data: t.data };
    });
    return result(ResultCode.OK, encodeTensors(encoded));
}
