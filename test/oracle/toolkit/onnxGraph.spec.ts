import { expect } from "chai";
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import {
    DEFAULT_OPSET,
    ONNX_IR_VERSION,
    OnnxGraphError,
    buildOnnxModel,
    type OnnxModelSpec,
} from "../../../oracle/src/toolkit/onnxGraph";

/** Runs `model` once on `feeds` and returns its outputs. */
async function runOnce(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    const session = await ort.InferenceSession.create(model);
    try {
        return await session.run(feeds);
    } finally {
        await session.release();
    }
}

describe("oracle/toolkit/onnxGraph", function () {
    it("builds a float MLP layer that onnxruntime runs: Relu(x W + b)", async function () {
        // W is [3, 2] row-major; every value is a small dyadic rational, so float32 results are exact.
        const W = Float32Array.of(1, -1, 0.5, 2, -2, 0.25);
        const b = Float32Array.of(0.5, 1);
        const model = buildOnnxModel({
            inputs: [{ name: "x", type: "float32", shape: [2, 3] }],
            outputs: [{ name: "y", type: "float32", shape: [2, 2] }],
            initializers: [
                { name: "W", dims: [3, 2], data: W },
                { name: "b", dims: [2], data: b },
            ],
            nodes: [
                { opType: "MatMul", inputs: ["x", "W"], outputs: ["xw"] },
                { opType: "Add", inputs: ["xw", "b"], outputs: ["pre"] },
                { opType: "Relu", inputs: ["pre"], outputs: ["y"] },
            ],
        });
        const reference = (x: Float32Array): number[] => {
            const y: number[] = [];
            for (let r = 0; r < 2; r++) {
                for (let c = 0; c < 2; c++) {
                    let sum = b[c]!;
                    for (let k = 0; k < 3; k++) sum += x[r * 3 + k]! * W[k * 2 + c]!;
                    y.push(Math.max(0, sum));
                }
            }
            return y;
        };
        const inputs = [Float32Array.of(1, 2, 3, -1, 0, 4), Float32Array.of(4, 0, 0, 0, 1, 0)];
        const outputs = [];
        for (const x of inputs) {
            const { y } = await runOnce(model, { x: new ort.Tensor("float32", x, [2, 3]) });
            expect(y!.dims).to.deep.equal([2, 2]);
            expect(Array.from(y!.data as Float32Array)).to.deep.equal(reference(x));
            outputs.push(Array.from(y!.data as Float32Array));
        }
        // Written out by hand: row [1, 2, 3] -> [-3.5, 4.75] -> [0, 4.75]; [4, 0, 0] -> [4.5, -3] -> [4.5, 0].
        expect(outputs).to.deep.equal([
            [0, 4.75, 0, 3],
            [4.5, 0, 1, 3],
        ]);
    });

    it("writes int, float and int-list attributes (Gemm alpha/beta/transB, Concat axis, Transpose perm)", async function () {
        const model = buildOnnxModel({
            inputs: [{ name: "a", type: "float32", shape: [1, 2] }],
            outputs: [{ name: "out", type: "float32", shape: [2, 2] }],
            initializers: [
                { name: "B", dims: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, // transposed by transB
                { name: "C", dims: [2], data: Float32Array.of(10, 20) },
            ],
            nodes: [
                {
                    opType: "Gemm",
                    inputs: ["a", "B", "C"],
                    outputs: ["g"],
                    attributes: { alpha: { float: 2 }, beta: { float: 0.5 }, transB: { int: 1 } },
                },
                { opType: "Concat", inputs: ["g", "g"], outputs: ["cat"], attributes: { axis: { int: 0 } } },
                { opType: "Transpose", inputs: ["cat"], outputs: ["out"], attributes: { perm: { ints: [1, 0] } } },
            ],
        });
        const { out } = await runOnce(model, { a: new ort.Tensor("float32", Float32Array.of(1, 1), [1, 2]) });
        // g = 2 * a B^T + 0.5 C = 2 * [1+2, 3+4] + [5, 10] = [11, 24]; cat = [[11, 24], [11, 24]]; out = cat^T.
        expect(out!.dims).to.deep.equal([2, 2]);
        expect(Array.from(out!.data as Float32Array)).to.deep.equal([11, 11, 24, 24]);
    });

    it("stores Int32, BigInt64, Int8, Uint8 and bool initializers as little-endian raw_data that onnxruntime reads", async function () {
        const model = buildOnnxModel({
            inputs: [{ name: "x", type: "int64", shape: [3] }],
            outputs: [
                { name: "sum64", type: "int64", shape: [3] },
                { name: "i32", type: "int32", shape: [2] },
                { name: "i8", type: "int8", shape: [2] },
                { name: "u8", type: "uint8", shape: [2] },
                { name: "flags", type: "bool", shape: [2] },
            ],
            initializers: [
                { name: "k64", dims: [3], data: BigInt64Array.of(-(2n ** 40n), 1n, 2n ** 62n) },
                { name: "k32", dims: [2], data: Int32Array.of(-2_000_000_000, 0x01020304) },
                { name: "k8", dims: [2], data: Int8Array.of(-128, 127) },
                { name: "ku8", dims: [2], data: Uint8Array.of(0, 255) },
                { name: "kb", dims: [2], data: Uint8Array.of(1, 0), type: "bool" },
            ],
            nodes: [
                { opType: "Add", inputs: ["x", "k64"], outputs: ["sum64"] },
                { opType: "Identity", inputs: ["k32"], outputs: ["i32"] },
                { opType: "Identity", inputs: ["k8"], outputs: ["i8"] },
                { opType: "Identity", inputs: ["ku8"], outputs: ["u8"] },
                { opType: "Not", inputs: ["kb"], outputs: ["flags"] },
            ],
        });
        const out = await runOnce(model, { x: new ort.Tensor("int64", BigInt64Array.of(1n, 2n, -3n), [3]) });
        expect(Array.from(out.sum64!.data as BigInt64Array)).to.deep.equal([1n - 2n ** 40n, 3n, 2n ** 62n - 3n]);
        expect(Array.from(out.i32!.data as Int32Array)).to.deep.equal([-2_000_000_000, 0x01020304]);
        expect(Array.from(out.i8!.data as Int8Array)).to.deep.equal([-128, 127]);
        expect(Array.from(out.u8!.data as Uint8Array)).to.deep.equal([0, 255]);
        expect(out.flags!.type).to.equal("bool");
        expect(Array.from(out.flags!.data as Uint8Array)).to.deep.equal([0, 1]);

        // raw_data is little-endian whatever the host: 0x01020304 is stored 04 03 02 01.
        const k32 = onnx.ModelProto.decode(model).graph!.initializer!.find((t) => t.name === "k32")!;
        expect(Buffer.from(k32.rawData!).subarray(4, 8).toString("hex")).to.equal("04030201");
        expect(k32.dataType).to.equal(onnx.TensorProto.DataType.INT32);
    });

    it("writes ir_version 8, opset 17 by default (or the one asked for), value infos, metadata and names", function () {
        const spec: OnnxModelSpec = {
            inputs: [{ name: "x", type: "float32", shape: ["batch", 4] }],
            outputs: [{ name: "y", type: "float32", shape: ["batch", 4] }],
            nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
            metadata: { one: "1", two: "2" },
            graphName: "g",
        };
        const model = onnx.ModelProto.decode(buildOnnxModel(spec));
        expect(Number(model.irVersion)).to.equal(ONNX_IR_VERSION).and.to.equal(8);
        expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).to.deep.equal([["", DEFAULT_OPSET]]);
        expect(DEFAULT_OPSET).to.equal(17);
        expect(model.producerName).to.equal("verity");
        expect(model.metadataProps.map((p) => [p.key, p.value])).to.deep.equal([
            ["one", "1"],
            ["two", "2"],
        ]);
        const input = model.graph!.input![0]!;
        expect(input.name).to.equal("x");
        expect(input.type!.tensorType!.elemType).to.equal(onnx.TensorProto.DataType.FLOAT);
        const dims = input.type!.tensorType!.shape!.dim!;
        expect(dims[0]!.dimParam).to.equal("batch");
        expect(Number(dims[1]!.dimValue)).to.equal(4);
        expect(model.graph!.name).to.equal("g");
        expect(model.graph!.node![0]!.name).to.equal("Relu_0");

        const opset13 = onnx.ModelProto.decode(buildOnnxModel({ ...spec, opset: 13 }));
        expect(Number(opset13.opsetImport[0]!.version)).to.equal(13);
    });

    it("builds the same bytes from the same spec", function () {
        const spec: OnnxModelSpec = {
            inputs: [{ name: "x", type: "int32", shape: [2] }],
            outputs: [{ name: "y", type: "int32", shape: [2] }],
            initializers: [{ name: "k", dims: [2], data: Int32Array.of(3, 4) }],
            nodes: [{ opType: "Mul", inputs: ["x", "k"], outputs: ["y"] }],
        };
        expect(Buffer.from(buildOnnxModel(spec)).equals(Buffer.from(buildOnnxModel(spec)))).to.be.true;
    });

    it("refuses specs it cannot write (OnnxGraphError INVALID_ONNX_GRAPH)", function () {
        const base: OnnxModelSpec = {
            inputs: [{ name: "x", type: "float32", shape: [2] }],
            outputs: [{ name: "y", type: "float32", shape: [2] }],
            nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
        };
        const bad: [string, OnnxModelSpec, RegExp][] = [
            [
                "data of the wrong length",
                { ...base, initializers: [{ name: "k", dims: [2, 2], data: Float32Array.of(1, 2, 3) }] },
                /k: dims \[2, 2\] hold 4 elements, data has 3/,
            ],
            ["an empty input name", { ...base, inputs: [{ name: "", type: "float32", shape: [2] }] }, /empty name/],
            ["a negative dim", { ...base, inputs: [{ name: "x", type: "float32", shape: [-1] }] }, /invalid dim -1/],
            [
                "a bool initializer with a 2",
                { ...base, initializers: [{ name: "k", dims: [1], data: Uint8Array.of(2), type: "bool" }] },
                /bool elements must be 0 or 1/,
            ],
            [
                "a fractional int attribute",
                {
                    ...base,
                    nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"], attributes: { a: { int: 1.5 } } }],
                },
                /attribute a: 1.5 is not a safe integer/,
            ],
            ["opset 0", { ...base, opset: 0 }, /opset must be a positive integer/],
        ];
        for (const [what, spec, message] of bad) {
            expect(() => buildOnnxModel(spec), what)
                .to.throw(OnnxGraphError, message)
                .with.property("code", "INVALID_ONNX_GRAPH");
        }
    });
});
