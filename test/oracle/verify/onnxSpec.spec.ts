/**
 * "ONNX's semantics, not ours": every case of test/shared/onnxSpecExamples.ts (examples of the ONNX operator
 * specification, with the spec's expected outputs) through the three off-chain parties:
 * - the reference interpreter (`runGraph`) must compute the spec's output exactly;
 * - `compileModel` must accept the model, and `runVerifiable` on the case's canonical input must return OK with the
 *   spec's output bytes (what IntegerExecutor must return too, see test/contracts/IntegerExecutor.onnxSpec.spec.ts);
 *   or, for a case deliberately outside the subset, throw the expected SubsetError naming the node and its op;
 * - onnxruntime (CPU provider) must agree with the spec, where it has a kernel for the case.
 *
 * An expected value here is never adjusted to fit an implementation: a failure is a disagreement with ONNX.
 */
import { expect } from "chai";
import { hexlify } from "ethers";
import * as ort from "onnxruntime-node";
import { ResultCode } from "../../../oracle/src/protocol/resultCodes";
import { loadVerifiableModel, runVerifiable } from "../../../oracle/src/verify/execute";
import { fromOrtTensor, toOrtTensor } from "../../../oracle/src/verify/ortTensors";
import { compileModel } from "../../../oracle/src/verify/program";
import { intTensor, runGraph, type IntTensor } from "../../../oracle/src/verify/reference";
import { SUBSET_OPS, SubsetError } from "../../../oracle/src/verify/subset";
import {
    ONNX_SPEC_CASES,
    specCaseGraphInputs,
    specCaseInput,
    specCaseModel,
    specCaseOutput,
    type SpecCase,
} from "../../shared/onnxSpecExamples";

/** The graph inputs of the case, by name, as the reference interpreter takes them. */
function referenceFeeds(c: SpecCase): Record<string, IntTensor> {
    const feeds: Record<string, IntTensor> = {};
    for (const input of specCaseGraphInputs(c)) feeds[input.name] = intTensor(input.dtype, input.shape, input.data);
    return feeds;
}

/** The spec's expected output as an IntTensor. */
function expectedOutput(c: SpecCase): IntTensor {
    return intTensor(c.output.dtype, c.output.shape, c.output.data);
}

function expectSpecOutput(actual: IntTensor | undefined, c: SpecCase, who: string): void {
    const want = expectedOutput(c);
    expect(actual, `${who} computed no "${c.output.name}"`).to.not.equal(undefined);
    expect(actual!.dtype, `${who}: dtype`).to.equal(want.dtype);
    expect(actual!.shape, `${who}: shape`).to.deep.equal(want.shape);
    expect(actual!.data, `${who}: data`).to.deep.equal(want.data);
}

async function runOnnxRuntime(c: SpecCase): Promise<IntTensor | undefined> {
    const session = await ort.InferenceSession.create(specCaseModel(c), { logSeverityLevel: 3 });
    try {
        const feeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(referenceFeeds(c))) feeds[name] = toOrtTensor(t);
        const out = (await session.run(feeds))[c.output.name];
        return out === undefined ? undefined : fromOrtTensor(out);
    } finally {
        await session.release();
    }
}

describe("verify: ONNX specification examples (reference, compiler, onnxruntime)", function () {
    it("the table has at least two cases for every op of the subset, and unique names", function () {
        for (const op of SUBSET_OPS) {
            const count = ONNX_SPEC_CASES.filter((c) => c.op === op).length;
            expect(count, `cases of ${op}`).to.be.at.least(2);
        }
        const names = ONNX_SPEC_CASES.map((c) => c.name);
        expect(new Set(names).size).to.equal(names.length);
    });

    for (const c of ONNX_SPEC_CASES) {
        describe(`${c.op}: ${c.name}`, function () {
            it("the reference interpreter computes the spec's output", function () {
                const outputs = runGraph(specCaseModel(c), referenceFeeds(c));
                expectSpecOutput(outputs[c.output.name], c, "runGraph");
            });

            const outside = c.outsideSubset;
            if (outside === undefined) {
                it("compileModel accepts it and runVerifiable returns OK with the spec's output bytes", function () {
                    const bytes = specCaseModel(c);
                    const compiled = compileModel(bytes);
                    expect(compiled.analysis.opCounts[c.op]).to.equal(1);
                    const result = runVerifiable(loadVerifiableModel(bytes), specCaseInput(c));
                    expect(result.reason).to.equal(undefined);
                    expect(result.resultCode).to.equal(ResultCode.OK);
                    expect(hexlify(result.output)).to.equal(hexlify(specCaseOutput(c)));
                });
            } else {
                it(`compileModel refuses it: ${outside.code} (${outside.reason}), naming the node and its op`, function () {
                    let thrown: unknown;
                    try {
                        compileModel(specCaseModel(c));
                    } catch (err) {
                        thrown = err;
                    }
                    expect(thrown).to.be.instanceOf(SubsetError);
                    const err = thrown as SubsetError;
                    const label = `node 0 (${c.op}_0)`;
                    expect(err.code).to.equal(outside.code);
                    expect(err.node).to.equal(label);
                    expect(err.op).to.equal(c.op);
                    expect(err.message).to.contain(`${label} (${c.op}):`);
                });
            }

            const ortSkip = c.ortSkip;
            if (ortSkip === undefined) {
                it("onnxruntime computes the spec's output", async function () {
                    expectSpecOutput(await runOnnxRuntime(c), c, "onnxruntime");
                });
            } else {
                it(`onnxruntime cannot run it (${ortSkip})`, async function () {
                    let thrown: unknown;
                    try {
                        const session = await ort.InferenceSession.create(specCaseModel(c), { logSeverityLevel: 4 });
                        await session.release();
                    } catch (err) {
                        thrown = err;
                    }
                    // If this starts failing, onnxruntime gained the kernel: drop `ortSkip` from the case.
                    expect(String(thrown)).to.match(/Could not find an implementation/);
                });
            }
        });
    }
});
