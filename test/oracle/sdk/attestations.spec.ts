import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import { deployVerifiable, type VerifiableDeployment } from "../../helpers/verifiable";
import { INPUT, MODEL_COLLATERAL, TOKEN, WRONG_OUTPUT } from "../../helpers/verity";
import {
    ATTESTATION_TYPES,
    buildAttestation,
    createVerityClient,
    VeritySdkError,
    type VerityClient,
} from "../../../oracle/src/sdk";

interface Setup {
    d: VerifiableDeployment;
    operator: Signer;
    operatorClient: VerityClient;
    reader: VerityClient;
}

async function attestationFixture(): Promise<Setup> {
    const d = await deployVerifiable();
    const operator = d.operators[0] as Signer;
    const coordinator = await d.coordinator.getAddress();
    return {
        d,
        operator,
        operatorClient: createVerityClient({ coordinator, runner: operator }),
        reader: createVerityClient({ coordinator, runner: ethers.provider }),
    };
}

describe("sdk: attestations", function () {
    it("verifies a staked operator's attestation: valid, its stake, registered, backed", async function () {
        const { d, operator, operatorClient, reader } = await loadFixture(attestationFixture);
        const attestation = buildAttestation({ modelId: d.modelId, input: INPUT, output: d.canonical(INPUT).output });
        const signature = await operatorClient.signAttestation(attestation);
        const v = await reader.verifyAttestation(attestation, signature, {
            expectedSigner: await operator.getAddress(),
        });
        expect(v.valid).to.equal(true);
        expect(v.signer).to.equal(await operator.getAddress());
        expect(v.operatorStake?.stakedWei).to.equal(100n * TOKEN);
        expect(v.operatorStake?.lockedWei).to.equal(0n);
        expect(v.operatorStake?.unbondingWei).to.equal(0n);
        expect(v.registeredForModel).to.equal(true);
        expect(v.collateralRequired).to.equal(MODEL_COLLATERAL);
        expect(v.backed).to.equal(true);
        expect(v.recourse).to.equal("fraud proof");
        const check = await reader.checkAgainstChain(attestation, INPUT);
        expect(check.correct).to.equal(true);
        expect(check.output).to.deep.equal(d.canonical(INPUT).output);
    });

    it("reports a wrong signer as invalid", async function () {
        const { d, operator, reader } = await loadFixture(attestationFixture);
        const attestation = buildAttestation({ modelId: d.modelId, input: INPUT, output: d.canonical(INPUT).output });
        const other = d.operators[1] as Signer;
        const signature = await createVerityClient({
            coordinator: await d.coordinator.getAddress(),
            runner: other,
        }).signAttestation(attestation);
        const v = await reader.verifyAttestation(attestation, signature, {
            expectedSigner: await operator.getAddress(),
        });
        expect(v.valid).to.equal(false);
        expect(v.signer).to.equal(await other.getAddress());
        expect(v.reason).to.equal(`signed by ${await other.getAddress()}, not by ${await operator.getAddress()}`);
        expect(v.backed).to.equal(false);
    });

    it("reports a signature for another domain (chain id) as a different signer", async function () {
        const { d, operator, reader } = await loadFixture(attestationFixture);
        const attestation = buildAttestation({ modelId: d.modelId, input: INPUT, output: WRONG_OUTPUT });
        const foreign = await operator.signTypedData(
            { name: "Verity", version: "1", chainId: 1n, verifyingContract: await d.coordinator.getAddress() },
            ATTESTATION_TYPES,
            { ...attestation },
        );
        const v = await reader.verifyAttestation(attestation, foreign, { expectedSigner: await operator.getAddress() });
        expect(v.valid).to.equal(false);
        expect(v.signer).to.not.equal(await operator.getAddress());
    });

    it("reports an unstaked signer as valid but not backed", async function () {
        const { d, reader } = await loadFixture(attestationFixture);
        const stranger = d.others[2] as Signer;
        const attestation = buildAttestation({ modelId: d.modelId, input: INPUT, output: WRONG_OUTPUT });
        const signature = await createVerityClient({
            coordinator: await d.coordinator.getAddress(),
            runner: stranger,
        }).signAttestation(attestation);
        const v = await reader.verifyAttestation(attestation, signature);
        expect(v.valid).to.equal(true);
        expect(v.signer).to.equal(await stranger.getAddress());
        expect(v.operatorStake?.slashableWei).to.equal(0n);
        expect(v.registeredForModel).to.equal(false);
        expect(v.backed).to.equal(false);
    });

    it("rejects a malformed signature without throwing", async function () {
        const { d, reader } = await loadFixture(attestationFixture);
        const attestation = buildAttestation({ modelId: d.modelId, input: INPUT, output: WRONG_OUTPUT });
        const v = await reader.verifyAttestation(attestation, "0x1234");
        expect(v.valid).to.equal(false);
        expect(v.signer).to.equal(null);
        expect(v.reason).to.match(/malformed signature/);
    });

    it("finds a wrong attestation against the chain and proves the fraud", async function () {
        const { d, operator, operatorClient } = await loadFixture(attestationFixture);
        const attestation = buildAttestation({ modelId: d.modelId, input: INPUT, output: WRONG_OUTPUT });
        const signature = await operatorClient.signAttestation(attestation);
        const reporter = createVerityClient({
            coordinator: await d.coordinator.getAddress(),
            runner: d.challenger,
        });
        const check = await reporter.checkAgainstChain(attestation, INPUT);
        expect(check.correct).to.equal(false);
        expect(check.fraudProvable).to.equal(true);
        await reporter.proveFraud(attestation, signature, INPUT);
        expect((await d.staking.getStake(await operator.getAddress())).stakedWei).to.equal(
            100n * TOKEN - MODEL_COLLATERAL,
        );
        // The same proof again: decoded revert.
        try {
            await reporter.proveFraud(attestation, signature, INPUT);
            expect.fail("second proof went through");
        } catch (err) {
            expect(err).to.be.instanceOf(VeritySdkError);
            expect((err as VeritySdkError).revert?.name).to.equal("CoordinatorEquivocationAlreadyProven");
        }
    });

    it("refuses a check with the wrong input (INPUT_MISMATCH)", async function () {
        const { d, reader } = await loadFixture(attestationFixture);
        const attestation = buildAttestation({ modelId: d.modelId, input: INPUT, output: WRONG_OUTPUT });
        try {
            await reader.checkAgainstChain(attestation, WRONG_OUTPUT);
            expect.fail("no error");
        } catch (err) {
            expect((err as VeritySdkError).code).to.equal("INPUT_MISMATCH");
        }
    });
});
