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
    DISPUTE_GAS_PRICE_WEI,
    DISPUTE_TIMEOUT,
    INPUT,
    MAX_DISPUTE_GAS,
    MIN_COLLATERAL,
    MODEL_COLLATERAL,
    MODEL_WINDOW,
    Mode,
    ResultCode,
    Status,
    WRONG_OUTPUT,
    TOKEN,
    assignedSigner,
    deployCore,
    deployWithModel,
    fund,
    now,
    registerModel,
    stakeOperators,
    sendRequest,
    storeProgram,
    submit,
} from "../helpers/verity";
import { compileModel } from "../../oracle/src/verify/program";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { graphModel } from "../oracle/verify/graphs";
import { integerMlpModel } from "../../models/examples";
import {
    BPS,
    FAILED_CHALLENGE_OPERATOR_BPS,
    NOT_AT_FAULT,
    challengeAs,
    commitChallengeAs,
    decide,
    deploySubmittedWrong,
    fundBond,
    minedAt,
    revealChallengeAs,
} from "../helpers/disputes";
import { deployVerifiable } from "../helpers/verifiable";
import { challengeCommitment, newChallengeSalt } from "../../oracle/src/chain/coordinator";
import { hugeAddProgram } from "../helpers/programs";

const MAX_DISPUTE_ROUNDS = 3;

/** A REEXECUTION registration of the stored program `programHash` with `collateralWei`. */
function mlpSpec(programHash: string, collateralWei: bigint) {
    return {
        onnxHash: ethers.id("onnx"),
        manifestHash: ethers.id("manifest"),
        programHash,
        uri: "file://m.onnx",
        mode: Mode.REEXECUTION,
        feeWei: 1n,
        collateralWei,
        challengeWindowSeconds: MODEL_WINDOW,
    };
}

async function deployReal() {
    return deployCore(DEFAULT_PARAMS, { reexecution: "real" });
}
describe("InferenceCoordinator: attacks on settlement", function () {
    describe("every REEXECUTION result is disputable: registration proves the program runs and fits", function () {
        it("refuses arbitrary stored bytes as a program: the executor's validation runs at registration", async function () {
            const d = await loadFixture(deployReal);
            // deployCore stored "program bytes", which the registry used to accept as a REEXECUTION program.
            await expect(registerModel(d.registry, d.publisher)).to.be.revertedWithCustomError(
                d.reexecution!.executor,
                "ExecutorUnsupportedVersion",
            );
        });

        it("refuses a valid 56-byte program whose one Add declares 2^24 elements (ReexecutionDisputeTooExpensive)", async function () {
            const d = await loadFixture(deployReal);
            const program = hugeAddProgram();
            expect(program.length).to.equal(56);
            const [executionGas] = await d.reexecution!.executor.gasBound(program);
            expect(executionGas).to.be.greaterThan(BigInt(MAX_DISPUTE_GAS));
            const programHash = await storeProgram(d.programStore, program);
            await expect(registerModel(d.registry, d.publisher, { programHash }))
                .to.be.revertedWithCustomError(d.reexecution!.resolver, "ReexecutionDisputeTooExpensive")
                .withArgs(anyValue, MAX_DISPUTE_GAS);
        });

        it("never reads a bound from an executor that returned nothing (an address without code)", async function () {
            const d = await loadFixture(deployReal);
            const { program } = compileModel(integerMlpModel({ widths: [4, 8, 3] }).onnx);
            const programHash = await storeProgram(d.programStore, program);
            const hollow = await ethers.deployContract("ReexecutionResolver", [
                d.coordinator,
                d.registry,
                d.programStore,
                ethers.Wallet.createRandom().address,
                MAX_DISPUTE_GAS,
                DISPUTE_GAS_PRICE_WEI,
            ]);
            await expect(hollow.disputeGasBound(programHash, 0, 0)).to.be.reverted;
        });

        it("budgets the largest callback any request may ask for (5M), not the current limit", async function () {
            const d = await loadFixture(deployReal);
            const { program } = compileModel(integerMlpModel({ widths: [4, 8, 3] }).onnx);
            const programHash = await storeProgram(d.programStore, program);
            const resolver = d.reexecution!.resolver;
            const max = await d.coordinator.MAX_CALLBACK_GAS_LIMIT();
            expect(max).to.be.greaterThan(BigInt(DEFAULT_PARAMS.maxCallbackGasLimit));
            const worst = await resolver.disputeGasBound(programHash, max, await d.coordinator.MAX_INPUT_BYTES());
            const tx = d.registry
                .connect(d.publisher)
                .registerModel(ethers.id("mlp"), mlpSpec(programHash, MODEL_COLLATERAL));
            await expect(tx).to.emit(d.registry, "ModelDisputeChecked").withArgs(anyValue, resolver, worst);
            expect(worst).to.be.greaterThan(max);
        });

        it("refuses a collateral whose challenger reward would not pay the dispute's gas (ReexecutionCollateralTooLow)", async function () {
            const d = await loadFixture(deployReal);
            const { program } = compileModel(integerMlpModel({ widths: [4, 8, 3] }).onnx);
            const programHash = await storeProgram(d.programStore, program);
            // A deployment that states gas at 100 gwei of stake token: 0.1 token of collateral is too little.
            const pricey = await ethers.deployContract("ReexecutionResolver", [
                d.coordinator,
                d.registry,
                d.programStore,
                d.reexecution!.executor,
                MAX_DISPUTE_GAS,
                100n * DISPUTE_GAS_PRICE_WEI,
            ]);
            const spec = mlpSpec(programHash, MIN_COLLATERAL);
            const disputeGas = await d.reexecution!.resolver.checkModel(spec);
            const rewardBps = BigInt(DEFAULT_PARAMS.challengerRewardBps);
            const want = (disputeGas * 100n * DISPUTE_GAS_PRICE_WEI * 10_000n + rewardBps - 1n) / rewardBps;
            expect(want).to.be.greaterThan(MIN_COLLATERAL);
            await expect(pricey.checkModel(spec))
                .to.be.revertedWithCustomError(pricey, "ReexecutionCollateralTooLow")
                .withArgs(MIN_COLLATERAL, want);
            await expect(pricey.checkModel({ ...spec, collateralWei: want })).not.to.be.reverted;
        });

        it("holds measured disputes at the extremes under disputeGasBound: a 64 KB input, a 16 KB output", async function () {
            const base = await loadFixture(deployReal);
            // int8 [1, 8] x [8, 4096]: an int32 [1, 4096] output, 16 KB encoded.
            const onnx = graphModel({
                inputs: [{ name: "x", type: "int8", shape: [1, 8] }],
                outputs: [{ name: "y", type: "int32", shape: [1, 4096] }],
                initializers: [
                    {
                        name: "w",
                        dims: [8, 4096],
                        data: Int8Array.from({ length: 8 * 4096 }, (_, i) => (i % 255) - 127),
                    },
                ],
                nodes: [{ opType: "MatMulInteger", inputs: ["x", "w"], outputs: ["y"] }],
            });
            const { program } = compileModel(onnx);
            const programHash = await storeProgram(base.programStore, program);
            await base.registry
                .connect(base.publisher)
                .registerModel(ethers.id("wide"), mlpSpec(programHash, MODEL_COLLATERAL));
            const modelId = await base.registry.computeModelId(await base.publisher.getAddress(), ethers.id("wide"));
            await stakeOperators(base, modelId);
            await fund(base, await base.consumer.getAddress());
            const d = { ...base, modelId };
            await d.consumer.setBehaviour(2); // BurnGas
            const callbackGasLimit = Number(DEFAULT_PARAMS.maxCallbackGasLimit);
            const junk = ethers.getBytes(ethers.hexlify(ethers.randomBytes(Number(DEFAULT_PARAMS.maxInputBytes))));
            const x = encodeTensors([
                { dtype: DType.INT8, shape: [1, 8], data: [-128n, 127n, 0n, 1n, -1n, 5n, 9n, -7n] },
            ]);
            for (const input of [junk, x]) {
                const requested = await sendRequest(d, { input, callbackGasLimit });
                const operator = await assignedSigner(d, requested);
                const request = await submit(d, requested, WRONG_OUTPUT, { operator });
                const challenger = d.others[1]!;
                await fundBond(d, challenger, BigInt(request.bondWei));
                const { tx } = await challengeAs(d, challenger, request, ethers.hexlify(input));
                const receipt = (await tx.wait())!;
                await expect(tx).to.emit(d.coordinator, "DisputeResolved");
                const bound = await d.reexecution!.resolver.disputeGasBound(
                    programHash,
                    callbackGasLimit,
                    input.length,
                );
                expect(receipt.gasUsed, `input of ${input.length} bytes`).to.be.lessThanOrEqual(bound);
            }
        });

        it("holds a measured dispute under disputeGasBound, with a callback that burns all its gas", async function () {
            const d = await loadFixture(deployVerifiable);
            await d.consumer.setBehaviour(2); // BurnGas
            const callbackGasLimit = Number(DEFAULT_PARAMS.maxCallbackGasLimit);
            const requested = await sendRequest(d, { input: INPUT, callbackGasLimit });
            const operator = await assignedSigner(d, requested);
            const request = await submit(d, requested, WRONG_OUTPUT, { operator });
            const challenger = d.others[1]!; // no balance at the coordinator yet: its credit creates a slot
            await fundBond(d, challenger, BigInt(request.bondWei));
            const { tx } = await challengeAs(d, challenger, request, ethers.hexlify(INPUT));
            const receipt = (await tx.wait())!;
            await expect(tx).to.emit(d.coordinator, "ResultDelivered").withArgs(request.requestId, 0, false, anyValue);
            const bound = await d.reexecution!.resolver.disputeGasBound(d.programHash, callbackGasLimit, INPUT.length);
            expect(receipt.gasUsed).to.be.lessThanOrEqual(bound);
            // And the bound is not vacuous: within 25% of what the dispute cost.
            expect(bound).to.be.lessThanOrEqual((receipt.gasUsed * 125n) / 100n);
        });
    });

    describe("the owner cannot shield a wrong result (dispute terms fixed at request time)", function () {
        it("an owner raising the bond between submit and challenge does not alter that challenge", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const bond = BigInt(s.request.bondWei);
            // The owner front-runs the challenge with the largest bond share the bounds allow.
            await s.coordinator.connect(s.admin).setParams({ ...DEFAULT_PARAMS, challengeBondBps: 10_000 });
            expect(await s.coordinator.challengeBond(MODEL_COLLATERAL)).to.equal(MODEL_COLLATERAL);

            const { salt } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            const tx = s.coordinator.connect(s.challenger).challenge(s.request, "0x", salt);
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
            const { salt } = await commitChallengeAs(d, accomplice, request.requestId);
            const revealAt = (await time.latest()) + 1;
            await time.setNextBlockTimestamp(revealAt);
            await expect(d.coordinator.connect(accomplice).challenge(proven, input, salt))
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorChallengeWindowClosed")
                .withArgs(revealAt, at);
            await expect(d.coordinator.finalize(proven, correct.output))
                .to.emit(d.coordinator, "ResultFinalized")
                .withArgs(request.requestId, true, anyValue);
        });

        it("refuses a verdict after the dispute timeout (CoordinatorDisputeTimedOut): the dispute expires instead", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            const { tx, request: disputed } = await challengeAs(s, s.challenger, s.request);
            const expiresAt = (await minedAt(tx)) + DISPUTE_TIMEOUT;
            await time.setNextBlockTimestamp(expiresAt);
            // A late inconclusive verdict would restart the window past settlementBound.
            await expect(s.resolver.decide(disputed, NOT_AT_FAULT))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorDisputeTimedOut")
                .withArgs(expiresAt, expiresAt);
            await expect(s.coordinator.expireDispute(disputed)).to.emit(s.coordinator, "DisputeExpired");
            expect(BigInt(expiresAt + 1)).to.be.lessThanOrEqual(await s.coordinator.settlementBound(s.request));
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
                const { salt } = await commitChallengeAs(s, staller, request.requestId);
                await time.setNextBlockTimestamp(Number(request.challengeEndsAt) - 1);
                const { request: disputed } = await revealChallengeAs(s, staller, request, salt);
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
                request = after;
            }
            // The last round's Disputed struct, the request's last state, is no longer committed: it ended.
            expect(request.status).to.equal(BigInt(Status.Disputed));
            expect(await s.coordinator.isCommitted(request)).to.equal(false);
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

    describe("front-running a challenge (commit-reveal)", function () {
        const gwei = (n: number): bigint => ethers.parseUnits(String(n), "gwei");

        /** A wrong REEXECUTION result under the real resolver; the challenger, the liar and a bot can each pay a bond. */
        async function deployWrongResult() {
            const d = await deployVerifiable();
            const requested = await sendRequest(d, { input: INPUT, callbackGasLimit: 500_000 });
            const operator = await assignedSigner(d, requested);
            const request = await submit(d, requested, WRONG_OUTPUT, { operator });
            const bot = d.others[1]!;
            // Everyone can pay the bond: a copy that fails, fails for want of a commitment.
            for (const who of [d.challenger, operator, bot]) await fundBond(d, who, BigInt(request.bondWei));
            return { ...d, request, operator, bot };
        }

        /** Runs `fn` with Hardhat's automine off (transactions wait in the mempool until `evm_mine`), then restores it. */
        async function withMempool<T>(fn: () => Promise<T>): Promise<T> {
            await ethers.provider.send("evm_setAutomine", [false]);
            try {
                return await fn();
            } finally {
                await ethers.provider.send("evm_setAutomine", [true]);
            }
        }

        /** The receipt of a mined transaction (status 0 included, which `wait()` would throw on). */
        async function receiptOf(hash: string) {
            const receipt = await ethers.provider.getTransactionReceipt(hash);
            if (receipt === null) throw new Error(`${hash} is not mined`);
            return receipt;
        }

        /** The custom error a mined, reverted coordinator transaction reverted with (from its trace). */
        async function revertOf(
            d: { coordinator: { interface: { parseError(data: string): { name: string; args: unknown } | null } } },
            hash: string,
        ): Promise<{ name: string; args: unknown[] }> {
            const trace = (await ethers.provider.send("debug_traceTransaction", [
                hash,
                { disableMemory: true, disableStack: true, disableStorage: true },
            ])) as { failed: boolean; returnValue: string };
            expect(trace.failed, "the transaction reverted").to.equal(true);
            const data = trace.returnValue.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`;
            const parsed = d.coordinator.interface.parseError(data);
            if (parsed === null) throw new Error(`not a coordinator error: ${data}`);
            return { name: parsed.name, args: [...(parsed.args as unknown as unknown[])] };
        }

        for (const copier of ["the operator it catches", "a bot watching the mempool"] as const) {
            it(`${copier} sending the honest reveal first, from its own address, reverts: the honest challenger is paid`, async function () {
                const s = await loadFixture(deployWrongResult);
                const from = copier === "the operator it catches" ? s.operator : s.bot;
                const copierAddress = await from.getAddress();
                const honest = await s.challenger.getAddress();
                const operator = await s.operator.getAddress();
                const bond = BigInt(s.request.bondWei);
                const reward = (MODEL_COLLATERAL * BigInt(DEFAULT_PARAMS.challengerRewardBps)) / BPS;

                const { copy, reveal, salt } = await withMempool(async () => {
                    // The commitment is mined first; it says nothing of which result it targets.
                    const { salt } = await commitChallengeAs(s, s.challenger, s.request.requestId);
                    // The reveal waits in the mempool, where anyone can read it...
                    const reveal = await s.coordinator
                        .connect(s.challenger)
                        .challenge(s.request, INPUT, salt, { maxFeePerGas: gwei(10), maxPriorityFeePerGas: gwei(1) });
                    // ...and is sent again, the same calldata from the copier's address with a higher tip.
                    const copy = await from.sendTransaction({
                        to: await s.coordinator.getAddress(),
                        data: reveal.data,
                        gasLimit: reveal.gasLimit,
                        maxFeePerGas: gwei(100),
                        maxPriorityFeePerGas: gwei(50),
                    });
                    await ethers.provider.send("evm_mine", []);
                    return { copy, reveal, salt };
                });

                const copied = await receiptOf(copy.hash);
                const revealed = await receiptOf(reveal.hash);
                expect(copied.blockNumber).to.equal(revealed.blockNumber);
                expect(copied.index, "the copy ran first").to.be.lessThan(revealed.index);
                expect(copied.status).to.equal(0);
                expect(await revertOf(s, copy.hash)).to.deep.equal({
                    name: "CoordinatorNoChallengeCommitment",
                    args: [challengeCommitment(BigInt(s.request.requestId), copierAddress, salt)],
                });

                // The honest reveal opens the dispute, the operator is slashed, and the reward is the challenger's.
                expect(revealed.status).to.equal(1);
                await expect(reveal)
                    .to.emit(s.coordinator, "ResultChallenged")
                    .withArgs(s.request.requestId, honest, anyValue, bond);
                await expect(reveal)
                    .to.emit(s.coordinator, "DisputeResolved")
                    .withArgs(s.request.requestId, true, honest, operator, MODEL_COLLATERAL, bond + reward);
                expect(await s.coordinator.balanceOf(honest)).to.equal(bond + reward);
                expect(await s.coordinator.balanceOf(copierAddress)).to.equal(0n);
            });
        }

        it("refuses a reveal mined in the same block as its commitment (CoordinatorChallengeCommitmentTooRecent)", async function () {
            const s = await loadFixture(deployWrongResult);
            const salt = newChallengeSalt();
            const commitment = challengeCommitment(BigInt(s.request.requestId), await s.challenger.getAddress(), salt);
            const { commit, reveal } = await withMempool(async () => {
                const commit = await s.coordinator.connect(s.challenger).commitChallenge(commitment);
                // A gas limit of its own: estimating it would already revert on the pending block.
                const reveal = await s.coordinator
                    .connect(s.challenger)
                    .challenge(s.request, INPUT, salt, { gasLimit: 5_000_000 });
                await ethers.provider.send("evm_mine", []);
                return { commit, reveal };
            });
            const committed = await receiptOf(commit.hash);
            const revealed = await receiptOf(reveal.hash);
            expect(revealed.blockNumber).to.equal(committed.blockNumber);
            expect(committed.status).to.equal(1);
            expect(revealed.status).to.equal(0);
            expect(await revertOf(s, reveal.hash)).to.deep.equal({
                name: "CoordinatorChallengeCommitmentTooRecent",
                args: [BigInt(committed.blockNumber), BigInt(committed.blockNumber)],
            });
            // The commitment survives the refused reveal; a block later the same reveal is accepted.
            expect(await s.coordinator.getChallengeCommitment(commitment)).to.equal(BigInt(committed.blockNumber));
            await expect(s.coordinator.connect(s.challenger).challenge(s.request, INPUT, salt)).to.emit(
                s.coordinator,
                "ResultChallenged",
            );
        });

        it("uses a commitment once: after a lost dispute the same reveal is refused (CoordinatorNoChallengeCommitment)", async function () {
            const s = await loadFixture(deploySubmittedWrong);
            await fundBond(s, s.challenger, 2n * s.bondWei);
            await s.resolver.preset(true, NOT_AT_FAULT); // rejected at once, inconclusively: the window restarts
            const { salt, commitment } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            const { request: restarted } = await revealChallengeAs(s, s.challenger, s.request, salt);
            expect(restarted.disputeRounds).to.equal(1n);
            expect(await s.coordinator.getChallengeCommitment(commitment)).to.equal(0n);
            await expect(s.coordinator.connect(s.challenger).challenge(restarted, "0x", salt))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorNoChallengeCommitment")
                .withArgs(commitment);
            // A new commitment opens the next dispute.
            const { tx } = await challengeAs(s, s.challenger, restarted);
            await expect(tx).to.emit(s.coordinator, "ResultChallenged");
        });

        it("refuses another address revealing with the challenger's salt (the commitment binds the challenger)", async function () {
            const s = await loadFixture(deployWrongResult);
            const { salt } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            for (const other of [s.operator, s.bot]) {
                await expect(s.coordinator.connect(other).challenge(s.request, INPUT, salt))
                    .to.be.revertedWithCustomError(s.coordinator, "CoordinatorNoChallengeCommitment")
                    .withArgs(challengeCommitment(BigInt(s.request.requestId), await other.getAddress(), salt));
            }
            await expect(s.coordinator.connect(s.challenger).challenge(s.request, INPUT, salt)).to.emit(
                s.coordinator,
                "DisputeResolved",
            );
        });

        it("refuses a commitment for request A as a challenge of request B", async function () {
            const s = await loadFixture(deployWrongResult);
            const requestedB = await sendRequest(s, { input: INPUT, callbackGasLimit: 500_000 });
            const b = await submit(s, requestedB, WRONG_OUTPUT, { operator: await assignedSigner(s, requestedB) });
            const challenger = await s.challenger.getAddress();
            const { salt } = await commitChallengeAs(s, s.challenger, s.request.requestId);
            await expect(s.coordinator.connect(s.challenger).challenge(b, INPUT, salt))
                .to.be.revertedWithCustomError(s.coordinator, "CoordinatorNoChallengeCommitment")
                .withArgs(challengeCommitment(BigInt(b.requestId), challenger, salt));
            await expect(s.coordinator.connect(s.challenger).challenge(s.request, INPUT, salt)).to.emit(
                s.coordinator,
                "ResultChallenged",
            );
        });
    });

    describe("the set a request is assigned over is fixed at request time", function () {
        it("a sybil registering identities after a request cannot take its exclusive window", async function () {
            const d = await loadFixture(deployWithModel);
            const operators = BigInt(d.operators.length);
            // A request for which one of up to six new identities would become the rotation's pick (the k-th joins
            // as the last of operators + k, picked when requestId mod (operators + k) is its position): the
            // request id depends on addresses, so look for one rather than count on the first.
            const sybilCanWin = (id: bigint) =>
                [1n, 2n, 3n, 4n, 5n, 6n].some((k) => id % (operators + k) === operators + k - 1n);
            let request = await sendRequest(d);
            for (let i = 0; i < 20 && !sybilCanWin(BigInt(request.requestId)); i++) request = await sendRequest(d);
            expect(sybilCanWin(BigInt(request.requestId)), "no request a sybil could win in 20").to.equal(true);
            const assigned = String(request.assignedOperator);
            expect(assigned).to.equal(await d.staking.operatorAt(d.modelId, request.requestId));
            // Register identities until the rotation over the grown set picks one of them for this request.
            let sybil;
            for (const candidate of d.others.slice(0, 6)) {
                const address = await candidate.getAddress();
                await d.token.mint(address, 100n * TOKEN);
                await d.token.connect(candidate).approve(await d.staking.getAddress(), 100n * TOKEN);
                await d.staking.connect(candidate).stake(100n * TOKEN);
                await d.staking.connect(candidate).registerForModel(d.modelId);
                if ((await d.staking.operatorAt(d.modelId, request.requestId)) === address) {
                    sybil = candidate;
                    break;
                }
            }
            expect(sybil, "no identity became the rotation's pick").to.not.equal(undefined);
            expect(await now()).to.be.lessThan(Number(request.exclusiveUntil));
            await expect(
                d.coordinator.connect(sybil!).submitResult(request, ResultCode.OK, WRONG_OUTPUT, ethers.ZeroHash),
            )
                .to.be.revertedWithCustomError(d.coordinator, "CoordinatorNotAssignedOperator")
                .withArgs(await sybil!.getAddress(), assigned);
            const submitted = await submit(d, request);
            expect(submitted.operator).to.equal(assigned);
        });

        it("a pick that cannot back the request gets no exclusive window: any operator serves at once", async function () {
            const d = await loadFixture(deployWithModel);
            const consumer = await d.consumer.getAddress();
            const nextId = BigInt(
                ethers.keccak256(
                    ethers.AbiCoder.defaultAbiCoder().encode(
                        ["address", "uint64"],
                        [consumer, await d.coordinator.requestNonce(consumer)],
                    ),
                ),
            );
            const pick = await d.staking.operatorAt(d.modelId, nextId);
            const signers = await Promise.all(d.operators.map(async (op) => [await op.getAddress(), op] as const));
            const pickOp = signers.find(([address]) => address === pick)![1];
            const other = signers.find(([address]) => address !== pick)![1];
            // The pick unbonds everything: it stays in the set (until evicted) but cannot lock collateral.
            await d.staking.connect(pickOp).requestUnbonding((await d.staking.getStake(pick)).stakedWei);
            const request = await sendRequest(d);
            expect(request.requestId).to.equal(nextId);
            expect(request.assignedOperator).to.equal(ethers.ZeroAddress);
            const madeAt = (await ethers.provider.getBlock("latest"))!.timestamp;
            expect(Number(request.exclusiveUntil)).to.equal(madeAt);
            const submitted = await submit(d, request, undefined, { operator: other });
            expect(submitted.operator).to.equal(await other.getAddress());
            // And anyone may evict it, so that later requests rotate over operators that can serve.
            await expect(d.staking.connect(d.others[0]!).evict(d.modelId, pick))
                .to.emit(d.staking, "OperatorEvicted")
                .withArgs(pick, d.modelId, 0n, MODEL_COLLATERAL);
        });
    });
});
