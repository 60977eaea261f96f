/**
 * The challenger role against a real store and tracker, with the chain (views, re-execution, transactions) and the
 * executor faked: which results it disputes (only those the chain's own re-execution says are wrong), once, within
 * the window, within the bond cap, across restarts and crashes, and how confirmed events close them.
 */
import { expect } from "chai";
import { ethers, keccak256, type Wallet } from "ethers";
import { InferenceCoordinator__factory } from "../../../typechain-types";
import { CoordinatorClient, ZERO_BYTES32, type ChainResult } from "../../../oracle/src/chain/coordinator";
import type { Request } from "../../../oracle/src/chain/requestEvents";
import { RevertError, type ChainClient, type RpcLog, type TransactionReceipt } from "../../../oracle/src/chain/rpc";
import type { SendOutcome, TxSender } from "../../../oracle/src/chain/txSender";
import type { Config } from "../../../oracle/src/config/schema";
import { createLogger } from "../../../oracle/src/internal/logger";
import { createMetrics, type NodeMetrics } from "../../../oracle/src/internal/metrics";
import type { Executor, ReferenceResult } from "../../../oracle/src/models/executor";
import { DType, encodeTensors } from "../../../oracle/src/models/tensorCodec";
import {
    createChallengerRole,
    onChallengerTxDropped,
    onChallengerTxMined,
    type ChallengerRole,
} from "../../../oracle/src/roles/challenger";
import type { NodeContext } from "../../../oracle/src/roles/context";
import { MAX_POSTPONES, POSTPONE_SECONDS } from "../../../oracle/src/roles/postpone";
import { createTracker } from "../../../oracle/src/roles/tracker";
import { Store, type RequestState, type StoredTx, type TxKind } from "../../../oracle/src/store/store";
import { loadVerifiableModel, runVerifiable } from "../../../oracle/src/verify/execute";
import { integerMlpModel } from "../../../models/examples";

const iface = InferenceCoordinator__factory.createInterface();
type EventName = Parameters<typeof iface.getEvent>[0];

const COORDINATOR = ethers.getAddress("0x" + "c0".repeat(20));
const TOKEN = ethers.getAddress("0x" + "70".repeat(20));
const RESOLVER = ethers.getAddress("0x" + "9e".repeat(20));
const ME = ethers.getAddress("0x" + "ab".repeat(20));
const LIAR = ethers.getAddress("0x" + "de".repeat(20));
const OTHER_CHALLENGER = ethers.getAddress("0x" + "fa".repeat(20));
const CONSUMER = ethers.getAddress("0x" + "ce".repeat(20));
const MODEL = "0x" + "7a".repeat(32);
const COLLATERAL = 1_000n;
const BOND = 100n;
const MAX_BOND = 250n;
const WINDOW = 600;
const START = 10_000;

const mlp = integerMlpModel({ widths: [4, 8, 3] });
const reference = loadVerifiableModel(mlp.onnx, mlp.manifest);
const mlpInput = (x: bigint[]): Uint8Array => encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: x }]);
/** A different but well-formed output: what a liar submits. */
const WRONG_OUTPUT = encodeTensors([
    { dtype: DType.INT64, shape: [1], data: [2n] },
    { dtype: DType.INT32, shape: [1, 3], data: [1n, 2n, 3n] },
]);

let logIndex = 0;

function coordinatorLog(name: EventName, values: readonly unknown[], blockNumber: number): RpcLog {
    const { data, topics } = iface.encodeEventLog(iface.getEvent(name)!, values);
    return {
        address: COORDINATOR,
        topics,
        data,
        blockNumber,
        blockHash: ethers.zeroPadValue(ethers.toBeHex(blockNumber), 32),
        transactionHash: "0x" + "cc".repeat(32),
        index: logIndex++,
        removed: false,
    };
}

function announced(id: bigint, input: Uint8Array, mode = 0n): Request {
    return {
        requestId: id,
        modelId: MODEL,
        inputHash: keccak256(input),
        consumer: CONSUMER,
        feeWei: 10n,
        preferredOperator: LIAR,
        collateralWei: COLLATERAL,
        protocolFeeWei: 1n,
        deadline: BigInt(START + 3_600),
        exclusiveUntil: BigInt(START + 30),
        callbackGasLimit: 200_000n,
        challengeWindowSeconds: BigInt(WINDOW),
        mode,
        status: 1n,
        operator: ethers.ZeroAddress,
        resultCode: 0n,
        challengeEndsAt: 0n,
        outputHash: ethers.ZeroHash,
        traceCommitment: ethers.ZeroHash,
    };
}

/** A fake of the chain views and re-execution the challenger reads; encoders are the real ones. */
class FakeCoordinator extends CoordinatorClient {
    bond = BOND;
    tokenBalance = 1_000n;
    allowance = 0n;
    coordinatorBalance = 0n;
    resolverAddress: string | null = RESOLVER;
    /** The chain's answer; the reference semantics unless a test says otherwise. */
    chainAnswer: (input: Uint8Array) => ChainResult = (input) => {
        const r = runVerifiable(reference, input);
        return { resultCode: r.resultCode, output: r.output, outputHash: r.outputHash };
    };
    reexecutions = 0;

    constructor() {
        super(undefined as unknown as ChainClient, COORDINATOR);
    }
    override async resolver(): Promise<string | null> {
        return this.resolverAddress;
    }
    override async reexecute(resolver: string, modelId: string, input: Uint8Array): Promise<ChainResult> {
        expect(resolver).to.equal(RESOLVER);
        expect(modelId).to.equal(MODEL);
        this.reexecutions++;
        return this.chainAnswer(input);
    }
    override async challengeBond(collateralWei: bigint): Promise<bigint> {
        expect(collateralWei).to.equal(COLLATERAL);
        return this.bond;
    }
    override async token(): Promise<string> {
        return TOKEN;
    }
    override async tokenBalanceOf(): Promise<bigint> {
        return this.tokenBalance;
    }
    override async tokenAllowance(): Promise<bigint> {
        return this.allowance;
    }
    override async balanceOf(): Promise<bigint> {
        return this.coordinatorBalance;
    }
}

interface Sent {
    kind: TxKind;
    to: string;
    data: string;
    requestIds: string[];
    txId: number;
}

/**
 * The transaction sender's contract as the challenger relies on it: a simulation revert is returned and nothing is
 * stored; otherwise the transaction and `link` are written in one store transaction, then it is "broadcast".
 * `crash` makes the process "die" before or after that store transaction.
 */
class FakeTx {
    sent: Sent[] = [];
    revert: RevertError | undefined;
    crash: "before_store" | "after_store" | undefined;
    private nonce = 0;

    constructor(private readonly store: Store) {
        this.nonce = store.nextStoredNonce();
    }

    async send(
        kind: TxKind,
        to: string,
        data: string,
        requestIds: string[],
        requestState: RequestState | null,
        link?: (txId: number) => void,
    ): Promise<SendOutcome> {
        if (this.revert !== undefined) return { sent: false, revert: this.revert };
        if (this.crash === "before_store") throw new Error("killed before the transaction was stored");
        const nonce = this.nonce++;
        const txId = this.store.transaction(() => {
            const id = this.store.addTx(
                { nonce, kind, to, data, gasLimit: 100_000n, requestIds },
                { hash: ethers.id(`tx ${nonce}`), raw: "0x", maxFeePerGas: 1n, maxPriorityFeePerGas: 1n },
                requestState,
            );
            link?.(id);
            return id;
        });
        this.sent.push({ kind, to, data, requestIds, txId });
        if (this.crash === "after_store") throw new Error("killed after the transaction was stored");
        return { sent: true, txId };
    }
}

describe("oracle/roles/challenger", function () {
    let store: Store;
    let metrics: NodeMetrics;
    let coordinator: FakeCoordinator;
    let tx: FakeTx;
    let chainTime: number;
    let logs: Record<string, unknown>[];
    let track: (logs: RpcLog[]) => void;
    let ctx: NodeContext;
    let role: ChallengerRole;
    /** Replaces the reference interpreter (a bug in our reference, injected). */
    let referenceOverride: ((input: Uint8Array) => ReferenceResult) | undefined;
    let block: number;

    function makeContext(): NodeContext {
        const executor = {
            reference: async (modelId: string, input: Uint8Array): Promise<ReferenceResult> => {
                expect(modelId).to.equal(MODEL);
                if (referenceOverride !== undefined) return referenceOverride(input);
                const r = runVerifiable(reference, input);
                return { resultCode: r.resultCode, output: r.output, outputHash: r.outputHash, inferenceMs: 1 };
            },
        } as Partial<Executor> as Executor;
        const logger = createLogger({
            level: "debug",
            destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
        });
        return {
            config: {
                inference: { concurrency: 2 },
                challenger: { maxBondWei: MAX_BOND.toString(), withdrawMinWei: "50" },
            } as Partial<Config> as Config,
            logger,
            metrics,
            signal: new AbortController().signal,
            chain: undefined as unknown as ChainClient,
            coordinator,
            store,
            wallet: { address: ME } as Wallet,
            tx: tx as unknown as TxSender,
            executor,
            servedModels: new Set([MODEL]),
            modelMayLoad: () => false,
            requestRound: () => undefined,
            chainTime: () => chainTime,
        };
    }

    /** A fresh role over the same store: what a restart of the node gives. */
    function restart(): void {
        tx = new FakeTx(store);
        ctx = makeContext();
        role = createChallengerRole(ctx);
    }

    beforeEach(function () {
        store = new Store(":memory:", { chainId: 31337, coordinator: COORDINATOR, operator: ME });
        metrics = createMetrics();
        coordinator = new FakeCoordinator();
        chainTime = START;
        logs = [];
        referenceOverride = undefined;
        block = 100;
        track = createTracker({
            store,
            operator: ME.toLowerCase(),
            models: new Set([MODEL]),
            metrics,
            watchResults: true,
        });
        restart();
    });

    afterEach(function () {
        store.close();
    });

    /** Runs loop rounds of the role until reference checks are done. */
    async function rounds(n = 3): Promise<void> {
        for (let i = 0; i < n; i++) {
            await role.tick();
            await role.drain();
        }
    }

    /** Announces a request and has `operator` submit (resultCode, output) for it; returns the struct after it. */
    function submitted(
        id: bigint,
        input: Uint8Array,
        resultCode: number,
        output: Uint8Array,
        operator = LIAR,
        mode = 0n,
    ): Request {
        const request = announced(id, input, mode);
        track([coordinatorLog("InferenceRequested", [id, MODEL, CONSUMER, request, ethers.hexlify(input)], block++)]);
        const challengeEndsAt = BigInt(chainTime + WINDOW);
        track([
            coordinatorLog(
                "ResultSubmitted",
                [id, operator, resultCode, keccak256(output), ZERO_BYTES32, challengeEndsAt, ethers.hexlify(output)],
                block++,
            ),
        ]);
        return {
            ...request,
            status: 2n,
            operator,
            resultCode: BigInt(resultCode),
            outputHash: keccak256(output),
            challengeEndsAt,
        };
    }

    const correctOf = (input: Uint8Array) => runVerifiable(reference, input);
    const sentOf = (kind: TxKind) => tx.sent.filter((s) => s.kind === kind);
    const storedOf = (kind: TxKind): StoredTx[] => store.pendingTxs().filter((t) => t.kind === kind);
    async function counter(
        metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
        labels: Record<string, string> = {},
    ): Promise<number> {
        const { values } = await metric.get();
        return values
            .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
            .reduce((sum, v) => sum + v.value, 0);
    }

    /** The receipt of our challenge: ResultChallenged by us, decided at once (operator at fault). */
    function challengeReceipt(request: Request, status: 0 | 1 = 1): TransactionReceipt {
        return {
            transactionHash: "0x" + "dd".repeat(32),
            blockNumber: block,
            blockHash: "0x" + "ee".repeat(32),
            status,
            gasUsed: 1n,
            effectiveGasPrice: 1n,
            logs:
                status === 1
                    ? [coordinatorLog("ResultChallenged", [request.requestId, ME, RESOLVER, BOND], block)]
                    : [],
        };
    }

    /** Confirmed events of a re-execution dispute of `request` by `challenger`, decided in the same transaction. */
    function disputeEvents(request: Request, challenger: string, operatorAtFault: boolean): RpcLog[] {
        const id = request.requestId;
        const b = block++;
        const events = [
            coordinatorLog("ResultChallenged", [id, challenger, RESOLVER, BOND], b),
            coordinatorLog(
                "DisputeResolved",
                [id, operatorAtFault, challenger, request.operator, operatorAtFault ? COLLATERAL : 0n, BOND + 500n],
                b,
            ),
        ];
        if (!operatorAtFault) {
            events.push(coordinatorLog("ChallengeWindowRestarted", [id, BigInt(chainTime + WINDOW)], b));
        }
        return events;
    }

    /** Approves as needed: runs rounds until a challenge is stored, "mining" the approval on the way. */
    async function untilChallenged(): Promise<void> {
        await rounds();
        const approve = storedOf("approve")[0];
        if (approve !== undefined) {
            store.setTxState(approve.id, "mined", { hash: "0x" + "aa".repeat(32), block });
            coordinator.allowance = MAX_BOND;
            await rounds(1);
        }
    }

    describe("never disputes a correct result", function () {
        it("leaves a correct OK output alone, without even asking the chain", async function () {
            const input = mlpInput([1n, -2n, 100n, -128n]);
            const correct = correctOf(input);
            expect(correct.resultCode).to.equal(0);
            submitted(1n, input, 0, correct.output);
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "correct" });
            expect(coordinator.reexecutions).to.equal(0);
            expect(tx.sent).to.deep.equal([]);
            expect(await counter(metrics.resultsChecked, { verdict: "correct" })).to.equal(1);
        });

        it("leaves a correct INVALID_INPUT result alone (malformed bytes, wrong dtype, out-of-range shape)", async function () {
            const inputs = [
                Uint8Array.from([0xde, 0xad]),
                encodeTensors([{ dtype: DType.INT32, shape: [1, 4], data: [1n, 2n, 3n, 4n] }]),
                encodeTensors([{ dtype: DType.INT8, shape: [1, 3], data: [1n, 2n, 3n] }]),
            ];
            for (const [i, input] of inputs.entries()) {
                expect(correctOf(input).resultCode).to.equal(1);
                submitted(BigInt(i + 1), input, 1, new Uint8Array(0));
            }
            await rounds();
            expect(store.watchedOutcomes()).to.deep.equal({ correct: 3 });
            expect(coordinator.reexecutions).to.equal(0);
            expect(tx.sent).to.deep.equal([]);
        });

        it("does not dispute when our reference disagrees but the chain's re-execution agrees with the operator", async function () {
            const input = mlpInput([5n, 6n, 7n, 8n]);
            const correct = correctOf(input);
            submitted(1n, input, 0, correct.output);
            // A bug in our reference interpreter: it answers something else.
            referenceOverride = () => ({
                resultCode: 0,
                output: WRONG_OUTPUT,
                outputHash: keccak256(WRONG_OUTPUT),
                inferenceMs: 1,
            });
            await rounds();
            expect(coordinator.reexecutions).to.equal(1);
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "reference_disagrees" });
            expect(tx.sent).to.deep.equal([]);
            expect(await counter(metrics.resultsChecked, { verdict: "reference_disagrees_with_chain" })).to.equal(1);
            expect(
                logs.some((l) => l.level === "error" && /disagrees with the chain's re-execution/.test(String(l.msg))),
            ).to.be.true;
        });

        it("never watches our own results, nor other modes' results", async function () {
            const input = mlpInput([1n, 1n, 1n, 1n]);
            submitted(1n, input, 0, WRONG_OUTPUT, ME);
            submitted(2n, input, 0, WRONG_OUTPUT, LIAR, 2n /* QUORUM */);
            await rounds();
            expect(store.getWatched("1")).to.equal(undefined);
            expect(store.getWatched("2")).to.equal(undefined);
            expect(tx.sent).to.deep.equal([]);
        });
    });

    describe("disputes a wrong result", function () {
        it("confirms with the chain, approves the bond, challenges once, records the win, withdraws", async function () {
            const input = mlpInput([12n, -7n, 100n, -128n]);
            const request = submitted(1n, input, 0, WRONG_OUTPUT);
            await rounds();
            // Approval first (no allowance yet), bounded by challenger.maxBondWei; no challenge until it is mined.
            expect(sentOf("approve")).to.have.length(1);
            expect(sentOf("approve")[0]!.to).to.equal(TOKEN);
            const [, amount] = new ethers.Interface(["function approve(address,uint256)"]).decodeFunctionData(
                "approve",
                sentOf("approve")[0]!.data,
            );
            expect(amount).to.equal(MAX_BOND);
            expect(sentOf("challenge")).to.have.length(0);
            await rounds(); // approval still pending: no second approval, no challenge
            expect(sentOf("approve")).to.have.length(1);
            await untilChallenged();

            const [challenge] = sentOf("challenge");
            expect(challenge).to.not.equal(undefined);
            const call = iface.parseTransaction({ data: challenge!.data })!;
            expect(call.name).to.equal("challenge");
            expect(call.args[1]).to.equal(ethers.hexlify(input)); // the input is the evidence
            expect(String(call.args[0].outputHash)).to.equal(request.outputHash);
            expect(store.getWatched("1")).to.include({
                state: "challenging",
                txId: challenge!.txId,
                bondWei: BOND.toString(),
                expectedHash: correctOf(input).outputHash.toLowerCase(),
            });

            // Once: further rounds and a restart send nothing more.
            await rounds();
            restart();
            await rounds();
            expect(tx.sent).to.deep.equal([]);
            expect(store.pendingTxs().filter((t) => t.kind === "challenge")).to.have.length(1);

            // The receipt, then the confirmed events: won.
            store.transaction(() => onChallengerTxMined(ctx, store.getTx(challenge!.txId)!, challengeReceipt(request)));
            expect(store.getWatched("1")!.state).to.equal("challenged");
            track(disputeEvents(request, ME, true));
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "won" });
            expect(await counter(metrics.disputesOpened)).to.equal(1);
            expect(await counter(metrics.disputesWon)).to.equal(1);
            expect(await counter(metrics.resultsChecked, { verdict: "wrong" })).to.equal(1);

            // Bond back + reward credited to our coordinator balance: withdrawn to the wallet.
            coordinator.coordinatorBalance = BOND + 500n;
            await rounds(1);
            const [withdraw] = sentOf("withdraw");
            const parsed = iface.parseTransaction({ data: withdraw!.data })!;
            expect(parsed.name).to.equal("withdraw");
            expect(parsed.args).to.deep.equal([ME, BOND + 500n]);
            await rounds(2); // pending: not twice
            expect(sentOf("withdraw")).to.have.length(1);
        });

        it("disputes a wrong error code (INVALID_INPUT for a valid input) and a wrong OK for an invalid one", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 1, new Uint8Array(0));
            await rounds();
            expect(sentOf("challenge").map((s) => s.requestIds)).to.deep.equal([["1"]]);
            submitted(2n, Uint8Array.from([1, 2, 3]), 0, WRONG_OUTPUT);
            await rounds();
            expect(sentOf("challenge").map((s) => s.requestIds)).to.deep.equal([["1"], ["2"]]);
        });

        it("records a lost dispute from the confirmed DisputeResolved event", async function () {
            coordinator.allowance = MAX_BOND;
            const request = submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            track(disputeEvents(request, ME, false));
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "lost" });
            expect(await counter(metrics.disputesLost)).to.equal(1);
        });

        it("loses nothing and doubles nothing when the process dies between deciding and sending", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            // Killed before the signed challenge was stored: the decision is on disk, the dispute is not.
            tx.crash = "before_store";
            await rounds();
            expect(store.getWatched("1")!.state).to.equal("wrong");
            expect(storedOf("challenge")).to.have.length(0);
            restart();
            await rounds();
            expect(storedOf("challenge")).to.have.length(1);

            // Killed right after the challenge was stored (before or during broadcast): it is in flight.
            submitted(2n, mlpInput([4n, 3n, 2n, 1n]), 0, WRONG_OUTPUT);
            tx.crash = "after_store";
            await rounds(2);
            expect(store.getWatched("2")!.state).to.equal("challenging");
            restart();
            await rounds();
            expect(tx.sent).to.deep.equal([]);
            expect(storedOf("challenge").map((t) => t.requestIds)).to.deep.equal([["1"], ["2"]]);
        });

        it("disputes again when its challenge transaction is dropped and the window is still open", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            const [first] = storedOf("challenge");
            store.transaction(() => onChallengerTxDropped(ctx, first!, "nonce used by another transaction"));
            expect(store.getWatched("1")).to.include({ state: "wrong", txId: null, bondWei: null });
            await rounds();
            expect(sentOf("challenge")).to.have.length(2);
        });
    });

    describe("the window and the bond", function () {
        it("does not act after the challenge window (unchecked or confirmed wrong)", async function () {
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            chainTime += WINDOW; // challengeEndsAt reached: the coordinator refuses challenges from now on
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "window_closed" });

            submitted(2n, mlpInput([1n, 2n, 3n, 5n]), 0, WRONG_OUTPUT);
            coordinator.tokenBalance = 0n; // waits for funds...
            await rounds();
            expect(store.getWatched("2")!.state).to.equal("wrong");
            chainTime += WINDOW; // ...until the window closes
            await rounds();
            expect(store.getWatched("2")).to.include({ state: "done", outcome: "window_closed" });
            expect(tx.sent).to.deep.equal([]);
            expect(await counter(metrics.disputesSkipped, { reason: "window_closed" })).to.equal(1);
        });

        it("turns a closed window reported by the simulation into window_closed", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            tx.revert = new RevertError(
                "eth_estimateGas",
                "CoordinatorChallengeWindowClosed",
                iface.encodeErrorResult("CoordinatorChallengeWindowClosed", [START + 10, START + 5]),
            );
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "window_closed" });
        });

        it("skips a dispute whose bond alone is above challenger.maxBondWei", async function () {
            coordinator.bond = MAX_BOND + 1n;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "skipped" });
            expect(store.getWatched("1")!.reason).to.match(/above challenger.maxBondWei/);
            expect(tx.sent).to.deep.equal([]);
            expect(await counter(metrics.disputesSkipped, { reason: "bond_above_cap" })).to.equal(1);
        });

        it("keeps the bonds of undecided challenges within the cap, and goes on once they are decided", async function () {
            coordinator.allowance = MAX_BOND;
            const requests = [1n, 2n, 3n].map((id) => submitted(id, mlpInput([id, 2n, 3n, 4n]), 0, WRONG_OUTPUT));
            await rounds();
            // 250 wei cap, 100 wei bonds: two at once.
            expect(sentOf("challenge").map((s) => s.requestIds[0])).to.deep.equal(["1", "2"]);
            expect(store.getWatched("3")!.state).to.equal("wrong");
            expect(logs.some((l) => /bond cap in use/.test(String(l.msg)))).to.be.true;
            track(disputeEvents(requests[0]!, ME, true));
            await rounds();
            expect(sentOf("challenge").map((s) => s.requestIds[0])).to.deep.equal(["1", "2", "3"]);
        });

        it("waits, with a clear log, when the wallet cannot pay the bond", async function () {
            coordinator.allowance = MAX_BOND;
            coordinator.tokenBalance = BOND - 1n;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            expect(tx.sent).to.deep.equal([]);
            expect(store.getWatched("1")).to.include({ state: "wrong", notBefore: START + POSTPONE_SECONDS });
            const line = logs.find((l) => /cannot pay the bond/.test(String(l.msg)));
            expect(line).to.include({
                request_id: "1",
                bond_wei: BOND.toString(),
                balance_wei: (BOND - 1n).toString(),
            });
            coordinator.tokenBalance = BOND;
            chainTime += POSTPONE_SECONDS;
            await rounds();
            expect(sentOf("challenge")).to.have.length(1);
        });
    });

    describe("confirmed events and reorgs", function () {
        it("postpones when another challenger got there first, and closes on its confirmed verdict", async function () {
            coordinator.allowance = MAX_BOND;
            const request = submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            tx.revert = new RevertError(
                "eth_estimateGas",
                "CoordinatorWrongStatus",
                iface.encodeErrorResult("CoordinatorWrongStatus", [1n, 3, 2]),
            );
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "wrong", attempts: 1 });
            track(disputeEvents(request, OTHER_CHALLENGER, true));
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "slashed_by_other" });
            expect(await counter(metrics.disputesOpened)).to.equal(0);
        });

        it("gives up after MAX_POSTPONES refusals", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            tx.revert = new RevertError("eth_estimateGas", "x", "0x");
            // One round checks; each later one is refused and postponed.
            for (let i = 0; i < MAX_POSTPONES + 2; i++) {
                await rounds(1);
                chainTime += POSTPONE_SECONDS;
            }
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "reverted" });
        });

        it("a challenge reverted on chain goes back to wrong; an honest result finalized stays correct", async function () {
            coordinator.allowance = MAX_BOND;
            const request = submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            const [challenge] = storedOf("challenge");
            store.transaction(() => onChallengerTxMined(ctx, challenge!, challengeReceipt(request, 0)));
            expect(store.getWatched("1")).to.include({ state: "wrong", txId: null, attempts: 1 });

            const input = mlpInput([9n, 9n, 9n, 9n]);
            submitted(2n, input, 0, correctOf(input).output);
            await rounds();
            track([coordinatorLog("ResultFinalized", [2n, LIAR, 9n, 1n, true, 1n], block++)]);
            expect(store.getWatched("2")).to.include({ state: "done", outcome: "correct" });
        });

        it("survives a reorg: the same submission resumes its pending challenge, another one starts over", async function () {
            coordinator.allowance = MAX_BOND;
            const input = mlpInput([1n, 2n, 3n, 4n]);
            submitted(1n, input, 0, WRONG_OUTPUT);
            await rounds();
            const before = store.getWatched("1")!;
            expect(before.state).to.equal("challenging");

            // The block of the ResultSubmitted is reorged out...
            store.rewind(before.blockNumber - 1);
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "reorged" });
            await rounds();
            expect(sentOf("challenge")).to.have.length(1);
            // ...and the new chain has the very same submission: the pending challenge is still ours.
            track([
                coordinatorLog(
                    "ResultSubmitted",
                    [
                        1n,
                        LIAR,
                        0,
                        keccak256(WRONG_OUTPUT),
                        ZERO_BYTES32,
                        BigInt(String(before.request.challengeEndsAt)),
                        ethers.hexlify(WRONG_OUTPUT),
                    ],
                    before.blockNumber + 1,
                ),
            ]);
            expect(store.getWatched("1")).to.include({ state: "challenging", txId: before.txId });

            // A reorg that brings a different (correct) submission under the same id: checked afresh.
            store.rewind(before.blockNumber - 1);
            const correct = correctOf(input);
            track([
                coordinatorLog(
                    "ResultSubmitted",
                    [
                        1n,
                        LIAR,
                        0,
                        correct.outputHash,
                        ZERO_BYTES32,
                        BigInt(chainTime + WINDOW),
                        ethers.hexlify(correct.output),
                    ],
                    before.blockNumber + 2,
                ),
            ]);
            expect(store.getWatched("1")!.state).to.equal("unchecked");
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "correct" });
        });
    });
});
