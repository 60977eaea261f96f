import { expect } from "chai";
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { WARM_UP_MODEL, warmUpOnnxruntime } from "../../../oracle/src/runtime/inference";

describe("oracle/runtime/inference warm-up", function () {
    const bytes = Buffer.from(WARM_UP_MODEL, "base64");

    it("holds Identity on a float32[1]", function () {
        const model = onnx.ModelProto.decode(bytes);
        const graph = model.graph!;
        expect((graph.node ?? []).map((n) => [n.opType, n.input, n.output])).to.deep.equal([
            ["Identity", ["x"], ["y"]],
        ]);
        const tensor = (v: onnx.IValueInfoProto) => [
            v.name,
            v.type?.tensorType?.elemType,
            v.type?.tensorType?.shape?.dim?.map((d) => Number(d.dimValue)),
        ];
        expect((graph.input ?? []).map(tensor)).to.deep.equal([["x", 1, [1]]]);
        expect((graph.output ?? []).map(tensor)).to.deep.equal([["y", 1, [1]]]);
    });

    it("is a model onnxruntime runs, and warming up never throws", async function () {
        const session = await ort.InferenceSession.create(bytes);
        try {
            const { y } = await session.run({ x: new ort.Tensor("float32", Float32Array.of(3.5), [1]) });
            expect(Array.from(y!.data as Float32Array)).to.deep.equal([3.5]);
        } finally {
            await session.release();
        }
        await warmUpOnnxruntime();
    });
});
