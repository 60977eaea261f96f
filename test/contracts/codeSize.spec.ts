/**
 * Room for the next verification modes: every protocol contract keeps at least 4 KB under EIP-170's 24,576-byte
 * limit on runtime code, at the compiler settings the benchmarks use (hardhat.config.ts).
 */
import { expect } from "chai";
import { artifacts } from "hardhat";

const EIP170_LIMIT = 24_576;
const HEADROOM = 4_096;

describe("contract code size (EIP-170 headroom)", function () {
    for (const name of [
        "InferenceCoordinator",
        "DisputeLogic",
        "ModelRegistry",
        "Staking",
        "ProgramStore",
        "IntegerExecutor",
        "ReexecutionResolver",
    ]) {
        it(`${name} keeps at least 4 KB of headroom`, async function () {
            const { deployedBytecode } = await artifacts.readArtifact(name);
            const size = (deployedBytecode.length - 2) / 2;
            expect(size, `${name}: ${size} bytes`).to.be.greaterThan(0);
            expect(size, `${name}: ${size} bytes`).to.be.at.most(EIP170_LIMIT - HEADROOM);
        });
    }
});
