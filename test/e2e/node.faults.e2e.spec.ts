/**
 * The node under faults: a flaky RPC endpoint, a chain reorganisation, a transaction stuck in the pool, and
 * kill -9 at random points during a burst of requests. In every case each request settles exactly once and the
 * operator never pays for a reverted transaction.
 */
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { startNode, type RunningNode } from "../../oracle/src/node";
import { createLogger, silentLogger } from "../../oracle/src/internal/logger";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { tinyIntegerModel } from "../../models/examples";
import {
    deployForNode,
    hardhatWallet,
    nodeConfig,
    passChallengeWindow,
    request,
    serveChainDuringSuite,
    transactionsFrom,
    waitFor,
    writeConfig,
    type E2EDeployment,
} from "./harness";
import { startFaultProxy } from "./faultProxy";
import { nodeProcess } from "../helpers/processes";
import { CRASH_POINTS } from "../../oracle/src/internal/crashPoints";
import { RequestStatus, requestFromJson } from "../../oracle/src/chain/requestEvents";

const OPERATOR = hardhatWallet(3);
const tiny = tinyIntegerModel();
const input = (i: number) => encodeTensors([{ dtype: DType.INT32, shape: [1, 4], data: [BigInt(i), -1n, 2n, 3n] }]);

/** Every request delivered exactly once; the operator sent exactly one successful submission per request. */
async function expectSettledExactlyOnce(d: E2EDeployment, ids: bigint[]): Promise<void> {
    for (const id of ids) {
        const delivery = await d.recorder.delivery(id);
        expect(Number(delivery.count), `request ${id} callbacks`).to.equal(1);
        expect(Number(delivery.resultCode), `request ${id} result code`).to.equal(0);
    }
    expect(await d.recorder.totalCallbacks()).to.equal(BigInt(ids.length));
    const receipts = await transactionsFrom(d, OPERATOR.address);
    const coordinator = (await d.coordinator.getAddress()).toLowerCase();
    const calls = receipts.filter((r) => r.to.toLowerCase() === coordinator);
    expect(
        calls.filter((r) => r.status !== 1),
        "reverted operator transactions",
    ).to.deep.equal([]);
    expect(calls.filter((r) => r.call === "submitResult").length, "submissions").to.equal(ids.length);
}

describe("operator node under faults (end to end)", function () {
    this.timeout(300_000);
    const rpc = serveChainDuringSuite();
    let node: RunningNode | undefined;

    afterEach(async () => {
        await node?.stop();
        node = undefined;
        await hre.network.provider.send("evm_setAutomine", [true]);
    });

    it("settles every request through an RPC endpoint that drops, delays and errors calls", async () => {
        const d = await deployForNode([tiny]);
        const proxy = await startFaultProxy(rpc.url(), {
            dropBefore: 0.05,
            dropAfter: 0.05,
            httpError: 0.05,
            rpcError: 0.05,
            delay: 0.2,
            maxDelayMs: 150,
        });
        try {
            const config = await nodeConfig(d, proxy.url, { chain: { rpcTimeoutMs: 2_000 } });
            node = await startNode(config, {
                wallet: OPERATOR,
                logger: process.env.VERITY_E2E_DEBUG ? createLogger({ level: "debug" }) : silentLogger(),
            });
            const ids: bigint[] = [];
            for (let i = 0; i < 8; i++) ids.push(await request(d, d.modelIds[0]!, input(i)));
            await waitFor("all submitted", () => node!.store.countByState().submitted === ids.length, 120_000);
            await passChallengeWindow();
            await waitFor(
                "all delivered",
                async () => (await d.recorder.totalCallbacks()) === BigInt(ids.length),
                120_000,
            );
            await expectSettledExactlyOnce(d, ids);
            // The proxy really did misbehave, in every way it can.
            expect(proxy.stats.dropBefore).to.be.greaterThan(0);
            expect(proxy.stats.dropAfter).to.be.greaterThan(0);
            expect(proxy.stats.httpError).to.be.greaterThan(0);
            expect(proxy.stats.rpcError).to.be.greaterThan(0);
        } finally {
            await node?.stop();
            node = undefined;
            await proxy.close();
        }
    });

    it("drops a request that a reorg removed, fills the nonce of its lost submission, and keeps serving", async () => {
        const d = await deployForNode([tiny]);
        node = await startNode(await nodeConfig(d, rpc.url()), { wallet: OPERATOR, logger: silentLogger() });
        const snapshot = (await hre.network.provider.send("evm_snapshot", [])) as string;
        const doomed = await request(d, d.modelIds[0]!, input(1));
        await waitFor(
            "doomed request submitted",
            () => node!.store.getRequest(doomed.toString())?.state === "submitted",
        );
        // The node's struct of it, as submitted: the chain's commitment before the reorg.
        const doomedSubmitted = requestFromJson(node.store.getRequest(doomed.toString())!.request);
        expect(doomedSubmitted.status).to.equal(RequestStatus.Submitted);
        expect(await d.coordinator.isCommitted(doomedSubmitted)).to.equal(true);

        // The request's block and the submission's block vanish; the new chain is longer and has neither.
        await hre.network.provider.send("evm_revert", [snapshot]);
        for (let i = 0; i < 4; i++) await hre.network.provider.send("evm_mine", []);
        await waitFor("reorg detected", () => node!.store.getRequest(doomed.toString())?.outcome === "reorged");
        // The new chain holds the request in no state: neither as submitted nor as requested.
        expect(await d.coordinator.isCommitted(doomedSubmitted)).to.equal(false);
        expect(
            await d.coordinator.isCommitted({
                ...doomedSubmitted,
                status: RequestStatus.Requested,
                operator: ethers.ZeroAddress,
                resultCode: 0n,
                challengeEndsAt: 0n,
                outputHash: ethers.ZeroHash,
                traceCommitment: ethers.ZeroHash,
            }),
        ).to.equal(false);

        const survivor = await request(d, d.modelIds[0]!, input(2));
        await waitFor(
            "new request submitted",
            () => node!.store.getRequest(survivor.toString())?.state === "submitted",
        );
        await passChallengeWindow();
        await waitFor("new request delivered", async () => (await d.recorder.totalCallbacks()) === 1n);
        expect(Number((await d.recorder.delivery(survivor)).count)).to.equal(1);
        expect(await d.coordinator.isCommitted(doomedSubmitted)).to.equal(false);
        // The lost submission's nonce was filled (by a no-op or the rebroadcast), so nothing waits behind it.
        const receipts = await transactionsFrom(d, OPERATOR.address);
        const nonces = receipts.map((r) => r.nonce);
        expect(nonces).to.deep.equal([...nonces].sort((a, b) => a - b));
        expect(new Set(nonces).size).to.equal(nonces.length);
    });

    it("replaces a transaction stuck in the pool with higher fees at the same nonce", async () => {
        const d = await deployForNode([tiny]);
        node = await startNode(await nodeConfig(d, rpc.url(), { transactions: { stuckAfterMs: 1_000 } }), {
            wallet: OPERATOR,
            logger: silentLogger(),
        });
        await hre.network.provider.send("evm_setAutomine", [false]);
        const pendingRequest = d.recorder.request(d.modelIds[0]!, input(3), {
            callbackGasLimit: 500_000,
            deadline: (await ethers.provider.getBlock("latest"))!.timestamp + 3_600,
            preferredOperator: ethers.ZeroAddress,
            maxFeeWei: 2n ** 96n - 1n,
        });
        const sent = await pendingRequest;
        await hre.network.provider.send("evm_mine", []);
        const requestReceipt = await sent.wait();
        expect(requestReceipt?.status).to.equal(1);

        // The node executes and broadcasts; nothing mines it, so after stuckAfterMs it re-signs with higher fees.
        // The sender stores a version before it broadcasts it (write-ahead), so wait until the chain's pool holds
        // the newest stored version: mining earlier could race the broadcast and mine the first version.
        let attempts: ReturnType<RunningNode["store"]["attempts"]> = [];
        await waitFor("a replacement in the pool", async () => {
            const [pending] = node!.store.pendingTxs();
            if (pending === undefined) return false;
            attempts = node!.store.attempts(pending.id);
            return attempts.length >= 2 && (await ethers.provider.getTransaction(attempts[0]!.hash)) !== null;
        });
        const [tx] = node.store.pendingTxs();
        const [newest, ...older] = attempts;
        expect(newest!.txId).to.equal(tx!.id);
        // The replacement took the first version's place: the pool no longer holds it.
        expect(await ethers.provider.getTransaction(attempts[attempts.length - 1]!.hash)).to.equal(null);
        for (const old of older) {
            expect(newest!.maxFeePerGas).to.be.greaterThanOrEqual((old.maxFeePerGas * 110n) / 100n);
            expect(newest!.maxPriorityFeePerGas).to.be.greaterThanOrEqual((old.maxPriorityFeePerGas * 110n) / 100n);
        }
        await hre.network.provider.send("evm_setAutomine", [true]);
        await hre.network.provider.send("evm_mine", []);
        // The tracker can mark the request submitted (from the confirmed event) before the sender has read the
        // receipt: wait for both.
        await waitFor(
            "submission mined",
            () => node!.store.countByState().submitted === 1 && node!.store.getTx(tx!.id)?.state === "mined",
        );
        const mined = node.store.getTx(tx!.id);
        expect(mined?.state).to.equal("mined");
        // A replacement, not the first version, was mined; and exactly one version landed.
        expect(mined?.minedHash).to.not.equal(attempts[attempts.length - 1]!.hash);
        const submissions = (await transactionsFrom(d, OPERATOR.address)).filter((r) => r.nonce === tx!.nonce);
        expect(submissions).to.have.length(1);
    });

    it("survives kill -9 at random points in a burst: every request settles exactly once", async () => {
        const d = await deployForNode([tiny]);
        const cli = nodeProcess(
            writeConfig(d, await nodeConfig(d, rpc.url(), { log: { level: "info" } })),
            OPERATOR.privateKey,
        );
        // Seeded kill times so a failure can be replayed.
        let seed = 7;
        const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
        const ids: bigint[] = [];
        try {
            cli.spawn();
            for (let round = 0; round < 4; round++) {
                await waitFor("the node to start", () => cli.starts() >= round + 1, 60_000, 50);
                // The burst arrives while the node runs; the kill lands while it is being worked on.
                for (let i = 0; i < 6; i++) ids.push(await request(d, d.modelIds[0]!, input(round * 10 + i)));
                await new Promise((r) => setTimeout(r, random() * 400));
                await cli.kill("SIGKILL");
                cli.spawn();
            }
            await settle(d, ids);
            await cli.kill("SIGTERM");
            expect(cli.exitCode(), cli.output().slice(-2_000)).to.equal(0);
        } finally {
            await cli.kill("SIGKILL");
        }
        await expectSettledExactlyOnce(d, ids);
        expect(cli.starts()).to.equal(5);
    });

    for (const point of CRASH_POINTS) {
        it(`survives a crash exactly at ${point}: every request settles exactly once`, async () => {
            const d = await deployForNode([tiny]);
            const cli = nodeProcess(
                writeConfig(d, await nodeConfig(d, rpc.url(), { log: { level: "info" } })),
                OPERATOR.privateKey,
            );
            const ids: bigint[] = [];
            for (let i = 0; i < 3; i++) ids.push(await request(d, d.modelIds[0]!, input(i)));
            try {
                // Crash at the second hit, so the first request has gone through the point once already.
                cli.spawn({ VERITY_TEST_CRASH_POINT: `${point}:2` });
                await waitFor(
                    `the crash at ${point}`,
                    () => cli.exitCode() !== null || cli.signal() !== null,
                    60_000,
                    50,
                );
                expect(cli.signal(), cli.output().slice(-2_000)).to.equal("SIGKILL");
                cli.spawn();
                await settle(d, ids);
                await cli.kill("SIGTERM");
            } finally {
                await cli.kill("SIGKILL");
            }
            await expectSettledExactlyOnce(d, ids);
        });
    }
});

/** Waits until every request is submitted on chain, passes the challenge window, waits for every callback. */
async function settle(d: E2EDeployment, ids: bigint[]): Promise<void> {
    await waitFor("every request submitted", async () => (await submittedIds(d, ids)) === ids.length, 120_000, 250);
    await passChallengeWindow();
    await waitFor(
        "every request delivered",
        async () => (await d.recorder.totalCallbacks()) === BigInt(ids.length),
        120_000,
        250,
    );
}

/** How many of `ids` have a ResultSubmitted event. */
async function submittedIds(d: E2EDeployment, ids: bigint[]): Promise<number> {
    const events = await d.coordinator.queryFilter(d.coordinator.filters.ResultSubmitted(), d.startBlock);
    const submitted = new Set(events.map((e) => e.args.requestId));
    return ids.filter((id) => submitted.has(id)).length;
}
