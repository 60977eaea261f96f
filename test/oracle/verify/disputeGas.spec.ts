/**
 * The TypeScript copy of the chain's dispute gas bound (oracle/src/verify/disputeGas.ts) equals the contracts'
 * views exactly: IntegerExecutor.gasBound for the program of every ONNX specification example in the subset (every
 * op and broadcast kind) and random integer MLPs, ReexecutionResolver.disputeGasBound for stored programs at
 * several callback limits and input sizes, and the coordinator's hard caps.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";

import { integerMlpModel } from "../../../models/examples";
import {
    MAX_CALLBACK_GAS_LIMIT,
    MAX_INPUT_BYTES,
    collateralFloorWei,
    disputeGasBound,
    executorGasBound,
} from "../../../oracle/src/verify/disputeGas";
import { compileModel } from "../../../oracle/src/verify/program";
import { ONNX_SPEC_CASES, specCaseModel } from "../../shared/onnxSpecExamples";
import { DEFAULT_PARAMS, deployCore, storeProgram } from "../../helpers/verity";

async function deployReal() {
    return deployCore(DEFAULT_PARAMS, { reexecution: "real" });
}

describe("verify/disputeGas (the chain's dispute gas bound, offline)", function () {
    it("uses the coordinator's hard caps", async function () {
        const d = await loadFixture(deployReal);
        expect(await d.coordinator.MAX_CALLBACK_GAS_LIMIT()).to.equal(MAX_CALLBACK_GAS_LIMIT);
        expect(await d.coordinator.MAX_INPUT_BYTES()).to.equal(MAX_INPUT_BYTES);
    });

    it("equals IntegerExecutor.gasBound on every ONNX specification example in the subset", async function () {
        const d = await loadFixture(deployReal);
        const executor = d.reexecution!.executor;
        for (const c of ONNX_SPEC_CASES.filter((x) => x.outsideSubset === undefined)) {
            const { program } = compileModel(specCaseModel(c));
            const [gas, outputBytes] = await executor.gasBound(program);
            expect(executorGasBound(program), `${c.op}: ${c.name}`).to.deep.equal({ gas, outputBytes });
        }
    });

    it("equals ReexecutionResolver.disputeGasBound on stored random MLPs (fast-check)", async function () {
        const d = await loadFixture(deployReal);
        const resolver = d.reexecution!.resolver;
        await fc.assert(
            fc.asyncProperty(
                fc.array(fc.integer({ min: 1, max: 48 }), { minLength: 2, maxLength: 4 }),
                fc.integer({ min: 1, max: 3 }),
                fc.bigInt({ min: 0n, max: MAX_CALLBACK_GAS_LIMIT }),
                fc.bigInt({ min: 0n, max: MAX_INPUT_BYTES }),
                async (widths, batch, callbackGasLimit, inputBytes) => {
                    const { program } = compileModel(integerMlpModel({ widths, batch }).onnx);
                    const programHash = await storeProgram(d.programStore, program);
                    const [gas, outputBytes] = await d.reexecution!.executor.gasBound(program);
                    expect(executorGasBound(program)).to.deep.equal({ gas, outputBytes });
                    expect(disputeGasBound(program, callbackGasLimit, inputBytes)).to.equal(
                        await resolver.disputeGasBound(programHash, callbackGasLimit, inputBytes),
                    );
                },
            ),
            { numRuns: 15 },
        );
    });

    it("computes checkModel's collateral floor: the challenger's share pays the dispute gas", function () {
        expect(collateralFloorWei(1_000_000n, 0n, 5_000n)).to.equal(0n);
        expect(collateralFloorWei(1_000_000n, 10n ** 9n, 5_000n)).to.equal(2n * 10n ** 15n);
        // Rounded up: the share of the floor is never below the gas cost.
        expect(collateralFloorWei(1n, 1n, 3_000n)).to.equal(4n);
        expect(() => collateralFloorWei(1n, 1n, 0n)).to.throw(/no challenger reward/);
    });
});
