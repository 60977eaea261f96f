/**
 * Conversions between the reference interpreter's IntTensor (bigint elements) and onnxruntime-node tensors, for
 * differential tests and tooling that compare the two.
 */
import * as ort from "onnxruntime-node";
import { intTensor, ReferenceExecutionError, type IntDType, type IntTensor } from "./reference";

/** An onnxruntime tensor holding the same dtype, shape and values as `t`. */
export function toOrtTensor(t: IntTensor): ort.Tensor {
    switch (t.dtype) {
        case "int8":
            return new ort.Tensor("int8", Int8Array.from(t.data, Number), t.shape);
        case "uint8":
            return new ort.Tensor("uint8", Uint8Array.from(t.data, Number), t.shape);
        case "int32":
            return new ort.Tensor("int32", Int32Array.from(t.data, Number), t.shape);
        case "int64":
            return new ort.Tensor("int64", BigInt64Array.from(t.data), t.shape);
    }
}

/** The IntTensor of an onnxruntime tensor of an integer dtype of the subset. */
export function fromOrtTensor(t: ort.Tensor): IntTensor {
    const dtype = t.type as string;
    if (dtype !== "int8" && dtype !== "uint8" && dtype !== "int32" && dtype !== "int64") {
        throw new ReferenceExecutionError("UNSUPPORTED_DTYPE", `onnxruntime tensor of type ${dtype}`);
    }
    const data = Array.from(t.data as ArrayLike<number | bigint>, (v) => BigInt(v));
    return intTensor(dtype as IntDType, [...t.dims], data);
}
