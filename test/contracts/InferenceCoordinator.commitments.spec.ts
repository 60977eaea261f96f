/**
 * Where a request's commitment lives. Each consumer has one reusable slot: a request is committed there when the
 * slot is free (never used, or freed by the consumer's last request there), else in the request's own slot. These
 * tests read both slots straight from storage, so they would fail if a request were placed, moved or freed wrongly,
 * and they check that no struct of a request that ended can act again once its slot is reused.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import type { BigNumberish } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
    CALLBACK_GAS,
    INPUT,
    NO_FEE_LIMIT,
    OUTPUT,
    Status,
    assignedSigner,
    deployWithModel,
    fund,
    requestsFrom,
    sendRequest,
    submit,
    type Deployment,
    type Request,
} from "../helpers/verity";
import {
    DISPUTE_CALLBACK_GAS,
    NOT_AT_FAULT,
    PROVEN,
    VOID,
    challengeAs,
    decide,
    fundBond,
    minedAt,
} from "../helpers/disputes";

const FREE = ethers.toBeHex(1, 32);
const EMPTY = ethers.ZeroHash;
const coder = ethers.AbiCoder.defaultAbiCoder();

/** The storage key of `mapping[key]` for a mapping at `base` (Solidity's layout: keccak256(key . base)). */
function mappingKey(type: "address" | "uint256", key: string | bigint, base: number): string {
    return ethers.keccak256(coder.encode([type, "uint256"], [key, base]));
}

interface Slots {
    /** The value of `consumer`'s reusable slot. */
    home(consumer: string): Promise<string>;
    /** The value of `requestId`'s own slot. */
    own(requestId: BigNumberish): Promise<string>;
}

/**
 * Finds the two mappings' base slots by looking for a known commitment (so nothing here hard-codes the layout):
 * `homeReq` must sit in its consumer's slot and `ownReq` in its own.
 */
async function locateSlots(d: Deployment, homeReq: Request, ownReq: Request): Promise<Slots> {
    const coordinator = await d.coordinator.getAddress();
    const read = (key: string) => ethers.provider.getStorage(coordinator, key);
    let homeBase = -1;
    let ownBase = -1;
    for (let base = 0; base < 128 && (homeBase < 0 || ownBase < 0); base++) {
        const home = await read(mappingKey("address", String(homeReq.consumer), base));
        if (home === (await d.coordinator.hashRequest(homeReq))) homeBase = base;
        const own = await read(mappingKey("uint256", BigInt(ownReq.requestId), base));
        if (own === (await d.coordinator.hashRequest(ownReq))) ownBase = base;
    }
    if (homeBase < 0 || ownBase < 0) throw new Error(`commitment slots not found (home ${homeBase}, own ${ownBase})`);
    return {
        home: (consumer) => read(mappingKey("address", consumer, homeBase)),
        own: (requestId) => read(mappingKey("uint256", BigInt(requestId), ownBase)),
    };
}

/** A deployment with two open requests from the TestConsumer: the first in its home slot, the second in its own. */
async function deployTwoRequests() {
    const d = await deployWithModel();
    const first = await sendRequest(d, { callbackGasLimit: DISPUTE_CALLBACK_GAS });
    const second = await sendRequest(d, { callbackGasLimit: DISPUTE_CALLBACK_GAS });
    const slots = await locateSlots(d, first, second);
    return { ...d, first, second, slots, consumerAddress: await d.consumer.getAddress() };
}

async function hash(d: Deployment, request: Request): Promise<string> {
    return d.coordinator.hashRequest(request);
}

describe("InferenceCoordinator: a reusable commitment slot per consumer", function () {
    it("commits a consumer's first request in its slot and a concurrent one in the request's own slot", async function () {
        const d = await loadFixture(deployTwoRequests);
        expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, d.first));
        expect(await d.slots.own(d.first.requestId)).to.equal(EMPTY);
        expect(await d.slots.own(d.second.requestId)).to.equal(await hash(d, d.second));
        expect(await d.coordinator.isCommitted(d.first)).to.equal(true);
        expect(await d.coordinator.isCommitted(d.second)).to.equal(true);
    });

    it("keeps each request in its slot through submission and frees each at finalization", async function () {
        const d = await loadFixture(deployTwoRequests);
        const first = await submit(d, d.first);
        const second = await submit(d, d.second);
        expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, first));
        expect(await d.slots.own(d.second.requestId)).to.equal(await hash(d, second));

        await time.increaseTo(Number(second.challengeEndsAt));
        await d.coordinator.finalize(second, OUTPUT);
        expect(await d.slots.own(d.second.requestId)).to.equal(EMPTY);
        expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, first));
        await d.coordinator.finalize(first, OUTPUT);
        expect(await d.slots.home(d.consumerAddress)).to.equal(FREE);
        expect(await d.coordinator.isCommitted(first)).to.equal(false);
        expect(await d.coordinator.isCommitted(second)).to.equal(false);
    });

    it("reuses the freed slot, and the struct of the request that ended there never acts again", async function () {
        const d = await loadFixture(deployTwoRequests);
        const first = await submit(d, d.first);
        await time.increaseTo(Number(first.challengeEndsAt));
        await d.coordinator.finalize(first, OUTPUT);

        const third = await sendRequest(d);
        expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, third));
        expect(await d.slots.own(third.requestId)).to.equal(EMPTY);
        for (const stale of [d.first, first]) {
            expect(await d.coordinator.isCommitted(stale)).to.equal(false);
        }
        await expect(d.coordinator.finalize(first, OUTPUT))
            .to.be.revertedWithCustomError(d.coordinator, "CoordinatorUnknownRequest")
            .withArgs(first.requestId);
        const operator = await assignedSigner(d, d.first);
        await expect(d.coordinator.connect(operator).submitResult(d.first, 0, OUTPUT, ethers.ZeroHash))
            .to.be.revertedWithCustomError(d.coordinator, "CoordinatorUnknownRequest")
            .withArgs(d.first.requestId);
        // The new occupant is unharmed and settles normally.
        const served = await submit(d, third);
        expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, served));
    });

    it("frees the slot when the consumer cancels", async function () {
        const d = await loadFixture(deployTwoRequests);
        await time.increaseTo(Number(d.first.deadline) + 1);
        await expect(d.consumer.cancel(d.first)).to.emit(d.coordinator, "RequestCancelled");
        expect(await d.slots.home(d.consumerAddress)).to.equal(FREE);
        await expect(d.consumer.cancel(d.second)).to.emit(d.coordinator, "RequestCancelled");
        expect(await d.slots.own(d.second.requestId)).to.equal(EMPTY);
        await expect(d.consumer.cancel(d.first))
            .to.be.revertedWithCustomError(d.coordinator, "CoordinatorUnknownRequest")
            .withArgs(d.first.requestId);
    });

    /** Submits `request` and opens a dispute on it; returns the Disputed struct. */
    async function disputed(d: Awaited<ReturnType<typeof deployTwoRequests>>, request: Request): Promise<Request> {
        const submitted = await submit(d, request);
        await fundBond(d, d.challenger, BigInt(submitted.bondWei));
        const { request: open } = await challengeAs(d, d.challenger, submitted);
        expect(open.status).to.equal(BigInt(Status.Disputed));
        return open;
    }

    const endings: [string, (d: Awaited<ReturnType<typeof deployTwoRequests>>, open: Request) => Promise<unknown>][] = [
        ["a verdict against the operator", (d, open) => decide(d, open, VOID)],
        [
            "a conclusive verdict for the operator, then finalization",
            async (d, open) => {
                const { request: proven } = await decide(d, open, PROVEN);
                return d.coordinator.finalize(proven, OUTPUT);
            },
        ],
        [
            "losing challenges up to MAX_DISPUTE_ROUNDS (the request is voided)",
            async (d, open) => {
                let current = open;
                for (let round = 1; ; round++) {
                    const { tx, request: after } = await decide(d, current, NOT_AT_FAULT);
                    if (round === Number(await d.coordinator.MAX_DISPUTE_ROUNDS())) {
                        return expect(tx).to.emit(d.coordinator, "ResultVoided");
                    }
                    await fundBond(d, d.challenger, BigInt(after.bondWei));
                    current = (await challengeAs(d, d.challenger, after)).request;
                }
            },
        ],
        [
            "an expired dispute",
            async (d, open) => {
                const dispute = await d.coordinator.getDispute(open.requestId);
                await time.increaseTo(Number(dispute.openedAt) + Number(await d.coordinator.disputeTimeoutSeconds()));
                return d.coordinator.expireDispute(open);
            },
        ],
    ];

    for (const [ending, end] of endings) {
        it(`keeps a disputed request in its slot and frees it after ${ending}`, async function () {
            const d = await loadFixture(deployTwoRequests);
            const homeOpen = await disputed(d, d.first);
            const ownOpen = await disputed(d, d.second);
            expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, homeOpen));
            expect(await d.slots.own(d.second.requestId)).to.equal(await hash(d, ownOpen));
            await end(d, homeOpen);
            await end(d, ownOpen);
            expect(await d.slots.home(d.consumerAddress)).to.equal(FREE);
            expect(await d.slots.own(d.second.requestId)).to.equal(EMPTY);
        });
    }

    it("rewrites the slot in place when a losing challenge restarts the window", async function () {
        const d = await loadFixture(deployTwoRequests);
        const open = await disputed(d, d.first);
        const { tx, request: restarted } = await decide(d, open, NOT_AT_FAULT);
        expect(restarted.challengeEndsAt).to.equal(
            BigInt((await minedAt(tx)) + Number(d.first.challengeWindowSeconds)),
        );
        expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, restarted));
        expect(await d.slots.own(d.first.requestId)).to.equal(EMPTY);
        expect(await d.coordinator.isCommitted(open)).to.equal(false);
    });

    it("gives each consumer its own slot: another consumer's request neither lands in nor frees this one", async function () {
        const d = await loadFixture(deployTwoRequests);
        const other = await ethers.deployContract("TestConsumer", [await d.coordinator.getAddress()]);
        const otherAddress = await other.getAddress();
        await fund(d, otherAddress);
        const tx = await other.request(d.modelId, INPUT, {
            callbackGasLimit: CALLBACK_GAS,
            deadline: Number(d.first.deadline),
            preferredOperator: ethers.ZeroAddress,
            maxFeeWei: NO_FEE_LIMIT,
        });
        const [theirs] = requestsFrom(await tx.wait());
        expect(await d.slots.home(otherAddress)).to.equal(await hash(d, theirs!));
        expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, d.first));

        const served = await submit(d, theirs!);
        await time.increaseTo(Number(served.challengeEndsAt));
        await d.coordinator.finalize(served, OUTPUT);
        expect(await d.slots.home(otherAddress)).to.equal(FREE);
        expect(await d.slots.home(d.consumerAddress)).to.equal(await hash(d, d.first));
    });
});
