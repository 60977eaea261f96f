import { expect } from "chai";
import { ethers } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";
import { announcedRequests } from "../../oracle/src/chain/requestEvents";
import { DType, decodeTensors, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { VOID, challengeAs, fundBond } from "../helpers/disputes";
import {
    DEFAULT_PARAMS,
    MODEL_FEE,
    OUTPUT,
    ResultCode,
    TOKEN,
    WRONG_OUTPUT,
    applyEvents,
    assignedSigner,
    deployCore,
    fund,
    registerModel,
    stakeOperators,
    type Deployment,
    type Request,
} from "../helpers/verity";

/** The constants hard-coded in QuickstartConsumer.ask. */
const CALLBACK_GAS_LIMIT = 100_000n;
const TIMEOUT_SECONDS = 3_600;
const MAX_FEE_WEI = 10n ** 18n;

const FEATURES = [12, -7, 100, -128];

/** What the owner deposits for the consumer in the money tests. */
const DEPOSIT = 3n * TOKEN;

async function deployQuickstart() {
    const core = await deployCore();
    const modelId = await registerModel(core.registry, core.publisher);
    await stakeOperators(core, modelId);
    const owner = core.others[1]!;
    const consumer = await ethers.deployContract(
        "QuickstartConsumer",
        [await core.coordinator.getAddress(), modelId],
        owner,
    );
    const user = core.others[0]!;
    const d: Deployment = { ...core, modelId };
    return { d, consumer, user, owner };
}

/** The owner buys DEPOSIT stake tokens' worth of prepaid balance for the consumer; nothing else funds it. */
async function deployOwnerFunded() {
    const f = await deployQuickstart();
    const { d, owner, consumer } = f;
    await d.token.mint(await owner.getAddress(), DEPOSIT);
    await d.token.connect(owner).approve(await d.coordinator.getAddress(), DEPOSIT);
    await d.coordinator.connect(owner).deposit(await consumer.getAddress(), DEPOSIT);
    return f;
}

async function deployFunded() {
    const f = await deployQuickstart();
    await fund(f.d, await f.consumer.getAddress());
    return f;
}

/** Mines `tx` and returns the Request and input bytes of the InferenceRequested event it emitted. */
async function announced(tx: ContractTransactionResponse): Promise<{ request: Request; input: string }> {
    const receipt = await tx.wait();
    if (receipt === null) throw new Error("no receipt");
    const [event] = announcedRequests(receipt.logs);
    if (event === undefined) throw new Error("no InferenceRequested event");
    return { request: event.request, input: event.input };
}

/** Submits `output` with `resultCode` as the assigned operator; returns the request in status Submitted. */
async function submitAs(d: Deployment, request: Request, output: Uint8Array, resultCode: number): Promise<Request> {
    const operator = await assignedSigner(d, request);
    const tx = await d.coordinator.connect(operator).submitResult(request, resultCode, output, ethers.ZeroHash);
    return applyEvents(request, await tx.wait());
}

/** Submits, waits out the challenge window, and returns the finalize transaction. */
async function settle(d: Deployment, request: Request, output: Uint8Array, resultCode = ResultCode.OK) {
    const submitted = await submitAs(d, request, output, resultCode);
    await time.increaseTo(Number(submitted.challengeEndsAt));
    return { tx: d.coordinator.finalize(submitted, output), operator: String(submitted.operator) };
}

function int32Scores(...data: bigint[]): Uint8Array {
    return encodeTensors([{ dtype: DType.INT32, shape: [1, data.length], data }]);
}

describe("QuickstartConsumer (README quick start)", function () {
    it("ask() requests the configured model with the features encoded as one int8 tensor of shape [1, N]", async function () {
        const { d, consumer, user } = await loadFixture(deployFunded);
        const want = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: FEATURES.map(BigInt) }]);
        const tx = await consumer.connect(user).ask(FEATURES);
        await expect(tx)
            .to.emit(d.coordinator, "InferenceRequested")
            .withArgs(anyValue, d.modelId, await consumer.getAddress(), anyValue, ethers.hexlify(want));
        const { request, input } = await announced(tx);
        expect(decodeTensors(ethers.getBytes(input))).to.deep.equal([
            { dtype: DType.INT8, shape: [1, 4], data: [12n, -7n, 100n, -128n] },
        ]);
        expect(request.modelId).to.equal(d.modelId);
        expect(request.consumer).to.equal(await consumer.getAddress());
        expect(request.inputHash).to.equal(ethers.keccak256(want));
    });

    it("ask() pays for a 100_000 gas callback with a deadline one hour after the request", async function () {
        const { d, consumer, user } = await loadFixture(deployFunded);
        const who = await consumer.getAddress();
        const before = await d.coordinator.balanceOf(who);
        const fee = await d.coordinator.quoteFee(d.modelId, CALLBACK_GAS_LIMIT);
        const tx = await consumer.connect(user).ask(FEATURES);
        const { request } = await announced(tx);
        const block = await ethers.provider.getBlock((await tx.wait())!.blockNumber);
        expect(request.callbackGasLimit).to.equal(CALLBACK_GAS_LIMIT);
        expect(request.deadline).to.equal(block!.timestamp + TIMEOUT_SECONDS);
        // No preferred operator: the rotation's pick, fixed at request time.
        expect(request.assignedOperator).to.equal(await d.staking.operatorAt(d.modelId, request.requestId));
        expect(request.feeWei).to.equal(fee);
        // The consumer pays for the callback gas it asks for, at the deployment's rate, on top of the model fee.
        expect(fee).to.equal(MODEL_FEE + CALLBACK_GAS_LIMIT * BigInt(DEFAULT_PARAMS.callbackGasFeeWei));
        expect(await d.coordinator.balanceOf(who)).to.equal(before - fee);
    });

    it("ask() returns the coordinator's request id", async function () {
        const { consumer, user } = await loadFixture(deployFunded);
        const returned = await consumer.connect(user).ask.staticCall(FEATURES);
        const { request } = await announced(await consumer.connect(user).ask(FEATURES));
        expect(returned).to.equal(request.requestId);
    });

    it("ask() never pays more than 1e18 (CoordinatorFeeAboveMax)", async function () {
        const { d, consumer, user } = await loadFixture(deployFunded);
        // The model fee alone is now the cap; the callback gas fee pushes the total over it.
        await d.registry.connect(d.publisher).setModelFee(d.modelId, MAX_FEE_WEI);
        const fee = await d.coordinator.quoteFee(d.modelId, CALLBACK_GAS_LIMIT);
        await expect(consumer.connect(user).ask(FEATURES))
            .to.be.revertedWithCustomError(d.coordinator, "CoordinatorFeeAboveMax")
            .withArgs(fee, MAX_FEE_WEI);
    });

    it("ask() reverts without a prepaid balance (CoordinatorInsufficientBalance)", async function () {
        const { d, consumer, user } = await loadFixture(deployQuickstart);
        const fee = await d.coordinator.quoteFee(d.modelId, CALLBACK_GAS_LIMIT);
        await expect(consumer.connect(user).ask(FEATURES))
            .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInsufficientBalance")
            .withArgs(0n, fee);
    });

    it("stores the first element of an OK result as lastAnswer once the result settles", async function () {
        const { d, consumer, user } = await loadFixture(deployFunded);
        expect(await consumer.lastAnswer()).to.equal(0n);
        const { request } = await announced(await consumer.connect(user).ask(FEATURES));
        // OUTPUT is one INT32 tensor [-5000, 123456, 7].
        const submitted = await submitAs(d, request, OUTPUT, ResultCode.OK);
        expect(await consumer.lastAnswer()).to.equal(0n);
        await time.increaseTo(Number(submitted.challengeEndsAt));
        await expect(d.coordinator.finalize(submitted, OUTPUT))
            .to.emit(d.coordinator, "ResultFinalized")
            .withArgs(request.requestId, true, anyValue);
        expect(await consumer.lastAnswer()).to.equal(-5000n);
        expect(await d.coordinator.callbackFailed(request.requestId)).to.equal(false);
    });

    it("overwrites lastAnswer with each settled OK result (a positive score)", async function () {
        const { d, consumer, user } = await loadFixture(deployFunded);
        let { request } = await announced(await consumer.connect(user).ask(FEATURES));
        const first = await settle(d, request, OUTPUT);
        await first.tx;
        expect(await consumer.lastAnswer()).to.equal(-5000n);
        ({ request } = await announced(await consumer.connect(user).ask([1, 2, 3, 4])));
        const { tx } = await settle(d, request, int32Scores(2_000_000_000n, -1n, 7n));
        await expect(tx).to.emit(d.coordinator, "ResultFinalized").withArgs(request.requestId, true, anyValue);
        expect(await consumer.lastAnswer()).to.equal(2_000_000_000n);
    });

    it("leaves lastAnswer unchanged on a non-OK result code, even with a decodable output", async function () {
        const { d, consumer, user } = await loadFixture(deployFunded);
        let { request } = await announced(await consumer.connect(user).ask(FEATURES));
        const first = await settle(d, request, OUTPUT);
        await first.tx;
        expect(await consumer.lastAnswer()).to.equal(-5000n);
        ({ request } = await announced(await consumer.connect(user).ask(FEATURES)));
        // A valid tensor list, so only the result-code check keeps 42 out of lastAnswer.
        const { tx } = await settle(d, request, int32Scores(42n), ResultCode.MODEL_ERROR);
        await expect(tx).to.emit(d.coordinator, "ResultFinalized").withArgs(request.requestId, true, anyValue);
        expect(await consumer.lastAnswer()).to.equal(-5000n);
    });

    it("takes a VOIDED delivery (empty output) without reverting and keeps lastAnswer", async function () {
        const { d, consumer, user } = await loadFixture(deployFunded);
        const { request } = await announced(await consumer.connect(user).ask(FEATURES));
        const submitted = await submitAs(d, request, OUTPUT, ResultCode.OK);
        await d.resolver.preset(true, VOID);
        await fundBond(d, d.challenger, await d.coordinator.challengeBond(submitted.collateralWei));
        const { tx } = await challengeAs(d, d.challenger, submitted);
        // Decoding the empty output would revert: callbackSucceeded = true shows the result code was checked first.
        await expect(tx)
            .to.emit(d.coordinator, "ResultDelivered")
            .withArgs(request.requestId, ResultCode.VOIDED, true, anyValue);
        expect(await consumer.lastAnswer()).to.equal(0n);
        expect(await d.coordinator.callbackFailed(request.requestId)).to.equal(false);
    });

    describe("the consumer's money", function () {
        it("belongs to the deployer: it owns the contract", async function () {
            const { consumer, owner } = await loadFixture(deployQuickstart);
            expect(await consumer.owner()).to.equal(await owner.getAddress());
        });

        it("deposit, ask, nobody serves, cancel after the deadline, withdraw: every token comes back", async function () {
            const { d, consumer, user, owner } = await loadFixture(deployOwnerFunded);
            const who = await consumer.getAddress();
            const { request } = await announced(await consumer.connect(user).ask(FEATURES));
            expect(await d.coordinator.balanceOf(who)).to.equal(DEPOSIT - BigInt(request.feeWei));
            await expect(consumer.connect(owner).cancel(request))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorDeadlineNotPassed")
                .withArgs(anyValue, request.deadline);

            await time.increaseTo(Number(request.deadline) + 1);
            await expect(consumer.connect(owner).cancel(request))
                .to.emit(d.coordinator, "RequestCancelled")
                .withArgs(request.requestId, who, request.feeWei);
            expect(await d.coordinator.balanceOf(who)).to.equal(DEPOSIT);
            expect(await d.coordinator.isCommitted(request)).to.equal(false);

            await expect(consumer.connect(owner).withdraw(await owner.getAddress(), DEPOSIT))
                .to.emit(d.coordinator, "Withdrawn")
                .withArgs(who, await owner.getAddress(), DEPOSIT);
            expect(await d.coordinator.balanceOf(who)).to.equal(0n);
            expect(await d.token.balanceOf(await owner.getAddress())).to.equal(DEPOSIT);
        });

        it("the refund of a result a dispute proved wrong can be withdrawn", async function () {
            const { d, consumer, user, owner } = await loadFixture(deployOwnerFunded);
            const who = await consumer.getAddress();
            const { request } = await announced(await consumer.connect(user).ask(FEATURES));
            const submitted = await submitAs(d, request, WRONG_OUTPUT, ResultCode.OK);
            // The resolver finds the operator at fault and has no correct result to deliver: the request is voided.
            await d.resolver.preset(true, VOID);
            await fundBond(d, d.challenger, await d.coordinator.challengeBond(submitted.collateralWei));
            const { tx } = await challengeAs(d, d.challenger, submitted);
            await expect(tx)
                .to.emit(d.coordinator, "DisputeResolved")
                .withArgs(
                    request.requestId,
                    true,
                    await d.challenger.getAddress(),
                    submitted.operator,
                    anyValue,
                    anyValue,
                );
            expect(await d.coordinator.balanceOf(who)).to.equal(DEPOSIT);

            const to = await user.getAddress();
            const held = await d.token.balanceOf(to);
            await consumer.connect(owner).withdraw(to, DEPOSIT);
            expect(await d.token.balanceOf(to)).to.equal(held + DEPOSIT);
            expect(await d.coordinator.balanceOf(who)).to.equal(0n);
        });

        it("withdraws part of the balance, and no more than it (CoordinatorInsufficientBalance)", async function () {
            const { d, consumer, owner } = await loadFixture(deployOwnerFunded);
            const to = await owner.getAddress();
            await consumer.connect(owner).withdraw(to, TOKEN);
            expect(await d.coordinator.balanceOf(await consumer.getAddress())).to.equal(DEPOSIT - TOKEN);
            await expect(consumer.connect(owner).withdraw(to, DEPOSIT))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInsufficientBalance")
                .withArgs(DEPOSIT - TOKEN, DEPOSIT);
            expect(await d.token.balanceOf(to)).to.equal(TOKEN);
        });

        it("nobody but the owner can withdraw it (OwnableUnauthorizedAccount)", async function () {
            const { d, consumer, user } = await loadFixture(deployOwnerFunded);
            const stranger = await user.getAddress();
            await expect(consumer.connect(user).withdraw(stranger, DEPOSIT))
                .to.be.revertedWithCustomError(consumer, "OwnableUnauthorizedAccount")
                .withArgs(stranger);
            expect(await d.coordinator.balanceOf(await consumer.getAddress())).to.equal(DEPOSIT);
        });

        it("nobody but the owner can cancel, even past the deadline (OwnableUnauthorizedAccount)", async function () {
            const { d, consumer, user } = await loadFixture(deployOwnerFunded);
            const { request } = await announced(await consumer.connect(user).ask(FEATURES));
            await time.increaseTo(Number(request.deadline) + 1);
            await expect(consumer.connect(user).cancel(request))
                .to.be.revertedWithCustomError(consumer, "OwnableUnauthorizedAccount")
                .withArgs(await user.getAddress());
            expect(await d.coordinator.isCommitted(request)).to.equal(true);
        });
    });

    it("rejects results from anyone but the coordinator (VerityConsumerOnlyCoordinator)", async function () {
        const { d, consumer, user } = await loadFixture(deployFunded);
        await expect(consumer.connect(user).onInferenceResult(1n, ResultCode.OK, OUTPUT))
            .to.be.revertedWithCustomError(consumer, "VerityConsumerOnlyCoordinator")
            .withArgs(await user.getAddress(), await d.coordinator.getAddress());
        expect(await consumer.lastAnswer()).to.equal(0n);
        expect(await consumer.coordinator()).to.equal(await d.coordinator.getAddress());
    });
});
