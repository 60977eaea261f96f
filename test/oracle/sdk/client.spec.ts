import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import { deployVerifiable, type VerifiableDeployment } from "../../helpers/verifiable";
import { assignedSigner, INPUT, MODEL_WINDOW, TOKEN, WRONG_OUTPUT } from "../../helpers/verity";
import {
    challengeCommitment,
    createVerityClient,
    decodeTensors,
    DType,
    encodeTensors,
    newChallengeSalt,
    ResultCode,
    VeritySdkError,
    type Request,
    type VerityClient,
} from "../../../oracle/src/sdk";

const INPUT_TENSORS = [{ dtype: DType.INT8, shape: [1, 4], data: [12n, -7n, 100n, -128n] }];

interface Setup {
    d: VerifiableDeployment;
    user: Signer;
    client: VerityClient;
}

async function sdkFixture(): Promise<Setup> {
    const d = await deployVerifiable();
    const user = d.others[0] as Signer;
    await d.token.mint(await user.getAddress(), 10n * TOKEN);
    const client = createVerityClient({
        coordinator: await d.coordinator.getAddress(),
        runner: user,
        pollIntervalMs: 10,
    });
    return { d, user, client };
}

async function expectSdkError(promise: Promise<unknown>, code: string): Promise<VeritySdkError> {
    try {
        await promise;
    } catch (err) {
        expect(err).to.be.instanceOf(VeritySdkError);
        expect((err as VeritySdkError).code).to.equal(code);
        return err as VeritySdkError;
    }
    throw new Error(`expected a VeritySdkError ${code}`);
}

/** Submits `output` for `request` as its assigned operator; returns the updated struct. */
async function submitAs(d: VerifiableDeployment, request: Request, output: Uint8Array): Promise<Request> {
    const operator = await assignedSigner(d, request);
    await d.coordinator.connect(operator).submitResult(request, ResultCode.OK, output, ethers.ZeroHash);
    return {
        ...request,
        status: 2n,
        operator: await operator.getAddress(),
        resultCode: 0n,
        outputHash: ethers.keccak256(output),
        challengeEndsAt: BigInt(await time.latest()) + BigInt(MODEL_WINDOW),
    };
}

describe("sdk: VerityClient", function () {
    describe("requestInference", function () {
        it("requests from an EOA, depositing the quoted fee, and returns the id and struct", async function () {
            const { d, user, client } = await loadFixture(sdkFixture);
            const fee = await client.quoteFee(d.modelId);
            const sent = await client.requestInference(d.modelId, INPUT_TENSORS, { deposit: true });
            expect(sent.request.consumer).to.equal(await user.getAddress());
            expect(sent.feeWei).to.equal(fee);
            expect(sent.request.inputHash).to.equal(ethers.keccak256(INPUT));
            expect(await d.coordinator.isCommitted(sent.request)).to.equal(true);
            expect(await client.balanceOf()).to.equal(0n);
            const state = await client.getRequest(sent.requestId);
            expect(state.state).to.equal("requested");
            expect(state.input).to.deep.equal(INPUT);
        });

        it("decodes a revert into its custom error (CoordinatorInsufficientBalance)", async function () {
            const { d, client } = await loadFixture(sdkFixture);
            const fee = await client.quoteFee(d.modelId);
            const err = await expectSdkError(client.requestInference(d.modelId, INPUT), "REVERTED");
            expect(err.revert?.name).to.equal("CoordinatorInsufficientBalance");
            expect(err.revert?.args).to.deep.equal([0n, fee]);
            expect(err.message).to.equal(`requestInference reverted: CoordinatorInsufficientBalance(0, ${fee})`);
        });

        it("refuses to send without a signer (NO_SIGNER)", async function () {
            const { d } = await loadFixture(sdkFixture);
            const readOnly = createVerityClient({
                coordinator: await d.coordinator.getAddress(),
                runner: ethers.provider,
            });
            await expectSdkError(readOnly.requestInference(d.modelId, INPUT), "NO_SIGNER");
        });
    });

    describe("waitForResult", function () {
        it("resolves 'finalized' with the operator's output once the window passes and someone finalizes", async function () {
            const { d, client } = await loadFixture(sdkFixture);
            const sent = await client.requestInference(d.modelId, INPUT, { deposit: true });
            const waiting = client.waitForResult(sent.requestId, { timeoutMs: 20_000 });
            const { output } = d.canonical(INPUT);
            const submitted = await submitAs(d, sent.request, output);
            await time.increase(MODEL_WINDOW + 1);
            await d.coordinator.connect(d.others[1] as Signer).finalize(submitted, output);

            const result = await waiting;
            expect(result.status).to.equal("finalized");
            expect(result.resultCode).to.equal(ResultCode.OK);
            expect(result.output).to.deep.equal(output);
            expect(result.tensors).to.deep.equal(decodeTensors(output));
            expect(result.operator).to.equal(submitted.operator);
            expect(result.callbackSucceeded).to.equal(false); // an EOA has no callback
            expect(result.transactions.requested).to.equal(sent.transactionHash);
            expect(result.history.map((e) => e.name)).to.deep.equal([
                "InferenceRequested",
                "ResultSubmitted",
                "ResultFinalized",
            ]);
        });

        it("resolves 'corrected by dispute' with the re-executed output after a real ReexecutionResolver dispute", async function () {
            const { d, client } = await loadFixture(sdkFixture);
            const sent = await client.requestInference(d.modelId, INPUT, { deposit: true });
            const waiting = client.waitForResult(sent.requestId, { timeoutMs: 20_000 });
            const submitted = await submitAs(d, sent.request, WRONG_OUTPUT);
            const bond = await d.coordinator.challengeBond(submitted.collateralWei);
            await d.token.mint(await d.challenger.getAddress(), bond);
            await d.token.connect(d.challenger).approve(await d.coordinator.getAddress(), bond);
            // Commit-reveal with the SDK's helpers: the commitment, then the challenge from a later block.
            const salt = newChallengeSalt();
            const challenger = await d.challenger.getAddress();
            const commitment = challengeCommitment(BigInt(submitted.requestId), challenger, salt);
            await (await d.coordinator.connect(d.challenger).commitChallenge(commitment)).wait();
            await d.coordinator.connect(d.challenger).challenge(submitted, INPUT, salt);

            const result = await waiting;
            const canonical = d.canonical(INPUT);
            expect(result.status).to.equal("corrected by dispute");
            expect(result.resultCode).to.equal(canonical.resultCode);
            expect(result.output).to.deep.equal(canonical.output);
            expect(result.tensors).to.deep.equal(decodeTensors(canonical.output));
            expect(result.operator).to.equal(submitted.operator);
            expect(result.refundWei).to.equal(sent.feeWei);
            expect(result.history.map((e) => e.name)).to.deep.equal([
                "InferenceRequested",
                "ResultSubmitted",
                "ResultChallenged",
                "ResultReexecuted",
                "DisputeResolved",
                "ResultDelivered",
            ]);
            expect(await client.balanceOf()).to.equal(sent.feeWei);
        });

        it("resolves 'cancelled' after the consumer cancels past the deadline, and refunds the fee", async function () {
            const { d, client } = await loadFixture(sdkFixture);
            const sent = await client.requestInference(d.modelId, INPUT, { deposit: true, deadlineSeconds: 120 });
            await expectSdkError(client.cancel(sent.requestId), "REVERTED").then((err) =>
                expect(err.revert?.name).to.equal("CoordinatorDeadlineNotPassed"),
            );
            await time.increase(121);
            await client.cancel(sent.requestId);
            const result = await client.waitForResult(sent.requestId, { timeoutMs: 5_000 });
            expect(result.status).to.equal("cancelled");
            expect(result.output).to.equal(null);
            expect(result.refundWei).to.equal(sent.feeWei);
            expect(await client.balanceOf()).to.equal(sent.feeWei);
            await expectSdkError(client.cancel(sent.requestId), "WRONG_STATE");
            await client.withdraw(sent.feeWei);
            expect(await client.balanceOf()).to.equal(0n);
        });

        it("throws TIMEOUT with where the request stands when nobody serves it in time", async function () {
            const { d, client } = await loadFixture(sdkFixture);
            const sent = await client.requestInference(d.modelId, INPUT, { deposit: true });
            const err = await expectSdkError(client.waitForResult(sent.requestId, { timeoutMs: 100 }), "TIMEOUT");
            expect(err.message).to.match(/not settled after 100 ms: no operator has submitted yet/);
        });

        it("throws ABORTED when its signal aborts", async function () {
            const { d, client } = await loadFixture(sdkFixture);
            const sent = await client.requestInference(d.modelId, INPUT, { deposit: true });
            const controller = new AbortController();
            const waiting = client.waitForResult(sent.requestId, { signal: controller.signal });
            setTimeout(() => controller.abort(), 50);
            await expectSdkError(waiting, "ABORTED");
        });

        it("throws UNKNOWN_REQUEST for an id the coordinator never announced", async function () {
            const { client } = await loadFixture(sdkFixture);
            await expectSdkError(client.waitForResult(123n, { timeoutMs: 1_000 }), "UNKNOWN_REQUEST");
            await expectSdkError(client.getRequestHistory(123n), "UNKNOWN_REQUEST");
        });
    });

    describe("tensors", function () {
        it("round-trips tensors through the re-exported codec", async function () {
            const tensors = [
                { dtype: DType.INT32, shape: [2, 2], data: [-1n, 2n ** 31n - 1n, -(2n ** 31n), 0n] },
                { dtype: DType.UINT8, shape: [], data: [255n] },
            ];
            expect(decodeTensors(encodeTensors(tensors))).to.deep.equal(tensors);
        });
    });
});
