import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { contracts } from "../../../oracle/src/sdk";

const ROOT = join(__dirname, "..", "..", "..");

describe("oracle/sdk contracts", function () {
    it("offers no test-only contract (contracts/test/)", function () {
        const testOnly = readdirSync(join(ROOT, "contracts", "test")).map((f) => f.replace(/\.sol$/, ""));
        expect(testOnly).to.include("MockERC20"); // the list is read, not empty
        const offered = Object.keys(contracts);
        for (const name of testOnly) expect(offered, name).to.not.include(`${name}__factory`);
    });

    it("offers a factory for each contract an application deploys, calls or decodes", function () {
        for (const name of [
            "InferenceCoordinator",
            "ModelRegistry",
            "Staking",
            "IInferenceCoordinator",
            "IDisputeResolver",
            "ReexecutionResolver",
            "IReexecutionResolver",
            "IntegerExecutor",
            "ProgramStore",
            "VerityConsumer",
            "QuickstartConsumer",
            "IERC20",
        ]) {
            const factory = (contracts as Record<string, { abi?: unknown }>)[`${name}__factory`];
            expect(factory?.abi, name).to.be.an("array").that.is.not.empty;
        }
    });
});
