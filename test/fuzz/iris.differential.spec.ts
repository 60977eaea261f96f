/**
 * The Iris example model (models/iris) on thousands of random int8 inputs and the edge values: onnxruntime ==
 * the reference interpreter (runVerifiable) == the Solidity executor running the compiled program.
 */
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ethers } from "hardhat";
import * as ort from "onnxruntime-node";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { loadVerifiableModel, runVerifiable } from "../../oracle/src/verify/execute";

const IRIS = join(__dirname, "..", "..", "models", "iris", "iris.onnx");
const INPUTS = 2_000;
const BATCH = 250;

describe("Iris example model (differential: onnxruntime == reference == executor)", function () {
    this.timeout(300_000);

    it(`agrees on ${INPUTS} random inputs plus -128, 127, 0 and mixed extremes`, async function () {
        const onnx = new Uint8Array(readFileSync(IRIS));
        const model = loadVerifiableModel(onnx);
        const edges: number[][] = [
            [-128, -128, -128, -128],
            [127, 127, 127, 127],
            [0, 0, 0, 0],
            [-128, 127, -128, 127],
            [127, -128, 127, -128],
        ];
        const random = fc.sample(fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 4, maxLength: 4 }), {
            numRuns: INPUTS,
            seed: 0x1415,
        });
        const samples = [...edges, ...random];
        const inputs = samples.map((x) => encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: x.map(BigInt) }]));
        const want = inputs.map((input) => runVerifiable(model, input));
        expect(want.every((r) => r.resultCode === 0)).to.equal(true);

        const session = await ort.InferenceSession.create(onnx, { logSeverityLevel: 4 });
        try {
            const got = await Promise.all(
                samples.map(async (x) => {
                    const out = await session.run({ features: new ort.Tensor("int8", Int8Array.from(x), [1, 4]) });
                    const label = out["label"]!.data as BigInt64Array;
                    const scores = out["scores"]!.data as Int32Array;
                    return ethers.hexlify(
                        encodeTensors([
                            { dtype: DType.INT64, shape: [1], data: [...label] },
                            { dtype: DType.INT32, shape: [1, 3], data: [...scores].map(BigInt) },
                        ]),
                    );
                }),
            );
            expect(got, "onnxruntime vs reference").to.deep.equal(want.map((r) => ethers.hexlify(r.output)));
        } finally {
            await session.release();
        }

        const executor = await ethers.deployContract("IntegerExecutor");
        const harness = await ethers.deployContract("ExecutorHarness");
        const outputs: string[] = [];
        for (let at = 0; at < inputs.length; at += BATCH) {
            const [codes, outs] = await harness.executeMany(
                await executor.getAddress(),
                model.compiled.program,
                inputs.slice(at, at + BATCH),
                { gasLimit: 29_000_000 },
            );
            expect(codes.every((c) => c === 0n)).to.equal(true);
            outputs.push(...outs);
        }
        expect(outputs, "executor vs reference").to.deep.equal(want.map((r) => ethers.hexlify(r.output)));
    });
});
