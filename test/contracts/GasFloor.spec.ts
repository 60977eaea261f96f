import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { INPUT, OUTPUT, TOKEN } from "../helpers/verity";
import { deployGasFloor, measureGasFloor, requestedFrom } from "../../bench/gasFloor";

/**
 * contracts/test/GasFloor.sol is the floor bench/gas.ts compares the coordinator with (docs/protocol.md, "Gas"). Its
 * figure means something only if it does the checks it claims on the happy path, so each is tried here: a request
 * of an inactive model, a submission by someone other than the assignee in its window or by an unregistered or
 * under-staked operator, a tampered request, an early finalization and a wrong output all revert.
 */
async function deployFloor() {
    const [, a, b, stranger] = await ethers.getSigners();
    // b's stake is below the 10-token collateral: registered, never able to back a request.
    const { floor, consumer, modelId } = await deployGasFloor([
        [a!, 100n * TOKEN],
        [b!, 5n * TOKEN],
    ]);
    // The rotation picks a or b by request id (b gives no window): take a request whose pick is a.
    let packed;
    for (let i = 0; i < 20; i++) {
        const sent = await (await consumer.request(modelId, INPUT, 50_000, (await time.latest()) + 3_600)).wait();
        packed = requestedFrom(floor, sent!, INPUT);
        if (packed.assignedCollateral >> 96n === BigInt(await a!.getAddress())) break;
    }
    return { floor, consumer, modelId, packed: packed!, a: a!, b: b!, stranger: stranger! };
}

describe("GasFloor (the bench's lower bound)", function () {
    it("refuses a request for a model it does not know", async function () {
        const { consumer } = await loadFixture(deployFloor);
        await expect(consumer.request(ethers.id("other"), INPUT, 50_000, (await time.latest()) + 3_600))
            .to.be.revertedWithCustomError(await ethers.getContractFactory("GasFloor"), "Refused")
            .withArgs(0);
    });

    it("assigns the operator whose free stake covers the collateral, and keeps the window for it", async function () {
        const { floor, packed, a, b, stranger } = await loadFixture(deployFloor);
        // Only `a` (100 staked) can back 10 tokens of collateral; `b` (5) cannot, a stranger is not registered.
        expect(packed.assignedCollateral >> 96n).to.equal(BigInt(await a.getAddress()));
        await expect(floor.connect(b).submit(packed, 0, OUTPUT))
            .to.be.revertedWithCustomError(floor, "Refused")
            .withArgs(12);
        await time.increase(301);
        await expect(floor.connect(stranger).submit(packed, 0, OUTPUT))
            .to.be.revertedWithCustomError(floor, "Refused")
            .withArgs(13);
        await expect(floor.connect(b).submit(packed, 0, OUTPUT))
            .to.be.revertedWithCustomError(floor, "Refused")
            .withArgs(14);
        await expect(floor.connect(a).submit({ ...packed, consumerFee: packed.consumerFee + 1n }, 0, OUTPUT))
            .to.be.revertedWithCustomError(floor, "Refused")
            .withArgs(30);
        await expect(floor.connect(a).submit(packed, 0, OUTPUT)).to.emit(floor, "Submitted");
    });

    it("finalizes only after the window, with the submitted output, delivering the callback once", async function () {
        const { floor, consumer, packed, a } = await loadFixture(deployFloor);
        const receipt = await (await floor.connect(a).submit(packed, 0, OUTPUT)).wait();
        const times = floor.interface.parseLog(receipt!.logs[0]!)!.args.times as bigint;
        const operatorWord = (BigInt(await a.getAddress()) << 96n) | (packed.operatorBond & ((1n << 96n) - 1n));
        const submitted = { ...packed, outputHash: ethers.keccak256(OUTPUT), operatorBond: operatorWord, times };
        await expect(floor.finalize(submitted, OUTPUT)).to.be.revertedWithCustomError(floor, "Refused").withArgs(21);
        await time.increaseTo(Number((times >> 80n) & ((1n << 40n) - 1n)));
        await expect(floor.finalize(submitted, "0x00")).to.be.revertedWithCustomError(floor, "Refused").withArgs(22);
        await expect(floor.finalize(submitted, OUTPUT))
            .to.emit(floor, "Finalized")
            .withArgs(packed.requestId, true, anyGas);
        expect(await consumer.lastRequestId()).to.equal(packed.requestId);
        await expect(floor.finalize(submitted, OUTPUT)).to.be.revertedWithCustomError(floor, "Refused").withArgs(30);
    });

    it("the bench's measurement runs whole lifecycles with a successful callback", async function () {
        const result = await measureGasFloor(INPUT, OUTPUT);
        expect(result.callback).to.be.greaterThan(0);
        expect(result.lifecycleExCallback).to.equal(result.request + result.submit + result.finalize - result.callback);
    });
});

const anyGas = (gas: bigint) => gas > 0n;
