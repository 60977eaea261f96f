import { expect } from "chai";
import { inputDependentCost } from "../../../oracle/src/runtime/inputDependentCost";
import { parseManifest, type Manifest } from "../../../oracle/src/protocol/manifest";
import { buildOnnxModel, type NodeSpec } from "../../../oracle/src/toolkit/onnxGraph";
import { failingModel, integerMlpModel, multiIOFloatModel, tinyIntegerModel } from "../../../models/examples";

/** x int64 [2] → `nodes` → y int64 [2], with an int64 initializer "k" = [2]. */
function model(nodes: NodeSpec[], inputs = ["x"]): { onnx: Uint8Array; manifest: Manifest } {
    const onnx = buildOnnxModel({
        inputs: inputs.map((name) => ({ name, type: "int64", shape: [2] })),
        outputs: [{ name: "y", type: "int64", shape: [2] }],
        initializers: [{ name: "k", dims: [1], data: BigInt64Array.of(2n) }],
        nodes,
    });
    const manifest = parseManifest(
        JSON.stringify({
            version: 1,
            inputs: inputs.map((name) => ({ name, dtype: "int64", shape: [2] })),
            outputs: [{ name: "y", dtype: "int64", shape: [2] }],
        }),
    );
    return { onnx, manifest };
}

const cost = ({ onnx, manifest }: { onnx: Uint8Array; manifest: Manifest }) => inputDependentCost(onnx, manifest);

describe("oracle/runtime/inputDependentCost", function () {
    it("finds the example models' costs fixed by their shapes", function () {
        for (const example of [
            tinyIntegerModel(),
            multiIOFloatModel(),
            failingModel(),
            integerMlpModel({ widths: [4, 8, 3] }),
        ]) {
            expect(cost(example)).to.equal(undefined);
        }
    });

    it("accepts an op sized by a constant (initializer or Constant node), refuses one sized by a computed value", function () {
        expect(cost(model([{ opType: "Expand", inputs: ["x", "k"], outputs: ["y"] }]))).to.equal(undefined);
        expect(
            cost(
                model([
                    {
                        opType: "Constant",
                        inputs: [],
                        outputs: ["c"],
                        attributes: { value: { tensor: { name: "c", dims: [1], data: BigInt64Array.of(2n) } } },
                    },
                    { opType: "Tile", inputs: ["x", "c"], outputs: ["y"] },
                ]),
            ),
        ).to.equal(undefined);
        expect(cost(model([{ opType: "Range", inputs: ["k", "x", "k"], outputs: ["y"], name: "steps" }]))).to.equal(
            'node 0 (Range "steps") sizes its output from the value of "x", which is not a constant',
        );
        // Computed from the input, however indirectly.
        expect(
            cost(
                model([
                    { opType: "Abs", inputs: ["x"], outputs: ["shape"] },
                    { opType: "ConstantOfShape", inputs: ["shape"], outputs: ["y"] },
                ]),
            ),
        ).to.match(/^node 1 \(ConstantOfShape "ConstantOfShape_1"\) sizes its output from the value of "shape"/);
        // An initializer the manifest feeds is an input, not a constant.
        expect(cost(model([{ opType: "Expand", inputs: ["x", "k"], outputs: ["y"] }], ["x", "k"]))).to.match(
            /the value of "k"/,
        );
    });

    it("refuses control flow and operators outside the standard domains", function () {
        expect(cost(model([{ opType: "Loop", inputs: ["x"], outputs: ["y"] }]))).to.equal(
            'node 0 (Loop "Loop_0") runs subgraphs (control flow)',
        );
        expect(cost(model([{ opType: "Fancy", domain: "com.example", inputs: ["x"], outputs: ["y"] }]))).to.equal(
            'node 0 (Fancy "Fancy_0") is in domain "com.example", not a standard ONNX one',
        );
        expect(cost(model([{ opType: "Scaler", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"] }]))).to.equal(
            undefined,
        );
        expect(cost({ onnx: Uint8Array.of(0xff, 0xff), manifest: tinyIntegerModel().manifest })).to.match(
            /^its ONNX bytes do not decode/,
        );
    });
});
