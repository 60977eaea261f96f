import { parseManifest, type Manifest } from "../../../oracle/src/protocol/manifest";
import { buildOnnxModel } from "../../../oracle/src/toolkit/onnxGraph";

/**
 * A model that is slow but small: "x" [1, 1] expanded to an n x n matrix, multiplied by itself `matmuls`
 * times, reduced to its max. About 2 n^3 flops per MatMul.
 */
export function slowModel(n: number, matmuls: number): { onnx: Uint8Array; manifest: Manifest } {
    const nodes = [{ opType: "Expand", inputs: ["x", "shape"], outputs: ["a0"] }];
    for (let i = 0; i < matmuls; i++) nodes.push({ opType: "MatMul", inputs: [`a${i}`, "a0"], outputs: [`a${i + 1}`] });
    nodes.push({ opType: "ReduceMax", inputs: [`a${matmuls}`], outputs: ["y"] });
    const onnx = buildOnnxModel({
        inputs: [{ name: "x", type: "float32", shape: [1, 1] }],
        outputs: [{ name: "y", type: "float32", shape: [1, 1] }],
        initializers: [{ name: "shape", dims: [2], data: BigInt64Array.of(BigInt(n), BigInt(n)) }],
        nodes,
    });
    const manifest = parseManifest(
        JSON.stringify({
            version: 1,
            inputs: [{ name: "x", dtype: "int32", shape: [1, 1], onnxType: "float32", decimals: 4 }],
            outputs: [{ name: "y", dtype: "int64", shape: [1, 1], onnxType: "float32", decimals: 4 }],
        }),
    );
    return { onnx, manifest };
}
