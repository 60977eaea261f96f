/**
 * The operator role with a faked executor, chain and transaction sender: what it stores and submits for a verifiable
 * model on which onnxruntime disagreed with the reference interpreter, and which requests its worth check
 * (`operator.economics`) serves or declines.
 */
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, keccak256, type Wallet } from "ethers";
import { InferenceCoordinator__factory, Staking__factory } from "../../../typechain-types";
import { CoordinatorClient } from "../../../oracle/src/chain/coordinator";
import { requestToJson, type Request } from "../../../oracle/src/chain/requestEvents";
import { VerificationModeBigInt } from "../../../oracle/src/protocol/verificationMode";
import { RevertError, type BlockHeader, type ChainClient } from "../../../oracle/src/chain/rpc";
import type { SendOutcome, TxSender } from "../../../oracle/src/chain/txSender";
import type { Config } from "../../../oracle/src/config/schema";
import { createLogger } from "../../../oracle/src/internal/logger";
import { createMetrics, type NodeMetrics } from "../../../oracle/src/internal/metrics";
import type { ExecutionResult, Executor } from "../../../oracle/src/runtime/executor";
import { DType, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
import type { NodeContext } from "../../../oracle/src/roles/context";
import { createOperatorRole } from "../../../oracle/src/roles/operator";
import { Store, type RequestState } from "../../../oracle/src/store/store";

const COORDINATOR = ethers.getAddress("0x" + "c0".repeat(20));
const ME = ethers.getAddress("0x" + "ab".repeat(20));
const MODEL = "0x" + "7a".repeat(32);
/** Request 1 as log lines write it: 0x + 64 hex, the `verity` command's form (the store keeps "1"). */
const ONE_HEX = ethers.toBeHex(1n, 32);
const NOW = 1_000;
const INPUT = encodeTensors([{ dtype: DType.UINT8, shape: [1, 2], data: [255n, 255n] }]);
/** The reference interpreter's (canonical) output, and what a saturating onnxruntime printed instead. */
const REFERENCE_OUTPUT = encodeTensors([{ dtype: DType.INT32, shape: [1, 1], data: [-65_280n] }]);
const ONNXRUNTIME_OUTPUT = encodeTensors([{ dtype: DType.INT32, shape: [1, 1], data: [-32_768n] }]);

function request(): Request {
    return {
        requestId: 1n,
        modelId: MODEL,
        inputHash: keccak256(INPUT),
        consumer: ethers.getAddress("0x" + "ce".repeat(20)),
        feeWei: 10n,
        assignedOperator: ME,
        collateralWei: 100n,
        protocolFeeWei: 1n,
        deadline: BigInt(NOW + 3_600),
        exclusiveUntil: BigInt(NOW + 30),
        callbackGasLimit: 100_000n,
        challengeWindowSeconds: 600n,
        bondWei: 50n,
        mode: VerificationModeBigInt.REEXECUTION,
        status: 1n,
        disputeRounds: 0n,
        operator: ethers.ZeroAddress,
        resultCode: 0n,
        challengeEndsAt: 0n,
        outputHash: ethers.ZeroHash,
        traceCommitment: ethers.ZeroHash,
    };
}

describe("oracle/roles/operator", function () {
    let store: Store;
    let metrics: NodeMetrics;
    let logs: Record<string, unknown>[];
    let sent: { kind: string; data: string }[];
    let ctx: NodeContext;

    beforeEach(function () {
        store = new Store(":memory:", { chainId: 31337, coordinator: COORDINATOR, operator: ME });
        metrics = createMetrics();
        logs = [];
        sent = [];
        const result: ExecutionResult = {
            resultCode: 0,
            output: REFERENCE_OUTPUT,
            outputHash: keccak256(REFERENCE_OUTPUT),
            inferenceMs: 1,
            referenceMismatch: { resultCode: 0, outputHash: keccak256(ONNXRUNTIME_OUTPUT) },
        };
        ctx = {
            config: {
                inference: { concurrency: 1 },
                batching: { enabled: false, maxSize: 8, maxWaitMs: 0 },
                operator: {},
            } as Partial<Config> as Config,
            logger: createLogger({
                level: "info",
                destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
            }),
            metrics,
            signal: new AbortController().signal,
            chain: undefined as unknown as ChainClient,
            coordinator: new CoordinatorClient(undefined as unknown as ChainClient, COORDINATOR),
            store,
            wallet: { address: ME } as Wallet,
            tx: {
                send: async (kind: string, _to: string, data: string): Promise<SendOutcome> => {
                    sent.push({ kind, data });
                    return { sent: true, txId: sent.length };
                },
            } as Partial<TxSender> as TxSender,
            executor: { run: async () => result } as Partial<Executor> as Executor,
            servedModels: new Set([MODEL]),
            modelMayLoad: () => false,
            requestRound: () => undefined,
            chainTime: () => NOW,
            nextBlockTime: () => NOW,
        };
        store.addRequest({
            requestId: "1",
            modelId: MODEL,
            blockNumber: 1,
            blockHash: ethers.ZeroHash,
            request: requestToJson(request()),
            input: INPUT,
            notBefore: 0,
        });
    });

    afterEach(function () {
        store.close();
    });

    it("submits the reference result when onnxruntime disagreed, counts it and says so in the log", async function () {
        const role = createOperatorRole(ctx);
        await role.tick();
        await role.drain();
        await role.tick();

        const stored = store.getRequest("1")!;
        expect(stored.outputHash).to.equal(keccak256(REFERENCE_OUTPUT));
        const [submission] = sent;
        const call = InferenceCoordinator__factory.createInterface().parseTransaction({ data: submission!.data })!;
        expect(call.name).to.equal("submitResult");
        expect(call.args[2]).to.equal(ethers.hexlify(REFERENCE_OUTPUT));

        const series = (await metrics.referenceMismatch.get()).values;
        expect(series).to.deep.equal([{ value: 1, labels: { model_id: MODEL } }]);
        const warning = logs.find((l) => /disagrees with the reference interpreter/.test(String(l.msg)));
        expect(warning).to.include({
            level: "warn",
            request_id: ONE_HEX,
            model_id: MODEL,
            output_hash: keccak256(REFERENCE_OUTPUT),
            onnxruntime_output_hash: keccak256(ONNXRUNTIME_OUTPUT),
        });
    });

    it("declines, with what to do, a request whose submission is refused because the operator is not registered (evicted)", async function () {
        const staking = Staking__factory.createInterface();
        const data = staking.encodeErrorResult("StakingNotRegistered", [ME, MODEL]);
        ctx.tx.send = async (kind: string, _to: string, txData: string): Promise<SendOutcome> => {
            sent.push({ kind, data: txData });
            return { sent: false, revert: new RevertError("eth_estimateGas", "reverted", data) };
        };
        const role = createOperatorRole(ctx);
        await role.tick();
        await role.drain();
        await role.tick();

        expect(sent.map((s) => s.kind)).to.deep.equal(["submit"]);
        const stored = store.getRequest("1")!;
        expect(stored.state).to.equal("done");
        expect(stored.outcome).to.equal("declined");
        expect(stored.reason).to.match(/not registered for model .*evicted.*verity operator register-model/);
        const series = (await metrics.requestsFailed.get()).values;
        expect(series).to.deep.equal([{ value: 1, labels: { model_id: MODEL, reason: "declined" } }]);
        // Later rounds leave it declined: nothing more is sent.
        await role.tick();
        expect(sent).to.have.length(1);
    });
});

/** Gas price of the faked chain: 9 gwei base fee + 1 gwei priority fee. */
const BASE_FEE = 9_000_000_000n;
const PRIORITY_FEE = 1_000_000_000n;
const GAS_PRICE = BASE_FEE + PRIORITY_FEE;
/** The worth check's overhead and the request's callback gas: 250,000 gas, 2.5e15 native wei at GAS_PRICE. */
const OVERHEAD_GAS = 150_000;
const CALLBACK_GAS = 100_000n;
/** A stake token worth half a native coin: serving costs 5e15 stake-token wei. */
const TOKEN_WEI_PER_NATIVE_WEI = "2";
const COST_WEI = (BigInt(OVERHEAD_GAS) + CALLBACK_GAS) * GAS_PRICE * 2n;

describe("oracle/roles/operator: the worth check (operator.economics)", function () {
    let dir: string;
    let opened: Store[];

    beforeEach(function () {
        dir = mkdtempSync(join(tmpdir(), "verity-worth-"));
        opened = [];
    });

    afterEach(function () {
        for (const store of opened) store.close();
    });

    /** A node context over the store at `dir`, serving one request of `feeWei` (protocol share `protocolFeeWei`). */
    function node(opts: {
        economics?: { tokenWeiPerNativeWei: string; minMarginBps: number; overheadGas: number };
        feeWei: bigint;
        protocolFeeWei?: bigint;
        failGasPriceReads?: number;
    }) {
        const store = new Store(join(dir, "node.sqlite"), { chainId: 31337, coordinator: COORDINATOR, operator: ME });
        opened.push(store);
        const metrics = createMetrics();
        const logs: Record<string, unknown>[] = [];
        const sent: { kind: string; data: string }[] = [];
        const counts = { executions: 0, gasPriceReads: 0 };
        let failures = opts.failGasPriceReads ?? 0;
        const chain = {
            getBlock: async (): Promise<BlockHeader> => {
                counts.gasPriceReads++;
                if (failures > 0) {
                    failures--;
                    throw new Error("connection reset");
                }
                return {
                    number: 1,
                    hash: ethers.ZeroHash,
                    parentHash: ethers.ZeroHash,
                    timestamp: NOW,
                    baseFeePerGas: BASE_FEE,
                };
            },
            maxPriorityFeePerGas: async () => PRIORITY_FEE,
        } as Partial<ChainClient> as ChainClient;
        const ctx: NodeContext = {
            config: {
                inference: { concurrency: 1 },
                batching: { enabled: false, maxSize: 8, maxWaitMs: 0 },
                transactions: { stuckAfterMs: 60_000, feeBumpPercent: 20, maxFeePerGasGwei: 500 },
                operator: opts.economics === undefined ? {} : { economics: opts.economics },
            } as Partial<Config> as Config,
            logger: createLogger({
                level: "info",
                destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
            }),
            metrics,
            signal: new AbortController().signal,
            chain,
            coordinator: new CoordinatorClient(chain, COORDINATOR),
            store,
            wallet: { address: ME } as Wallet,
            tx: {
                // As the real sender does once the transaction is signed and stored: the requests move on with it.
                send: async (
                    kind: string,
                    _to: string,
                    data: string,
                    ids: string[],
                    state: RequestState | null,
                ): Promise<SendOutcome> => {
                    sent.push({ kind, data });
                    if (state !== null) for (const id of ids) store.update(id, state, { txId: sent.length });
                    return { sent: true, txId: sent.length };
                },
            } as Partial<TxSender> as TxSender,
            executor: {
                run: async (): Promise<ExecutionResult> => {
                    counts.executions++;
                    return {
                        resultCode: 0,
                        output: REFERENCE_OUTPUT,
                        outputHash: keccak256(REFERENCE_OUTPUT),
                        inferenceMs: 1,
                    };
                },
            } as Partial<Executor> as Executor,
            servedModels: new Set([MODEL]),
            modelMayLoad: () => false,
            requestRound: () => undefined,
            chainTime: () => NOW,
            nextBlockTime: () => NOW,
        };
        const announced = {
            requestId: "1",
            modelId: MODEL,
            blockNumber: 1,
            blockHash: ethers.ZeroHash,
            request: requestToJson({
                ...request(),
                feeWei: opts.feeWei,
                protocolFeeWei: opts.protocolFeeWei ?? 0n,
                callbackGasLimit: CALLBACK_GAS,
            }),
            input: INPUT,
            notBefore: 0,
        };
        const added = store.addRequest(announced);
        const role = createOperatorRole(ctx);
        /** Runs the role until it has nothing left to do: admit and execute, then send. */
        const serve = async () => {
            await role.tick();
            await role.drain();
            await role.tick();
        };
        return { store, metrics, logs, sent, counts, role, serve, added, announced };
    }

    const economics = (minMarginBps: number) => ({
        tokenWeiPerNativeWei: TOKEN_WEI_PER_NATIVE_WEI,
        minMarginBps,
        overheadGas: OVERHEAD_GAS,
    });

    const unprofitable = async (metrics: NodeMetrics) =>
        (await metrics.requestsFailed.get()).values.filter((v) => v.labels.reason === "unprofitable");

    it("serves a request whose fee covers its cost plus the margin", async function () {
        // 10% margin over a cost of 5e15: 5.5e15 is needed, 5.5e15 is paid.
        const n = node({ economics: economics(1_000), feeWei: (COST_WEI * 11n) / 10n });
        await n.serve();
        expect(n.counts.executions).to.equal(1);
        const [submission] = n.sent;
        expect(submission?.kind).to.equal("submit");
        const call = InferenceCoordinator__factory.createInterface().parseTransaction({ data: submission!.data })!;
        expect(call.name).to.equal("submitResult");
        expect(n.store.getRequest("1")!.state).to.equal("submitting");
        expect(await unprofitable(n.metrics)).to.deep.equal([]);
    });

    it("declines one that pays less: not executed nor sent, counted and logged with its numbers", async function () {
        const feeWei = (COST_WEI * 11n) / 10n - 1n;
        const n = node({ economics: economics(1_000), feeWei });
        await n.serve();
        expect(n.counts.executions).to.equal(0);
        expect(n.sent).to.deep.equal([]);
        const stored = n.store.getRequest("1")!;
        expect(stored.state).to.equal("done");
        expect(stored.outcome).to.equal("declined");
        expect(stored.reason).to.match(/^unprofitable: pays \d+ stake-token wei; serving costs 5000000000000000 /);
        expect(await unprofitable(n.metrics)).to.deep.equal([
            { value: 1, labels: { model_id: MODEL, reason: "unprofitable" } },
        ]);
        const line = n.logs.find((l) => l.msg === "request declined: its fee does not cover what serving it costs");
        expect(line).to.deep.include({
            level: "warn",
            request_id: ONE_HEX,
            model_id: MODEL,
            reason: "unprofitable",
            fee_wei: feeWei.toString(),
            protocol_fee_wei: "0",
            revenue_wei: feeWei.toString(),
            cost_wei: COST_WEI.toString(),
            required_wei: ((COST_WEI * 11n) / 10n).toString(),
            min_margin_bps: 1_000,
            gas: "250000",
            callback_gas_limit: CALLBACK_GAS.toString(),
            gas_price_wei: GAS_PRICE.toString(),
        });
    });

    it("counts only what the operator is paid: the protocol's share of the fee is not revenue", async function () {
        const required = (COST_WEI * 11n) / 10n;
        const n = node({ economics: economics(1_000), feeWei: required, protocolFeeWei: 1n });
        await n.serve();
        expect(n.counts.executions).to.equal(0);
        expect(n.store.getRequest("1")!.outcome).to.equal("declined");
    });

    it("takes the margin from the config: the same fee is served at 0 bps and declined at 1 bp", async function () {
        const served = node({ economics: economics(0), feeWei: COST_WEI });
        await served.serve();
        expect(served.counts.executions).to.equal(1);
        expect(served.sent).to.have.length(1);
        served.store.close();
        dir = mkdtempSync(join(tmpdir(), "verity-worth-"));
        const declined = node({ economics: economics(1), feeWei: COST_WEI });
        await declined.serve();
        expect(declined.counts.executions).to.equal(0);
        expect(declined.store.getRequest("1")!.outcome).to.equal("declined");
    });

    it("serves everything without operator.economics, however little the fee", async function () {
        const n = node({ feeWei: 1n });
        await n.serve();
        expect(n.counts.executions).to.equal(1);
        expect(n.sent).to.have.length(1);
        expect(n.counts.gasPriceReads).to.equal(0);
    });

    it("decides once: later rounds, a rescan and a restart leave a declined request declined", async function () {
        const first = node({ economics: economics(1_000), feeWei: 1n });
        await first.serve();
        const reads = first.counts.gasPriceReads;
        await first.serve();
        expect(first.counts.gasPriceReads).to.equal(reads);
        // The follower announcing it again (a rescan from the checkpoint) changes nothing.
        expect(first.store.addRequest(first.announced)).to.equal(false);
        first.store.close();

        // A restart on the same database: the request is not taken up again, nor counted again.
        const restarted = node({ economics: economics(1_000), feeWei: 1n });
        expect(restarted.added).to.equal(false);
        await restarted.serve();
        expect(restarted.counts.executions).to.equal(0);
        expect(restarted.counts.gasPriceReads).to.equal(0);
        expect(restarted.sent).to.deep.equal([]);
        expect(restarted.store.getRequest("1")!.outcome).to.equal("declined");
        expect(await unprofitable(restarted.metrics)).to.deep.equal([]);
    });

    it("keeps a request pending when the gas price cannot be read, and decides on a later round", async function () {
        const n = node({ economics: economics(1_000), feeWei: COST_WEI * 2n, failGasPriceReads: 1 });
        await n.role.tick();
        expect(n.store.getRequest("1")!.state).to.equal("pending");
        expect(n.logs.some((l) => l.msg === "admission check failed")).to.equal(true);
        expect(n.counts.executions).to.equal(0);
        await n.serve();
        expect(n.counts.executions).to.equal(1);
        expect(n.sent).to.have.length(1);
    });
});
