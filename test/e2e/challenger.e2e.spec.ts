/**
 * The challenger end to end, against the in-process Hardhat chain over HTTP with the real ReexecutionResolver: an
 * honest operator node and a lying operator (its wrong results sent straight from the test with ethers) serve the
 * same REEXECUTION model; a challenger node catches the liar.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { hexlify, keccak256 } from "ethers";
import { startNode, type RunningNode } from "../../oracle/src/node";
import { silentLogger } from "../../oracle/src/internal/logger";
import { nodeProcess } from "../helpers/processes";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { loadVerifiableModel, runVerifiable } from "../../oracle/src/verify/execute";
import { compileModel } from "../../oracle/src/verify/program";
import type { Request } from "../../oracle/src/chain/requestEvents";
import { integerMlpModel, tinyIntegerModel } from "../../models/examples";
import { TOKEN } from "../helpers/verity";
import { hardhatWallet, nodeConfig, passChallengeWindow, serveChainDuringSuite, waitFor } from "./harness";
import { COLLATERAL, deployVerifiableForNode, requestFrom, type VerifiableE2EDeployment } from "./verifiable";

const HONEST = hardhatWallet(3); // operators[0]
const CHALLENGER = hardhatWallet(6); // the fixture's challenger account

const mlp = integerMlpModel({ widths: [4, 8, 3] });
const reference = loadVerifiableModel(mlp.onnx, mlp.manifest);
const x = (values: number[]): Uint8Array =>
    encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: values.map(BigInt) }]);
/** A well-formed output of the model's shape that is not the model's answer. */
function wrongOutput(input: Uint8Array): Uint8Array {
    const right = runVerifiable(reference, input);
    const scores = [7n, -7n, 1_000n];
    const wrong = encodeTensors([
        { dtype: DType.INT64, shape: [1], data: [2n] },
        { dtype: DType.INT32, shape: [1, 3], data: scores },
    ]);
    if (keccak256(wrong) === right.outputHash) throw new Error("the wrong output happens to be right");
    return wrong;
}

describe("challenger node (end to end)", function () {
    this.timeout(300_000);
    const rpc = serveChainDuringSuite();
    let nodes: RunningNode[] = [];

    afterEach(async () => {
        for (const node of nodes) await node.stop();
        nodes = [];
    });

    it("catches a lying operator: slashed, the consumer gets the correct output, the challenger is paid", async function () {
        const d = await deployVerifiableForNode([{ model: mlp }]);
        const [modelId] = d.modelIds as [string];
        const liar = d.operators[1]!;
        const liarAddress = await liar.getAddress();
        await d.token.mint(CHALLENGER.address, 10n * TOKEN);
        const tokensBefore = await d.token.balanceOf(CHALLENGER.address);
        const liarStakeBefore = (await d.staking.getStake(liarAddress)).stakedWei;
        const honestStakeBefore = (await d.staking.getStake(HONEST.address)).stakedWei;

        const honestNode = await startNode(await nodeConfig(d, rpc.url()), {
            wallet: HONEST,
            logger: silentLogger(),
            noHttp: true,
        });
        nodes.push(honestNode);
        const challengerNode = await startNode(
            await nodeConfig(d, rpc.url(), {
                roles: { operator: false, finalizer: false, challenger: true },
                challenger: { maxBondWei: (5n * TOKEN).toString(), withdrawMinWei: "1" },
            }),
            { wallet: CHALLENGER, logger: silentLogger(), noHttp: true },
        );
        nodes.push(challengerNode);

        // The honest operator's requests (including malformed input, answered INVALID_INPUT).
        const honestInputs = [x([1, -2, 100, -128]), x([127, 127, -128, 0]), Uint8Array.from([1, 2, 3])];
        const honest: Request[] = [];
        for (const input of honestInputs) {
            honest.push(await requestFrom(d, modelId, input, { preferred: HONEST.address }));
        }

        // The liar's: a wrong output, a wrong error code for a valid input, a wrong OK for malformed bytes, and one
        // correct answer (which must not be disputed either).
        const lies: { input: Uint8Array; resultCode: number; output: Uint8Array }[] = [
            { input: x([12, -7, 100, -128]), resultCode: 0, output: new Uint8Array(0) },
            { input: x([3, 3, 3, 3]), resultCode: 1, output: new Uint8Array(0) },
            { input: Uint8Array.from([0xde, 0xad]), resultCode: 0, output: new Uint8Array(0) },
        ];
        lies[0]!.output = wrongOutput(lies[0]!.input);
        lies[2]!.output = wrongOutput(x([0, 0, 0, 0]));
        const truthfulInput = x([9, 8, 7, 6]);
        const truthful = runVerifiable(reference, truthfulInput);
        const liarRequests: Request[] = [];
        for (const lie of [
            ...lies,
            { input: truthfulInput, resultCode: truthful.resultCode, output: truthful.output },
        ]) {
            const request = await requestFrom(d, modelId, lie.input, { preferred: liarAddress });
            await (
                await d.coordinator.connect(liar).submitResult(request, lie.resultCode, lie.output, ethers.ZeroHash)
            ).wait();
            liarRequests.push(request);
        }
        const lied = liarRequests.slice(0, lies.length);
        const liarTruthful = liarRequests[lies.length]!;

        // The challenger disputes the three lies and wins each (decided in the challenge transaction).
        await waitFor(
            "the challenger to win three disputes",
            () => challengerNode.store.watchedOutcomes().won === lies.length,
            120_000,
        );
        // Slashed: the locked collateral of each wrong result.
        const liarStakeAfter = (await d.staking.getStake(liarAddress)).stakedWei;
        expect(liarStakeBefore - liarStakeAfter).to.equal(BigInt(lies.length) * COLLATERAL);

        // The consumer got the correct result of each lie, delivered by the dispute: the reference's.
        for (const [i, request] of lied.entries()) {
            const want = runVerifiable(reference, lies[i]!.input);
            const got = await d.recorder.delivery(request.requestId);
            expect(Number(got.count), `lie ${i} delivered once`).to.equal(1);
            expect(Number(got.resultCode), `lie ${i} result code`).to.equal(want.resultCode);
            expect(got.output, `lie ${i} output`).to.equal(hexlify(want.output));
        }

        // The challenger withdrew bond + reward: its wallet holds more tokens than before.
        await waitFor(
            "the challenger's withdrawal",
            async () => (await d.token.balanceOf(CHALLENGER.address)) > tokensBefore,
            60_000,
        );
        await waitFor(
            "nothing left in the coordinator",
            async () => (await d.coordinator.balanceOf(CHALLENGER.address)) === 0n,
        );
        const params = await d.coordinator.getParams();
        const rewardPerDispute = (COLLATERAL * BigInt(params.challengerRewardBps)) / 10_000n;
        expect((await d.token.balanceOf(CHALLENGER.address)) - tokensBefore).to.equal(
            BigInt(lies.length) * rewardPerDispute,
        );

        // The honest operator's results (and the liar's one truthful answer) are checked, found correct, settled.
        await waitFor(
            "the honest results submitted",
            () => honestNode.store.countByState().submitted === honest.length,
        );
        await waitFor(
            "the challenger to check every result",
            () => (challengerNode.store.watchedOutcomes().correct ?? 0) === honest.length + 1,
        );
        await passChallengeWindow();
        await waitFor("the honest results settled", () => honestNode.store.outcomes().finalized === honest.length);
        for (const [i, request] of honest.entries()) {
            const want = runVerifiable(reference, honestInputs[i]!);
            const got = await d.recorder.delivery(request.requestId);
            expect(Number(got.count)).to.equal(1);
            expect(Number(got.resultCode)).to.equal(want.resultCode);
            expect(got.output).to.equal(hexlify(want.output));
        }
        expect((await d.staking.getStake(HONEST.address)).stakedWei).to.equal(honestStakeBefore);

        // Challenged: exactly the three lies, each once, all by the challenger.
        const challenges = await d.coordinator.queryFilter(d.coordinator.filters.ResultChallenged());
        expect(challenges.map((e) => e.args.requestId).sort()).to.deep.equal(
            lied.map((r) => BigInt(r.requestId)).sort(),
        );
        expect(new Set(challenges.map((e) => e.args.challenger))).to.deep.equal(new Set([CHALLENGER.address]));
        expect(challenges.map((e) => e.args.requestId)).not.to.include(BigInt(liarTruthful.requestId));
        // Each by commit then reveal: one commitment of the challenger's per lie.
        const commitments = await d.coordinator.queryFilter(
            d.coordinator.filters.ChallengeCommitted(undefined, CHALLENGER.address),
        );
        expect(commitments).to.have.length(lies.length);
        expect(challengerNode.store.watchedOutcomes()).to.deep.equal({ won: lies.length, correct: honest.length + 1 });
        const won = (await challengerNode.metrics.disputesWon.get()).values.reduce((n, v) => n + v.value, 0);
        expect(won).to.equal(lies.length);
    });

    it("checks a request a reorg announced again with another input against the new chain's input", async function () {
        const d = await deployVerifiableForNode([{ model: mlp }]);
        const [modelId] = d.modelIds as [string];
        const liar = d.operators[1]!;
        const liarAddress = await liar.getAddress();
        await d.token.mint(CHALLENGER.address, 10n * TOKEN);
        const challengerNode = await startNode(
            await nodeConfig(d, rpc.url(), {
                roles: { operator: false, finalizer: false, challenger: true },
                challenger: { maxBondWei: (5n * TOKEN).toString(), withdrawMinWei: "1" },
            }),
            { wallet: CHALLENGER, logger: silentLogger(), noHttp: true },
        );
        nodes.push(challengerNode);
        const snapshot = (await ethers.provider.send("evm_snapshot", [])) as string;

        // The old chain: the liar answers a request truthfully; the challenger finds it correct.
        const oldInput = x([1, 2, 3, 4]);
        const truth = runVerifiable(reference, oldInput);
        const first = await requestFrom(d, modelId, oldInput, { preferred: liarAddress });
        await (
            await d.coordinator.connect(liar).submitResult(first, truth.resultCode, truth.output, ethers.ZeroHash)
        ).wait();
        const id = String(first.requestId);
        await waitFor("the truthful result checked", () => challengerNode.store.getWatched(id)?.outcome === "correct");

        // A reorg: the new chain announces the same request id with another input, and the liar submits the
        // same bytes, wrong for that input.
        await ethers.provider.send("evm_revert", [snapshot]);
        const newInput = x([-5, 6, -7, 8]);
        expect(runVerifiable(reference, newInput).outputHash).to.not.equal(truth.outputHash);
        const second = await requestFrom(d, modelId, newInput, { preferred: liarAddress });
        expect(second.requestId).to.equal(first.requestId);
        await (
            await d.coordinator.connect(liar).submitResult(second, truth.resultCode, truth.output, ethers.ZeroHash)
        ).wait();
        for (let i = 0; i < 3; i++) await ethers.provider.send("evm_mine", []);

        await waitFor(
            "the lie on the new chain disputed and won",
            () => challengerNode.store.getWatched(id)?.outcome === "won",
            90_000,
        );
        expect(challengerNode.store.getWatched(id)!.input).to.deep.equal(newInput);
        const resolved = await d.coordinator.queryFilter(d.coordinator.filters.DisputeResolved());
        expect(resolved.map((e) => [e.args.requestId, e.args.operatorAtFault, e.args.challenger])).to.deep.equal([
            [second.requestId, true, CHALLENGER.address],
        ]);
        const delivered = await d.recorder.delivery(second.requestId);
        expect(delivered.output).to.equal(hexlify(runVerifiable(reference, newInput).output));
    });

    it("refuses to serve a REEXECUTION model whose program is not its compilation, or outside the subset", async function () {
        const other = integerMlpModel({ widths: [4, 8, 3], seed: 99 });
        const tiny = tinyIntegerModel(); // ReduceSum, int32 input: outside the subset
        const d = await deployVerifiableForNode([
            { model: mlp, programOverride: compileModel(other.onnx, other.manifest).program },
            { model: tiny, programOverride: compileModel(other.onnx, other.manifest).program },
            { model: mlp },
        ]);
        const [wrongProgram, notVerifiable, good] = d.modelIds as [string, string, string];
        const node = await startNode(await nodeConfig(d, rpc.url()), {
            wallet: HONEST,
            logger: silentLogger(),
        });
        nodes.push(node);
        const health = (await (await fetch(`${node.httpUrl}/healthz`)).json()) as {
            status: string;
            checks: { models: { detail?: string } };
        };
        expect(health.status).to.equal("degraded");
        expect(health.checks.models.detail).to.match(/compiled program hashes to/);
        expect(health.checks.models.detail).to.match(/outside the verifiable subset/);

        const input = x([1, 2, 3, 4]);
        const declined = await requestFrom(d, wrongProgram, input, { preferred: HONEST.address });
        const tinyInput = encodeTensors([{ dtype: DType.INT32, shape: [1, 4], data: [1n, 2n, 3n, 4n] }]);
        const declinedToo = await requestFrom(d, notVerifiable, tinyInput, { preferred: HONEST.address });
        const served = await requestFrom(d, good, input, { preferred: HONEST.address });
        await waitFor("the good model's result submitted", () => node.store.countByState().submitted === 1);
        await waitFor("the others declined", () => node.store.outcomes().declined === 2);
        expect(node.store.getRequest(String(declined.requestId))).to.include({ state: "done", outcome: "declined" });
        expect(node.store.getRequest(String(declinedToo.requestId))).to.include({ state: "done", outcome: "declined" });
        expect(node.store.getRequest(String(served.requestId))!.outputHash).to.equal(
            runVerifiable(reference, input).outputHash,
        );
    });

    /**
     * The challenger as the `verity node` CLI in a child process, killed with SIGKILL at a crash point on its way
     * from deciding a dispute to recording its reveal's receipt, then restarted: each lie is still committed once
     * and revealed once, with the salt stored before its commitment was sent.
     */
    for (const spec of [
        "challenger.dispute_decided:1", // decided (stored as wrong), nothing signed yet
        "challenger.salt_saved:1", // the first salt stored, its commitment not signed
        "tx.stored_before_broadcast:2", // the first commitment signed and stored (the approval was the first)
        "challenger.commit_sent:1", // the first commitment broadcast (and mined), its receipt not recorded
        "tx.mined_recorded:2", // the first commitment's receipt recorded (committed), its reveal not sent
        "challenger.reveal_due:1", // a commitment mined, its reveal about to be signed
        "challenger.reveal_sent:1", // the first reveal broadcast (and mined), its receipt not recorded
    ]) {
        it(`disputes each lie exactly once across a kill -9 at ${spec}`, async function () {
            const d = await deployVerifiableForNode([{ model: mlp }]);
            const [modelId] = d.modelIds as [string];
            const liar = d.operators[1]!;
            await d.token.mint(CHALLENGER.address, 10n * TOKEN);
            const lies: Request[] = [];
            for (const values of [
                [1, 2, 3, 4],
                [-5, 6, -7, 8],
            ]) {
                const input = x(values);
                const request = await requestFrom(d, modelId, input, { preferred: await liar.getAddress() });
                await (
                    await d.coordinator.connect(liar).submitResult(request, 0, wrongOutput(input), ethers.ZeroHash)
                ).wait();
                lies.push(request);
            }
            const config = await nodeConfig(d, rpc.url(), {
                roles: { operator: false, finalizer: false, challenger: true },
                challenger: { maxBondWei: (5n * TOKEN).toString(), withdrawMinWei: "1" },
                log: { level: "info" },
            });
            const configPath = join(d.dir, "challenger.config.json");
            writeFileSync(configPath, JSON.stringify(config, null, 2));
            const cli = nodeProcess(configPath, CHALLENGER.privateKey);
            try {
                cli.spawn({ VERITY_TEST_CRASH_POINT: spec });
                await waitFor("the crash", () => cli.exitCode() !== null || cli.signal() !== null, 120_000, 50);
                expect(cli.signal(), cli.output().slice(-3_000)).to.equal("SIGKILL");
                cli.spawn();
                await waitFor(
                    "both disputes decided",
                    async () =>
                        (await d.coordinator.queryFilter(d.coordinator.filters.DisputeResolved(), d.startBlock))
                            .length === lies.length,
                    120_000,
                    250,
                );
                await waitFor(
                    "the winnings withdrawn",
                    async () => (await d.coordinator.balanceOf(CHALLENGER.address)) === 0n,
                    60_000,
                    250,
                );
                await cli.kill("SIGTERM");
            } finally {
                await cli.kill("SIGKILL");
            }
            const resolved = await d.coordinator.queryFilter(d.coordinator.filters.DisputeResolved(), d.startBlock);
            expect(
                resolved.map((e) => [e.args.requestId, e.args.operatorAtFault, e.args.challenger]),
            ).to.have.deep.members(lies.map((r) => [BigInt(r.requestId), true, CHALLENGER.address]));
            // Each lie committed once and revealed once; no transaction sent twice, none reverted.
            const sent = await challengerTransactions(d);
            for (const call of ["commitChallenge", "challenge"]) {
                const calls = sent.filter((t) => t.call === call);
                expect(calls, `${call}: ${cli.output().slice(-3_000)}`).to.have.length(lies.length);
                expect(calls.every((t) => t.status === 1)).to.equal(true);
            }
            expect(sent.filter((t) => t.call === "approve")).to.have.length(1);
        });
    }
});

/** The challenger's transactions in this deployment's blocks: the function called and the receipt status. */
async function challengerTransactions(d: VerifiableE2EDeployment): Promise<{ call: string; status: number }[]> {
    const latest = await ethers.provider.getBlockNumber();
    const coordinator = (await d.coordinator.getAddress()).toLowerCase();
    const token = (await d.token.getAddress()).toLowerCase();
    const out: { call: string; status: number }[] = [];
    for (let n = d.startBlock; n <= latest; n++) {
        const block = await ethers.provider.getBlock(n, true);
        for (const tx of block?.prefetchedTransactions ?? []) {
            if (tx.from.toLowerCase() !== CHALLENGER.address.toLowerCase()) continue;
            const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
            const to = tx.to?.toLowerCase();
            const iface = to === coordinator ? d.coordinator.interface : to === token ? d.token.interface : undefined;
            const call = iface?.parseTransaction({ data: tx.data })?.name ?? "";
            out.push({ call, status: receipt?.status ?? -1 });
        }
    }
    return out;
}
