import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { RequestStatus, announcedRequests, applyRequestEvents } from "../../../oracle/src/chain/requestEvents";
import { INPUT, OUTPUT, assignedSigner, deployWithModel, fund } from "../../helpers/verity";
import { challengeAs } from "../../helpers/disputes";

/** Two requests from the TestConsumer, and the receipt that announced them (plus the mined block). */
async function twoRequests() {
    const d = await deployWithModel();
    const deadline = (await time.latest()) + 3_600;
    const options = {
        callbackGasLimit: 200_000,
        deadline,
        preferredOperator: ethers.ZeroAddress,
        maxFeeWei: 2n ** 96n - 1n,
    };
    const first = await (await d.consumer.request(d.modelId, INPUT, options)).wait();
    const secondInput = new Uint8Array([...INPUT.slice(0, -1), 0]);
    const second = await (await d.consumer.request(d.modelId, secondInput, options)).wait();
    return { d, first: first!, second: second!, secondInput };
}

describe("oracle/chain/requestEvents", function () {
    describe("announcedRequests", function () {
        it("rebuilds the committed struct and returns the input bytes with the log's position", async function () {
            const { d, first } = await loadFixture(twoRequests);
            const [announced, ...rest] = announcedRequests(first.logs);
            expect(rest).to.have.length(0);
            expect(announced!.input).to.equal(ethers.hexlify(INPUT));
            expect(announced!.request.inputHash).to.equal(ethers.keccak256(INPUT));
            expect(announced!.request.status).to.equal(RequestStatus.Requested);
            expect(announced!.blockNumber).to.equal(first.blockNumber);
            expect(announced!.transactionHash).to.equal(first.hash);
            expect(await d.coordinator.isCommitted(announced!.request)).to.equal(true);
        });

        it("skips logs of other contracts in the same list", async function () {
            const { d, first } = await loadFixture(twoRequests);
            await fund(d, await d.others[0]!.getAddress(), 1n);
            const tokenLogs = await ethers.provider.getLogs({ address: await d.token.getAddress(), fromBlock: 0 });
            expect(tokenLogs.length).to.be.greaterThan(0);
            expect(announcedRequests([...tokenLogs, ...first.logs])).to.have.length(1);
        });
    });

    describe("applyRequestEvents", function () {
        it("follows submit, challenge and a restarted window so the struct always matches the commitment", async function () {
            const { d, first } = await loadFixture(twoRequests);
            const requested = announcedRequests(first.logs)[0]!.request;
            let request = requested;
            const operator = await assignedSigner(d, request);
            const submitted = await (
                await d.coordinator.connect(operator).submitResult(request, 0, OUTPUT, ethers.ZeroHash)
            ).wait();
            request = applyRequestEvents(request, submitted!.logs);
            expect(request.status).to.equal(RequestStatus.Submitted);
            expect(request.operator).to.equal(await operator.getAddress());
            expect(await d.coordinator.isCommitted(request)).to.equal(true);
            expect(await d.coordinator.isCommitted(requested)).to.equal(false);
            const submittedStruct = request;

            const bond = await d.coordinator.challengeBond(request.collateralWei);
            await d.token.mint(await d.challenger.getAddress(), bond);
            await d.token.connect(d.challenger).approve(await d.coordinator.getAddress(), bond);
            const challenged = await (await challengeAs(d, d.challenger, request)).tx.wait();
            request = applyRequestEvents(request, challenged!.logs);
            expect(request.status).to.equal(RequestStatus.Disputed);
            expect(await d.coordinator.isCommitted(request)).to.equal(true);
            expect(await d.coordinator.isCommitted(submittedStruct)).to.equal(false);

            const rejected = await (
                await d.resolver.decide(request, {
                    operatorAtFault: false,
                    conclusive: false,
                    deliverResult: false,
                    resultCode: 0,
                    output: "0x",
                })
            ).wait();
            request = applyRequestEvents(request, rejected!.logs);
            expect(request.status).to.equal(RequestStatus.Submitted);
            expect(await d.coordinator.isCommitted(request)).to.equal(true);
        });

        it("ignores events of other requests", async function () {
            const { d, first, second } = await loadFixture(twoRequests);
            const a = announcedRequests(first.logs)[0]!.request;
            const b = announcedRequests(second.logs)[0]!.request;
            const operator = await assignedSigner(d, b);
            const submitted = await (
                await d.coordinator.connect(operator).submitResult(b, 0, OUTPUT, ethers.ZeroHash)
            ).wait();
            expect(applyRequestEvents(a, submitted!.logs)).to.deep.equal(a);
            expect(applyRequestEvents(b, submitted!.logs).status).to.equal(RequestStatus.Submitted);
        });
    });
});
