import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";
import { seededRandom } from "../../models/examples";
import { MANIFEST_METADATA_KEY, parseManifest, readOnnxMetadata } from "../../oracle/src/protocol/manifest";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { graphModel } from "../oracle/verify/graphs";
import { commitChallengeAs, fundBond } from "../helpers/disputes";
import { shouldBehaveLikeDisputeResolver, type ResolverDeployment } from "./behaviors/disputeResolver.behavior";
import { deployVerifiable, type VerifiableDeployment } from "../helpers/verifiable";
import {
    applyEvents,
    assignedSigner,
    DEFAULT_PARAMS,
    INPUT,
    Mode,
    registerModel,
    ResultCode,
    sendRequest,
    signAttestation,
    submit,
    type Attestation,
    type Request,
} from "../helpers/verity";

const BPS = 10_000n;

/** A model whose program needs two ProgramStore chunks. */
function deployWideModel(): Promise<VerifiableDeployment> {
    return deployVerifiable([160, 160, 10]);
}

function resolverOf(d: VerifiableDeployment) {
    if (d.reexecution === undefined) throw new Error("no real resolver");
    return d.reexecution.resolver;
}

/** A request for `input`, answered by its assigned operator with `output` / `resultCode`. */
async function answered(d: VerifiableDeployment, input: Uint8Array, output: Uint8Array, resultCode = ResultCode.OK) {
    const requested = await sendRequest(d, { input, callbackGasLimit: 500_000 });
    const operator = await assignedSigner(d, requested);
    const request = await submit(d, requested, output, { operator, resultCode });
    const bondWei = BigInt(request.bondWei);
    await fundBond(d, d.challenger, bondWei);
    return { request, operator, bondWei };
}

/** Commits a challenge of `request`, then reveals it with `evidence` in the next block. */
async function challenge(d: VerifiableDeployment, request: Request, evidence: Uint8Array | string) {
    const { salt } = await commitChallengeAs(d, d.challenger, request.requestId);
    const tx = await d.coordinator.connect(d.challenger).challenge(request, evidence, salt);
    return { tx, request: applyEvents(request, await tx.wait()) };
}

/** deployVerifiable as the shared resolver behaviour's subject. */
async function deployReexecutionSubject(): Promise<ResolverDeployment> {
    const d = await deployVerifiable();
    const model = await d.registry.getModel(d.modelId);
    const spec = {
        onnxHash: model.onnxHash,
        manifestHash: model.manifestHash,
        programHash: model.programHash,
        uri: model.uri,
        mode: model.terms.mode,
        feeWei: model.terms.feeWei,
        collateralWei: model.terms.collateralWei,
        challengeWindowSeconds: model.terms.challengeWindowSeconds,
    };
    const correct = d.canonical(INPUT);
    const output = Uint8Array.from(correct.output);
    output[output.length - 1]! ^= 1; // one bit off
    const wrong = { resultCode: ResultCode.OK, output };
    return {
        ...d,
        underTest: resolverOf(d),
        spec,
        // No such program in the store: re-execution could not decide a dispute.
        undecidableSpec: { ...spec, programHash: ethers.id("a program nobody stored") },
        input: INPUT,
        correct,
        wrong,
    };
}

describe("ReexecutionResolver", function () {
    // The rules every resolver keeps (test/contracts/behaviors): re-execution decides in the challenge itself.
    shouldBehaveLikeDisputeResolver({
        deploy: deployReexecutionSubject,
        exactResults: true,
        decidesFraudProofs: true,
        evidence: (_d, input) => input,
    });

    describe("reexecute", function () {
        it("returns the canonical result: the reference interpreter's, byte for byte", async function () {
            const d = await loadFixture(deployVerifiable);
            const inputs = [
                INPUT,
                encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [-128n, -128n, -128n, -128n] }]),
                encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [127n, 127n, 127n, 127n] }]),
                encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [0n, 1n, -1n, 64n] }]),
                encodeTensors([{ dtype: DType.INT32, shape: [1, 4], data: [0n, 1n, -1n, 64n] }]), // wrong dtype
                Uint8Array.from([1, 1, 3, 2]), // truncated
            ];
            for (const input of inputs) {
                const want = d.canonical(input);
                const [code, output] = await resolverOf(d).reexecute(d.modelId, input);
                expect(Number(code)).to.equal(want.resultCode);
                expect(output).to.equal(ethers.hexlify(want.output));
            }
        });

        it("loads a program stored in several chunks (a 27,200-weight MLP) and re-executes it exactly", async function () {
            const d = await loadFixture(deployWideModel);
            const chunks = await d.programStore.chunksOf(d.programHash);
            expect(chunks.length).to.equal(2);
            const random = seededRandom(5);
            for (let i = 0; i < 3; i++) {
                const data = Array.from({ length: 160 }, () => BigInt(Math.floor(random() * 256) - 128));
                const input = encodeTensors([{ dtype: DType.INT8, shape: [1, 160], data }]);
                const want = d.canonical(input);
                expect(want.resultCode).to.equal(ResultCode.OK);
                const [code, output] = await resolverOf(d).reexecute(d.modelId, input);
                expect(Number(code)).to.equal(ResultCode.OK);
                expect(output).to.equal(ethers.hexlify(want.output));
            }
        });

        it("refuses a model of another mode (ReexecutionWrongMode)", async function () {
            const d = await loadFixture(deployVerifiable);
            const quorum = await registerModel(d.registry, d.publisher, { salt: ethers.id("q"), mode: Mode.QUORUM });
            await expect(resolverOf(d).reexecute(quorum, INPUT))
                .to.be.revertedWithCustomError(resolverOf(d), "ReexecutionWrongMode")
                .withArgs(quorum);
        });

        it("only the coordinator opens disputes (ReexecutionNotCoordinator)", async function () {
            const d = await loadFixture(deployVerifiable);
            const { request } = await answered(d, INPUT, d.canonical(INPUT).output);
            await expect(resolverOf(d).connect(d.challenger).onDisputeOpened(request, d.challenger, INPUT))
                .to.be.revertedWithCustomError(resolverOf(d), "ReexecutionNotCoordinator")
                .withArgs(await d.challenger.getAddress(), await d.coordinator.getAddress());
        });
    });

    describe("disputes", function () {
        it("slashes a wrong operator, pays the challenger and delivers the correct output to the consumer", async function () {
            const d = await loadFixture(deployVerifiable);
            const correct = d.canonical(INPUT);
            const wrong = encodeTensors([
                { dtype: DType.INT64, shape: [1], data: [0n] },
                { dtype: DType.INT32, shape: [1, 3], data: [1n, 2n, 3n] },
            ]);
            const { request, operator, bondWei } = await answered(d, INPUT, wrong);
            const operatorAddress = await operator.getAddress();
            const stakeBefore = await d.staking.getStake(operatorAddress);
            const challengerAddress = await d.challenger.getAddress();

            const { tx } = await challenge(d, request, INPUT);
            await expect(tx)
                .to.emit(resolverOf(d), "ResultReexecuted")
                .withArgs(request.requestId, d.modelId, true, ResultCode.OK, ethers.keccak256(correct.output));
            const slashed = BigInt(request.collateralWei);
            const reward = (slashed * BigInt(DEFAULT_PARAMS.challengerRewardBps)) / BPS;
            await expect(tx)
                .to.emit(d.coordinator, "DisputeResolved")
                .withArgs(request.requestId, true, challengerAddress, operatorAddress, slashed, bondWei + reward);
            await expect(tx)
                .to.emit(d.coordinator, "ResultDelivered")
                .withArgs(request.requestId, ResultCode.OK, true, anyValue);
            const stakeAfter = await d.staking.getStake(operatorAddress);
            expect(
                stakeBefore.stakedWei + stakeBefore.unbondingWei - (stakeAfter.stakedWei + stakeAfter.unbondingWei),
            ).to.equal(slashed);
            expect(await d.coordinator.balanceOf(challengerAddress)).to.equal(bondWei + reward);
            expect(await d.consumer.lastRequestId()).to.equal(request.requestId);
            expect(await d.consumer.lastResultCode()).to.equal(ResultCode.OK);
            expect(await d.consumer.lastOutputHash()).to.equal(ethers.keccak256(correct.output));
        });

        it("a correct result survives and is proven: the challenger loses its bond and it may be finalized at once", async function () {
            const d = await loadFixture(deployVerifiable);
            const correct = d.canonical(INPUT);
            const { request, operator, bondWei } = await answered(d, INPUT, correct.output);
            const { tx, request: after } = await challenge(d, request, INPUT);
            await expect(tx)
                .to.emit(resolverOf(d), "ResultReexecuted")
                .withArgs(request.requestId, d.modelId, false, ResultCode.OK, ethers.keccak256(correct.output));
            const toOperator = (bondWei * BigInt(DEFAULT_PARAMS.failedChallengeOperatorBps)) / BPS;
            await expect(tx)
                .to.emit(d.coordinator, "DisputeResolved")
                .withArgs(request.requestId, false, await d.challenger.getAddress(), await operator.getAddress(), 0, 0);
            // Re-execution proves the result: the window closes now instead of restarting, so nobody can stall it.
            const provenAt = (await ethers.provider.getBlock((await tx).blockNumber!))!.timestamp;
            await expect(tx)
                .to.emit(d.coordinator, "ChallengeWindowRestarted")
                .withArgs(request.requestId, provenAt, 1);
            expect(await d.coordinator.balanceOf(await operator.getAddress())).to.equal(toOperator);
            expect(after.status).to.equal(2n); // Submitted again
            expect(after.challengeEndsAt).to.equal(BigInt(provenAt));
            const { salt } = await commitChallengeAs(d, d.challenger, request.requestId);
            const revealAt = (await time.latest()) + 1;
            await time.setNextBlockTimestamp(revealAt);
            await expect(d.coordinator.connect(d.challenger).challenge(after, INPUT, salt))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorChallengeWindowClosed")
                .withArgs(revealAt, provenAt);
            await expect(d.coordinator.finalize(after, correct.output)).to.emit(d.coordinator, "ResultFinalized");
        });

        it("a correct INVALID_INPUT answer to malformed input survives; a wrong OK answer to it is slashed", async function () {
            const d = await loadFixture(deployVerifiable);
            const malformed = encodeTensors([{ dtype: DType.INT8, shape: [1, 5], data: [1n, 2n, 3n, 4n, 5n] }]);
            expect(d.canonical(malformed).resultCode).to.equal(ResultCode.INVALID_INPUT);
            const honest = await answered(d, malformed, new Uint8Array(0), ResultCode.INVALID_INPUT);
            const { tx: kept } = await challenge(d, honest.request, malformed);
            await expect(kept)
                .to.emit(d.coordinator, "DisputeResolved")
                .withArgs(
                    honest.request.requestId,
                    false,
                    await d.challenger.getAddress(),
                    await honest.operator.getAddress(),
                    0,
                    0,
                );
            const liar = await answered(d, malformed, d.canonical(INPUT).output, ResultCode.OK);
            const { tx: slashed } = await challenge(d, liar.request, malformed);
            await expect(slashed)
                .to.emit(resolverOf(d), "ResultReexecuted")
                .withArgs(liar.request.requestId, d.modelId, true, ResultCode.INVALID_INPUT, ethers.keccak256("0x"));
            expect(await d.consumer.lastResultCode()).to.equal(ResultCode.INVALID_INPUT);
        });

        it("upholds the honest answer of a model with a Constant node (reference and executor agree)", async function () {
            const onnx = graphModel({
                inputs: [{ name: "x", type: "int8", shape: [1, 4] }],
                outputs: [{ name: "y", type: "int32", shape: [1, 4] }],
                nodes: [
                    { opType: "Cast", inputs: ["x"], outputs: ["x32"], attributes: { to: { int: 6 } } },
                    {
                        opType: "Constant",
                        inputs: [],
                        outputs: ["c"],
                        attributes: {
                            value: { tensor: { name: "c", dims: [4], data: Int32Array.from([1, -2, 3, -4]) } },
                        },
                    },
                    { opType: "Add", inputs: ["x32", "c"], outputs: ["y"] },
                ],
            });
            const manifestJson = readOnnxMetadata(onnx).get(MANIFEST_METADATA_KEY)!;
            const d = await deployVerifiable({ onnx, manifestJson, manifest: parseManifest(manifestJson) });
            const correct = d.canonical(INPUT);
            expect(correct.resultCode).to.equal(ResultCode.OK);
            const { request, operator } = await answered(d, INPUT, correct.output);
            const { tx } = await challenge(d, request, INPUT);
            await expect(tx)
                .to.emit(d.coordinator, "DisputeResolved")
                .withArgs(request.requestId, false, await d.challenger.getAddress(), await operator.getAddress(), 0, 0);
        });

        it("refuses evidence that is not the request's input, taking no bond (ReexecutionInputMismatch)", async function () {
            const d = await loadFixture(deployVerifiable);
            const { request } = await answered(d, INPUT, d.canonical(INPUT).output);
            const other = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [1n, 2n, 3n, 4n] }]);
            const balance = await d.token.balanceOf(await d.challenger.getAddress());
            const { salt } = await commitChallengeAs(d, d.challenger, request.requestId);
            await expect(d.coordinator.connect(d.challenger).challenge(request, other, salt))
                .to.be.revertedWithCustomError(resolverOf(d), "ReexecutionInputMismatch")
                .withArgs(ethers.keccak256(other), request.inputHash);
            expect(await d.token.balanceOf(await d.challenger.getAddress())).to.equal(balance);
        });
    });

    describe("fraud proofs (InferenceCoordinator.proveFraud)", function () {
        async function offchain(d: VerifiableDeployment, output: Uint8Array, input = INPUT, resultCode = 0) {
            const operator = d.operators[0]!;
            const attestation: Attestation = {
                requestId: 0,
                modelId: d.modelId,
                inputHash: ethers.keccak256(input),
                resultCode,
                outputHash: ethers.keccak256(output),
                traceCommitment: ethers.ZeroHash,
            };
            return { operator, attestation, signature: await signAttestation(operator, d.coordinator, attestation) };
        }

        it("slashes an operator whose signed off-chain answer disagrees with the re-execution", async function () {
            const d = await loadFixture(deployVerifiable);
            const { operator, attestation, signature } = await offchain(d, new Uint8Array([1, 0]));
            const reporter = d.others[0]!;
            const collateral = (await d.registry.getModelTerms(d.modelId)).collateralWei;
            const before = await d.staking.getStake(await operator.getAddress());
            await expect(d.coordinator.connect(reporter).proveFraud(attestation, signature, INPUT))
                .to.emit(d.coordinator, "FraudProven")
                .withArgs(
                    await operator.getAddress(),
                    d.modelId,
                    attestation.inputHash,
                    await reporter.getAddress(),
                    collateral,
                );
            const after = await d.staking.getStake(await operator.getAddress());
            expect(before.stakedWei + before.unbondingWei - (after.stakedWei + after.unbondingWei)).to.equal(
                collateral,
            );
            const reward = (collateral * BigInt(DEFAULT_PARAMS.challengerRewardBps)) / BPS;
            expect(await d.coordinator.balanceOf(await reporter.getAddress())).to.equal(reward);
            // One wrong answer is punished once.
            await expect(
                d.coordinator.connect(reporter).proveFraud(attestation, signature, INPUT),
            ).to.be.revertedWithCustomError(d.coordinator, "CoordinatorEquivocationAlreadyProven");
        });

        it("refuses a correct answer (CoordinatorNotFraud)", async function () {
            const d = await loadFixture(deployVerifiable);
            const { attestation, signature } = await offchain(d, d.canonical(INPUT).output);
            await expect(d.coordinator.proveFraud(attestation, signature, INPUT)).to.be.revertedWithCustomError(
                d.coordinator,
                "CoordinatorNotFraud",
            );
        });

        it("refuses an on-chain attestation, a wrong input and a model of another mode", async function () {
            const d = await loadFixture(deployVerifiable);
            const wrong = await offchain(d, new Uint8Array([1, 0]));
            const onchain = { ...wrong.attestation, requestId: 7 };
            const onchainSig = await signAttestation(wrong.operator, d.coordinator, onchain);
            await expect(d.coordinator.proveFraud(onchain, onchainSig, INPUT))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotOffchainAttestation")
                .withArgs(7);
            const other = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [1n, 2n, 3n, 4n] }]);
            await expect(d.coordinator.proveFraud(wrong.attestation, wrong.signature, other))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInputMismatch")
                .withArgs(ethers.keccak256(other), wrong.attestation.inputHash);
            const quorum = await registerModel(d.registry, d.publisher, { salt: ethers.id("q"), mode: Mode.QUORUM });
            const q = { ...wrong.attestation, modelId: quorum };
            const qSig = await signAttestation(wrong.operator, d.coordinator, q);
            await expect(d.coordinator.proveFraud(q, qSig, INPUT))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorFraudProofUnsupported")
                .withArgs(Mode.QUORUM);
        });
    });
});
