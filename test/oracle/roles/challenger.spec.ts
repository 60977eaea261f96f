/**
 * The challenger role against a real store and tracker, with the chain (views, re-execution, transactions) and the
 * executor faked: which results it disputes (only those the chain's own re-execution says are wrong), once, within
 * the window, within the bond cap, by commit then reveal, across restarts and crashes at every step, and how
 * confirmed events close them.
 */
import { expect } from "chai";
import { ethers, getBytes, keccak256, type Wallet } from "ethers";
import { IReexecutionResolver__factory, InferenceCoordinator__factory } from "../../../typechain-types";
import {
    challengeCommitment,
    CoordinatorClient,
    ZERO_BYTES32,
    type ChainResult,
} from "../../../oracle/src/chain/coordinator";
import { packRequestTerms, type Request } from "../../../oracle/src/chain/requestEvents";
import { VerificationModeBigInt } from "../../../oracle/src/protocol/verificationMode";
import { RevertError, type ChainClient, type RpcLog, type TransactionReceipt } from "../../../oracle/src/chain/rpc";
import type { SendOutcome, TxSender } from "../../../oracle/src/chain/txSender";
import type { Config } from "../../../oracle/src/config/schema";
import { createLogger } from "../../../oracle/src/internal/logger";
import { createMetrics, type NodeMetrics } from "../../../oracle/src/internal/metrics";
import type { Executor, ReferenceResult } from "../../../oracle/src/runtime/executor";
import { DType, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
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
const resolverIface = IReexecutionResolver__factory.createInterface();
type EventName = Parameters<typeof iface.getEvent>[0];

const COORDINATOR = ethers.getAddress("0x" + "c0".repeat(20));
/** Request 1 as log lines write it: 0x + 64 hex, the `verity` command's form (the store keeps "1"). */
const ONE_HEX = ethers.toBeHex(1n, 32);
const TOKEN = ethers.getAddress("0x" + "70".repeat(20));
const RESOLVER = ethers.getAddress("0x" + "9e".repeat(20));
/** A REEXECUTION resolver the coordinator's admin set later. */
const NEW_RESOLVER = ethers.getAddress("0x" + "9f".repeat(20));
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

function announced(
    id: bigint,
    input: Uint8Array,
    mode = VerificationModeBigInt.REEXECUTION,
    changes: Partial<Request> = {},
): Request {
    return {
        requestId: id,
        modelId: MODEL,
        inputHash: keccak256(input),
        consumer: CONSUMER,
        feeWei: 10n,
        assignedOperator: LIAR,
        collateralWei: COLLATERAL,
        protocolFeeWei: 1n,
        deadline: BigInt(START + 3_600),
        exclusiveUntil: BigInt(START + 30),
        callbackGasLimit: 200_000n,
        challengeWindowSeconds: BigInt(WINDOW),
        bondWei: BOND,
        mode,
        status: 1n,
        disputeRounds: 0n,
        operator: ethers.ZeroAddress,
        resultCode: 0n,
        challengeEndsAt: 0n,
        outputHash: ethers.ZeroHash,
        traceCommitment: ethers.ZeroHash,
        ...changes,
    };
}

/** A fake of the chain views and re-execution the challenger reads; encoders are the real ones. */
class FakeCoordinator extends CoordinatorClient {
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
    /** Challenge commitments on the fake chain, with the block each was made in. */
    commitments = new Map<string, number>();

    constructor() {
        super(undefined as unknown as ChainClient, COORDINATOR);
    }
    override async challengeCommittedAt(commitment: string): Promise<number> {
        return this.commitments.get(commitment) ?? 0;
    }
    override async resolver(): Promise<string | null> {
        return this.resolverAddress;
    }
    override async reexecute(resolver: string, modelId: string, input: Uint8Array): Promise<ChainResult> {
        expect(resolver).to.equal(this.resolverAddress);
        expect(modelId).to.equal(MODEL);
        this.reexecutions++;
        return this.chainAnswer(input);
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

/** The raw eth_call the challenger makes itself: `isWrongResult` on the resolver, answered like `reexecute`. */
class FakeChain {
    /** isWrongResult calls, by resolver. */
    isWrongCalls: string[] = [];

    constructor(private readonly coordinator: FakeCoordinator) {}

    async call(to: string, data: string): Promise<string> {
        expect(to).to.equal(this.coordinator.resolverAddress);
        const call = resolverIface.parseTransaction({ data });
        expect(call?.name).to.equal("isWrongResult");
        const [modelId, input, resultCode, outputHash] = call!.args as unknown as [string, string, bigint, string];
        expect(modelId).to.equal(MODEL);
        this.isWrongCalls.push(to);
        const answer = this.coordinator.chainAnswer(getBytes(input));
        const wrong =
            answer.resultCode !== Number(resultCode) || answer.outputHash.toLowerCase() !== outputHash.toLowerCase();
        return resolverIface.encodeFunctionResult("isWrongResult", [wrong]);
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
 * `crash` makes the process "die" before or after that store transaction. `revert` and `crash` apply to
 * transactions of kind `only` when it is set, to all otherwise.
 */
class FakeTx {
    sent: Sent[] = [];
    revert: RevertError | undefined;
    crash: "before_store" | "after_store" | undefined;
    only: TxKind | undefined;
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
        const applies = this.only === undefined || this.only === kind;
        if (applies && this.revert !== undefined) return { sent: false, revert: this.revert };
        if (applies && this.crash === "before_store") throw new Error("killed before the transaction was stored");
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
        if (applies && this.crash === "after_store") throw new Error("killed after the transaction was stored");
        return { sent: true, txId };
    }
}

describe("oracle/roles/challenger", function () {
    let store: Store;
    let metrics: NodeMetrics;
    let coordinator: FakeCoordinator;
    let chain: FakeChain;
    let tx: FakeTx;
    let chainTime: number;
    let logs: Record<string, unknown>[];
    let track: (logs: RpcLog[]) => void;
    let ctx: NodeContext;
    let role: ChallengerRole;
    /** Replaces the reference interpreter (a bug in our reference, injected). */
    let referenceOverride: ((input: Uint8Array) => ReferenceResult | Promise<ReferenceResult>) | undefined;
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
            chain: chain as unknown as ChainClient,
            coordinator,
            store,
            wallet: { address: ME } as Wallet,
            tx: tx as unknown as TxSender,
            executor,
            servedModels: new Set([MODEL]),
            modelMayLoad: () => false,
            requestRound: () => undefined,
            chainTime: () => chainTime,
            nextBlockTime: () => chainTime,
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
        chain = new FakeChain(coordinator);
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
        mode = VerificationModeBigInt.REEXECUTION,
        changes: Partial<Request> = {},
    ): Request {
        const request = announced(id, input, mode, changes);
        track([
            coordinatorLog(
                "InferenceRequested",
                [id, MODEL, CONSUMER, packRequestTerms(request), ethers.hexlify(input)],
                block++,
            ),
        ]);
        const challengeEndsAt = BigInt(chainTime + WINDOW);
        track([
            coordinatorLog(
                "ResultSubmitted",
                [id, operator, resultCode, ZERO_BYTES32, challengeEndsAt, ethers.hexlify(output)],
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
        const challenged = () => coordinatorLog("ResultChallenged", [request.requestId, ME, RESOLVER, BOND], block);
        return receiptAt("dd", "ee", status, challenged);
    }

    /**
     * A receipt in the current block (hashes of repeated `tx` / `blk` bytes) holding `log()` when it succeeded (a
     * reverted one makes no log, so it takes no log index).
     */
    function receiptAt(tx: string, blk: string, status: 0 | 1, log: () => RpcLog): TransactionReceipt {
        return {
            transactionHash: "0x" + tx.repeat(32),
            blockNumber: block,
            blockHash: "0x" + blk.repeat(32),
            status,
            gasUsed: 1n,
            effectiveGasPrice: 1n,
            logs: status === 1 ? [log()] : [],
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
            events.push(coordinatorLog("ChallengeWindowRestarted", [id, BigInt(chainTime + WINDOW), 1], b));
        }
        return events;
    }

    /** The same ResultSubmitted again (the new chain of a reorg has it), in block `at`. */
    function resubmitted(request: Request, output: Uint8Array, at: number): RpcLog {
        return coordinatorLog(
            "ResultSubmitted",
            [
                request.requestId,
                request.operator,
                Number(request.resultCode),
                ZERO_BYTES32,
                request.challengeEndsAt,
                ethers.hexlify(output),
            ],
            at,
        );
    }

    /** The challenge struct, evidence and salt of a stored challenge (reveal) transaction. */
    function challengeCall(sent: Sent): { request: Request; input: string; salt: string } {
        const call = iface.parseTransaction({ data: sent.data })!;
        expect(call.name).to.equal("challenge");
        return { request: call.args[0] as Request, input: call.args[1] as string, salt: call.args[2] as string };
    }

    /** The commitment of a stored commitChallenge transaction. */
    function commitmentOf(sent: Pick<Sent, "data">): string {
        const call = iface.parseTransaction({ data: sent.data })!;
        expect(call.name).to.equal("commitChallenge");
        return call.args[0] as string;
    }

    /** The receipt of our commitment: ChallengeCommitted by us (status 1), or a revert. */
    function commitReceipt(commitment: string, status: 0 | 1 = 1): TransactionReceipt {
        return receiptAt("c1", "ef", status, () => coordinatorLog("ChallengeCommitted", [commitment, ME], block));
    }

    /**
     * "Mines" every pending commitment, each in a block of its own: the fake chain stores it and the sender records
     * its receipt (tx state and the role's callback, in one store transaction). Then `n` rounds, where the reveals go.
     */
    async function mineCommitments(n = 1): Promise<void> {
        for (const t of storedOf("commit_challenge")) {
            const commitment = commitmentOf(t);
            block++;
            coordinator.commitments.set(commitment, block);
            store.transaction(() => {
                store.setTxState(t.id, "mined", { hash: "0x" + "c1".repeat(32), block });
                onChallengerTxMined(ctx, store.getTx(t.id)!, commitReceipt(commitment));
            });
        }
        await rounds(n);
    }

    /** What the chain answers when it agrees with a liar that submitted WRONG_OUTPUT. */
    const liarsAnswer = (): ChainResult => ({
        resultCode: 0,
        output: WRONG_OUTPUT,
        outputHash: keccak256(WRONG_OUTPUT),
    });

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
            submitted(2n, input, 0, WRONG_OUTPUT, LIAR, VerificationModeBigInt.QUORUM);
            await rounds();
            expect(store.getWatched("1")).to.equal(undefined);
            expect(store.getWatched("2")).to.equal(undefined);
            expect(tx.sent).to.deep.equal([]);
        });
    });

    describe("disputes a wrong result", function () {
        it("confirms with the chain, approves the bond, commits, reveals once, records the win, withdraws", async function () {
            const input = mlpInput([12n, -7n, 100n, -128n]);
            const request = submitted(1n, input, 0, WRONG_OUTPUT);
            await rounds();
            // Approval first (no allowance yet), bounded by challenger.maxBondWei; no dispute until it is mined.
            expect(sentOf("approve")).to.have.length(1);
            expect(sentOf("approve")[0]!.to).to.equal(TOKEN);
            const [, amount] = new ethers.Interface(["function approve(address,uint256)"]).decodeFunctionData(
                "approve",
                sentOf("approve")[0]!.data,
            );
            expect(amount).to.equal(MAX_BOND);
            expect(sentOf("commit_challenge")).to.have.length(0);
            expect(sentOf("challenge")).to.have.length(0);
            await rounds(); // approval still pending: no second approval, no dispute
            expect(sentOf("approve")).to.have.length(1);
            store.setTxState(storedOf("approve")[0]!.id, "mined", { hash: "0x" + "aa".repeat(32), block });
            coordinator.allowance = MAX_BOND;
            await rounds();

            // The commitment first: it names neither the request nor the result, and binds our address.
            const [commit] = sentOf("commit_challenge");
            const { salt } = store.getWatched("1")!;
            expect(salt).to.match(/^0x[0-9a-f]{64}$/);
            expect(commit).to.deep.include({ to: COORDINATOR, requestIds: ["1"] });
            expect(commitmentOf(commit!)).to.equal(challengeCommitment(1n, ME, salt!));
            expect(ethers.dataLength(commit!.data)).to.equal(4 + 32);
            expect(store.getWatched("1")).to.include({ state: "committing", txId: commit!.txId, bondWei: "100" });
            expect(sentOf("challenge")).to.have.length(0);
            await rounds(); // not mined yet: nothing more
            expect(sentOf("commit_challenge")).to.have.length(1);
            expect(sentOf("challenge")).to.have.length(0);

            // Mined: the reveal follows, with the same salt.
            await mineCommitments();
            const [challenge] = sentOf("challenge");
            expect(challenge).to.not.equal(undefined);
            const call = challengeCall(challenge!);
            expect(call.input).to.equal(ethers.hexlify(input)); // the input is the evidence
            expect(String(call.request.outputHash)).to.equal(request.outputHash);
            expect(call.salt).to.equal(salt);
            expect(store.getWatched("1")).to.include({
                state: "challenging",
                txId: challenge!.txId,
                bondWei: BOND.toString(),
                salt,
                expectedHash: correctOf(input).outputHash.toLowerCase(),
            });
            // Confirmed by the chain twice: re-executed when found suspect, asked again right before sending.
            expect(coordinator.reexecutions).to.equal(1);
            expect(chain.isWrongCalls).to.deep.equal([RESOLVER]);

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
            await mineCommitments();
            expect(sentOf("challenge").map((s) => s.requestIds)).to.deep.equal([["1"]]);
            submitted(2n, Uint8Array.from([1, 2, 3]), 0, WRONG_OUTPUT);
            await rounds();
            await mineCommitments();
            expect(sentOf("challenge").map((s) => s.requestIds)).to.deep.equal([["1"], ["2"]]);
        });

        it("records a lost dispute from the confirmed DisputeResolved event", async function () {
            coordinator.allowance = MAX_BOND;
            const request = submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            await mineCommitments();
            track(disputeEvents(request, ME, false));
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "lost" });
            expect(await counter(metrics.disputesLost)).to.equal(1);
        });

        it("restart before the salt is stored (challenger.dispute_decided): a fresh salt, one commitment", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            coordinator.tokenBalance = 0n; // decided (wrong) and stopped before the dispute: no salt drawn yet
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "wrong", salt: null });
            restart();
            coordinator.tokenBalance = 1_000n;
            chainTime += POSTPONE_SECONDS;
            await rounds();
            const { salt } = store.getWatched("1")!;
            expect(sentOf("commit_challenge").map(commitmentOf)).to.deep.equal([challengeCommitment(1n, ME, salt!)]);
        });

        it("restart with the salt stored and the commitment not (challenger.salt_saved): commits that same salt", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            // Killed before the signed commitment was stored: the salt is on disk, nothing was signed.
            tx.only = "commit_challenge";
            tx.crash = "before_store";
            await rounds();
            const saved = store.getWatched("1")!;
            expect(saved).to.include({ state: "wrong", txId: null });
            expect(saved.salt).to.match(/^0x[0-9a-f]{64}$/);
            expect(storedOf("commit_challenge")).to.have.length(0);
            restart();
            await rounds();
            expect(sentOf("commit_challenge").map(commitmentOf)).to.deep.equal([
                challengeCommitment(1n, ME, saved.salt!),
            ]);
            await mineCommitments();
            expect(sentOf("challenge").map((c) => challengeCall(c).salt)).to.deep.equal([saved.salt]);
        });

        it("restart with the commitment in flight (challenger.commit_sent): rebroadcast, never a second one", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            tx.only = "commit_challenge";
            tx.crash = "after_store";
            await rounds(2);
            const committing = store.getWatched("1")!;
            expect(committing.state).to.equal("committing");
            restart();
            await rounds();
            expect(tx.sent).to.deep.equal([]);
            expect(storedOf("commit_challenge")).to.have.length(1);
            expect(store.getWatched("1")).to.include({ state: "committing", txId: committing.txId });
            await mineCommitments();
            expect(sentOf("challenge").map((c) => challengeCall(c).salt)).to.deep.equal([committing.salt]);
        });

        it("restart with the commitment mined and the reveal not sent (challenger.reveal_due): reveals it once", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            // Mined, and killed before the reveal was stored (the receipt recorded, no round after it).
            tx.only = "challenge";
            tx.crash = "before_store";
            await mineCommitments();
            const committed = store.getWatched("1")!;
            expect(committed.state).to.equal("committed");
            expect(storedOf("challenge")).to.have.length(0);
            restart();
            await rounds();
            expect(sentOf("commit_challenge")).to.deep.equal([]);
            expect(sentOf("challenge").map((c) => challengeCall(c).salt)).to.deep.equal([committed.salt]);
            expect(store.getWatched("1")!.state).to.equal("challenging");
        });

        it("restart with the reveal in flight (challenger.reveal_sent): rebroadcast, never a second one", async function () {
            coordinator.allowance = MAX_BOND;
            const request = submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            tx.only = "challenge";
            tx.crash = "after_store";
            await mineCommitments();
            const challenging = store.getWatched("1")!;
            expect(challenging.state).to.equal("challenging");
            restart();
            await rounds();
            expect(tx.sent).to.deep.equal([]);
            const [reveal] = storedOf("challenge");
            expect(reveal!.id).to.equal(challenging.txId);
            store.transaction(() => onChallengerTxMined(ctx, reveal!, challengeReceipt(request)));
            track(disputeEvents(request, ME, true));
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "won" });
        });

        it("reveals a commitment the chain already has instead of committing again (the node lost track of it)", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            const [commit] = storedOf("commit_challenge");
            // The chain has it (mined, or someone sent our very commitment first), but our transaction is dropped.
            coordinator.commitments.set(commitmentOf(commit!), block);
            store.transaction(() => onChallengerTxDropped(ctx, commit!, "nonce used by another transaction"));
            expect(store.getWatched("1")).to.include({ state: "wrong", txId: null, bondWei: null });
            await rounds(1);
            expect(sentOf("commit_challenge")).to.have.length(1);
            expect(sentOf("challenge")).to.have.length(1);
            expect(store.getWatched("1")).to.include({ state: "challenging", bondWei: BOND.toString() });
        });

        it("commits again, with the same salt, when its commitment transaction reverted and the chain has none", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            const [commit] = storedOf("commit_challenge");
            store.transaction(() => {
                store.setTxState(commit!.id, "reverted", { hash: "0x" + "c1".repeat(32), block });
                onChallengerTxMined(ctx, commit!, commitReceipt(commitmentOf(commit!), 0));
            });
            expect(store.getWatched("1")).to.include({ state: "wrong", txId: null, attempts: 1 });
            await rounds(1);
            expect(sentOf("commit_challenge").map(commitmentOf)).to.deep.equal([
                commitmentOf(commit!),
                commitmentOf(commit!),
            ]);
        });

        it("reveals only once a block after the commitment's accepts it, counting no attempt while it waits", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            // A node that simulates on its latest block, which is the commitment's.
            tx.only = "challenge";
            tx.revert = new RevertError(
                "eth_estimateGas",
                "CoordinatorChallengeCommitmentTooRecent",
                iface.encodeErrorResult("CoordinatorChallengeCommitmentTooRecent", [block + 1, block + 1]),
            );
            await mineCommitments(3);
            expect(store.getWatched("1")).to.include({ state: "committed", attempts: 0 });
            expect(sentOf("challenge")).to.have.length(0);
            tx.revert = undefined; // a new block
            await rounds(1);
            expect(sentOf("challenge")).to.have.length(1);
        });

        it("reveals again when its challenge transaction is dropped and the window is still open", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            await mineCommitments();
            const [first] = storedOf("challenge");
            const { salt } = store.getWatched("1")!;
            store.transaction(() => onChallengerTxDropped(ctx, first!, "nonce used by another transaction"));
            expect(store.getWatched("1")).to.include({ state: "wrong", txId: null, bondWei: null, salt });
            await rounds();
            // The commitment is still on chain (never revealed): revealed again, not made again.
            expect(sentOf("commit_challenge")).to.have.length(1);
            expect(sentOf("challenge").map((c) => challengeCall(c).salt)).to.deep.equal([salt, salt]);
        });

        it("commits again, with the same salt, when its commitment transaction is dropped", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            const [first] = storedOf("commit_challenge");
            store.transaction(() => onChallengerTxDropped(ctx, first!, "nonce used by another transaction"));
            expect(store.getWatched("1")).to.include({ state: "wrong", txId: null, bondWei: null });
            await rounds();
            expect(sentOf("commit_challenge").map(commitmentOf)).to.deep.equal([
                commitmentOf(first!),
                commitmentOf(first!),
            ]);
        });

        it("asks the current resolver again right before sending, and does not dispute what it now calls right", async function () {
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds(); // confirmed wrong; the approval goes first
            expect(store.getWatched("1")!.state).to.equal("wrong");
            expect(sentOf("approve")).to.have.length(1);
            // Meanwhile the coordinator's admin sets another REEXECUTION resolver, which agrees with the operator.
            coordinator.resolverAddress = NEW_RESOLVER;
            coordinator.chainAnswer = liarsAnswer;
            store.setTxState(storedOf("approve")[0]!.id, "mined", { hash: "0x" + "aa".repeat(32), block });
            coordinator.allowance = MAX_BOND;
            await rounds();
            await mineCommitments(3);
            // No reveal (the bond would be lost): back to the chain's check, which now agrees with the operator.
            expect(sentOf("challenge")).to.deep.equal([]);
            expect(chain.isWrongCalls).to.deep.equal([NEW_RESOLVER]);
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "reference_disagrees" });
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

        it("turns a closed window reported by the reveal's simulation into a missed dispute", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            tx.only = "challenge";
            tx.revert = new RevertError(
                "eth_estimateGas",
                "CoordinatorChallengeWindowClosed",
                iface.encodeErrorResult("CoordinatorChallengeWindowClosed", [START + 10, START + 5]),
            );
            await rounds();
            await mineCommitments();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "window_closed" });
            expect(await counter(metrics.disputesSkipped, { reason: "window_closed" })).to.equal(1);
        });

        it("a commitment not revealed before the window closes is a missed dispute (mined or still in flight)", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            submitted(2n, mlpInput([4n, 3n, 2n, 1n]), 0, WRONG_OUTPUT);
            await rounds(2);
            expect(store.watchedIn("committing").map((w) => w.requestId)).to.deep.equal(["1", "2"]);
            // The first commitment is mined, the second is still in flight, when the window closes.
            const [first] = storedOf("commit_challenge");
            coordinator.commitments.set(commitmentOf(first!), block);
            store.transaction(() => {
                store.setTxState(first!.id, "mined", { hash: "0x" + "c1".repeat(32), block });
                onChallengerTxMined(ctx, first!, commitReceipt(commitmentOf(first!)));
            });
            chainTime += WINDOW;
            await rounds(1);
            expect(sentOf("challenge")).to.deep.equal([]);
            for (const id of ["1", "2"]) {
                expect(store.getWatched(id)).to.include({ state: "done", outcome: "window_closed" });
                expect(store.getWatched(id)!.reason).to.equal(
                    "the challenge window closed before our commitment was revealed",
                );
            }
            expect(await counter(metrics.disputesSkipped, { reason: "window_closed" })).to.equal(2);
            expect(logs.filter((l) => l.level === "error" && /^missed a dispute/.test(String(l.msg)))).to.have.length(
                2,
            );
        });

        it("closes a result disputed by someone else when the window passes, and takes it up again if that dispute is rejected", async function () {
            coordinator.allowance = MAX_BOND;
            coordinator.tokenBalance = 0n; // our dispute waits for funds...
            const input = mlpInput([1n, 2n, 3n, 4n]);
            const request = submitted(1n, input, 0, WRONG_OUTPUT);
            await rounds();
            expect(store.getWatched("1")!.state).to.equal("wrong");
            // ...while another challenger's dispute opens and stays undecided (an asynchronous resolver).
            track([coordinatorLog("ResultChallenged", [1n, OTHER_CHALLENGER, RESOLVER, BOND], block++)]);
            coordinator.tokenBalance = 1_000n;
            chainTime += WINDOW; // the window of the struct we hold is over
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "window_closed" });
            expect(tx.sent).to.deep.equal([]);

            // The other dispute is rejected: the window restarts, and the result is ours to check and dispute again.
            const challengeEndsAt = BigInt(chainTime + WINDOW);
            const b = block++;
            track([
                coordinatorLog("DisputeResolved", [1n, false, OTHER_CHALLENGER, request.operator, 0n, 0n], b),
                coordinatorLog("ChallengeWindowRestarted", [1n, challengeEndsAt, 1], b),
            ]);
            expect(store.getWatched("1")).to.include({ state: "unchecked", outcome: null });
            await rounds();
            await mineCommitments();
            const [challenge] = sentOf("challenge");
            expect(challenge).to.not.equal(undefined);
            const call = challengeCall(challenge!);
            expect(call.request.challengeEndsAt).to.equal(challengeEndsAt);
            expect(call.request.status).to.equal(2n); // Submitted again
            expect(store.getWatched("1")!.state).to.equal("challenging");
        });

        it("skips a dispute whose bond alone is above challenger.maxBondWei", async function () {
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT, LIAR, 0n, { bondWei: MAX_BOND + 1n });
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
            // 250 wei cap, 100 wei bonds: two at once, counted from the commitment on.
            expect(sentOf("commit_challenge").map((s) => s.requestIds[0])).to.deep.equal(["1", "2"]);
            expect(store.bondsWei(["committing", "committed", "challenging", "challenged"])).to.equal(2n * BOND);
            expect(store.getWatched("3")!.state).to.equal("wrong");
            expect(logs.some((l) => /bond cap in use/.test(String(l.msg)))).to.be.true;
            await mineCommitments();
            expect(sentOf("challenge").map((s) => s.requestIds[0])).to.deep.equal(["1", "2"]);
            expect(store.getWatched("3")!.state).to.equal("wrong");
            track(disputeEvents(requests[0]!, ME, true));
            await rounds();
            await mineCommitments();
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
                request_id: ONE_HEX,
                bond_wei: BOND.toString(),
                balance_wei: (BOND - 1n).toString(),
            });
            coordinator.tokenBalance = BOND;
            chainTime += POSTPONE_SECONDS;
            await rounds();
            expect(sentOf("commit_challenge")).to.have.length(1);
            await mineCommitments();
            expect(sentOf("challenge")).to.have.length(1);
        });
    });

    describe("confirmed events and reorgs", function () {
        it("postpones when another challenger got there first, and closes on its confirmed verdict", async function () {
            coordinator.allowance = MAX_BOND;
            const request = submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            tx.only = "challenge";
            tx.revert = new RevertError(
                "eth_estimateGas",
                "CoordinatorWrongStatus",
                iface.encodeErrorResult("CoordinatorWrongStatus", [1n, 3, 2]),
            );
            await rounds();
            await mineCommitments();
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
            await mineCommitments();
            const [challenge] = storedOf("challenge");
            store.transaction(() => onChallengerTxMined(ctx, challenge!, challengeReceipt(request, 0)));
            expect(store.getWatched("1")).to.include({ state: "wrong", txId: null, attempts: 1 });

            const input = mlpInput([9n, 9n, 9n, 9n]);
            submitted(2n, input, 0, correctOf(input).output);
            await rounds();
            track([coordinatorLog("ResultFinalized", [2n, true, 1n], block++)]);
            expect(store.getWatched("2")).to.include({ state: "done", outcome: "correct" });
        });

        it("survives a reorg: the same submission resumes its pending challenge, another one starts over", async function () {
            coordinator.allowance = MAX_BOND;
            const input = mlpInput([1n, 2n, 3n, 4n]);
            submitted(1n, input, 0, WRONG_OUTPUT);
            await rounds();
            await mineCommitments();
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
                    [1n, LIAR, 0, ZERO_BYTES32, BigInt(chainTime + WINDOW), ethers.hexlify(correct.output)],
                    before.blockNumber + 2,
                ),
            ]);
            expect(store.getWatched("1")!.state).to.equal("unchecked");
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "correct" });
        });

        it("checks a request a reorg announced again with another input against the new input", async function () {
            coordinator.allowance = MAX_BOND;
            const oldInput = mlpInput([1n, 2n, 3n, 4n]);
            const newInput = mlpInput([4n, 3n, 2n, 1n]);
            const truth = correctOf(oldInput);
            expect(correctOf(newInput).outputHash).to.not.equal(truth.outputHash);
            submitted(1n, oldInput, 0, truth.output); // a correct answer on the old chain
            await rounds();
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "correct" });
            expect(store.getRequest("1")).to.include({ state: "done", outcome: "served_by_other" });

            // A reorg replaces the request's block: on the new chain the same id carries another input, and the
            // operator submits the same bytes, correct for the old input and wrong for the new one.
            store.rewind(99);
            block = 100;
            submitted(1n, newInput, 0, truth.output, LIAR, 0n, { exclusiveUntil: BigInt(START + 31) });
            expect(store.getRequest("1")!.input).to.deep.equal(newInput);
            await rounds();
            await mineCommitments();
            const [challenge] = sentOf("challenge");
            expect(challenge, "the lie on the new chain is disputed").to.not.equal(undefined);
            const call = challengeCall(challenge!);
            expect(call.input).to.equal(ethers.hexlify(newInput));
            expect(call.request.inputHash).to.equal(keccak256(newInput));
            expect(call.request.exclusiveUntil).to.equal(BigInt(START + 31));
        });

        it("disputes with the struct the new chain announced when a reorg announces a served request again", async function () {
            coordinator.allowance = MAX_BOND;
            const input = mlpInput([1n, 2n, 3n, 4n]);
            submitted(1n, input, 0, WRONG_OUTPUT);
            await rounds();
            await mineCommitments();
            const [first] = sentOf("challenge");
            expect(store.getWatched("1")).to.include({ state: "challenging", txId: first!.txId });

            // Re-announced in a later block: the same input, a new exclusiveUntil (block-timestamp based); the same
            // submission. The pending challenge carries the old struct, which the chain no longer knows.
            store.rewind(99);
            block = 101;
            submitted(1n, input, 0, WRONG_OUTPUT, LIAR, 0n, { exclusiveUntil: BigInt(START + 31) });
            const w = store.getWatched("1")!;
            expect(w.request.exclusiveUntil).to.equal(String(START + 31));
            expect(w).to.include({ state: "unchecked", txId: null, bondWei: null, salt: null });
            await rounds();
            await mineCommitments();
            const challenges = sentOf("challenge");
            expect(challenges).to.have.length(2);
            expect(challengeCall(challenges[1]!).request.exclusiveUntil).to.equal(BigInt(START + 31));
            // The old challenge, turned into a no-op by the sender, no longer touches the row.
            store.transaction(() => onChallengerTxDropped(ctx, store.getTx(first!.txId)!, "would revert now"));
            expect(store.getWatched("1")).to.include({ state: "challenging", txId: challenges[1]!.txId });
        });

        it("does not apply a check to a submission a reorg replaced with another input while it ran", async function () {
            const oldInput = mlpInput([1n, 2n, 3n, 4n]);
            const newInput = mlpInput([4n, 3n, 2n, 1n]);
            const truth = correctOf(oldInput);
            let release: () => void = () => undefined;
            const gate = new Promise<void>((resolve) => (release = resolve));
            referenceOverride = async (input) => {
                await gate;
                const r = runVerifiable(reference, input);
                return { resultCode: r.resultCode, output: r.output, outputHash: r.outputHash, inferenceMs: 1 };
            };
            submitted(1n, oldInput, 0, truth.output);
            await role.tick(); // the check of the old submission starts and waits
            expect(role.inflight()).to.equal(1);
            referenceOverride = undefined;

            store.rewind(99);
            block = 100;
            submitted(1n, newInput, 0, truth.output, LIAR, 0n, { exclusiveUntil: BigInt(START + 31) });
            release();
            await role.drain();
            // Same operator, result code and output hash, but another input: the old verdict does not apply.
            expect(store.getWatched("1")).to.include({ state: "unchecked", outcome: null });
            coordinator.allowance = MAX_BOND;
            await rounds();
            await mineCommitments();
            expect(sentOf("challenge")).to.have.length(1);
            expect(challengeCall(sentOf("challenge")[0]!).input).to.equal(ethers.hexlify(newInput));
        });

        it("revives a reorged challenge from what its transaction became meanwhile, never challenging for ever", async function () {
            coordinator.allowance = MAX_BOND;
            const request = submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            await mineCommitments();
            const [first] = storedOf("challenge");
            const at = store.getWatched("1")!.blockNumber;

            // The submission's block is reorged out; the sender turns the challenge into a no-op (it would revert
            // on the shorter chain), and the no-op is mined. Its callbacks find the row done and leave it.
            store.rewind(at - 1);
            store.transaction(() => {
                store.replaceTxPayload(first!.id, "noop", ME, "0x", 21_000n);
                onChallengerTxDropped(ctx, first!, "would revert now");
            });
            store.setTxState(first!.id, "mined", { hash: "0x" + "01".repeat(32), block });
            // The new chain has the very same submission: no challenge is pending any more, nor any bond at risk.
            track([resubmitted(request, WRONG_OUTPUT, at + 1)]);
            expect(store.getWatched("1")).to.include({ state: "wrong", txId: null, bondWei: null });
            expect(store.bondsWei(["committing", "committed", "challenging", "challenged"])).to.equal(0n);
            await rounds();
            // Our commitment was never revealed: revealed now, not made again.
            const second = storedOf("challenge")[0]!;
            expect(sentOf("challenge").map((s) => s.txId)).to.deep.equal([first!.id, second.id]);
            expect(sentOf("commit_challenge")).to.have.length(1);

            // Another reorg; this time the challenge is mined meanwhile (its receipt finds the row done).
            store.rewind(at - 1);
            store.transaction(() => {
                store.setTxState(second.id, "mined", { hash: "0x" + "02".repeat(32), block });
                onChallengerTxMined(ctx, second, challengeReceipt(request));
            });
            track([resubmitted(request, WRONG_OUTPUT, at + 2)]);
            expect(store.getWatched("1")).to.include({ state: "challenged", txId: second.id });
            track(disputeEvents(request, ME, true));
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "won" });
        });

        it("releases a challenge whose transaction ended without its callback reaching the row", async function () {
            coordinator.allowance = MAX_BOND;
            submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            await mineCommitments();
            const [first] = storedOf("challenge");
            store.setTxState(first!.id, "dropped");
            await rounds(1);
            expect(logs.some((l) => /challenge no longer in flight/.test(String(l.msg)))).to.be.true;
            expect(sentOf("challenge")).to.have.length(2);
            expect(store.getWatched("1")).to.include({ state: "challenging", txId: sentOf("challenge")[1]!.txId });
            expect(store.bondsWei(["challenging", "challenged"])).to.equal(BOND);
        });

        it("re-checks a committed result whose window another challenger's rejected dispute restarted; reveals the same commitment", async function () {
            coordinator.allowance = MAX_BOND;
            const request = submitted(1n, mlpInput([1n, 2n, 3n, 4n]), 0, WRONG_OUTPUT);
            await rounds();
            // Committed; the reveal waits for funds while another challenger's dispute opens and is rejected.
            coordinator.tokenBalance = 0n;
            await mineCommitments();
            expect(store.getWatched("1")!.state).to.equal("committed");
            const { salt } = store.getWatched("1")!;
            track([coordinatorLog("ResultChallenged", [1n, OTHER_CHALLENGER, RESOLVER, BOND], block++)]);
            chainTime += 60;
            track(disputeEvents({ ...request, status: 3n }, OTHER_CHALLENGER, false));
            expect(store.getWatched("1")).to.include({ state: "suspect", salt, bondWei: null, txId: null });
            coordinator.tokenBalance = 1_000n;
            chainTime += POSTPONE_SECONDS;
            await rounds();
            // Confirmed wrong again by the chain: the commitment made before is revealed, not made again.
            expect(sentOf("commit_challenge")).to.have.length(1);
            const reveals = sentOf("challenge");
            expect(reveals.map((c) => challengeCall(c).salt)).to.deep.equal([salt]);
            expect(challengeCall(reveals[0]!).request.challengeEndsAt).to.equal(
                BigInt(chainTime - POSTPONE_SECONDS + WINDOW),
            );
        });

        it("re-checks, in the new window, a result whose dispute by another challenger was rejected", async function () {
            coordinator.tokenBalance = 0n; // our disputes wait for funds
            coordinator.allowance = MAX_BOND;
            const staleInput = mlpInput([1n, 2n, 3n, 4n]);
            const stale = submitted(1n, staleInput, 0, WRONG_OUTPUT);
            const still = submitted(2n, mlpInput([5n, 6n, 7n, 8n]), 0, WRONG_OUTPUT);
            await rounds();
            expect(store.getWatched("1")!.state).to.equal("wrong");
            expect(store.getWatched("2")!.state).to.equal("wrong");
            expect(coordinator.reexecutions).to.equal(2);

            // Another challenger disputes both and loses both: the chain's resolver now answers the operator's
            // result for the first (our verdict is stale), still not for the second. Both windows restart.
            const referenceAnswer = coordinator.chainAnswer;
            coordinator.chainAnswer = (input) =>
                ethers.hexlify(input) === ethers.hexlify(staleInput) ? liarsAnswer() : referenceAnswer(input);
            chainTime += 60;
            track([...disputeEvents(stale, OTHER_CHALLENGER, false), ...disputeEvents(still, OTHER_CHALLENGER, false)]);
            for (const id of ["1", "2"]) {
                const w = store.getWatched(id)!;
                expect(w.state, id).to.equal("suspect");
                expect(w.request.challengeEndsAt, id).to.equal(String(chainTime + WINDOW));
                expect(w.request.status, id).to.equal("2");
            }
            coordinator.tokenBalance = 1_000n;
            await rounds();
            await mineCommitments();
            expect(coordinator.reexecutions).to.equal(4);
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "reference_disagrees" });
            const challenges = sentOf("challenge");
            expect(challenges.map((c) => c.requestIds)).to.deep.equal([["2"]]);
            expect(challengeCall(challenges[0]!).request.challengeEndsAt).to.equal(BigInt(chainTime + WINDOW));
        });
    });
});
