/**
 * The whole system against a second, independent chain client: Foundry's anvil (test/helpers/anvil.ts), started as
 * its own process with interval mining (a block every second whether or not a transaction waits, as on a real
 * chain: not Hardhat's automine). Everything runs as it would for a user: the `verity` binary in child processes
 * deploys, registers a model, stakes, writes the configs (which keep the default 2 confirmations, anvil not
 * automining) and runs the node and the challenger; the test itself only plays the consumers (an account, and a
 * contract with a callback) and a lying operator with ethers, and drives the faults (kill -9 of the node, anvil_reorg,
 * a base-fee spike). Before that, it checks how the node reads anvil's own answers to what goes wrong (EVM halts,
 * transaction-pool refusals, eth_getLogs past the head, EIP-7825's gas cap, which the suite's anvil enforces).
 *
 * Anything that behaves differently on anvil than on Hardhat is a bug in the node or the CLI, fixed there (each with
 * a test that fails without the fix), never worked around here.
 */
import { expect } from "chai";
import { registerModelArgs } from "../helpers/cliArgs";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hexlify, JsonRpcProvider, keccak256, parseUnits, toQuantity, Wallet, ZeroHash } from "ethers";
import {
    InferenceCoordinator__factory,
    MockERC20__factory,
    RecordingConsumer__factory,
    ReexecutionResolver__factory,
    Staking__factory,
    type RecordingConsumer,
} from "../../typechain-types";
import { announcedRequests, type Request } from "../../oracle/src/chain/requestEvents";
import {
    ChainClient,
    RevertError,
    RpcClient,
    TxPoolError,
    type BlockHeader,
    type TransactionReceipt,
} from "../../oracle/src/chain/rpc";
import { TX_GAS_CAP, TxSender } from "../../oracle/src/chain/txSender";
import { ChainFollower } from "../../oracle/src/chain/follower";
import { Store } from "../../oracle/src/store/store";
import { shouldRetry } from "../../oracle/src/internal/errors";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { loadVerifiableModel, runVerifiable } from "../../oracle/src/verify/execute";
import { integerMlpModel } from "../../models/examples";
import { hardhatWallet } from "../../scripts/localChain";
import { startAnvil, type AnvilChain } from "../helpers/anvil";
import { nodeProcess, runNodeScript, VERITY_BIN, type ProcessRun } from "../helpers/processes";
import { waitFor } from "./harness";

const TOKEN = 10n ** 18n;
const ZERO = "0x0000000000000000000000000000000000000000";
/** The model's challenge window: long enough for the challenger to commit and reveal on a busy machine. */
const WINDOW_SECONDS = 20;
/** Confirmations the node waits for, as `verity config init` writes for a chain that does not automine. */
const CONFIRMATIONS = 2;

const DEPLOYER = hardhatWallet(0);
const OPERATOR = hardhatWallet(1);
const LIAR = hardhatWallet(2);
const CHALLENGER = hardhatWallet(3);
const CONSUMER = hardhatWallet(4);

const mlp = integerMlpModel({ widths: [4, 8, 3] });
const reference = loadVerifiableModel(mlp.onnx, mlp.manifest);
const x = (values: number[]): Uint8Array =>
    encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: values.map(BigInt) }]);

/** A well-formed output of the model's shape that is not its answer to `input`. */
function wrongOutput(input: Uint8Array): Uint8Array {
    const wrong = encodeTensors([
        { dtype: DType.INT64, shape: [1], data: [2n] },
        { dtype: DType.INT32, shape: [1, 3], data: [7n, -7n, 1_000n] },
    ]);
    if (keccak256(wrong) === runVerifiable(reference, input).outputHash) throw new Error("the lie happens to be true");
    return wrong;
}

describe("end to end on anvil (interval mining, the CLI in child processes)", function () {
    this.timeout(600_000);
    let anvil: AnvilChain;
    let provider: JsonRpcProvider;
    const dir = mkdtempSync(join(tmpdir(), "verity-anvil-"));
    const modelPath = join(dir, "model.onnx");
    let modelId = "";
    let addresses: Record<string, string> = {};
    const node = nodeProcess(join(dir, "verity.config.json"), OPERATOR.privateKey, { cwd: dir });
    const challenger = nodeProcess(join(dir, "challenger.json"), CHALLENGER.privateKey, {
        command: "challenger",
        cwd: dir,
    });
    /**
     * The consumer's signer. The CLI signs with the same key (`verity request`), so no nonce is cached here: each
     * transaction is mined before the next reads the pending nonce.
     */
    let consumer: Wallet;
    /** A consumer contract (the consumer's), whose callback records each delivery. */
    let recorder: RecordingConsumer;

    const verity = (args: string[], key: Wallet = DEPLOYER): Promise<ProcessRun> =>
        runNodeScript(VERITY_BIN, args, {
            env: { PATH: process.env.PATH, VERITY_RPC_URL: anvil.url, VERITY_PRIVATE_KEY: key.privateKey },
            cwd: dir,
            timeoutMs: 180_000,
        });
    /** Runs a `verity` command that must succeed; returns its stdout. */
    async function ok(args: string[], key?: Wallet): Promise<string> {
        const run = await verity(args, key);
        expect(run.status, `verity ${args.join(" ")}\n${run.stderr}`).to.equal(0);
        return run.stdout;
    }
    const coordinator = () => InferenceCoordinator__factory.connect(addresses.coordinator as string, provider);
    const token = () => MockERC20__factory.connect(addresses.stakeToken as string, provider);

    /** Requests inference from the consumer's EOA (no callback), assigned to `operator`; returns the raw tx too. */
    async function requestFor(operator: string, input: Uint8Array): Promise<{ request: Request; raw: string }> {
        const c = coordinator().connect(consumer);
        const fee = await c.quoteFee(modelId, 0);
        const head = await provider.getBlock("latest");
        const populated = await consumer.populateTransaction(
            await c.requestInference.populateTransaction(modelId, input, {
                callbackGasLimit: 0,
                deadline: (head?.timestamp ?? 0) + 3_600,
                preferredOperator: operator,
                maxFeeWei: fee,
            }),
        );
        // Signed here and kept: the reorg below puts these very bytes into the new chain.
        const raw = await consumer.signTransaction(populated);
        const sent = await provider.broadcastTransaction(raw);
        const receipt = await sent.wait();
        const [announced] = announcedRequests(receipt?.logs ?? []);
        if (announced === undefined) throw new Error("no InferenceRequested event");
        return { request: announced.request, raw };
    }

    /** The coordinator's events of one name for a request id, on the chain anvil has now. */
    const submissions = (id: bigint) => coordinator().queryFilter(coordinator().filters.ResultSubmitted(id), 0);
    const finalizations = (id: bigint) => coordinator().queryFilter(coordinator().filters.ResultFinalized(id), 0);
    /** Whether every request in `ids` has at least one of the events `of` reads. */
    const all = async (ids: bigint[], of: (id: bigint) => Promise<unknown[]>) =>
        (await Promise.all(ids.map(of))).every((events) => events.length > 0);

    /** Every transaction `from` sent to the coordinator on the chain as it is now, with its receipt status. */
    async function coordinatorCallsFrom(from: string): Promise<{ call: string; status: number }[]> {
        const latest = await provider.getBlockNumber();
        const c = coordinator();
        const out: { call: string; status: number }[] = [];
        for (let n = 0; n <= latest; n++) {
            const block = await provider.getBlock(n, true);
            for (const tx of block?.prefetchedTransactions ?? []) {
                if (tx.from !== from || tx.to?.toLowerCase() !== addresses.coordinator?.toLowerCase()) continue;
                const receipt = await provider.getTransactionReceipt(tx.hash);
                out.push({
                    call: c.interface.parseTransaction({ data: tx.data })?.name ?? "",
                    status: receipt?.status ?? -1,
                });
            }
        }
        return out;
    }

    before(async () => {
        // EIP-7825's per-transaction gas cap enforced, as on Ethereum since Osaka (anvil leaves it off by default).
        anvil = await startAnvil({ blockTimeSeconds: 1, args: ["--enable-tx-gas-limit"] });
        provider = new JsonRpcProvider(anvil.url, 31337, {
            staticNetwork: true,
            cacheTimeout: -1,
            pollingInterval: 250,
        });
        consumer = CONSUMER.connect(provider);
        writeFileSync(modelPath, mlp.onnx);
        // A short challenge window for this suite: the registry's minimum is 60 s by default.
        writeFileSync(join(dir, "params.json"), JSON.stringify({ minChallengeWindowSeconds: 10 }));
    });

    after(async () => {
        if (process.env.VERITY_E2E_DEBUG) {
            writeFileSync(join(dir, "node.log"), node.output());
            writeFileSync(join(dir, "challenger.log"), challenger.output());
            process.stderr.write(`logs in ${dir}\n`);
        }
        await node.kill("SIGKILL");
        await challenger.kill("SIGKILL");
        provider?.destroy();
        await anvil?.stop();
    });

    afterEach(function () {
        if (this.currentTest?.state !== "failed") return;
        process.stderr.write(`--- node output ---\n${node.output().slice(-6_000)}\n`);
        process.stderr.write(`--- challenger output ---\n${challenger.output().slice(-6_000)}\n`);
    });

    describe("the node's reading of anvil's own answers", () => {
        const rpc = () => new RpcClient({ url: anvil.url, retry: { maxAttempts: 1 } });
        const failure = (p: Promise<unknown>) =>
            p.then(
                () => expect.fail("the call succeeded"),
                (error: unknown) => error,
            );

        it("takes an EVM halt in a call (anvil: -32603 'EVM error …', 'Out of gas: …') for a revert, never retried", async () => {
            // INVALID (0xfe), and an endless loop (JUMPDEST PUSH1 0 JUMP) that no gas limit lets finish.
            const from = DEPLOYER.address;
            for (const [method, params] of [
                ["eth_call", [{ from, data: "0xfe" }, "latest"]],
                ["eth_estimateGas", [{ from, data: "0xfe" }]],
                ["eth_estimateGas", [{ from, data: "0x5b600056" }]],
            ] as const) {
                const error = await failure(rpc().send(method, params));
                expect(error, `${method} ${JSON.stringify(params)}: ${String(error)}`).to.be.instanceOf(RevertError);
                expect(shouldRetry(error)).to.equal(false);
            }
        });

        it("takes a transaction priced under the block's base fee for underpriced (it passes when the fee falls), not refused for good", async () => {
            const sender = hardhatWallet(9).connect(provider);
            const raw = await sender.signTransaction({
                type: 2,
                chainId: 31337,
                nonce: await provider.getTransactionCount(sender.address, "pending"),
                to: sender.address,
                gasLimit: 21_000n,
                maxFeePerGas: 1n,
                maxPriorityFeePerGas: 1n,
            });
            expect((await provider.getBlock("latest"))?.baseFeePerGas).to.be.greaterThan(1n);
            const error = await failure(rpc().send("eth_sendRawTransaction", [raw]));
            expect(error, String(error)).to.be.instanceOf(TxPoolError);
            expect((error as TxPoolError).kind).to.equal("underpriced");
        });

        it("classifies anvil's other transaction-pool answers: already imported, nonce too low, insufficient funds", async () => {
            const sender = hardhatWallet(8).connect(provider);
            const fees = { maxFeePerGas: parseUnits("10", "gwei"), maxPriorityFeePerGas: parseUnits("1", "gwei") };
            const base = { type: 2, chainId: 31337, to: sender.address, gasLimit: 21_000n, ...fees };
            const nonce = await provider.getTransactionCount(sender.address, "pending");
            const raw = await sender.signTransaction({ ...base, nonce });
            await rpc().send("eth_sendRawTransaction", [raw]);
            const again = await failure(rpc().send("eth_sendRawTransaction", [raw]));
            expect((again as TxPoolError).kind, String(again)).to.equal("already_known");
            await waitFor(
                "the transfer mined",
                async () => (await provider.getTransactionCount(sender.address)) > nonce,
            );
            const stale = await sender.signTransaction({ ...base, nonce, gasLimit: 21_001n });
            const low = await failure(rpc().send("eth_sendRawTransaction", [stale]));
            expect((low as TxPoolError).kind, String(low)).to.equal("nonce_too_low");
            const rich = await sender.signTransaction({ ...base, nonce: nonce + 1, value: parseUnits("1000000") });
            const poor = await failure(rpc().send("eth_sendRawTransaction", [rich]));
            expect((poor as TxPoolError).kind, String(poor)).to.equal("insufficient_funds");
        });

        it("sends a transaction a heavy dispute's estimate (14M gas) would take over EIP-7825's cap, which anvil enforces here", async () => {
            const wallet = hardhatWallet(7);
            const chain = Object.create(new ChainClient(rpc())) as ChainClient;
            // What the reveal of a dispute near the resolver's maxDisputeGas (2^24) needs.
            chain.estimateGas = async () => 14_000_000n;
            const store = new Store(":memory:", { chainId: 31337, coordinator: ZERO, operator: wallet.address });
            const mined: TransactionReceipt[] = [];
            const dropped: string[] = [];
            const sender = new TxSender(
                chain,
                store,
                wallet,
                {
                    chainId: 31337,
                    stuckAfterMs: 60_000,
                    feeBumpPercent: 20,
                    maxFeePerGasWei: parseUnits("500", "gwei"),
                },
                { onMined: (_tx, receipt) => mined.push(receipt), onDropped: (_tx, why) => dropped.push(why) },
            );
            try {
                await sender.init();
                expect((await sender.send("challenge", wallet.address, "0x", [], null)).sent).to.equal(true);
                await waitFor(
                    "the transaction mined or dropped",
                    async () => {
                        await sender.tick();
                        return mined.length + dropped.length > 0;
                    },
                    30_000,
                    250,
                );
                expect(dropped).to.deep.equal([]);
                expect(mined.map((r) => r.status)).to.deep.equal([1]);
                expect((await provider.getTransaction(mined[0]!.transactionHash))?.gasLimit).to.equal(TX_GAS_CAP);
            } finally {
                store.close();
            }
        });

        it("keeps its eth_getLogs range when anvil answers a range past its head (BlockOutOfRangeError): the endpoint is behind, the range is not too large", async () => {
            const real = new ChainClient(rpc());
            const ahead = (await provider.getBlockNumber()) + 5;
            // A head read from a backend ahead of the one answering eth_getLogs (a load balancer's), as when the chain
            // got shorter between the two calls.
            const chain = Object.create(real) as ChainClient;
            let lying = true;
            chain.getBlock = async (tag: number | "latest"): Promise<BlockHeader | null> => {
                const block = await real.getBlock(tag);
                return tag === "latest" && lying && block !== null ? { ...block, number: ahead } : block;
            };
            const spans: number[] = [];
            chain.getLogs = async (filter) => {
                spans.push(filter.toBlock - filter.fromBlock + 1);
                return real.getLogs(filter);
            };
            const store = new Store(":memory:", { chainId: 31337, coordinator: ZERO, operator: ZERO });
            try {
                const startBlock = ahead - 1; // past anvil's head by 4 blocks
                const follower = new ChainFollower(
                    chain,
                    store,
                    {
                        coordinator: ZERO,
                        topics: [ZeroHash],
                        confirmations: 0,
                        startBlock,
                        maxBlockRange: 16,
                        keepBlocks: 16,
                    },
                    () => undefined,
                );
                const behind = await follower.poll();
                expect(behind.processed).to.equal(startBlock - 1);
                lying = false;
                await waitFor(
                    "anvil to mine past the start block",
                    async () => (await provider.getBlockNumber()) >= ahead,
                );
                spans.length = 0;
                const caughtUp = await follower.poll();
                expect(caughtUp.processed).to.be.at.least(ahead);
                expect(spans[0], "the first range after the head race").to.equal(
                    Math.min(16, caughtUp.processed - startBlock + 1),
                );
            } finally {
                store.close();
            }
        });
    });

    describe("the node, the challenger and the CLI", () => {
        it("deploys, registers a model and stakes with the CLI; config init keeps 2 confirmations", async () => {
            expect(await anvil.rpc("anvil_getAutomine")).to.equal(false);
            await ok(["deploy", "--params", "params.json"]);
            const manifest = JSON.parse(readFileSync(join(dir, "deployments", "31337.json"), "utf8")) as {
                verified: boolean;
                testStakeToken: boolean;
                contracts: Record<string, { address: string }>;
            };
            expect(manifest.verified).to.equal(true);
            expect(manifest.testStakeToken).to.equal(true);
            addresses = Object.fromEntries(Object.entries(manifest.contracts).map(([k, v]) => [k, v.address]));

            // Each account works on its own nonce sequence, so the publisher, the operators and the consumer go at
            // once. Their test tokens: the test stake token mints to anyone.
            const mint = async (account: Wallet, amount: bigint) =>
                (await token().connect(account.connect(provider)).mint(account.address, amount)).wait();
            const [registered] = await Promise.all([
                ok(registerModelArgs(modelPath, WINDOW_SECONDS)),
                mint(OPERATOR, 100n * TOKEN).then(() => ok(["operator", "stake", "100"], OPERATOR)),
                // The liar registers for the model only when it lies, so the rotation gives the honest operator
                // the requests before that.
                mint(LIAR, 50n * TOKEN).then(() => ok(["operator", "stake", "50"], LIAR)),
                mint(CHALLENGER, 10n * TOKEN),
                (async () => {
                    // The consumer's fees, deposited once for every request the test sends itself, from its account
                    // and from its contract.
                    await mint(CONSUMER, 100n * TOKEN);
                    const deployed = await new RecordingConsumer__factory(consumer).deploy(addresses.coordinator!);
                    recorder = await deployed.waitForDeployment();
                    const amount = 10n * TOKEN;
                    const c = coordinator().connect(consumer);
                    await (
                        await token()
                            .connect(consumer)
                            .approve(addresses.coordinator!, 2n * amount)
                    ).wait();
                    await (await c.deposit(CONSUMER.address, amount)).wait();
                    await (await c.deposit(await recorder.getAddress(), amount)).wait();
                })(),
            ]);
            modelId = /0x[0-9a-f]{64}/.exec(registered)?.[0] ?? "";
            expect(modelId).to.match(/^0x[0-9a-f]{64}$/);

            const [, init] = await Promise.all([
                ok(["operator", "register-model", modelId], OPERATOR),
                ok(["config", "init", "--model", modelId, "--json"], OPERATOR),
                ok(["config", "init", "--challenger", "--max-bond", "5", "--out", "challenger.json"], CHALLENGER),
            ]);
            expect((JSON.parse(init) as { confirmations: number }).confirmations).to.equal(CONFIRMATIONS);
            // Both run from here on (any free /metrics port); the challenger watches every result of the model.
            node.spawn({ VERITY_SERVER_PORT: "0" });
            challenger.spawn({ VERITY_SERVER_PORT: "0" });
        });

        it("serves and finalizes `verity request --wait` (the node waits for 2 confirmations)", async () => {
            const input = [12, -7, 100, -128];
            const out = await ok(
                [
                    "request",
                    "--model",
                    modelId,
                    "--tensors",
                    JSON.stringify([{ dtype: "int8", shape: [1, 4], data: input }]),
                    "--wait",
                    "--timeout",
                    "120",
                ],
                CONSUMER,
            );
            const requestId = /0x[0-9a-f]{64}/.exec(out)?.[0] ?? "";
            expect(out).to.contain(`request ${requestId}: finalized`);
            expect(out).to.contain(`served by ${OPERATOR.address}`);
            const inspected = JSON.parse(await ok(["inspect", requestId, "--json"])) as { output: string };
            const resolver = ReexecutionResolver__factory.connect(addresses.reexecutionResolver as string, provider);
            const [, expected] = await resolver.reexecute(modelId, x(input));
            expect(inspected.output).to.equal(expected);
            expect(node.starts()).to.equal(1);
        });

        it("disputes a lie: the challenger wins, the liar is slashed, the consumer gets the right output", async () => {
            await ok(["operator", "register-model", modelId], LIAR);
            await waitFor("the challenger to start", () => challenger.starts() === 1, 60_000);
            const staking = Staking__factory.connect(addresses.staking as string, provider);
            const stakeBefore = (await staking.getStake(LIAR.address)).stakedWei;

            const input = x([3, -3, 50, 7]);
            const { request } = await requestFor(LIAR.address, input);
            const liar = coordinator().connect(LIAR.connect(provider));
            await (await liar.submitResult(request, 0, wrongOutput(input), ZeroHash)).wait();
            const id = BigInt(request.requestId);
            const hex = `0x${id.toString(16).padStart(64, "0")}`;

            const resolved = () => coordinator().queryFilter(coordinator().filters.DisputeResolved(id), 0);
            await waitFor("the dispute resolved", async () => (await resolved()).length > 0, 120_000);
            expect((await resolved()).map((e) => [e.args.operatorAtFault, e.args.challenger])).to.deep.equal([
                [true, CHALLENGER.address],
            ]);
            const inspected = JSON.parse(await ok(["inspect", hex, "--json"])) as { status: string; output: string };
            expect(inspected.status).to.equal("corrected by dispute");
            expect(inspected.output).to.equal(hexlify(runVerifiable(reference, input).output));
            expect(stakeBefore - (await staking.getStake(LIAR.address)).stakedWei).to.equal(10n * TOKEN);
            const challenges = await coordinator().queryFilter(coordinator().filters.ResultChallenged(id), 0);
            expect(challenges.map((e) => e.args.challenger)).to.deep.equal([CHALLENGER.address]);
            // The honest node left the liar's request alone.
            expect((await submissions(id)).map((e) => e.args.operator)).to.deep.equal([LIAR.address]);
            // Stopped cleanly (the tests after this one skip challenge windows, which a challenger would see).
            await challenger.kill("SIGTERM");
            expect(challenger.exitCode(), challenger.output().slice(-2_000)).to.equal(0);
        });

        it("survives kill -9 mid-flight: restarted on the same data dir, each request settles exactly once", async () => {
            // From the consumer contract: each result is delivered to its callback, which counts deliveries.
            const inputs = [x([1, 2, 3, 4]), x([-5, 6, -7, 8]), x([9, -10, 11, -12]), x([13, 14, -15, 16])];
            const callbackGasLimit = 200_000;
            const fee = await coordinator().quoteFee(modelId, callbackGasLimit);
            const before = node.output().length;
            const ids: bigint[] = [];
            for (const input of inputs) {
                const head = await provider.getBlock("latest");
                const sent = await recorder.connect(consumer).request(modelId, input, {
                    callbackGasLimit,
                    deadline: (head?.timestamp ?? 0) + 3_600,
                    preferredOperator: OPERATOR.address,
                    maxFeeWei: fee,
                });
                const [announced] = announcedRequests((await sent.wait())?.logs ?? []);
                ids.push(BigInt(announced!.request.requestId));
            }
            // Killed as soon as it signs its first submission of these requests: stored, perhaps broadcast, not mined.
            await waitFor(
                "the node to sign a submission",
                () => /"kind":"submit".*"msg":"transaction signed and stored/.test(node.output().slice(before)),
                60_000,
                20,
            );
            await node.kill("SIGKILL");
            node.spawn({ VERITY_SERVER_PORT: "0" });
            await waitFor("the node to start again", () => node.starts() === 2, 60_000);
            await waitFor("every request submitted", () => all(ids, submissions), 120_000);
            // Nobody reads the clock here: skip the challenge window rather than wait it out.
            await anvil.rpc("evm_increaseTime", [WINDOW_SECONDS]);
            await waitFor("every request finalized", () => all(ids, finalizations), 120_000);
            for (const [i, id] of ids.entries()) {
                const output = hexlify(runVerifiable(reference, inputs[i]!).output);
                const submitted = await submissions(id);
                expect(submitted, `request ${i} submissions`).to.have.length(1);
                expect(submitted[0]?.args.output).to.equal(output);
                const finalized = await finalizations(id);
                expect(finalized, `request ${i} finalizations`).to.have.length(1);
                expect(finalized[0]?.args.callbackSucceeded, `request ${i} callback`).to.equal(true);
                const delivered = await recorder.delivery(id);
                expect([Number(delivered.count), Number(delivered.resultCode), delivered.output]).to.deep.equal([
                    1,
                    0,
                    output,
                ]);
            }
            const calls = await coordinatorCallsFrom(OPERATOR.address);
            expect(calls.filter((c) => c.status !== 1)).to.deep.equal([]);
        });

        it("survives anvil_reorg: the requests re-announced in new blocks are served again, once, and settle", async () => {
            const inputs = [x([21, -22, 23, -24]), x([-25, 26, 27, -28])];
            const sent = [];
            for (const input of inputs) sent.push(await requestFor(OPERATOR.address, input));
            const ids = sent.map((s) => BigInt(s.request.requestId));
            const firstBlock = Math.min(
                ...(await Promise.all(
                    sent.map(async (s) => (await provider.getTransactionReceipt(keccak256(s.raw)))!.blockNumber),
                )),
            );
            await waitFor("both requests submitted", () => all(ids, submissions), 60_000);
            const operatorNonce = await provider.getTransactionCount(OPERATOR.address, "latest");

            // The blocks from the first request's on are replaced: the new chain carries the two requests again, in
            // its first new block (another block, another timestamp: another struct), and none of the node's
            // submissions.
            // Mining paused while the depth is measured and the reorg made: a block mined in between would keep the
            // first request's block in the new chain.
            await anvil.rpc("evm_setIntervalMining", [0]);
            try {
                const depth = (await provider.getBlockNumber()) - firstBlock + 1;
                await anvil.rpc("anvil_reorg", [depth, sent.map((s) => [s.raw, 0])]);
            } finally {
                await anvil.rpc("evm_setIntervalMining", [1]);
            }
            expect(await anvil.rpc("anvil_getAutomine")).to.equal(false);
            for (const id of ids) expect(await submissions(id)).to.have.length(0);
            expect(await provider.getTransactionCount(OPERATOR.address, "latest")).to.be.lessThan(operatorNonce);

            await waitFor("both requests submitted again", () => all(ids, submissions), 120_000);
            await anvil.rpc("evm_increaseTime", [WINDOW_SECONDS]);
            await waitFor("both requests finalized", () => all(ids, finalizations), 120_000);
            expect(node.output()).to.contain("chain reorganisation");
            for (const [i, id] of ids.entries()) {
                const submitted = await submissions(id);
                expect(submitted, `request ${i} submissions`).to.have.length(1);
                expect(submitted[0]?.args.output).to.equal(hexlify(runVerifiable(reference, inputs[i]!).output));
                expect(await finalizations(id), `request ${i} finalizations`).to.have.length(1);
            }
            // No reverted transaction, and no nonce left behind: everything the node signed got mined.
            expect((await coordinatorCallsFrom(OPERATOR.address)).filter((c) => c.status !== 1)).to.deep.equal([]);
            await waitFor(
                "the node's pending transactions mined",
                async () =>
                    (await provider.getTransactionCount(OPERATOR.address, "pending")) ===
                    (await provider.getTransactionCount(OPERATOR.address, "latest")),
                30_000,
            );
        });

        it("sends a submission anvil refused during a base-fee spike once the fee is back under the node's cap", async () => {
            // transactions.maxFeePerGasGwei is 500 by default. A spike to 4,000 gwei keeps the base fee above it for
            // 16 blocks (an empty block lowers it by 12.5%); the node sees the request 3 or 4 blocks in. Anvil refuses
            // a transaction whose fee cap is under the base fee (geth would keep it in its pool until the fee falls):
            // the node must wait, not give up.
            const before = node.output().length;
            await anvil.rpc("anvil_setNextBlockBaseFeePerGas", [toQuantity(parseUnits("4000", "gwei"))]);
            await waitFor(
                "the spike",
                async () => ((await provider.getBlock("latest"))?.baseFeePerGas ?? 0n) > parseUnits("3000", "gwei"),
            );
            const input = x([31, -32, 33, -34]);
            const id = BigInt((await requestFor(OPERATOR.address, input)).request.requestId);
            await waitFor("the submission", async () => (await submissions(id)).length > 0, 90_000);
            expect(node.output().slice(before), "refused during the spike").to.match(/less than block base fee/);
            const [submitted] = await submissions(id);
            expect((await provider.getBlock(submitted!.blockNumber))?.baseFeePerGas).to.be.at.most(
                parseUnits("500", "gwei"),
            );
            expect(submitted!.args.output).to.equal(hexlify(runVerifiable(reference, input).output));
            await anvil.rpc("evm_increaseTime", [WINDOW_SECONDS]);
            await waitFor("the result finalized", async () => (await finalizations(id)).length > 0, 60_000);
        });

        it("stops the node cleanly on SIGTERM", async () => {
            await node.kill("SIGTERM");
            expect(node.exitCode(), node.output().slice(-2_000)).to.equal(0);
        });
    });
});
