/**
 * The operator node end to end against the in-process Hardhat chain over HTTP: real ONNX models fetched and
 * verified by hash, requests from a consumer contract, results submitted, finalized and delivered by callback.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { hexlify } from "ethers";
import { writeFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { startNode, type RunningNode } from "../../oracle/src/node";
import { requestFromJson } from "../../oracle/src/chain/requestEvents";
import { DISPUTE_TIMEOUT } from "../helpers/verity";
import { challengeAs } from "../helpers/disputes";
import { createLogger, silentLogger } from "../../oracle/src/internal/logger";
import { Executor } from "../../oracle/src/runtime/executor";
import { parseManifest } from "../../oracle/src/protocol/manifest";
import { decodeTensors, DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { failingModel, multiIOFloatModel, tinyIntegerModel } from "../../models/examples";
import {
    deployForNode,
    hardhatWallet,
    nodeConfig,
    passChallengeWindow,
    request,
    requestedStruct,
    serveChainDuringSuite,
    transactionsFrom,
    waitFor,
    type E2EDeployment,
    type ModelArtifact,
} from "./harness";

const OPERATOR = hardhatWallet(3); // deployCore's first operator

/** What an independent executor computes for `input` on `model` (the chain must deliver exactly this). */
async function expected(model: ModelArtifact, input: Uint8Array): Promise<{ resultCode: number; output: string }> {
    const executor = new Executor({ concurrency: 1, timeoutMs: 30_000 });
    try {
        await executor.load("m", model.onnx, parseManifest(model.manifestJson));
        const result = await executor.run("m", input);
        return { resultCode: result.resultCode, output: hexlify(result.output) };
    } finally {
        await executor.close();
    }
}

async function delivered(d: E2EDeployment, id: bigint): Promise<{ resultCode: number; count: number; output: string }> {
    const r = await d.recorder.delivery(id);
    return { resultCode: Number(r.resultCode), count: Number(r.count), output: r.output };
}

describe("operator node (end to end)", function () {
    this.timeout(180_000);
    const rpc = serveChainDuringSuite();
    let node: RunningNode | undefined;

    afterEach(async () => {
        await node?.stop();
        node = undefined;
    });

    const tiny = tinyIntegerModel();
    const multi = multiIOFloatModel();
    const tinyInput = (values: bigint[]) => encodeTensors([{ dtype: DType.INT32, shape: [1, 4], data: values }]);
    const multiInput = (features: bigint[], scale: bigint) =>
        encodeTensors([
            { dtype: DType.INT32, shape: [1, 4], data: features },
            { dtype: DType.INT32, shape: [1, 1], data: [scale] },
        ]);

    it("serves an integer model and a multi-input/output float model, then settles by callback", async () => {
        const d = await deployForNode([tiny, multi]);
        const [tinyId, multiId] = d.modelIds as [string, string];
        node = await startNode(await nodeConfig(d, rpc.url()), { wallet: OPERATOR, logger: silentLogger() });

        const cases: { model: ModelArtifact; modelId: string; input: Uint8Array }[] = [
            { model: tiny, modelId: tinyId, input: tinyInput([1n, -2n, 300n, 4n]) },
            { model: tiny, modelId: tinyId, input: tinyInput([0n, 0n, 0n, -7n]) },
            { model: multi, modelId: multiId, input: multiInput([12_345n, -5_000n, 0n, 99_999n], 150n) },
            { model: multi, modelId: multiId, input: multiInput([1n, 2n, 3n, 4n], -25n) },
        ];
        const ids: bigint[] = [];
        for (const c of cases) ids.push(await request(d, c.modelId, c.input));

        await waitFor("all results submitted", () => node!.store.countByState().submitted === cases.length);
        await passChallengeWindow();
        await waitFor(
            "all results delivered",
            async () => (await d.recorder.totalCallbacks()) === BigInt(cases.length),
        );

        for (const [i, c] of cases.entries()) {
            const want = await expected(c.model, c.input);
            const got = await delivered(d, ids[i]!);
            expect(got.count, `request ${i} delivered once`).to.equal(1);
            expect(got.resultCode, `request ${i} result code`).to.equal(0);
            expect(got.output, `request ${i} output`).to.equal(want.output);
            // The multi-IO model answers with two tensors, in manifest order.
            expect(decodeTensors(Buffer.from(got.output.slice(2), "hex")).length).to.equal(
                c.model === multi ? 2 : decodeTensors(Buffer.from(want.output.slice(2), "hex")).length,
            );
        }
        await waitFor("the node records the settlements", () => node!.store.outcomes().finalized === cases.length);
        expect(node.store.outcomes(), "outcomes").to.deep.equal({ finalized: cases.length });
        // The operator was paid: its coordinator balance holds the fees minus the protocol's share.
        expect(await d.coordinator.balanceOf(OPERATOR.address)).to.be.greaterThan(0n);
    });

    it("answers malformed input with INVALID_INPUT and a failing model with MODEL_ERROR, and keeps serving", async () => {
        const failing = failingModel();
        const d = await deployForNode([tiny, failing]);
        const [tinyId, failingId] = d.modelIds as [string, string];
        node = await startNode(await nodeConfig(d, rpc.url()), { wallet: OPERATOR, logger: silentLogger() });

        const garbage = await request(d, tinyId, Uint8Array.from([0xde, 0xad, 0xbe, 0xef]));
        const wrongShape = await request(
            d,
            tinyId,
            encodeTensors([{ dtype: DType.INT32, shape: [1, 3], data: [1n, 2n, 3n] }]),
        );
        const wrongDtype = await request(
            d,
            tinyId,
            encodeTensors([{ dtype: DType.INT64, shape: [1, 4], data: [1n, 2n, 3n, 4n] }]),
        );
        const failingInput = failing.badInput;
        const modelError = await request(d, failingId, failingInput);
        const good = await request(d, tinyId, tinyInput([5n, 6n, 7n, 8n]));

        await waitFor("all results submitted", () => node!.store.countByState().submitted === 5);
        await passChallengeWindow();
        await waitFor("all delivered", async () => (await d.recorder.totalCallbacks()) === 5n);

        for (const id of [garbage, wrongShape, wrongDtype]) {
            expect(await delivered(d, id)).to.deep.equal({ resultCode: 1, count: 1, output: "0x" });
        }
        expect(await delivered(d, modelError)).to.deep.equal({ resultCode: 2, count: 1, output: "0x" });
        const ok = await delivered(d, good);
        expect(ok.resultCode).to.equal(0);
        expect(ok.output).to.equal((await expected(tiny, tinyInput([5n, 6n, 7n, 8n]))).output);
    });

    it("refuses a model whose bytes do not match the registered hash, declines its requests, serves the rest", async () => {
        const d = await deployForNode([tiny, multi]);
        const [tinyId, multiId] = d.modelIds as [string, string];
        // Tamper with the multi model's file after registration: one byte flipped.
        const tampered = Uint8Array.from(multi.onnx);
        tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff;
        writeFileSync(d.modelPaths[1]!, tampered);

        node = await startNode(await nodeConfig(d, rpc.url()), { wallet: OPERATOR, logger: silentLogger() });
        const health = (await (await fetch(`${node.httpUrl}/healthz`)).json()) as {
            status: string;
            checks: { models: { ok: boolean; detail?: string } };
        };
        expect(health.status).to.equal("degraded");
        expect(health.checks.models.detail).to.match(/MODEL_HASH_MISMATCH|hash/i);

        const refused = await request(d, multiId, multiInput([1n, 2n, 3n, 4n], 100n), { deadlineIn: 120 });
        const served = await request(d, tinyId, tinyInput([1n, 1n, 1n, 1n]));
        await waitFor("tiny request submitted", () => node!.store.countByState().submitted === 1);
        await waitFor(
            "multi request declined",
            () => node!.store.getRequest(refused.toString())?.outcome === "declined",
        );
        expect(node.store.getRequest(served.toString())?.state).to.equal("submitted");

        // Nothing was submitted for the declined request, so its consumer can cancel after the deadline: it is
        // still open, as requested.
        expect(await d.coordinator.isCommitted(await requestedStruct(d, refused))).to.equal(true);
        const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text();
        expect(metrics).to.match(/verity_requests_failed_total\{model_id="[^"]+",reason="declined"\} 1/);
        expect(metrics).to.match(/verity_requests_served_total\{model_id="[^"]+",result_code="0"\} 1/);
    });

    it("batches submissions and finalizations into the batch entry points", async () => {
        const d = await deployForNode([tiny]);
        const [tinyId] = d.modelIds as [string];
        node = await startNode(
            await nodeConfig(d, rpc.url(), { batching: { enabled: true, maxSize: 4, maxWaitMs: 300 } }),
            { wallet: OPERATOR, logger: silentLogger() },
        );
        const inputs = Array.from({ length: 6 }, (_, i) => tinyInput([BigInt(i), 1n, 2n, 3n]));
        const ids: bigint[] = [];
        for (const input of inputs) ids.push(await request(d, tinyId, input));
        await waitFor("all submitted", () => node!.store.countByState().submitted === inputs.length);
        await passChallengeWindow();
        await waitFor("all delivered", async () => (await d.recorder.totalCallbacks()) === BigInt(inputs.length));

        // Every transaction the operator sent: batches of at most 4, and fewer transactions than requests.
        const kinds = (await transactionsFrom(d, OPERATOR.address)).map((t) => t.call);
        expect(kinds.filter((k) => k === "submitAttestedResults").length).to.be.within(1, 3);
        expect(
            kinds.filter((k) => k === "submitResult").length +
                kinds.filter((k) => k === "submitAttestedResults").length,
        ).to.be.lessThan(inputs.length);
        expect(kinds).to.include("finalizeBatch");
        for (const [i, id] of ids.entries()) {
            const got = await delivered(d, id);
            expect(got.count).to.equal(1);
            expect(got.output).to.equal((await expected(tiny, inputs[i]!)).output);
        }
    });

    it("takes over another operator's requests once their exclusive window ends, and not before", async () => {
        const d = await deployForNode([tiny], { operatorCount: 2 });
        const [tinyId] = d.modelIds as [string];
        const absent = hardhatWallet(4); // registered and staked, but not running
        node = await startNode(await nodeConfig(d, rpc.url()), { wallet: OPERATOR, logger: silentLogger() });
        const id = await request(d, tinyId, tinyInput([1n, 2n, 3n, 4n]), { preferred: absent.address });
        // Several rounds pass inside the exclusive window: the node waits (no transaction, request pending).
        for (let i = 0; i < 5; i++) await node.nextRound();
        const waiting = node.store.getRequest(id.toString());
        expect(waiting?.state).to.equal("pending");
        expect(waiting?.notBefore).to.be.greaterThan(0);
        expect(await d.coordinator.isCommitted(await requestedStruct(d, id))).to.equal(true);

        await passChallengeWindow(31); // past the 30 s exclusive window
        await waitFor("backup submission", () => node!.store.getRequest(id.toString())?.state === "submitted");
        const [event] = await d.coordinator.queryFilter(d.coordinator.filters.ResultSubmitted(id));
        expect(event?.args.operator).to.equal(OPERATOR.address);
    });

    it("two nodes share a model by rotation: each request is submitted once, by its pick, with no reverts", async () => {
        const d = await deployForNode([tiny], { operatorCount: 2 });
        const [tinyId] = d.modelIds as [string];
        const second = hardhatWallet(4);
        node = await startNode(await nodeConfig(d, rpc.url()), { wallet: OPERATOR, logger: silentLogger() });
        const other = await startNode(await nodeConfig(d, rpc.url()), {
            wallet: second,
            logger: silentLogger(),
            noHttp: true,
        });
        try {
            // Enough requests that the rotation picks each operator at least once.
            const ids: bigint[] = [];
            const picks = new Set<string>();
            for (let i = 0; ids.length < 4 || picks.size < 2; i++) {
                if (i >= 32) throw new Error("rotation never picked both operators");
                const id = await request(d, tinyId, tinyInput([BigInt(i), 0n, 0n, 1n]));
                ids.push(id);
                picks.add(await d.staking.operatorAt(tinyId, id));
            }
            await waitFor("all submitted", async () => {
                const events = await d.coordinator.queryFilter(d.coordinator.filters.ResultSubmitted());
                return events.length === ids.length;
            });
            const events = await d.coordinator.queryFilter(d.coordinator.filters.ResultSubmitted());
            const by = new Map(events.map((e) => [e.args.requestId, e.args.operator]));
            for (const id of ids) {
                const pick = await d.staking.operatorAt(tinyId, id);
                expect(by.get(id), `request ${id}`).to.equal(pick);
            }
            // Both operators served some.
            expect(new Set(by.values()).size).to.equal(2);
            // Neither node paid for a losing race: every transaction they sent succeeded.
            for (const wallet of [OPERATOR, second]) {
                const sent = await transactionsFrom(d, wallet.address);
                expect(
                    sent.filter((t) => t.status !== 1),
                    wallet.address,
                ).to.deep.equal([]);
            }
        } finally {
            await other.stop();
        }
    });

    it("expires a dispute its resolver never decides, so the operator's collateral does not stay locked", async () => {
        const d = await deployForNode([tiny]);
        const [tinyId] = d.modelIds as [string];
        node = await startNode(await nodeConfig(d, rpc.url()), { wallet: OPERATOR, logger: silentLogger() });
        const id = await request(d, tinyId, tinyInput([9n, 8n, 7n, 6n]));
        await waitFor("submitted", () => node!.store.getRequest(id.toString())?.state === "submitted");

        // A challenge the (test) resolver leaves open.
        const submitted = requestFromJson(node.store.getRequest(id.toString())!.request);
        const bond = await d.coordinator.challengeBond(submitted.collateralWei);
        await d.token.mint(await d.challenger.getAddress(), bond);
        await d.token.connect(d.challenger).approve(await d.coordinator.getAddress(), bond);
        const { request: disputed } = await challengeAs(d, d.challenger, submitted);
        await waitFor("disputed", () => node!.store.getRequest(id.toString())?.state === "disputed");
        expect(await d.coordinator.isCommitted(disputed)).to.equal(true);
        expect((await d.staking.getStake(OPERATOR.address)).lockedWei).to.equal(submitted.collateralWei);

        await passChallengeWindow(DISPUTE_TIMEOUT + 1);
        await waitFor("dispute expired", () => node!.store.getRequest(id.toString())?.outcome === "voided");
        expect(await d.coordinator.isCommitted(disputed)).to.equal(false);
        expect((await d.staking.getStake(OPERATOR.address)).lockedWei).to.equal(0n);
        const [expired] = await d.coordinator.queryFilter(d.coordinator.filters.DisputeExpired(id));
        expect(expired).to.not.equal(undefined);
        // The consumer hears that the request was voided.
        expect(await delivered(d, id)).to.deep.include({ resultCode: 255, count: 1 });
    });

    it("says at start-up that a chain mining only for transactions never confirms events by itself", async () => {
        const d = await deployForNode([tiny]);
        const lines: string[] = [];
        const destination = new PassThrough().on("data", (chunk: Buffer) => lines.push(chunk.toString()));
        const logger = createLogger({ level: "warn", destination });
        const config = await nodeConfig(d, rpc.url(), { chain: { confirmations: 2 } });
        node = await startNode(config, { wallet: OPERATOR, logger });
        const warning = lines
            .map((l) => JSON.parse(l) as { msg: string; confirmations?: number })
            .find((l) => l.msg.startsWith("this chain mines a block only when a transaction arrives"));
        expect(warning, lines.join("")).to.deep.include({ confirmations: 2 });
        expect(warning?.msg).to.contain("set chain.confirmations to 0");
    });

    it("health: degraded when no block arrives for maxHeadAgeSeconds on a chain that mines by itself", async () => {
        const d = await deployForNode([tiny]);
        type Health = { status: string; checks: { sync: { ok: boolean; detail: string } } };
        const health = async () => (await (await fetch(`${node!.httpUrl}/healthz`)).json()) as Health;
        // A chain that mines by itself, and has stopped: no block arrives while the node runs.
        await ethers.provider.send("evm_setAutomine", [false]);
        try {
            node = await startNode(await nodeConfig(d, rpc.url(), { health: { maxHeadAgeSeconds: 1 } }), {
                wallet: OPERATOR,
                logger: silentLogger(),
            });
            await node.nextRound();
            expect((await health()).status).to.equal("ok");
            await waitFor("degraded", async () => (await health()).status === "degraded");
            const halted = await health();
            expect(halted.checks.sync.ok).to.equal(false);
            expect(halted.checks.sync.detail).to.contain("more than health.maxHeadAgeSeconds 1");
            const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text();
            expect(Number(/^verity_head_age_seconds (\d+)$/m.exec(metrics)?.[1])).to.be.greaterThan(1);
            expect(metrics).to.match(/^verity_sync_lag_blocks 0$/m);
            // The chain moves again: healthy.
            await ethers.provider.send("evm_mine", []);
            await waitFor("ok again", async () => (await health()).status === "ok");
        } finally {
            await ethers.provider.send("evm_setAutomine", [true]);
        }
    });

    it("health: degraded while the processed block trails the head by more than maxLagBlocks", async () => {
        const d = await deployForNode([tiny]);
        // Started from the deployment's block with 300 blocks to scan, one per eth_getLogs call.
        await ethers.provider.send("hardhat_mine", ["0x12c"]);
        const config = await nodeConfig(d, rpc.url(), {
            chain: { maxBlockRange: 1, startBlock: (await ethers.provider.getBlockNumber()) - 300 },
            health: { maxLagBlocks: 5 },
        });
        node = await startNode(config, { wallet: OPERATOR, logger: silentLogger() });
        type Health = { status: string; checks: { sync: { ok: boolean; detail: string } } };
        let seen: Health | undefined;
        // Seen while the first scan goes on: the head is read first, the checkpoint advances range by range.
        await waitFor(
            "degraded while scanning",
            async () => {
                seen = (await (await fetch(`${node!.httpUrl}/healthz`)).json()) as Health;
                return seen.status === "degraded";
            },
            60_000,
            10,
        );
        expect(seen!.checks.sync.detail).to.match(
            /\d+ blocks behind beyond 0 confirmations \(more than health.maxLagBlocks 5\)/,
        );
        await node.nextRound();
        const caughtUp = (await (await fetch(`${node.httpUrl}/healthz`)).json()) as { status: string };
        expect(caughtUp.status).to.equal("ok");
    });

    it("backfills requests made while it was down from its checkpoint after a restart", async () => {
        const d = await deployForNode([tiny]);
        const [tinyId] = d.modelIds as [string];
        const config = await nodeConfig(d, rpc.url());
        node = await startNode(config, { wallet: OPERATOR, logger: silentLogger() });
        const first = await request(d, tinyId, tinyInput([1n, 2n, 3n, 4n]));
        await waitFor("first submitted", () => node!.store.getRequest(first.toString())?.state === "submitted");
        await node.stop();

        const whileDown = [];
        for (let i = 0; i < 3; i++) whileDown.push(await request(d, tinyId, tinyInput([BigInt(i), 0n, 0n, 0n])));
        node = await startNode(config, { wallet: OPERATOR, logger: silentLogger() });
        await waitFor("backfilled and submitted", () => node!.store.countByState().submitted === 4);
        await passChallengeWindow();
        await waitFor("all delivered", async () => (await d.recorder.totalCallbacks()) === 4n);
        for (const id of [first, ...whileDown]) expect((await delivered(d, id)).count).to.equal(1);
    });
});
