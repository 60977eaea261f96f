import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import {
    CALLBACK_GAS,
    DEFAULT_PARAMS,
    INPUT,
    MODEL_COLLATERAL,
    NO_FEE_LIMIT,
    Mode,
    OUTPUT,
    ResultCode,
    Status,
    WRONG_OUTPUT,
    applyEvents,
    assignedOperator,
    assignedSigner,
    attestationOf,
    deployCoordinator,
    deployWithModel,
    registerModel,
    sendRequest,
    signAttestation,
    submit,
    type Deployment,
    type Request,
} from "../helpers/verity";

const Behaviour = { Store: 0, Revert: 1, BurnGas: 2, Reenter: 3, ReturnBomb: 4, ReenterCall: 5 } as const;

/** An operator other than the one assigned to `request`. */
async function otherOperator(d: Deployment, request: Request): Promise<Signer> {
    const assigned = await assignedOperator(d, request);
    for (const op of d.operators) if ((await op.getAddress()) !== assigned) return op;
    throw new Error("unreachable");
}

async function submittedRequest(d: Deployment, callbackGasLimit?: number) {
    const request = await sendRequest(d, { callbackGasLimit });
    const submitted = await submit(d, request);
    return { request, submitted };
}

describe("InferenceCoordinator: submission and settlement", function () {
    describe("submitResult", function () {
        it("locks the operator's collateral and commits the output hash and window", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const operator = await assignedSigner(d, request);
            const before = await d.staking.getStake(await operator.getAddress());
            const tx = await d.coordinator
                .connect(operator)
                .submitResult(request, ResultCode.OK, OUTPUT, ethers.ZeroHash);
            const receipt = await tx.wait();
            const ts = (await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp;
            const endsAt = ts + Number(request.challengeWindowSeconds);
            await expect(tx)
                .to.emit(d.coordinator, "ResultSubmitted")
                .withArgs(
                    request.requestId,
                    await operator.getAddress(),
                    ResultCode.OK,
                    ethers.ZeroHash,
                    endsAt,
                    ethers.hexlify(OUTPUT),
                );
            const after = await d.staking.getStake(await operator.getAddress());
            expect(after.lockedWei - before.lockedWei).to.equal(MODEL_COLLATERAL);
            const submitted = applyEvents(request, receipt);
            expect(submitted.status).to.equal(Status.Submitted);
            expect(await d.coordinator.isCommitted(submitted)).to.equal(true);
            expect(await d.coordinator.isCommitted(request)).to.equal(false);
        });

        it("lets only the preferred operator serve during its exclusive window (CoordinatorNotAssignedOperator)", async function () {
            const d = await loadFixture(deployWithModel);
            const preferred = d.operators[1]!;
            const request = await sendRequest(d, { preferred: await preferred.getAddress() });
            const other = d.operators[0]!;
            await expect(d.coordinator.connect(other).submitResult(request, 0, OUTPUT, ethers.ZeroHash))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotAssignedOperator")
                .withArgs(await other.getAddress(), await preferred.getAddress());
            await expect(d.coordinator.connect(preferred).submitResult(request, 0, OUTPUT, ethers.ZeroHash)).to.emit(
                d.coordinator,
                "ResultSubmitted",
            );
        });

        it("keeps the rotation's pick fixed at request time when the operator set changes before submission", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const operators = await d.staking.getOperators(d.modelId);
            const pick = operators[Number(BigInt(request.requestId) % BigInt(operators.length))]!;
            expect(request.assignedOperator).to.equal(pick);
            // The pick leaves the model before serving. The rotation over the remaining set would name another
            // operator, but the request's window stays the pick's: the new pick cannot serve in it, and the old pick,
            // registered when the request was made, may still serve the request it was given (its collateral is
            // locked like anyone's).
            const bySigner = new Map<string, Signer>();
            for (const op of d.operators) bySigner.set(await op.getAddress(), op);
            await d.staking.connect(bySigner.get(pick)!).unregisterFromModel(d.modelId);
            const remaining = await d.staking.getOperators(d.modelId);
            const newPick = remaining[Number(BigInt(request.requestId) % BigInt(remaining.length))]!;
            const serve = (operator: string) =>
                d.coordinator.connect(bySigner.get(operator)!).submitResult(request, 0, OUTPUT, ethers.ZeroHash);
            await expect(serve(newPick))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotAssignedOperator")
                .withArgs(newPick, pick);
            const locked = (await d.staking.getStake(pick)).lockedWei;
            await expect(serve(pick))
                .to.emit(d.coordinator, "ResultSubmitted")
                .withArgs(request.requestId, pick, 0, ethers.ZeroHash, anyValue, ethers.hexlify(OUTPUT));
            expect((await d.staking.getStake(pick)).lockedWei).to.equal(locked + MODEL_COLLATERAL);
        });

        it("lets only the rotation's pick serve during the exclusive window (CoordinatorNotAssignedOperator)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const other = await otherOperator(d, request);
            await expect(d.coordinator.connect(other).submitResult(request, 0, OUTPUT, ethers.ZeroHash))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotAssignedOperator")
                .withArgs(await other.getAddress(), await assignedOperator(d, request));
            await time.increaseTo(Number(request.exclusiveUntil));
            await expect(d.coordinator.connect(other).submitResult(request, 0, OUTPUT, ethers.ZeroHash)).to.emit(
                d.coordinator,
                "ResultSubmitted",
            );
        });

        it("refuses a result after the deadline (CoordinatorDeadlinePassed)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const operator = await assignedSigner(d, request);
            await time.setNextBlockTimestamp(Number(request.deadline) + 1);
            await expect(d.coordinator.connect(operator).submitResult(request, 0, OUTPUT, ethers.ZeroHash))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorDeadlinePassed")
                .withArgs(Number(request.deadline) + 1, request.deadline);
        });

        it("accepts a result exactly at the deadline", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const operator = await assignedSigner(d, request);
            await time.setNextBlockTimestamp(Number(request.deadline));
            await expect(d.coordinator.connect(operator).submitResult(request, 0, OUTPUT, ethers.ZeroHash)).to.emit(
                d.coordinator,
                "ResultSubmitted",
            );
        });

        it("refuses a second submission for the same request (CoordinatorUnknownRequest)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            await submit(d, request);
            const operator = await assignedSigner(d, request);
            await expect(d.coordinator.connect(operator).submitResult(request, 0, WRONG_OUTPUT, ethers.ZeroHash))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorUnknownRequest")
                .withArgs(request.requestId);
        });

        it("refuses operators that are not registered for the model (StakingNotRegistered)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const stranger = d.others[0]!;
            await time.increaseTo(Number(request.exclusiveUntil));
            await expect(d.coordinator.connect(stranger).submitResult(request, 0, OUTPUT, ethers.ZeroHash))
                .to.be.revertedWithCustomError(d.staking, "StakingNotRegistered")
                .withArgs(await stranger.getAddress(), d.modelId);
        });

        it("refuses operators without enough free collateral (StakingInsufficientFreeStake)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const operator = await assignedSigner(d, request);
            const free = await d.staking.freeStake(await operator.getAddress());
            await d.staking.connect(operator).requestUnbonding(free - MODEL_COLLATERAL + 1n);
            await expect(d.coordinator.connect(operator).submitResult(request, 0, OUTPUT, ethers.ZeroHash))
                .to.be.revertedWithCustomError(d.staking, "StakingInsufficientFreeStake")
                .withArgs(MODEL_COLLATERAL - 1n, MODEL_COLLATERAL);
        });

        it("accepts an error result for malformed input and delivers it like any result", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d, { input: new Uint8Array([0xff, 0x00, 0x13]) });
            const submitted = await submit(d, request, new Uint8Array(), { resultCode: ResultCode.INVALID_INPUT });
            await time.increaseTo(Number(submitted.challengeEndsAt));
            await d.coordinator.finalize(submitted, "0x");
            expect(await d.consumer.lastResultCode()).to.equal(ResultCode.INVALID_INPUT);
            expect(await d.consumer.lastOutputHash()).to.equal(ethers.keccak256("0x"));
        });

        it("refuses protocol-reserved result codes (CoordinatorInvalidResultCode)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const operator = await assignedSigner(d, request);
            await expect(
                d.coordinator.connect(operator).submitResult(request, ResultCode.VOIDED, "0x", ethers.ZeroHash),
            )
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInvalidResultCode")
                .withArgs(ResultCode.VOIDED, ResultCode.RESERVED_FROM - 1);
        });

        it("requires a trace commitment for BISECTION models (CoordinatorMissingTraceCommitment)", async function () {
            const d = await loadFixture(deployWithModel);
            const modelId = await registerModel(d.registry, d.publisher, {
                salt: ethers.id("big"),
                mode: Mode.BISECTION,
            });
            for (const op of d.operators) await d.staking.connect(op).registerForModel(modelId);
            const request = await sendRequest({ ...d, modelId });
            const operator = await assignedSigner(d, request);
            await expect(d.coordinator.connect(operator).submitResult(request, 0, OUTPUT, ethers.ZeroHash))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorMissingTraceCommitment")
                .withArgs(request.requestId);
            const trace = ethers.id("trace root");
            const submitted = await submit({ ...d, modelId }, request, OUTPUT, { trace });
            expect(submitted.traceCommitment).to.equal(trace);
        });
    });

    describe("submitAttestedResults", function () {
        it("settles many operator-signed results sent by any relayer", async function () {
            const d = await loadFixture(deployWithModel);
            const requests = [await sendRequest(d), await sendRequest(d), await sendRequest(d)];
            const items = [];
            for (const request of requests) {
                const signer = await assignedSigner(d, request);
                const signature = await signAttestation(signer, d.coordinator, attestationOf(request, OUTPUT));
                items.push({ request, resultCode: 0, output: OUTPUT, traceCommitment: ethers.ZeroHash, signature });
            }
            const tx = await d.coordinator.connect(d.others[3]!).submitAttestedResults(items);
            const receipt = await tx.wait();
            for (const request of requests) {
                await expect(tx)
                    .to.emit(d.coordinator, "ResultSubmitted")
                    .withArgs(
                        request.requestId,
                        await assignedOperator(d, request),
                        0,
                        ethers.ZeroHash,
                        (v: bigint) => v > 0n,
                        ethers.hexlify(OUTPUT),
                    );
                const submitted = applyEvents(request, receipt);
                expect(await d.coordinator.isCommitted(submitted)).to.equal(true);
            }
        });

        it("skips items whose request was already served (BatchItemSkipped) and still settles the rest", async function () {
            const d = await loadFixture(deployWithModel);
            const served = await sendRequest(d);
            const fresh = await sendRequest(d);
            await submit(d, served);
            const items = [];
            for (const request of [served, fresh]) {
                const signer = await assignedSigner(d, request);
                const signature = await signAttestation(signer, d.coordinator, attestationOf(request, OUTPUT));
                items.push({ request, resultCode: 0, output: OUTPUT, traceCommitment: ethers.ZeroHash, signature });
            }
            const tx = d.coordinator.submitAttestedResults(items);
            await expect(tx).to.emit(d.coordinator, "BatchItemSkipped").withArgs(served.requestId);
            await expect(tx).to.emit(d.coordinator, "ResultSubmitted");
        });

        it("binds the signature to output, request and contract: a replay elsewhere recovers another signer", async function () {
            const d = await loadFixture(deployWithModel);
            const a = await sendRequest(d);
            const b = await sendRequest(d);
            const signer = await assignedSigner(d, a);
            const signature = await signAttestation(signer, d.coordinator, attestationOf(a, OUTPUT));
            // Same signature on another request: recovers some unrelated address, which is not registered.
            await time.increaseTo(Number(b.exclusiveUntil));
            const replayed = { request: b, resultCode: 0, output: OUTPUT, traceCommitment: ethers.ZeroHash, signature };
            await expect(d.coordinator.submitAttestedResults([replayed])).to.be.revertedWithCustomError(
                d.staking,
                "StakingNotRegistered",
            );
            // Same signature with a different output: likewise.
            const tampered = {
                request: a,
                resultCode: 0,
                output: WRONG_OUTPUT,
                traceCommitment: ethers.ZeroHash,
                signature,
            };
            await expect(d.coordinator.submitAttestedResults([tampered])).to.be.revertedWithCustomError(
                d.staking,
                "StakingNotRegistered",
            );
            // The signature verifies only under this coordinator's domain (chain id + address).
            const attestation = attestationOf(a, OUTPUT);
            expect(await d.coordinator.recoverAttester(attestation, signature)).to.equal(await signer.getAddress());
            const otherCoordinator = await deployCoordinator([
                await d.registry.getAddress(),
                await d.staking.getAddress(),
                86_400,
                await d.admin.getAddress(),
                await d.treasury.getAddress(),
                DEFAULT_PARAMS,
            ]);
            expect(await otherCoordinator.recoverAttester(attestation, signature)).to.not.equal(
                await signer.getAddress(),
            );
            // Once served, replaying the original item is skipped, never applied twice.
            const original = { request: a, resultCode: 0, output: OUTPUT, traceCommitment: ethers.ZeroHash, signature };
            await d.coordinator.submitAttestedResults([original]);
            await expect(d.coordinator.submitAttestedResults([original]))
                .to.emit(d.coordinator, "BatchItemSkipped")
                .withArgs(a.requestId);
        });

        it("rejects a malleable (high-s) signature (ECDSAInvalidSignatureS)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            const signer = await assignedSigner(d, request);
            const sig = ethers.Signature.from(
                await signAttestation(signer, d.coordinator, attestationOf(request, OUTPUT)),
            );
            const n = BigInt("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");
            const highS = ethers.toBeHex(n - BigInt(sig.s), 32);
            const malleable = ethers.concat([sig.r, highS, ethers.toBeHex(sig.v === 27 ? 28 : 27, 1)]);
            const item = {
                request,
                resultCode: 0,
                output: OUTPUT,
                traceCommitment: ethers.ZeroHash,
                signature: malleable,
            };
            await expect(d.coordinator.submitAttestedResults([item]))
                .to.be.revertedWithCustomError(d.coordinator, "ECDSAInvalidSignatureS")
                .withArgs(highS);
        });

        it("rejects an empty batch (CoordinatorEmptyBatch)", async function () {
            const d = await loadFixture(deployWithModel);
            await expect(d.coordinator.submitAttestedResults([])).to.be.revertedWithCustomError(
                d.coordinator,
                "CoordinatorEmptyBatch",
            );
        });
    });

    describe("finalize", function () {
        it("pays the operator minus the protocol fee, unlocks collateral, and calls back once", async function () {
            const d = await loadFixture(deployWithModel);
            const { submitted } = await submittedRequest(d);
            const operator = submitted.operator as string;
            const treasury = await d.treasury.getAddress();
            const fee = BigInt(submitted.feeWei);
            const protocolFee = (fee * BigInt(DEFAULT_PARAMS.protocolFeeBps)) / 10_000n;
            await time.increaseTo(Number(submitted.challengeEndsAt));
            const tx = d.coordinator.connect(d.others[2]!).finalize(submitted, OUTPUT);
            await expect(tx)
                .to.emit(d.coordinator, "ResultFinalized")
                .withArgs(submitted.requestId, true, (g: bigint) => g > 0n);
            await expect(tx).to.changeTokenBalance(d.token, d.coordinator, 0n);
            expect(await d.coordinator.balanceOf(operator)).to.equal(fee - protocolFee);
            expect(await d.coordinator.balanceOf(treasury)).to.equal(protocolFee);
            expect((await d.staking.getStake(operator)).lockedWei).to.equal(0n);
            expect(await d.consumer.callbacks()).to.equal(1n);
            expect(await d.consumer.lastRequestId()).to.equal(submitted.requestId);
            expect(await d.consumer.lastOutputHash()).to.equal(ethers.keccak256(OUTPUT));
            expect(await d.coordinator.isCommitted(submitted)).to.equal(false);
        });

        it("reverts before the window ends (CoordinatorChallengeWindowOpen)", async function () {
            const d = await loadFixture(deployWithModel);
            const { submitted } = await submittedRequest(d);
            const at = Number(submitted.challengeEndsAt) - 1;
            await time.setNextBlockTimestamp(at);
            await expect(d.coordinator.finalize(submitted, OUTPUT))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorChallengeWindowOpen")
                .withArgs(at, submitted.challengeEndsAt);
        });

        it("reverts when the output bytes do not match the stored hash (CoordinatorOutputMismatch)", async function () {
            const d = await loadFixture(deployWithModel);
            const { submitted } = await submittedRequest(d);
            await time.increaseTo(Number(submitted.challengeEndsAt));
            await expect(d.coordinator.finalize(submitted, WRONG_OUTPUT))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorOutputMismatch")
                .withArgs(ethers.keccak256(WRONG_OUTPUT), ethers.keccak256(OUTPUT));
        });

        it("cannot finalize twice (CoordinatorUnknownRequest)", async function () {
            const d = await loadFixture(deployWithModel);
            const { submitted } = await submittedRequest(d);
            await time.increaseTo(Number(submitted.challengeEndsAt));
            await d.coordinator.finalize(submitted, OUTPUT);
            await expect(d.coordinator.finalize(submitted, OUTPUT))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorUnknownRequest")
                .withArgs(submitted.requestId);
            expect(await d.consumer.callbacks()).to.equal(1n);
        });

        it("refuses an unsubmitted request (CoordinatorWrongStatus)", async function () {
            const d = await loadFixture(deployWithModel);
            const request = await sendRequest(d);
            await expect(d.coordinator.finalize(request, OUTPUT))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorWrongStatus")
                .withArgs(request.requestId, Status.Requested, Status.Submitted);
        });
    });

    describe("callback attacks", function () {
        it("settles even when the consumer reverts, and records the failure", async function () {
            const d = await loadFixture(deployWithModel);
            await d.consumer.setBehaviour(Behaviour.Revert);
            const { submitted } = await submittedRequest(d);
            await time.increaseTo(Number(submitted.challengeEndsAt));
            await expect(d.coordinator.finalize(submitted, OUTPUT))
                .to.emit(d.coordinator, "ResultFinalized")
                .withArgs(submitted.requestId, false, (g: bigint) => g > 0n);
            expect(await d.coordinator.callbackFailed(submitted.requestId)).to.equal(true);
            expect(await d.coordinator.isCommitted(submitted)).to.equal(false);
            expect((await d.staking.getStake(submitted.operator as string)).lockedWei).to.equal(0n);
        });

        it("settles when the consumer burns all its gas, which is capped at the callback gas limit", async function () {
            const d = await loadFixture(deployWithModel);
            await d.consumer.setBehaviour(Behaviour.BurnGas);
            const limit = 200_000;
            const { submitted } = await submittedRequest(d, limit);
            await time.increaseTo(Number(submitted.challengeEndsAt));
            const tx = await d.coordinator.finalize(submitted, OUTPUT, { gasLimit: 1_000_000 });
            const receipt = await tx.wait();
            const [event] = await d.coordinator.queryFilter(
                d.coordinator.filters.ResultFinalized(),
                receipt!.blockNumber,
            );
            expect(event!.args.callbackSucceeded).to.equal(false);
            // The burner used the whole limit (plus the CALL's own cost) and not a unit of gas more.
            expect(event!.args.callbackGasUsed).to.be.gte(BigInt(limit));
            expect(event!.args.callbackGasUsed).to.be.lt(BigInt(limit) + 5_000n);
            expect(receipt!.gasUsed).to.be.lt(BigInt(limit) + 150_000n);
            expect(await d.coordinator.callbackFailed(submitted.requestId)).to.equal(true);
        });

        it("gives the callback its whole gas limit: a finalizer that sends too little gas reverts (63/64 rule)", async function () {
            const d = await loadFixture(deployWithModel);
            const limit = 1_000_000;
            const { submitted } = await submittedRequest(d, limit);
            await time.increaseTo(Number(submitted.challengeEndsAt));
            // Enough gas for everything but the callback's full limit: without the check the CALL would forward
            // 63/64 of what is left and the callback would fail for lack of gas while settlement succeeded.
            await expect(d.coordinator.finalize(submitted, OUTPUT, { gasLimit: limit }))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorInsufficientGasForCallback")
                .withArgs((have: bigint) => have < BigInt(limit), limit);
            expect(await d.coordinator.isCommitted(submitted)).to.equal(true);
            // With enough gas, the callback starts with (nearly) the whole limit.
            await d.coordinator.finalize(submitted, OUTPUT, { gasLimit: limit + 200_000 });
            const gasAtCallback = await d.consumer.gasAtCallback();
            expect(gasAtCallback).to.be.gt(BigInt(limit) - 5_000n);
            expect(gasAtCallback).to.be.lte(BigInt(limit));
        });

        it("blocks re-entry from the callback (ReentrancyGuardReentrantCall) and pays exactly once", async function () {
            const d = await loadFixture(deployWithModel);
            await d.consumer.setBehaviour(Behaviour.Reenter);
            const first = await submittedRequest(d);
            const second = await submittedRequest(d);
            // The callback of `first` tries to finalize `second` (and, were the lock missing, could also try
            // `first` again): both would run inside the coordinator's settlement.
            await d.consumer.setReentryTarget(second.submitted, OUTPUT);
            await time.increaseTo(Number(second.submitted.challengeEndsAt));
            const operator = first.submitted.operator as string;
            const before = await d.coordinator.balanceOf(operator);
            await expect(d.coordinator.finalize(first.submitted, OUTPUT))
                .to.emit(d.coordinator, "ResultFinalized")
                .withArgs(first.submitted.requestId, true, (g: bigint) => g > 0n);
            expect(await d.consumer.reentrySucceeded()).to.equal(false);
            const selector = d.coordinator.interface.getError("ReentrancyGuardReentrantCall")!.selector;
            expect(await d.consumer.reentryError()).to.equal(selector);
            expect(await d.coordinator.isCommitted(second.submitted)).to.equal(true);
            const fee = BigInt(first.submitted.feeWei);
            const paid = fee - (fee * BigInt(DEFAULT_PARAMS.protocolFeeBps)) / 10_000n;
            expect(await d.coordinator.balanceOf(operator)).to.equal(before + paid);
        });

        it("refuses a request, submission, cancellation or challenge commitment from inside the callback", async function () {
            // These entry points make no external call, so they only check the lock (nonReentrantView) instead of
            // taking it: a callback, which runs under finalize's lock, still cannot reach them.
            const d = await loadFixture(deployWithModel);
            const first = await submittedRequest(d);
            const open = await sendRequest(d);
            const operator = await assignedSigner(d, open);
            const attestation = attestationOf(open, OUTPUT);
            const signature = await signAttestation(operator, d.coordinator, attestation);
            const calls: [string, string][] = [
                [
                    "requestInference",
                    d.coordinator.interface.encodeFunctionData("requestInference", [
                        d.modelId,
                        INPUT,
                        {
                            callbackGasLimit: CALLBACK_GAS,
                            deadline: Number(open.deadline),
                            preferredOperator: ethers.ZeroAddress,
                            maxFeeWei: NO_FEE_LIMIT,
                        },
                    ]),
                ],
                [
                    "submitResult",
                    d.coordinator.interface.encodeFunctionData("submitResult", [open, 0, OUTPUT, ethers.ZeroHash]),
                ],
                [
                    "submitAttestedResults",
                    d.coordinator.interface.encodeFunctionData("submitAttestedResults", [
                        [{ request: open, resultCode: 0, output: OUTPUT, traceCommitment: ethers.ZeroHash, signature }],
                    ]),
                ],
                ["cancelRequest", d.coordinator.interface.encodeFunctionData("cancelRequest", [open])],
                ["commitChallenge", d.coordinator.interface.encodeFunctionData("commitChallenge", [ethers.id("c")])],
            ];
            const selector = d.coordinator.interface.getError("ReentrancyGuardReentrantCall")!.selector;
            await d.consumer.setBehaviour(Behaviour.ReenterCall);
            await time.increaseTo(Number(first.submitted.challengeEndsAt));
            let settled = first.submitted;
            for (const [name, data] of calls) {
                await d.consumer.setReentryCall(data);
                await expect(d.coordinator.finalize(settled, OUTPUT))
                    .to.emit(d.coordinator, "ResultFinalized")
                    .withArgs(settled.requestId, true, anyValue);
                expect(await d.consumer.reentrySucceeded(), name).to.equal(false);
                expect(await d.consumer.reentryError(), name).to.equal(selector);
                // The next round needs another result to finalize.
                const next = await submittedRequest(d);
                await time.increaseTo(Number(next.submitted.challengeEndsAt));
                settled = next.submitted;
            }
            expect(await d.coordinator.isCommitted(open)).to.equal(true);
        });

        it("ignores a return-data bomb (no return data is copied)", async function () {
            const d = await loadFixture(deployWithModel);
            await d.consumer.setBehaviour(Behaviour.ReturnBomb);
            const { submitted } = await submittedRequest(d, 500_000);
            await time.increaseTo(Number(submitted.challengeEndsAt));
            const tx = await d.coordinator.finalize(submitted, OUTPUT);
            const receipt = await tx.wait();
            // Copying 1 MiB of return data would cost millions of gas; settlement stays cheap.
            expect(receipt!.gasUsed).to.be.lt(800_000n);
            await expect(tx).to.emit(d.coordinator, "ResultFinalized");
        });

        it("records a failed callback for a consumer without code", async function () {
            const d = await loadFixture(deployWithModel);
            const eoa = d.others[4]!;
            const { fund } = await import("../helpers/verity");
            await fund(d, await eoa.getAddress());
            const deadline = Number((await ethers.provider.getBlock("latest"))!.timestamp) + 3_600;
            const tx = await d.coordinator.connect(eoa).requestInference(d.modelId, OUTPUT, {
                callbackGasLimit: 50_000,
                deadline,
                preferredOperator: ethers.ZeroAddress,
                maxFeeWei: NO_FEE_LIMIT,
            });
            const { requestsFrom } = await import("../helpers/verity");
            const [request] = requestsFrom(await tx.wait());
            const submitted = await submit(d, request!);
            await time.increaseTo(Number(submitted.challengeEndsAt));
            await expect(d.coordinator.finalize(submitted, OUTPUT))
                .to.emit(d.coordinator, "ResultFinalized")
                .withArgs(submitted.requestId, false, 0);
            expect(await d.coordinator.callbackFailed(submitted.requestId)).to.equal(true);
        });
    });

    describe("finalizeBatch", function () {
        it("finalizes many results and skips already-settled ones (BatchItemSkipped)", async function () {
            const d = await loadFixture(deployWithModel);
            const a = await submittedRequest(d);
            const b = await submittedRequest(d);
            await time.increaseTo(Number(b.submitted.challengeEndsAt));
            await d.coordinator.finalize(a.submitted, OUTPUT);
            const tx = d.coordinator.finalizeBatch([
                { request: a.submitted, output: OUTPUT },
                { request: b.submitted, output: OUTPUT },
            ]);
            await expect(tx).to.emit(d.coordinator, "BatchItemSkipped").withArgs(a.submitted.requestId);
            await expect(tx)
                .to.emit(d.coordinator, "ResultFinalized")
                .withArgs(b.submitted.requestId, true, (g: bigint) => g > 0n);
            expect(await d.consumer.callbacks()).to.equal(2n);
        });

        it("rejects an empty batch (CoordinatorEmptyBatch)", async function () {
            const d = await loadFixture(deployWithModel);
            await expect(d.coordinator.finalizeBatch([])).to.be.revertedWithCustomError(
                d.coordinator,
                "CoordinatorEmptyBatch",
            );
        });
    });
});
