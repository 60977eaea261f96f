/**
 * "ONNX's semantics, not ours", on chain: IntegerExecutor runs the compiled program of every ONNX specification
 * example of test/shared/onnxSpecExamples.ts that is in the verifiable subset, and must return result code 0 (OK)
 * with exactly the spec's expected output, canonically encoded. test/oracle/verify/onnxSpec.spec.ts holds the same
 * cases to the reference interpreter, the compiler and onnxruntime.
 *
 * The executor is used through its interface only, `execute(bytes program, bytes input) returns (uint8 resultCode,
 * bytes output)`, without its typechain type.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { hexlify, type Contract } from "ethers";
import { artifacts, ethers } from "hardhat";

import { ResultCode } from "../../oracle/src/protocol/resultCodes";
import { compileModel } from "../../oracle/src/verify/program";
import { ONNX_SPEC_CASES, specCaseInput, specCaseModel, specCaseOutput } from "../shared/onnxSpecExamples";

describe("IntegerExecutor: ONNX specification examples", function () {
    async function deployExecutor(): Promise<{ executor: Contract }> {
        if (!(await artifacts.artifactExists("IntegerExecutor"))) {
            throw new Error("contracts/verify/IntegerExecutor.sol is missing or does not compile (no artifact)");
        }
        const executor = (await ethers.deployContract("IntegerExecutor")) as unknown as Contract;
        return { executor };
    }

    // Cases outside the subset cannot be compiled into a program; the oracle spec checks their refusal.
    const inSubset = ONNX_SPEC_CASES.filter((c) => c.outsideSubset === undefined);

    for (const c of inSubset) {
        it(`${c.op}: ${c.name}`, async function () {
            const { executor } = await loadFixture(deployExecutor);
            const { program } = compileModel(specCaseModel(c));
            const [resultCode, output] = (await executor
                .getFunction("execute")
                .staticCall(program, specCaseInput(c))) as unknown as [bigint, string];
            expect(resultCode).to.equal(BigInt(ResultCode.OK));
            expect(hexlify(output)).to.equal(hexlify(specCaseOutput(c)));
        });
    }
});
