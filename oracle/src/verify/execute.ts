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
import type { Manifest } from "../protocol/manifest";
import { ResultCode } from "../protocol/resultCodes";
import { inputMismatch, type InputRule } from "../protocol/inputCheck";
import {
    DType,
    TensorCodecError,
    encodeTensors,
    readTensorElements,
    scanTensors,
    type Tensor,
    type TensorLayout,
} from "../protocol/tensorCodec";
import { compileModel, type CompiledProgram } from "./program";
import { INT_DTYPE_CODES, ReferenceExecutionError, runGraph, type IntTensor } from "./reference";
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

function result(resultCode: number, output: Uint8Array, reason?: string): VerifiableResult {
    return { resultCode, output, outputHash: keccak256(output), ...(reason === undefined ? {} : { reason }) };
}

/** The model's canonical result on `input` (see the file comment). Never throws for a bad input. */
export function runVerifiable(model: VerifiableModel, input: Uint8Array): VerifiableResult {
    const invalid = (reason: string) => result(ResultCode.INVALID_INPUT, new Uint8Array(0), reason);
    let layouts: TensorLayout[];
    try {
        layouts = scanTensors(input);
    } catch (err) {
        if (err instanceof TensorCodecError) return invalid(err.message);
        throw err;
    }
    const specs: readonly ValueFacts[] = model.compiled.analysis.inputs;
    // The program's declared input ranges: the manifest's, or the whole dtype (inputCheck.ts, as the node checks).
    const rules = specs.map((spec): InputRule => ({
        name: spec.name,
        dtype: INT_DTYPE_CODES[spec.dtype] as DType,
        shape: spec.shape,
        range: [spec.lo[0] ?? 0n, spec.hi[0] ?? 0n],
    }));
    const mismatch = inputMismatch(input, layouts, rules);
    if (mismatch !== undefined) return invalid(mismatch);
    const feeds: Record<string, IntTensor> = {};
    specs.forEach((spec, i) => {
        const layout = layouts[i]!;
        feeds[spec.name] = {
            dtype: spec.dtype,
            shape: layout.shape,
            data: Array.from(readTensorElements(input, layout), BigInt),
        };
    });
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
