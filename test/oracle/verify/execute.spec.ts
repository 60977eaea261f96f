import { expect } from "chai";
import { keccak256 } from "ethers";
import { integerMlpModel } from "../../../models/examples";
import { ResultCode } from "../../../oracle/src/protocol/resultCodes";
import { DType, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
import { loadVerifiableModel, runVerifiable } from "../../../oracle/src/verify/execute";
import { runGraph } from "../../../oracle/src/verify/reference";
import { graphModel } from "./graphs";

describe("verify/execute (runVerifiable)", function () {
    const mlp = integerMlpModel({ widths: [4, 5, 3], batch: 2 });
    const model = loadVerifiableModel(mlp.onnx);
    const x = [-128n, 127n, 0n, 5n, 1n, -1n, 100n, -100n];
    const input = encodeTensors([{ dtype: DType.INT8, shape: [2, 4], data: x }]);

    it("returns OK with the reference outputs in manifest order, canonically encoded and hashed", function () {
        const outputs = runGraph(mlp.onnx, { x: { dtype: "int8", shape: [2, 4], data: x } });
        const want = encodeTensors([
            { dtype: DType.INT64, shape: [2], data: outputs.label!.data },
            { dtype: DType.INT32, shape: [2, 3], data: outputs.scores!.data },
        ]);
        const result = runVerifiable(model, input);
        expect(result.resultCode).to.equal(ResultCode.OK);
        expect(Buffer.from(result.output).equals(Buffer.from(want))).to.equal(true);
        expect(result.outputHash).to.equal(keccak256(want));
    });

    const invalid: [string, Uint8Array, RegExp][] = [
        ["malformed bytes", Uint8Array.from([1, 1, 3]), /./],
        ["a wrong tensor count", encodeTensors([]), /holds 0 tensors, the model takes 1/],
        [
            "a wrong dtype",
            encodeTensors([{ dtype: DType.UINT8, shape: [2, 4], data: x.map((v) => (v < 0n ? -v : v)) }]),
            /is UINT8, the model takes int8/,
        ],
        [
            "a wrong shape",
            encodeTensors([{ dtype: DType.INT8, shape: [1, 8], data: x }]),
            /has shape \[1, 8\], the model takes \[2, 4\]/,
        ],
    ];
    for (const [what, bytes, reason] of invalid) {
        it(`answers INVALID_INPUT with an empty output for ${what}`, function () {
            const result = runVerifiable(model, bytes);
            expect(result.resultCode).to.equal(ResultCode.INVALID_INPUT);
            expect(result.output.length).to.equal(0);
            expect(result.outputHash).to.equal(keccak256(new Uint8Array(0)));
            expect(result.reason).to.match(reason);
        });
    }

    it("answers INVALID_INPUT for an element outside the declared range", function () {
        const ranged = loadVerifiableModel(
            graphModel({
                inputs: [{ name: "x", type: "int32", shape: [2], range: [-10, 10] }],
                outputs: [{ name: "y", type: "int32", shape: [2] }],
                nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
            }),
        );
        const at = (data: bigint[]) => runVerifiable(ranged, encodeTensors([{ dtype: DType.INT32, shape: [2], data }]));
        expect(at([-10n, 10n]).resultCode).to.equal(ResultCode.OK);
        const out = at([3n, 11n]);
        expect(out.resultCode).to.equal(ResultCode.INVALID_INPUT);
        expect(out.reason).to.match(/element 1 is 11, outside the declared range \[-10, 10\]/);
    });
});
