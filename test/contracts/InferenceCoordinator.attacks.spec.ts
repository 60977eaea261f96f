/**
 * Attacks on settlement found by the outside review of issue 11 ("No result escapes a dispute"): each test here
 * failed on the code before the fix it names.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import {
    DEFAULT_PARAMS,
    DISPUTE_TIMEOUT,
    INPUT,
    MODEL_COLLATERAL,
    MODEL_WINDOW,
    ResultCode,
    assignedSigner,
    sendRequest,
    submit,
} from "../helpers/verity";
import {
    BPS,
    FAILED_CHALLENGE_OPERATOR_BPS,
    NOT_AT_FAULT,
    challengeAs,
    decide,
    deploySubmittedWrong,
    fundBond,
    minedAt,
} from "../helpers/disputes";
import { deployVerifiable } from "../helpers/verifiable";

const MAX_DISPUTE_ROUNDS = 3;

describe("InferenceCoordinator: attacks on settlement", function () {
    describe("the owner cannot shield a wrong result (dispute terms fixed at request time)", function () {
        it("an owner raising the bond between submit and challenge does not alter that challenge", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const bond = BigInt(s.request.bondWei);
            // The owner front-runs the challenge with the largest bond share the bounds allow.
            await s.coordinator.connect(s.admin).setParams({ ...DEFAULT_PARAMS, challengeBondBps: 10_000 });
            expect(await s.coordinator.challengeBond(MODEL_COLLATERAL)).to.equal(MODEL_COLLATERAL);

            const tx = s.coordinator.connect(s.challenger).challenge(s.request, "0x");
            await expect(tx)
                .to.emit(s.coordinator, "ResultChallenged")
                .withArgs(s.request.requestId, await s.challenger.getAddress(), await s.resolver.getAddress(), bond);
            await expect(tx).to.changeTokenBalance(s.token, s.challenger, -bond);
        });

        it("no parameter can price a bond above the collateral it disputes (CoordinatorInvalidParam)", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            await expect(s.coordinator.connect(s.admin).setParams({ ...DEFAULT_PARAMS, challengeBondBps: 10_001 }))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorInvalidParam")
                .withArgs("challengeBondBps");
        });

        for (const [field, value] of [
            ["minChallengeBondWei", 2n ** 96n - 1n],
            ["challengerRewardBps", 0],
            ["failedChallengeOperatorBps", 10_000],
        ] as const) {
            it(`refuses to change ${field}, fixed at deployment (CoordinatorInvalidParam)`, async function () {
                const s = await loadFixture(deploySubmittedWrong);
                await expect(s.coordinator.connect(s.admin).setParams({ ...DEFAULT_PARAMS, [field]: value }))
                    .to.be.revertedWithCustomError(s.coordinator, "CoordinatorInvalidParam")
                    .withArgs(field);
            });
        }

        it("applies a new bond share to later requests only", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            await s.coordinator.connect(s.admin).setParams({ ...DEFAULT_PARAMS, challengeBondBps: 2_000 });
            const later = await sendRequest(s);
            expect(later.bondWei).to.equal((MODEL_COLLATERAL * 2_000n) / BPS);
            expect(s.request.bondWei).to.equal((MODEL_COLLATERAL * BigInt(DEFAULT_PARAMS.challengeBondBps)) / BPS);
        });
    });

    describe("no endless stall of a result", function () {
        it("REEXECUTION: an operator challenging its own correct result from a second address stalls it once, then it is final", async function () {
            const d = await loadFixture(deployVerifiable);
            const input = INPUT;
            const correct = d.canonical(input);
            const requested = await sendRequest(d, { input, callbackGasLimit: 500_000 });
            const operator = await assignedSigner(d, requested);
            const request = await submit(d, requested, correct.output, { operator });
            const accomplice = d.others[0]!;
            const bond = BigInt(request.bondWei);
            await fundBond(d, accomplice, 2n * bond);

            const { tx, request: proven } = await challengeAs(d, accomplice, request, ethers.hexlify(input));
            const at = await minedAt(tx);
            expect(proven.challengeEndsAt).to.equal(BigInt(at));
            // The stall cost the pair 10% of a bond and bought no time: no second challenge, final at once.
            await expect(d.coordinator.connect(accomplice).challenge(proven, input))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorChallengeWindowClosed")
                .withArgs(at + 1, at);
            await expect(d.coordinator.finalize(proven, correct.output))
                .to.emit(d.coordinator, "ResultFinalized")
                .withArgs(request.requestId, await operator.getAddress(), anyValue, anyValue, true, anyValue);
        });

        it("an inconclusive mode: repeated losing challenges void the request after MAX_DISPUTE_ROUNDS, before settlementBound", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            expect(await s.coordinator.MAX_DISPUTE_ROUNDS()).to.equal(MAX_DISPUTE_ROUNDS);
            const operator = await s.operator.getAddress();
            const staller = s.others[0]!;
            const bound = await s.coordinator.settlementBound(s.request);
            expect(bound).to.equal(
                BigInt(s.request.deadline) +
                    BigInt(MODEL_WINDOW) +
                    BigInt(MAX_DISPUTE_ROUNDS) * BigInt(DISPUTE_TIMEOUT) +
                    BigInt(MAX_DISPUTE_ROUNDS - 1) * BigInt(MODEL_WINDOW),
            );
            const bond = BigInt(s.request.bondWei);
            await fundBond(s, staller, BigInt(MAX_DISPUTE_ROUNDS) * bond);
            const operatorBefore = await s.coordinator.balanceOf(operator);
            const consumerBefore = await s.coordinator.balanceOf(await s.consumer.getAddress());

            let request = s.request;
            for (let round = 1; round <= MAX_DISPUTE_ROUNDS; round++) {
                // Each round waits out as much as it can: challenge at the window's last second, resolve late.
                await time.setNextBlockTimestamp(Number(request.challengeEndsAt) - 1);
                const { request: disputed } = await challengeAs(s, staller, request);
                await time.increase(DISPUTE_TIMEOUT - 10);
                const { tx, request: after } = await decide(s, disputed, NOT_AT_FAULT);
                if (round < MAX_DISPUTE_ROUNDS) {
                    await expect(tx)
                        .to.emit(s.coordinator, "ChallengeWindowRestarted")
                        .withArgs(s.request.requestId, (await minedAt(tx)) + MODEL_WINDOW, round);
                    expect(after.disputeRounds).to.equal(BigInt(round));
                    request = after;
                    continue;
                }
                await expect(tx).to.emit(s.coordinator, "ResultVoided").withArgs(s.request.requestId, round);
                await expect(tx)
                    .to.emit(s.coordinator, "ResultDelivered")
                    .withArgs(s.request.requestId, ResultCode.VOIDED, true, anyValue);
                expect(BigInt(await minedAt(tx))).to.be.lessThanOrEqual(bound);
            }
            expect(await s.coordinator.getCommitment(s.request.requestId)).to.equal(ethers.ZeroHash);
            // The consumer gets its fee back and a VOIDED callback; the collateral is free again.
            expect(await s.coordinator.balanceOf(await s.consumer.getAddress())).to.equal(
                consumerBefore + BigInt(s.request.feeWei),
            );
            expect(await s.consumer.lastResultCode()).to.equal(ResultCode.VOIDED);
            expect((await s.staking.getStake(operator)).lockedWei).to.equal(0n);
            // Only the first lost bond paid the operator: a self-staller pays three bonds to get back 90% of one.
            const toOperator = (bond * FAILED_CHALLENGE_OPERATOR_BPS) / BPS;
            expect(await s.coordinator.balanceOf(operator)).to.equal(operatorBefore + toOperator);
            expect(BigInt(MAX_DISPUTE_ROUNDS) * bond).to.be.greaterThan(toOperator + BigInt(s.request.feeWei));
        });
    });
});
