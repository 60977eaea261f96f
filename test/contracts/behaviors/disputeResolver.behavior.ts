/**
 * What every dispute resolver must do, whatever its mode (OpenZeppelin's `*.behavior` pattern): a mode's spec file
 * calls `shouldBehaveLikeDisputeResolver` with a subject that deploys a coordinator whose resolver for the mode is the
 * one under test, with one registered model of that mode. The REEXECUTION resolver runs it now
 * (ReexecutionResolver.spec.ts); each new mode's resolver runs it too.
 *
 * The rules checked are the ones the coordinator and registry rely on (IDisputeResolver):
 * - only the coordinator opens disputes;
 * - a dispute over a wrong result ends, within the coordinator's dispute timeout, with the operator slashed and a
 *   correct result delivered to the consumer; a dispute over a correct result ends with the operator kept whole;
 * - `checkModel` accepts the registered model's spec and refuses one the mode cannot decide disputes for;
 * - `exactResults` decides what equivocation is: two different answers to one (model, input) signed off chain prove
 *   a lie exactly when results are exact;
 * - `checkResult` agrees with disputes, and decides fraud proofs: where it is decidable, a signed off-chain
 *   attestation of a wrong result is slashed, one of the correct result is not; where it is not, the coordinator
 *   refuses the proof.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { IDisputeResolver } from "../../../typechain-types";
import type { IModelRegistry } from "../../../typechain-types/contracts/interfaces/IModelRegistry";
import { commitChallengeAs, fundBond } from "../../helpers/disputes";
import {
    applyEvents,
    assignedSigner,
    sendRequest,
    signAttestation,
    submit,
    type Attestation,
    type Deployment,
    type Request,
} from "../../helpers/verity";

/** A result an operator may submit. */
export interface Answer {
    readonly resultCode: number;
    readonly output: Uint8Array;
}

/** A deployment whose coordinator's resolver for the subject's mode is the one under test. */
export interface ResolverDeployment extends Deployment {
    /** The resolver under test (`resolver` is the helpers' TestResolver of the other modes). */
    readonly underTest: IDisputeResolver;
    /** A registered model of the mode. */
    readonly modelId: string;
    /** The registration of `modelId`, for `checkModel`. */
    readonly spec: IModelRegistry.ModelSpecStruct;
    /** A registration the mode cannot decide disputes for (its resolver must refuse it). */
    readonly undecidableSpec: IModelRegistry.ModelSpecStruct;
    /** A request input of the model, its correct result, and a wrong one. */
    readonly input: Uint8Array;
    readonly correct: Answer;
    readonly wrong: Answer;
}

/** The resolver under test. */
export interface ResolverSubject {
    /** Deploys (called through loadFixture, so it must be a named function). */
    readonly deploy: () => Promise<ResolverDeployment>;
    /** What the mode's `exactResults` must say of the model. */
    readonly exactResults: boolean;
    /** Whether the mode decides fraud proofs on chain (`checkResult`'s `decidable`). */
    readonly decidesFraudProofs: boolean;
    /** What a challenger supplies as evidence when disputing a request for `input`. */
    readonly evidence: (d: ResolverDeployment, input: Uint8Array) => Uint8Array | string;
    /**
     * Brings an open dispute to its verdict, for a resolver that decides later (left out for one that decides in the
     * challenge transaction).
     */
    readonly settle?: (d: ResolverDeployment, request: Request) => Promise<void>;
}

export function shouldBehaveLikeDisputeResolver(subject: ResolverSubject): void {
    describe("behaves like a dispute resolver (IDisputeResolver)", function () {
        /** A request for the subject's input, answered by its assigned operator with `answer`, then disputed. */
        async function disputed(d: ResolverDeployment, answer: Answer) {
            const requested = await sendRequest(d, { input: d.input, callbackGasLimit: 500_000 });
            const operator = await assignedSigner(d, requested);
            const request = await submit(d, requested, answer.output, { operator, resultCode: answer.resultCode });
            await fundBond(d, d.challenger, BigInt(request.bondWei));
            const stakeOf = async () => {
                const stake = await d.staking.getStake(await operator.getAddress());
                return stake.stakedWei + stake.unbondingWei;
            };
            const stakeBefore = await stakeOf();
            const { salt } = await commitChallengeAs(d, d.challenger, request.requestId);
            const tx = await d.coordinator.connect(d.challenger).challenge(request, subject.evidence(d, d.input), salt);
            const receipt = await tx.wait();
            const decided = receipt!.logs.some(
                (log) => d.coordinator.interface.parseLog(log)?.name === "DisputeResolved",
            );
            if (!decided) {
                expect(subject.settle, "the resolver left the dispute open and the subject cannot settle it").to.not.be
                    .undefined;
                await subject.settle!(d, applyEvents(request, receipt));
            }
            return { request, operator, stakeLost: stakeBefore - (await stakeOf()) };
        }

        async function offchain(d: ResolverDeployment, answer: Answer) {
            const operator = d.operators[0]!;
            const attestation: Attestation = {
                requestId: 0,
                modelId: d.modelId,
                inputHash: ethers.keccak256(d.input),
                resultCode: answer.resultCode,
                outputHash: ethers.keccak256(answer.output),
                traceCommitment: ethers.ZeroHash,
            };
            return { operator, attestation, signature: await signAttestation(operator, d.coordinator, attestation) };
        }

        it("only the coordinator opens disputes", async function () {
            const d = await loadFixture(subject.deploy);
            const requested = await sendRequest(d, { input: d.input });
            await expect(
                d.underTest
                    .connect(d.challenger)
                    .onDisputeOpened(requested, d.challenger, subject.evidence(d, d.input)),
            ).to.be.reverted;
        });

        it("a dispute over a wrong result slashes the operator's collateral and delivers a correct result", async function () {
            const d = await loadFixture(subject.deploy);
            const { request, stakeLost } = await disputed(d, d.wrong);
            expect(stakeLost).to.equal(BigInt(request.collateralWei));
            expect(await d.consumer.lastRequestId()).to.equal(request.requestId);
            expect(await d.consumer.lastResultCode()).to.equal(d.correct.resultCode);
            expect(await d.consumer.lastOutputHash()).to.equal(ethers.keccak256(d.correct.output));
        });

        it("a dispute over a correct result leaves the operator's stake whole", async function () {
            const d = await loadFixture(subject.deploy);
            const { stakeLost } = await disputed(d, d.correct);
            expect(stakeLost).to.equal(0n);
        });

        it("checkModel accepts the registered model and refuses one whose disputes it cannot decide", async function () {
            const d = await loadFixture(subject.deploy);
            await d.underTest.checkModel(d.spec);
            await expect(d.underTest.checkModel(d.undecidableSpec)).to.be.reverted;
        });

        it("exactResults decides whether two off-chain answers to one input are an equivocation", async function () {
            const d = await loadFixture(subject.deploy);
            const exact = await d.underTest.exactResults(d.modelId);
            expect(exact).to.equal(subject.exactResults);
            const a = await offchain(d, d.correct);
            const b = await offchain(d, d.wrong);
            const proof = d.coordinator.proveEquivocation(a.attestation, a.signature, b.attestation, b.signature);
            if (exact) await expect(proof).to.emit(d.coordinator, "EquivocationProven");
            else await expect(proof).to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotEquivocation");
        });

        it("checkResult agrees with disputes, and decides fraud proofs exactly when it is decidable", async function () {
            const d = await loadFixture(subject.deploy);
            const [decidableRight, wrongRight] = await d.underTest.checkResult(
                d.modelId,
                d.input,
                d.correct.resultCode,
                ethers.keccak256(d.correct.output),
            );
            const [decidableWrong, wrongWrong] = await d.underTest.checkResult(
                d.modelId,
                d.input,
                d.wrong.resultCode,
                ethers.keccak256(d.wrong.output),
            );
            expect(decidableRight).to.equal(subject.decidesFraudProofs);
            expect(decidableWrong).to.equal(decidableRight);
            const lie = await offchain(d, d.wrong);
            const proof = d.coordinator.proveFraud(lie.attestation, lie.signature, d.input);
            if (!decidableRight) {
                await expect(proof).to.be.revertedWithCustomError(d.coordinator, "CoordinatorFraudProofUnsupported");
                return;
            }
            expect([wrongRight, wrongWrong]).to.deep.equal([false, true]);
            await expect(proof).to.emit(d.coordinator, "FraudProven");
            const truth = await offchain(d, d.correct);
            await expect(
                d.coordinator.proveFraud(truth.attestation, truth.signature, d.input),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotFraud");
        });
    });
}
