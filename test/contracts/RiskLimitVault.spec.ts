import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import {
    ResultCode,
    TOKEN,
    applyEvents,
    assignedSigner,
    deployCore,
    fund,
    registerModel,
    requestsFrom,
    stakeOperators,
    type Deployment,
    type Request,
} from "../helpers/verity";

const LIMITS: [bigint, bigint, bigint] = [1_000n * TOKEN, 300n * TOKEN, 0n];
const MAX_FEE = TOKEN;

async function deployVault() {
    const core = await deployCore();
    const modelId = await registerModel(core.registry, core.publisher);
    await stakeOperators(core, modelId);
    const asset = await ethers.deployContract("MockERC20", ["Dollar", "USD"]);
    const vault = await ethers.deployContract("RiskLimitVault", [
        await core.coordinator.getAddress(),
        modelId,
        await asset.getAddress(),
        LIMITS,
        MAX_FEE,
        await core.admin.getAddress(),
    ]);
    await asset.mint(await vault.getAddress(), 10_000n * TOKEN);
    await fund(core, await vault.getAddress());
    await fund(core, await core.consumer.getAddress());
    const borrower = core.others[0]!;
    const d: Deployment = { ...core, modelId };
    return { d, vault, asset, borrower };
}

function scores(low: bigint, medium: bigint, high: bigint): Uint8Array {
    return encodeTensors([{ dtype: DType.INT32, shape: [1, 3], data: [low, medium, high] }]);
}

async function settle(d: Deployment, request: Request, output: Uint8Array, resultCode = ResultCode.OK) {
    const operator = await assignedSigner(d, request);
    const tx = await d.coordinator.connect(operator).submitResult(request, resultCode, output, ethers.ZeroHash);
    const submitted = applyEvents(request, await tx.wait());
    await time.increaseTo(Number(submitted.challengeEndsAt));
    return d.coordinator.finalize(submitted, output);
}

describe("RiskLimitVault (example consumer)", function () {
    it("encodes the borrower's four int8 features as the model input", async function () {
        const { vault, borrower } = await loadFixture(deployVault);
        const tx = await vault.connect(borrower).requestAssessment([5, -3, 127, -128]);
        const [request] = requestsFrom(await tx.wait());
        const want = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [5n, -3n, 127n, -128n] }]);
        expect(request!.inputHash).to.equal(ethers.keccak256(want));
        expect(request!.consumer).to.equal(await vault.getAddress());
        expect(await vault.pendingRequestOf(await borrower.getAddress())).to.equal(request!.requestId);
    });

    it("sets the limit of the arg-max risk class once the result settles, then lends up to it", async function () {
        const { d, vault, asset, borrower } = await loadFixture(deployVault);
        const tx = await vault.connect(borrower).requestAssessment([1, 2, 3, 4]);
        const [request] = requestsFrom(await tx.wait());
        const who = await borrower.getAddress();
        await expect(settle(d, request!, scores(-10n, 250n, 249n)))
            .to.emit(vault, "LimitSet")
            .withArgs(who, request!.requestId, 1, LIMITS[1]);
        expect(await vault.limitOf(who)).to.equal(LIMITS[1]);
        expect(await vault.pendingRequestOf(who)).to.equal(0n);
        await expect(vault.connect(borrower).borrow(LIMITS[1] + 1n))
            .to.be.revertedWithCustomError(vault, "RiskLimitVaultLimitExceeded")
            .withArgs(LIMITS[1], LIMITS[1] + 1n);
        await vault.connect(borrower).borrow(LIMITS[1]);
        expect(await asset.balanceOf(who)).to.equal(LIMITS[1]);
        expect(await vault.debtOf(who)).to.equal(LIMITS[1]);
    });

    it("refuses a second assessment while one is pending (RiskLimitVaultAssessmentPending)", async function () {
        const { vault, borrower } = await loadFixture(deployVault);
        const tx = await vault.connect(borrower).requestAssessment([1, 2, 3, 4]);
        const [request] = requestsFrom(await tx.wait());
        await expect(vault.connect(borrower).requestAssessment([1, 2, 3, 4]))
            .to.be.revertedWithCustomError(vault, "RiskLimitVaultAssessmentPending")
            .withArgs(request!.requestId);
    });

    it("clears the pending assessment without a limit on an error result or a malformed output", async function () {
        const { d, vault, borrower } = await loadFixture(deployVault);
        const who = await borrower.getAddress();
        let tx = await vault.connect(borrower).requestAssessment([1, 2, 3, 4]);
        let [request] = requestsFrom(await tx.wait());
        await expect(settle(d, request!, new Uint8Array(), ResultCode.MODEL_ERROR))
            .to.emit(vault, "AssessmentFailed")
            .withArgs(who, request!.requestId, ResultCode.MODEL_ERROR);
        tx = await vault.connect(borrower).requestAssessment([1, 2, 3, 4]);
        [request] = requestsFrom(await tx.wait());
        // An OK result whose bytes are not a valid tensor list: decoding fails inside the try/catch.
        await expect(settle(d, request!, new Uint8Array([1, 1, 6, 1, 0, 0, 0, 3])))
            .to.emit(vault, "AssessmentFailed")
            .withArgs(who, request!.requestId, ResultCode.OK);
        expect(await vault.limitOf(who)).to.equal(0n);
        expect(await vault.pendingRequestOf(who)).to.equal(0n);
        expect(await d.coordinator.callbackFailed(request!.requestId)).to.equal(false);
    });

    it("lets the borrower clear an unanswered assessment after the deadline; the fee returns to the vault", async function () {
        const { d, vault, borrower } = await loadFixture(deployVault);
        const before = await d.coordinator.balanceOf(await vault.getAddress());
        const tx = await vault.connect(borrower).requestAssessment([1, 2, 3, 4]);
        const [request] = requestsFrom(await tx.wait());
        await time.increaseTo(Number(request!.deadline) + 1);
        await vault.cancelAssessment(request!);
        expect(await vault.pendingRequestOf(await borrower.getAddress())).to.equal(0n);
        expect(await d.coordinator.balanceOf(await vault.getAddress())).to.equal(before);
    });

    it("lets a borrower ask again when the last assessment ended without a delivered result", async function () {
        const { d, vault, borrower } = await loadFixture(deployVault);
        const tx = await vault.connect(borrower).requestAssessment([1, 2, 3, 4]);
        const [request] = requestsFrom(await tx.wait());
        // The callback runs out of gas on a huge output, so the result settles but never reaches the vault.
        const huge = encodeTensors([{ dtype: DType.INT32, shape: [1, 20_000], data: new Array(20_000).fill(1n) }]);
        await settle(d, request!, huge);
        expect(await d.coordinator.callbackFailed(request!.requestId)).to.equal(true);
        expect(await vault.pendingRequestOf(await borrower.getAddress())).to.equal(request!.requestId);
        await expect(vault.connect(borrower).requestAssessment([1, 2, 3, 4])).to.emit(vault, "AssessmentRequested");
    });

    it("never pays more than its maxFeeWei per assessment (CoordinatorFeeAboveMax)", async function () {
        const { d, vault, borrower } = await loadFixture(deployVault);
        await d.registry.connect(d.publisher).setModelFee(d.modelId, MAX_FEE + 1n);
        await expect(vault.connect(borrower).requestAssessment([1, 2, 3, 4])).to.be.revertedWithCustomError(
            d.coordinator,
            "CoordinatorFeeAboveMax",
        );
    });

    it("does not cancel other consumers' requests through the vault (RiskLimitVaultNotOurRequest)", async function () {
        const { d, vault } = await loadFixture(deployVault);
        const tx = await d.consumer.requestSimple(d.modelId, scores(1n, 2n, 3n), 100_000);
        const [request] = requestsFrom(await tx.wait());
        await time.increaseTo(Number(request!.deadline) + 1);
        await expect(vault.cancelAssessment(request!))
            .to.be.revertedWithCustomError(vault, "RiskLimitVaultNotOurRequest")
            .withArgs(request!.requestId);
    });

    it("lets the owner withdraw the oracle balance, the fee of a cancelled assessment included", async function () {
        const { d, vault, borrower } = await loadFixture(deployVault);
        const who = await vault.getAddress();
        const funded = await d.coordinator.balanceOf(who);
        const tx = await vault.connect(borrower).requestAssessment([1, 2, 3, 4]);
        const [request] = requestsFrom(await tx.wait());
        await time.increaseTo(Number(request!.deadline) + 1);
        await vault.connect(borrower).cancelAssessment(request!);
        const owner = await d.admin.getAddress();
        const held = await d.token.balanceOf(owner);
        await expect(vault.connect(d.admin).withdrawOracleBalance(owner, funded))
            .to.emit(d.coordinator, "Withdrawn")
            .withArgs(who, owner, funded);
        expect(await d.coordinator.balanceOf(who)).to.equal(0n);
        expect(await d.token.balanceOf(owner)).to.equal(held + funded);
    });

    it("lets the owner take its lending liquidity back out (LiquidityWithdrawn)", async function () {
        const { d, vault, asset } = await loadFixture(deployVault);
        const owner = await d.admin.getAddress();
        const liquidity = await asset.balanceOf(await vault.getAddress());
        await expect(vault.connect(d.admin).withdrawLiquidity(owner, liquidity))
            .to.emit(vault, "LiquidityWithdrawn")
            .withArgs(owner, liquidity);
        expect(await asset.balanceOf(owner)).to.equal(liquidity);
        expect(await asset.balanceOf(await vault.getAddress())).to.equal(0n);
    });

    it("lets nobody but the owner withdraw either balance (OwnableUnauthorizedAccount)", async function () {
        const { d, vault, asset, borrower } = await loadFixture(deployVault);
        const stranger = await borrower.getAddress();
        await expect(vault.connect(borrower).withdrawOracleBalance(stranger, 1n))
            .to.be.revertedWithCustomError(vault, "OwnableUnauthorizedAccount")
            .withArgs(stranger);
        await expect(vault.connect(borrower).withdrawLiquidity(stranger, 1n))
            .to.be.revertedWithCustomError(vault, "OwnableUnauthorizedAccount")
            .withArgs(stranger);
        expect(await asset.balanceOf(stranger)).to.equal(0n);
        expect(await d.token.balanceOf(stranger)).to.equal(0n);
    });

    it("rejects results from anyone but the coordinator (VerityConsumerOnlyCoordinator)", async function () {
        const { d, vault, borrower } = await loadFixture(deployVault);
        await expect(vault.connect(borrower).onInferenceResult(1, 0, scores(0n, 0n, 1n)))
            .to.be.revertedWithCustomError(vault, "VerityConsumerOnlyCoordinator")
            .withArgs(await borrower.getAddress(), await d.coordinator.getAddress());
    });
});
