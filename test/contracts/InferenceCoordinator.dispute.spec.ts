import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { Signer } from "ethers";
import {
    DEFAULT_PARAMS,
    DISPUTE_TIMEOUT,
    MIN_COLLATERAL,
    MODEL_COLLATERAL,
    MODEL_WINDOW,
    OUTPUT,
    ResultCode,
    Status,
    TOKEN,
    UNBONDING_DELAY,
    WRONG_OUTPUT,
    attestationOf,
    deployCore,
    sendRequest,
    signAttestation,
    type Attestation,
    type Request,
} from "../helpers/verity";
import {
    BPS,
    CHALLENGER_REWARD_BPS,
    DISPUTE_CALLBACK_GAS,
    FAILED_CHALLENGE_OPERATOR_BPS,
    MIN_CHALLENGE_BOND,
    NOT_AT_FAULT,
    VOID,
    challengeAs,
    commitChallengeAs,
    corrected,
    decide,
    deployDisputed,
    deploySubmittedWrong,
    deployTinyCollateral,
    deployWithQuorumModel,
    expectedBond,
    fundBond,
    minedAt,
    revealChallengeAs,
    totalHoldings,
    type Verdict,
} from "../helpers/disputes";
import { challengeCommitment, newChallengeSalt } from "../../oracle/src/chain/coordinator";

/** Stake each test operator holds (stakeOperators' default). */
const STAKE = 100n * TOKEN;
const COLLATERAL = MODEL_COLLATERAL;
/** The winning challenger's (or reporter's) share of a slash of COLLATERAL. */
const REWARD = (COLLATERAL * CHALLENGER_REWARD_BPS) / BPS;
/** secp256k1 group order. */
const SECP256K1_N = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");

const EMPTY_HASH = ethers.keccak256("0x");

function equivocationKey(operator: string, modelId: string, inputHash: string, scope: bigint): string {
    return ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(
            ["address", "bytes32", "bytes32", "uint256"],
            [operator, modelId, inputHash, scope],
        ),
    );
}

/** A live REEXECUTION request and a live QUORUM request, as sources of (model, input) for attestations. */
async function deployEquivocation() {
    const d = await deployWithQuorumModel();
    const request = await sendRequest(d);
    const quorumRequest = await sendRequest({ ...d, modelId: d.quorumModelId });
    return { ...d, request, quorumRequest };
}

/** `signer`'s EIP-712 attestation that `request`'s input gives `output`, optionally under another request id. */
async function attest(
    d: Awaited<ReturnType<typeof deployEquivocation>>,
    signer: Signer,
    request: Request,
    output: Uint8Array,
    requestId?: bigint,
): Promise<{ attestation: Attestation; signature: string }> {
    const base = attestationOf(request, output);
    const attestation = requestId === undefined ? base : { ...base, requestId };
    return { attestation, signature: await signAttestation(signer, d.coordinator, attestation) };
}

describe("InferenceCoordinator: disputes", function () {
    describe("challenge", function () {
        it("pulls the bond, marks the request Disputed and hands it to the mode's resolver", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const challenger = await s.challenger.getAddress();
            const coordinator = await s.coordinator.getAddress();
            const resolver = await s.resolver.getAddress();
            const bond = expectedBond(COLLATERAL);
            expect(s.bondWei).to.equal(bond);
            expect(bond).to.equal((COLLATERAL * BigInt(DEFAULT_PARAMS.challengeBondBps)) / BPS);
            const evidence = ethers.hexlify(ethers.toUtf8Bytes("re-executed output differs"));

            const { salt, commitment } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            const tx = await s.coordinator.connect(s.challenger).challenge(s.request, evidence, salt);
            await expect(tx).to.changeTokenBalances(s.token, [challenger, coordinator], [-bond, bond]);
            await expect(tx)
                .to.emit(s.coordinator, "ResultChallenged")
                .withArgs(s.request.requestId, challenger, resolver, bond);

            const disputed = { ...s.request, status: Status.Disputed };
            expect(await s.coordinator.isCommitted(disputed)).to.equal(true);
            expect(await s.coordinator.isCommitted(s.request)).to.equal(false);
            const dispute = await s.coordinator.getDispute(s.request.requestId);
            expect(dispute.challenger).to.equal(challenger);
            expect(dispute.bondWei).to.equal(bond);
            expect(dispute.openedAt).to.equal(BigInt(await minedAt(tx)));
            expect(await s.resolver.disputesOpened()).to.equal(1n);
            expect(await s.resolver.lastEvidence()).to.equal(evidence);
            expect(await s.resolver.lastChallenger()).to.equal(challenger);
            // The commitment is used up.
            expect(await s.coordinator.getChallengeCommitment(commitment)).to.equal(0n);
        });

        it("reverts once the window has ended (CoordinatorChallengeWindowClosed)", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const endsAt = Number(s.request.challengeEndsAt);
            const { salt } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            await time.setNextBlockTimestamp(endsAt);
            await expect(s.coordinator.connect(s.challenger).challenge(s.request, "0x", salt))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorChallengeWindowClosed")
                .withArgs(endsAt, endsAt);
        });

        it("reverts for a request nobody has answered yet (CoordinatorWrongStatus)", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const requested = await sendRequest(s, { callbackGasLimit: DISPUTE_CALLBACK_GAS });
            const { salt } = await commitChallengeAs(s, s.challenger, requested.requestId);
            await expect(s.coordinator.connect(s.challenger).challenge(requested, "0x", salt))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorWrongStatus")
                .withArgs(requested.requestId, Status.Requested, Status.Submitted);
        });

        it("rejects a second challenge while one is open: stale struct (CoordinatorUnknownRequest), fresh one (CoordinatorWrongStatus)", async function () {
            const s = await loadFixture(deployDisputed);
            const other = s.others[0]!;
            await fundBond(s, other, s.bondWei);
            // A reveal that reverts keeps its commitment: one commitment serves both attempts.
            const { salt } = await commitChallengeAs(s, other, s.request.requestId);
            await expect(s.coordinator.connect(other).challenge(s.request, "0x", salt))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorUnknownRequest")
                .withArgs(s.request.requestId);
            await expect(s.coordinator.connect(other).challenge(s.disputed, "0x", salt))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorWrongStatus")
                .withArgs(s.request.requestId, Status.Disputed, Status.Submitted);
            expect(await s.resolver.disputesOpened()).to.equal(1n);
        });

        it("refuses to finalize a disputed result, even after its window", async function () {
            const s = await loadFixture(deployDisputed);
            await time.increaseTo(Number(s.request.challengeEndsAt) + 1);
            await expect(s.coordinator.finalize(s.request, WRONG_OUTPUT))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorUnknownRequest")
                .withArgs(s.request.requestId);
            await expect(s.coordinator.finalize(s.disputed, WRONG_OUTPUT))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorWrongStatus")
                .withArgs(s.request.requestId, Status.Disputed, Status.Submitted);
        });
    });

    describe("challenge commitments (commit-reveal)", function () {
        it("commitChallenge stores the block it is made in and emits ChallengeCommitted", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const commitment = ethers.id("a commitment");
            const tx = await s.coordinator.connect(s.others[1]!).commitChallenge(commitment);
            await expect(tx)
                .to.emit(s.coordinator, "ChallengeCommitted")
                .withArgs(commitment, await s.others[1]!.getAddress());
            const receipt = await tx.wait();
            expect(await s.coordinator.getChallengeCommitment(commitment)).to.equal(BigInt(receipt!.blockNumber));
            expect(await s.coordinator.getChallengeCommitment(ethers.id("another"))).to.equal(0n);
        });

        it("refuses a zero commitment (CoordinatorZeroValue) and one already stored (CoordinatorChallengeCommitmentExists)", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            await expect(s.coordinator.commitChallenge(ethers.ZeroHash)).to.be.revertedWithCustomError(
                s.coordinator,
                "CoordinatorZeroValue",
            );
            const { commitment, tx } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            const committedAt = BigInt((await tx.wait())!.blockNumber);
            // Whoever sends it again (the challenger, or someone who copied it from the mempool).
            for (const sender of [s.challenger, s.others[0]!]) {
                await expect(s.coordinator.connect(sender).commitChallenge(commitment))
                    .to.be.revertedWithCustomError(s.coordinator, "CoordinatorChallengeCommitmentExists")
                    .withArgs(commitment);
            }
            expect(await s.coordinator.getChallengeCommitment(commitment)).to.equal(committedAt);
        });

        it("challengeCommitment is keccak256(abi.encode(requestId, challenger, salt)), as the node computes it", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const cases: [bigint, string, string][] = [
                [0n, ethers.ZeroAddress, ethers.ZeroHash],
                [BigInt(s.request.requestId), await s.challenger.getAddress(), ethers.id("salt")],
                [2n ** 256n - 1n, "0x" + "ff".repeat(20), "0x" + "ff".repeat(32)],
            ];
            for (let i = 0; i < 8; i++) {
                cases.push([
                    ethers.toBigInt(ethers.randomBytes(32)),
                    ethers.getAddress(ethers.hexlify(ethers.randomBytes(20))),
                    newChallengeSalt(),
                ]);
            }
            for (const [requestId, challenger, salt] of cases) {
                const want = ethers.keccak256(
                    ethers.AbiCoder.defaultAbiCoder().encode(
                        ["uint256", "address", "bytes32"],
                        [requestId, challenger, salt],
                    ),
                );
                expect(await s.coordinator.challengeCommitment(requestId, challenger, salt)).to.equal(want);
                expect(challengeCommitment(requestId, challenger, salt)).to.equal(want);
            }
        });

        it("refuses a challenge with no commitment of the caller (CoordinatorNoChallengeCommitment), and takes no bond", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const challenger = await s.challenger.getAddress();
            const tokensBefore = await s.token.balanceOf(challenger);
            const salt = ethers.id("never committed");
            await expect(s.coordinator.connect(s.challenger).challenge(s.request, "0x", salt))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorNoChallengeCommitment")
                .withArgs(challengeCommitment(BigInt(s.request.requestId), challenger, salt));
            // A commitment made with another salt does not open it either.
            await commitChallengeAs(s, s.challenger, s.request.requestId);
            await expect(
                s.coordinator.connect(s.challenger).challenge(s.request, "0x", salt),
            ).to.be.revertedWithCustomError(s.coordinator, "CoordinatorNoChallengeCommitment");
            expect(await s.token.balanceOf(challenger)).to.equal(tokensBefore);
            expect(await s.resolver.disputesOpened()).to.equal(0n);
        });
    });

    describe("bond floor and cap", function () {
        it("raises a bond below minChallengeBondWei to the floor (no griefing by tiny disputes)", async function () {
            const d = await loadFixture(deployCore);
            const collateral = 2n * TOKEN;
            const share = (collateral * BigInt(DEFAULT_PARAMS.challengeBondBps)) / BPS;
            expect(share).to.be.lessThan(MIN_CHALLENGE_BOND);
            expect(MIN_CHALLENGE_BOND).to.be.lessThan(collateral);
            expect(await d.coordinator.challengeBond(collateral)).to.equal(MIN_CHALLENGE_BOND);
        });

        it("never asks more than the collateral: a tiny-collateral result's bond is its collateral, fixed in the request", async function () {
            const s = await loadFixture(deployTinyCollateral);
            const challenger = await s.challenger.getAddress();
            const coordinator = await s.coordinator.getAddress();
            expect(MIN_COLLATERAL).to.be.lessThan(MIN_CHALLENGE_BOND);
            expect(s.bondWei).to.equal(MIN_COLLATERAL);
            expect(s.request.bondWei).to.equal(MIN_COLLATERAL);

            const { salt } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            await s.token.connect(s.challenger).approve(coordinator, MIN_COLLATERAL - 1n);
            await expect(s.coordinator.connect(s.challenger).challenge(s.request, "0x", salt))
                .to.be.revertedWithCustomError(s.token, "ERC20InsufficientAllowance")
                .withArgs(coordinator, MIN_COLLATERAL - 1n, MIN_COLLATERAL);

            await s.token.connect(s.challenger).approve(coordinator, MIN_COLLATERAL);
            const tx = s.coordinator.connect(s.challenger).challenge(s.request, "0x", salt);
            await expect(tx).to.changeTokenBalances(
                s.token,
                [challenger, coordinator],
                [-MIN_COLLATERAL, MIN_COLLATERAL],
            );
            await expect(tx)
                .to.emit(s.coordinator, "ResultChallenged")
                .withArgs(s.request.requestId, challenger, await s.resolver.getAddress(), MIN_COLLATERAL);
        });
    });

    describe("verdict: operator at fault", function () {
        const ways = [
            { how: "decided later (TestResolver.decide)", atOnce: false },
            { how: "decided at once (TestResolver.preset)", atOnce: true },
        ];
        const outcomes: { what: string; verdict: Verdict; code: number; output: Uint8Array | string }[] = [
            {
                what: "voids the request (callback with VOIDED, no output)",
                verdict: VOID,
                code: ResultCode.VOIDED,
                output: "0x",
            },
            {
                what: "delivers the resolver's correct result",
                verdict: corrected(OUTPUT, ResultCode.OK),
                code: ResultCode.OK,
                output: OUTPUT,
            },
            {
                what: "delivers the resolver's correct error code",
                verdict: corrected(new Uint8Array(0), ResultCode.INVALID_INPUT),
                code: ResultCode.INVALID_INPUT,
                output: "0x",
            },
        ];

        for (const { how, atOnce } of ways) {
            for (const { what, verdict, code, output } of outcomes) {
                it(`${how}: slashes the collateral, pays challenger and treasury, refunds the consumer, ${what}`, async function () {
                    const s = await loadFixture(deploySubmittedWrong);
                    const operator = await s.operator.getAddress();
                    const challenger = await s.challenger.getAddress();
                    const treasury = await s.treasury.getAddress();
                    const consumer = await s.consumer.getAddress();
                    const coordinator = await s.coordinator.getAddress();
                    const stakeBefore = await s.staking.getStake(operator);
                    expect(stakeBefore.lockedWei).to.equal(COLLATERAL);
                    const consumerBefore = await s.coordinator.balanceOf(consumer);
                    const treasuryBefore = await s.coordinator.balanceOf(treasury);
                    const stakingTokensBefore = await s.token.balanceOf(await s.staking.getAddress());

                    let tx;
                    if (atOnce) {
                        await s.resolver.preset(true, verdict);
                        ({ tx } = await challengeAs(s, s.challenger, s.request));
                        await expect(tx)
                            .to.emit(s.coordinator, "ResultChallenged")
                            .withArgs(s.request.requestId, challenger, await s.resolver.getAddress(), s.bondWei);
                    } else {
                        const { request: disputed } = await challengeAs(s, s.challenger, s.request);
                        ({ tx } = await decide(s, disputed, verdict));
                    }

                    await expect(tx)
                        .to.emit(s.coordinator, "DisputeResolved")
                        .withArgs(s.request.requestId, true, challenger, operator, COLLATERAL, s.bondWei + REWARD);
                    await expect(tx)
                        .to.emit(s.coordinator, "ResultDelivered")
                        .withArgs(s.request.requestId, code, true, anyValue);
                    await expect(tx).to.emit(s.staking, "OperatorSlashed").withArgs(operator, COLLATERAL, coordinator);
                    await expect(tx).not.to.emit(s.coordinator, "ChallengeWindowRestarted");

                    const stakeAfter = await s.staking.getStake(operator);
                    expect(stakeAfter.stakedWei).to.equal(stakeBefore.stakedWei - COLLATERAL);
                    expect(stakeAfter.lockedWei).to.equal(stakeBefore.lockedWei - COLLATERAL);
                    expect(stakeAfter.unbondingWei).to.equal(stakeBefore.unbondingWei);
                    expect(await s.token.balanceOf(await s.staking.getAddress())).to.equal(
                        stakingTokensBefore - COLLATERAL,
                    );

                    expect(await s.coordinator.balanceOf(challenger)).to.equal(s.bondWei + REWARD);
                    expect(await s.coordinator.balanceOf(treasury)).to.equal(treasuryBefore + COLLATERAL - REWARD);
                    expect(await s.coordinator.balanceOf(operator)).to.equal(0n);
                    expect(await s.coordinator.balanceOf(consumer)).to.equal(consumerBefore + BigInt(s.request.feeWei));

                    expect(await s.consumer.callbacks()).to.equal(1n);
                    expect(await s.consumer.lastRequestId()).to.equal(s.request.requestId);
                    expect(await s.consumer.lastResultCode()).to.equal(code);
                    expect(await s.consumer.lastOutputHash()).to.equal(ethers.keccak256(output));
                    expect(await s.coordinator.callbackFailed(s.request.requestId)).to.equal(false);

                    // Ended: neither its Submitted nor its Disputed struct is committed any more.
                    expect(await s.coordinator.isCommitted(s.request)).to.equal(false);
                    expect(await s.coordinator.isCommitted({ ...s.request, status: Status.Disputed })).to.equal(false);
                    const dispute = await s.coordinator.getDispute(s.request.requestId);
                    expect(dispute.challenger).to.equal(ethers.ZeroAddress);
                    expect(dispute.bondWei).to.equal(0n);
                });
            }
        }

        it("leaves nothing to act on afterwards: finalize, challenge and expire see an unknown request", async function () {
            const s = await loadFixture(deployDisputed);
            await decide(s, s.disputed, VOID);
            const { salt } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            for (const stale of [s.request, s.disputed]) {
                await expect(s.coordinator.finalize(stale, WRONG_OUTPUT))
                    .to.be.revertedWithCustomError(s.coordinator, "CoordinatorUnknownRequest")
                    .withArgs(s.request.requestId);
                await expect(s.coordinator.connect(s.challenger).challenge(stale, "0x", salt))
                    .to.be.revertedWithCustomError(s.coordinator, "CoordinatorUnknownRequest")
                    .withArgs(s.request.requestId);
                await expect(s.coordinator.expireDispute(stale))
                    .to.be.revertedWithCustomError(s.coordinator, "CoordinatorUnknownRequest")
                    .withArgs(s.request.requestId);
            }
            await expect(s.resolver.decide(s.disputed, VOID))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorUnknownRequest")
                .withArgs(s.request.requestId);
        });
    });

    describe("verdict: operator not at fault", function () {
        const TO_OPERATOR = (bond: bigint) => (bond * FAILED_CHALLENGE_OPERATOR_BPS) / BPS;

        it("pays the bond to the operator (failedChallengeOperatorBps) and the treasury, and restarts the window", async function () {
            const s = await loadFixture(deployDisputed);
            const operator = await s.operator.getAddress();
            const challenger = await s.challenger.getAddress();
            const treasury = await s.treasury.getAddress();
            const stakeBefore = await s.staking.getStake(operator);
            const treasuryBefore = await s.coordinator.balanceOf(treasury);

            const { tx, request: restarted } = await decide(s, s.disputed, NOT_AT_FAULT);
            const endsAt = (await minedAt(tx)) + MODEL_WINDOW;
            await expect(tx)
                .to.emit(s.coordinator, "DisputeResolved")
                .withArgs(s.request.requestId, false, challenger, operator, 0, 0);
            await expect(tx)
                .to.emit(s.coordinator, "ChallengeWindowRestarted")
                .withArgs(s.request.requestId, endsAt, 1);
            await expect(tx).not.to.emit(s.staking, "OperatorSlashed");
            await expect(tx).not.to.emit(s.coordinator, "ResultDelivered");

            expect(await s.coordinator.balanceOf(operator)).to.equal(TO_OPERATOR(s.bondWei));
            expect(await s.coordinator.balanceOf(treasury)).to.equal(
                treasuryBefore + s.bondWei - TO_OPERATOR(s.bondWei),
            );
            expect(await s.coordinator.balanceOf(challenger)).to.equal(0n);
            const stakeAfter = await s.staking.getStake(operator);
            expect(stakeAfter.stakedWei).to.equal(stakeBefore.stakedWei);
            expect(stakeAfter.lockedWei).to.equal(COLLATERAL);

            expect(restarted).to.deep.equal({
                ...s.request,
                status: Status.Submitted,
                challengeEndsAt: BigInt(endsAt),
                disputeRounds: 1n,
            });
            expect(await s.coordinator.isCommitted(restarted)).to.equal(true);
            expect((await s.coordinator.getDispute(s.request.requestId)).challenger).to.equal(ethers.ZeroAddress);
            expect(await s.consumer.callbacks()).to.equal(0n);
        });

        it("applies the same split and restart when the resolver decides at once", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const operator = await s.operator.getAddress();
            const challenger = await s.challenger.getAddress();
            await s.resolver.preset(true, NOT_AT_FAULT);
            const { tx, request: restarted } = await challengeAs(s, s.challenger, s.request);
            const endsAt = (await minedAt(tx)) + MODEL_WINDOW;
            await expect(tx)
                .to.emit(s.coordinator, "DisputeResolved")
                .withArgs(s.request.requestId, false, challenger, operator, 0, 0);
            await expect(tx)
                .to.emit(s.coordinator, "ChallengeWindowRestarted")
                .withArgs(s.request.requestId, endsAt, 1);
            expect(restarted.status).to.equal(Status.Submitted);
            expect(await s.coordinator.isCommitted(restarted)).to.equal(true);
            expect(await s.coordinator.balanceOf(operator)).to.equal(TO_OPERATOR(s.bondWei));
        });

        it("lets someone else challenge within the new window after the original one ended (a lost challenge does not shield the result)", async function () {
            const s = await loadFixture(deployDisputed);
            const other = s.others[0]!;
            const otherAddress = await other.getAddress();
            const operator = await s.operator.getAddress();
            await fundBond(s, other, s.bondWei);
            const originalEnd = Number(s.request.challengeEndsAt);

            await time.setNextBlockTimestamp(originalEnd - 10);
            const { request: restarted } = await decide(s, s.disputed, NOT_AT_FAULT);
            expect(restarted.challengeEndsAt).to.equal(BigInt(originalEnd - 10 + MODEL_WINDOW));

            const { salt } = await commitChallengeAs(s, other, s.request.requestId);
            await time.setNextBlockTimestamp(originalEnd + 5);
            const { tx, request: disputedAgain } = await revealChallengeAs(s, other, restarted, salt);
            await expect(tx)
                .to.emit(s.coordinator, "ResultChallenged")
                .withArgs(s.request.requestId, otherAddress, await s.resolver.getAddress(), s.bondWei);
            expect(await s.resolver.lastChallenger()).to.equal(otherAddress);
            expect(await s.resolver.disputesOpened()).to.equal(2n);

            // The second challenger is right: the wrong result is still slashed.
            await expect(s.resolver.decide(disputedAgain, VOID))
                .to.emit(s.coordinator, "DisputeResolved")
                .withArgs(s.request.requestId, true, otherAddress, operator, COLLATERAL, s.bondWei + REWARD);
            expect(await s.coordinator.balanceOf(otherAddress)).to.equal(s.bondWei + REWARD);
        });

        it("finalizes only after the new window, paying the operator its fee", async function () {
            const s = await loadFixture(deployDisputed);
            const operator = await s.operator.getAddress();
            const { request: restarted } = await decide(s, s.disputed, NOT_AT_FAULT);
            const newEnd = Number(restarted.challengeEndsAt);
            expect(newEnd).to.be.greaterThan(Number(s.request.challengeEndsAt));
            const { salt } = await commitChallengeAs(s, s.others[0]!, s.request.requestId);

            await time.setNextBlockTimestamp(newEnd - 1);
            await expect(s.coordinator.finalize(restarted, WRONG_OUTPUT))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorChallengeWindowOpen")
                .withArgs(newEnd - 1, newEnd);
            await time.setNextBlockTimestamp(newEnd);
            await expect(s.coordinator.connect(s.others[0]!).challenge(restarted, "0x", salt))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorChallengeWindowClosed")
                .withArgs(newEnd, newEnd);

            const fee = BigInt(s.request.feeWei);
            const protocolFee = (fee * BigInt(DEFAULT_PARAMS.protocolFeeBps)) / BPS;
            const balanceBefore = await s.coordinator.balanceOf(operator);
            await expect(s.coordinator.finalize(restarted, WRONG_OUTPUT))
                .to.emit(s.coordinator, "ResultFinalized")
                .withArgs(s.request.requestId, true, anyValue);
            expect(await s.coordinator.balanceOf(operator)).to.equal(balanceBefore + fee - protocolFee);
            expect((await s.staking.getStake(operator)).lockedWei).to.equal(0n);
            expect(await s.consumer.lastOutputHash()).to.equal(ethers.keccak256(WRONG_OUTPUT));
        });
    });

    describe("resolveDispute", function () {
        it("refuses anyone but the resolver of the request's mode (CoordinatorNotResolver)", async function () {
            const s = await loadFixture(deployDisputed);
            const resolver = await s.resolver.getAddress();
            for (const caller of [s.others[0]!, s.operator, s.challenger, s.admin]) {
                await expect(s.coordinator.connect(caller).resolveDispute(s.disputed, VOID))
                    .to.be.revertedWithCustomError(s.coordinator, "CoordinatorNotResolver")
                    .withArgs(await caller.getAddress(), resolver);
            }
            const rogue = await ethers.deployContract("TestResolver", [await s.coordinator.getAddress()]);
            await expect(rogue.decide(s.disputed, VOID))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorNotResolver")
                .withArgs(await rogue.getAddress(), resolver);
        });
    });

    describe("expireDispute", function () {
        it("reverts before openedAt + disputeTimeoutSeconds (CoordinatorDisputeNotExpired)", async function () {
            const s = await loadFixture(deployDisputed);
            const openedAt = Number((await s.coordinator.getDispute(s.request.requestId)).openedAt);
            const expiresAt = openedAt + DISPUTE_TIMEOUT;
            expect(await s.coordinator.disputeTimeoutSeconds()).to.equal(BigInt(DISPUTE_TIMEOUT));
            await time.setNextBlockTimestamp(expiresAt - 1);
            await expect(s.coordinator.expireDispute(s.disputed))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorDisputeNotExpired")
                .withArgs(expiresAt - 1, expiresAt);
        });

        it("after the timeout: returns the bond, unlocks the collateral, refunds the consumer and calls back VOIDED", async function () {
            const s = await loadFixture(deployDisputed);
            const operator = await s.operator.getAddress();
            const challenger = await s.challenger.getAddress();
            const consumer = await s.consumer.getAddress();
            const treasury = await s.treasury.getAddress();
            const stakeBefore = await s.staking.getStake(operator);
            const consumerBefore = await s.coordinator.balanceOf(consumer);
            const treasuryBefore = await s.coordinator.balanceOf(treasury);
            const openedAt = Number((await s.coordinator.getDispute(s.request.requestId)).openedAt);

            await time.setNextBlockTimestamp(openedAt + DISPUTE_TIMEOUT);
            const tx = await s.coordinator.connect(s.others[0]!).expireDispute(s.disputed);
            await expect(tx).to.emit(s.coordinator, "DisputeExpired").withArgs(s.request.requestId, challenger);
            await expect(tx)
                .to.emit(s.coordinator, "ResultDelivered")
                .withArgs(s.request.requestId, ResultCode.VOIDED, true, anyValue);
            await expect(tx).not.to.emit(s.staking, "OperatorSlashed");

            expect(await s.coordinator.balanceOf(challenger)).to.equal(s.bondWei);
            expect(await s.coordinator.balanceOf(consumer)).to.equal(consumerBefore + BigInt(s.request.feeWei));
            expect(await s.coordinator.balanceOf(treasury)).to.equal(treasuryBefore);
            expect(await s.coordinator.balanceOf(operator)).to.equal(0n);
            const stakeAfter = await s.staking.getStake(operator);
            expect(stakeAfter.stakedWei).to.equal(stakeBefore.stakedWei);
            expect(stakeAfter.lockedWei).to.equal(stakeBefore.lockedWei - COLLATERAL);

            expect(await s.consumer.callbacks()).to.equal(1n);
            expect(await s.consumer.lastRequestId()).to.equal(s.request.requestId);
            expect(await s.consumer.lastResultCode()).to.equal(ResultCode.VOIDED);
            expect(await s.consumer.lastOutputHash()).to.equal(EMPTY_HASH);
            expect(await s.coordinator.isCommitted(s.disputed)).to.equal(false);

            // A resolver waking up late finds nothing to decide.
            await expect(s.resolver.decide(s.disputed, VOID))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorUnknownRequest")
                .withArgs(s.request.requestId);
        });
    });

    describe("self-challenge", function () {
        it("always loses: an operator that challenges its own wrong result ends with strictly less", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const operator = await s.operator.getAddress();
            await fundBond(s, s.operator, s.bondWei);
            const before = await totalHoldings(s, operator);

            const { request: disputed } = await challengeAs(s, s.operator, s.request);
            const { tx } = await decide(s, disputed, corrected(OUTPUT));
            await expect(tx)
                .to.emit(s.coordinator, "DisputeResolved")
                .withArgs(s.request.requestId, true, operator, operator, COLLATERAL, s.bondWei + REWARD);

            const after = await totalHoldings(s, operator);
            expect(after).to.be.lessThan(before);
            const minLoss = (COLLATERAL * (BPS - CHALLENGER_REWARD_BPS)) / BPS;
            expect(before - after).to.be.greaterThanOrEqual(minLoss);
        });
    });

    describe("unbonding to escape a slash", function () {
        it("cannot unbond collateral locked by an open result; the dispute still slashes all of it", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const operator = await s.operator.getAddress();
            const coordinator = await s.coordinator.getAddress();
            await expect(s.staking.connect(s.operator).requestUnbonding(STAKE))
                .to.be.revertedWithCustomError(s.staking, "StakingInsufficientFreeStake")
                .withArgs(STAKE - COLLATERAL, STAKE);

            const unbondTx = await s.staking.connect(s.operator).requestUnbonding(STAKE - COLLATERAL);
            await expect(unbondTx)
                .to.emit(s.staking, "UnbondingStarted")
                .withArgs(
                    operator,
                    STAKE - COLLATERAL,
                    STAKE - COLLATERAL,
                    (await minedAt(unbondTx)) + UNBONDING_DELAY,
                );
            let stake = await s.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(COLLATERAL);
            expect(stake.lockedWei).to.equal(COLLATERAL);
            expect(stake.unbondingWei).to.equal(STAKE - COLLATERAL);
            expect(await s.staking.freeStake(operator)).to.equal(0n);

            const { request: disputed } = await challengeAs(s, s.challenger, s.request);
            const { tx } = await decide(s, disputed, VOID);
            await expect(tx).to.emit(s.staking, "OperatorSlashed").withArgs(operator, COLLATERAL, coordinator);
            await expect(tx)
                .to.emit(s.coordinator, "DisputeResolved")
                .withArgs(
                    s.request.requestId,
                    true,
                    await s.challenger.getAddress(),
                    operator,
                    COLLATERAL,
                    s.bondWei + REWARD,
                );
            stake = await s.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(0n);
            expect(stake.lockedWei).to.equal(0n);
            expect(stake.unbondingWei).to.equal(STAKE - COLLATERAL);
        });

        it("keeps unbonding stake slashable by equivocation until withdrawn; withdrawing early reverts (StakingUnbondingNotReady)", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            const reporter = d.others[0]!;
            const unbondTx = await d.staking.connect(op).requestUnbonding(STAKE);
            const readyAt = (await minedAt(unbondTx)) + UNBONDING_DELAY;
            expect(await d.staking.freeStake(operator)).to.equal(0n);

            const a = await attest(d, op, d.request, OUTPUT);
            const b = await attest(d, op, d.request, WRONG_OUTPUT);
            const tx = d.coordinator
                .connect(reporter)
                .proveEquivocation(a.attestation, a.signature, b.attestation, b.signature);
            await expect(tx)
                .to.emit(d.coordinator, "EquivocationProven")
                .withArgs(operator, d.modelId, d.request.inputHash, await reporter.getAddress(), COLLATERAL);
            await expect(tx)
                .to.emit(d.staking, "OperatorSlashed")
                .withArgs(operator, COLLATERAL, await d.coordinator.getAddress());
            const stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(0n);
            expect(stake.unbondingWei).to.equal(STAKE - COLLATERAL);
            expect(stake.unbondingReadyAt).to.equal(BigInt(readyAt));

            await time.setNextBlockTimestamp(readyAt - 1);
            await expect(d.staking.connect(op).withdrawUnbonded(operator))
                .to.be.revertedWithCustomError(d.staking, "StakingUnbondingNotReady")
                .withArgs(readyAt - 1, readyAt);

            await time.setNextBlockTimestamp(readyAt);
            await expect(d.staking.connect(op).withdrawUnbonded(operator))
                .to.emit(d.staking, "StakeWithdrawn")
                .withArgs(operator, operator, STAKE - COLLATERAL);

            // Once withdrawn, nothing is left to slash.
            const otherInput = { ...d.request, inputHash: ethers.keccak256(ethers.toUtf8Bytes("another input")) };
            const c = await attest(d, op, otherInput, OUTPUT);
            const e = await attest(d, op, otherInput, WRONG_OUTPUT);
            await expect(d.coordinator.proveEquivocation(c.attestation, c.signature, e.attestation, e.signature))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInsufficientSlashableStake")
                .withArgs(operator, 0, COLLATERAL);
        });
    });

    describe("proveEquivocation", function () {
        it("slashes the model's collateral from free stake; the reporter gets challengerRewardBps, the treasury the rest", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            const reporter = d.others[0]!;
            const reporterAddress = await reporter.getAddress();
            const treasury = await d.treasury.getAddress();
            const treasuryBefore = await d.coordinator.balanceOf(treasury);
            const a = await attest(d, op, d.request, OUTPUT);
            const b = await attest(d, op, d.request, WRONG_OUTPUT);
            expect(await d.coordinator.recoverAttester(a.attestation, a.signature)).to.equal(operator);

            const tx = d.coordinator
                .connect(reporter)
                .proveEquivocation(a.attestation, a.signature, b.attestation, b.signature);
            await expect(tx)
                .to.emit(d.coordinator, "EquivocationProven")
                .withArgs(operator, d.modelId, d.request.inputHash, reporterAddress, COLLATERAL);
            await expect(tx)
                .to.emit(d.staking, "OperatorSlashed")
                .withArgs(operator, COLLATERAL, await d.coordinator.getAddress());
            const stake = await d.staking.getStake(operator);
            expect(stake.stakedWei).to.equal(STAKE - COLLATERAL);
            expect(stake.lockedWei).to.equal(0n);
            expect(stake.unbondingWei).to.equal(0n);
            expect(await d.coordinator.balanceOf(reporterAddress)).to.equal(REWARD);
            expect(await d.coordinator.balanceOf(treasury)).to.equal(treasuryBefore + COLLATERAL - REWARD);
        });

        it("punishes one (operator, model, input) once (CoordinatorEquivocationAlreadyProven)", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            const a = await attest(d, op, d.request, OUTPUT);
            const b = await attest(d, op, d.request, WRONG_OUTPUT);
            await d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature);
            const key = equivocationKey(operator, d.modelId, String(d.request.inputHash), 0n);
            await expect(d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorEquivocationAlreadyProven")
                .withArgs(key);
            await expect(d.coordinator.proveEquivocation(b.attestation, b.signature, a.attestation, a.signature))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorEquivocationAlreadyProven")
                .withArgs(key);
            // Other request ids for the same integer-model question are the same equivocation.
            const c = await attest(d, op, d.request, WRONG_OUTPUT, 0n);
            await expect(d.coordinator.proveEquivocation(a.attestation, a.signature, c.attestation, c.signature))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorEquivocationAlreadyProven")
                .withArgs(key);
            expect((await d.staking.getStake(operator)).stakedWei).to.equal(STAKE - COLLATERAL);
        });

        it("counts two answers under different request ids for an integer (REEXECUTION) model", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[1]!;
            const a = await attest(d, op, d.request, OUTPUT, 1n);
            const b = await attest(d, op, d.request, WRONG_OUTPUT, 0n);
            await expect(d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature))
                .to.emit(d.coordinator, "EquivocationProven")
                .withArgs(
                    await op.getAddress(),
                    d.modelId,
                    d.request.inputHash,
                    await d.admin.getAddress(),
                    COLLATERAL,
                );
        });

        it("rejects attestations by different signers (CoordinatorSignerMismatch)", async function () {
            const d = await loadFixture(deployEquivocation);
            const [op0, op1] = [d.operators[0]!, d.operators[1]!];
            const a = await attest(d, op0, d.request, OUTPUT);
            const b = await attest(d, op1, d.request, WRONG_OUTPUT);
            await expect(d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorSignerMismatch")
                .withArgs(await op0.getAddress(), await op1.getAddress());
        });

        it("rejects two attestations of the same output (CoordinatorNotEquivocation)", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const a = await attest(d, op, d.request, OUTPUT);
            const b = await attest(d, op, d.request, OUTPUT, 0n);
            await expect(
                d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotEquivocation");
            const traced = { ...a.attestation, traceCommitment: ethers.id("other trace") };
            const tracedSignature = await signAttestation(op, d.coordinator, traced);
            await expect(
                d.coordinator.proveEquivocation(a.attestation, a.signature, traced, tracedSignature),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotEquivocation");
        });

        it("rejects answers to different inputs or models (CoordinatorNotEquivocation)", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const a = await attest(d, op, d.request, OUTPUT);
            const otherInput = { ...d.request, inputHash: ethers.keccak256(ethers.toUtf8Bytes("another input")) };
            const b = await attest(d, op, otherInput, WRONG_OUTPUT);
            await expect(
                d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotEquivocation");
            const otherModel = { ...d.request, modelId: d.quorumModelId };
            const c = await attest(d, op, otherModel, WRONG_OUTPUT);
            await expect(
                d.coordinator.proveEquivocation(a.attestation, a.signature, c.attestation, c.signature),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotEquivocation");
        });

        it("for a QUORUM model never counts two off-chain receipts (requestId 0): float outputs may drift", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const a = await attest(d, op, d.quorumRequest, OUTPUT, 0n);
            const b = await attest(d, op, d.quorumRequest, WRONG_OUTPUT, 0n);
            await expect(
                d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotEquivocation");
        });

        it("for a QUORUM model counts only two answers to the same request", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            const requestId = BigInt(d.quorumRequest.requestId);
            const a = await attest(d, op, d.quorumRequest, OUTPUT);
            const otherRun = await attest(d, op, d.quorumRequest, WRONG_OUTPUT, requestId + 1n);
            await expect(
                d.coordinator.proveEquivocation(a.attestation, a.signature, otherRun.attestation, otherRun.signature),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotEquivocation");

            const sameRequest = await attest(d, op, d.quorumRequest, WRONG_OUTPUT);
            await expect(
                d.coordinator.proveEquivocation(
                    a.attestation,
                    a.signature,
                    sameRequest.attestation,
                    sameRequest.signature,
                ),
            )
                .to.emit(d.coordinator, "EquivocationProven")
                .withArgs(operator, d.quorumModelId, d.quorumRequest.inputHash, await d.admin.getAddress(), COLLATERAL);
            const key = equivocationKey(operator, d.quorumModelId, String(d.quorumRequest.inputHash), requestId);
            await expect(
                d.coordinator.proveEquivocation(
                    a.attestation,
                    a.signature,
                    sameRequest.attestation,
                    sameRequest.signature,
                ),
            )
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorEquivocationAlreadyProven")
                .withArgs(key);
        });

        it("reverts for a signer with no stake (CoordinatorInsufficientSlashableStake)", async function () {
            const d = await loadFixture(deployEquivocation);
            const nobody = d.others[1]!;
            const a = await attest(d, nobody, d.request, OUTPUT);
            const b = await attest(d, nobody, d.request, WRONG_OUTPUT);
            await expect(d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInsufficientSlashableStake")
                .withArgs(await nobody.getAddress(), 0, COLLATERAL);
        });

        it("slashes all of the collateral or nothing: 1 wei of free stake cannot use up the proof", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const operator = await op.getAddress();
            // Leave exactly 1 wei slashable: everything else unbonded and withdrawn.
            await d.staking.connect(op).requestUnbonding((await d.staking.freeStake(operator)) - 1n);
            await time.increase(UNBONDING_DELAY);
            await d.staking.connect(op).withdrawUnbonded(operator);
            const a = await attest(d, op, d.request, OUTPUT);
            const b = await attest(d, op, d.request, WRONG_OUTPUT);
            await expect(
                d.coordinator.connect(op).proveEquivocation(a.attestation, a.signature, b.attestation, b.signature),
            )
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInsufficientSlashableStake")
                .withArgs(operator, 1n, COLLATERAL);
            // The proof was not consumed: once the operator has stake again, the victim's report slashes in full.
            await d.token.mint(operator, COLLATERAL);
            await d.token.connect(op).approve(await d.staking.getAddress(), COLLATERAL);
            await d.staking.connect(op).stake(COLLATERAL);
            await expect(
                d.coordinator
                    .connect(d.others[0]!)
                    .proveEquivocation(a.attestation, a.signature, b.attestation, b.signature),
            )
                .to.emit(d.coordinator, "EquivocationProven")
                .withArgs(operator, d.modelId, d.request.inputHash, await d.others[0]!.getAddress(), COLLATERAL);
        });

        it("rejects a malleable signature, s replaced by n - s and v flipped (ECDSAInvalidSignatureS)", async function () {
            const d = await loadFixture(deployEquivocation);
            const op = d.operators[0]!;
            const a = await attest(d, op, d.request, OUTPUT);
            const b = await attest(d, op, d.request, WRONG_OUTPUT);
            const signature = ethers.Signature.from(b.signature);
            const highS = SECP256K1_N - BigInt(signature.s);
            const malleable = ethers.concat([
                signature.r,
                ethers.toBeHex(highS, 32),
                ethers.toBeHex(signature.v === 27 ? 28 : 27, 1),
            ]);
            await expect(d.coordinator.recoverAttester(b.attestation, malleable))
                .to.be.revertedWithCustomError(d.coordinator, "ECDSAInvalidSignatureS")
                .withArgs(ethers.toBeHex(highS, 32));
            await expect(d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, malleable))
                .to.be.revertedWithCustomError(d.coordinator, "ECDSAInvalidSignatureS")
                .withArgs(ethers.toBeHex(highS, 32));
            expect((await d.staking.getStake(await op.getAddress())).stakedWei).to.equal(STAKE);
        });
    });
});
