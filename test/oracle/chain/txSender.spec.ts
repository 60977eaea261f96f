import { expect } from "chai";
import { Writable } from "node:stream";
import { Transaction, Wallet, id as keccakText, parseUnits } from "ethers";
import {
    RevertError,
    RpcError,
    TxPoolError,
    type BlockHeader,
    type ChainClient,
    type TransactionReceipt,
} from "../../../oracle/src/chain/rpc";
import {
    DROP_AFTER_CHECKS,
    GAS_LIMIT_MARGIN_PERCENT,
    RECHECK_AFTER_MS,
    TX_GAS_CAP,
    TxSender,
    type TxSenderOptions,
} from "../../../oracle/src/chain/txSender";
import { RetryableError } from "../../../oracle/src/internal/errors";
import { createLogger } from "../../../oracle/src/internal/logger";
import { Store, type StoredTx } from "../../../oracle/src/store/store";

const GWEI = parseUnits("1", "gwei");
const CHAIN_ID = 31337;
const COORDINATOR = "0x" + "c0".repeat(20);
const STUCK_AFTER_MS = 60_000;
const FEE_BUMP_PERCENT = 15;
const ESTIMATE = 100_000n;

/** The chain calls TxSender makes, in memory, with knobs for each situation. */
class FakeChain {
    baseFee = 10n * GWEI;
    priorityFee = 1n * GWEI;
    /** eth_getTransactionCount "pending" and "latest". */
    pendingNonce = 0;
    minedNonce = 0;
    estimate: (tx: { from: string; to: string; data: string }) => Promise<bigint> = async () => ESTIMATE;
    readonly estimateCalls: { from: string; to: string; data: string }[] = [];
    /** Raw transactions broadcast, in order. */
    readonly sent: string[] = [];
    /** Runs when a raw transaction arrives, before it is accepted. */
    onBroadcast?: (raw: string) => void;
    /** Thrown by sendRawTransaction (after recording the raw) when set. */
    broadcastError?: unknown;
    /** Hashes the node knows (in its pool or mined). */
    readonly known = new Set<string>();
    readonly receipts = new Map<string, TransactionReceipt>();

    async estimateGas(tx: { from: string; to: string; data: string }): Promise<bigint> {
        this.estimateCalls.push({ ...tx });
        return this.estimate(tx);
    }

    blockReads = 0;

    async getBlock(tag: number | "latest"): Promise<BlockHeader | null> {
        expect(tag).to.equal("latest");
        this.blockReads++;
        return {
            number: 100,
            hash: keccakText("b100"),
            parentHash: keccakText("b99"),
            timestamp: 1,
            baseFeePerGas: this.baseFee,
        };
    }

    async maxPriorityFeePerGas(_fallback: bigint): Promise<bigint> {
        return this.priorityFee;
    }

    async getTransactionCount(_address: string, tag: "latest" | "pending"): Promise<number> {
        return tag === "pending" ? this.pendingNonce : this.minedNonce;
    }

    /** Resolves before a broadcast is accepted (a slow endpoint); counts broadcasts in flight. */
    broadcastDelay?: () => Promise<void>;
    broadcastsInFlight = 0;
    maxBroadcastsInFlight = 0;

    async sendRawTransaction(raw: string): Promise<string> {
        this.broadcastsInFlight++;
        this.maxBroadcastsInFlight = Math.max(this.maxBroadcastsInFlight, this.broadcastsInFlight);
        try {
            await this.broadcastDelay?.();
        } finally {
            this.broadcastsInFlight--;
        }
        this.sent.push(raw);
        this.onBroadcast?.(raw);
        if (this.broadcastError !== undefined) throw this.broadcastError;
        const tx = Transaction.from(raw);
        this.known.add(tx.hash!);
        this.pendingNonce = Math.max(this.pendingNonce, tx.nonce + 1);
        return tx.hash!;
    }

    async getTransactionReceipt(hash: string): Promise<TransactionReceipt | null> {
        return this.receipts.get(hash) ?? null;
    }

    /** Hashes asked about with eth_getTransactionByHash, in order. */
    readonly lookedUp: string[] = [];

    async hasTransaction(hash: string): Promise<boolean> {
        this.lookedUp.push(hash);
        return this.known.has(hash);
    }

    /** Mines the signed transaction `raw`: its receipt appears and the account's mined nonce passes it. */
    mine(raw: string, status: 0 | 1 = 1, blockNumber = 101): TransactionReceipt {
        const tx = Transaction.from(raw);
        const hash = tx.hash!;
        this.minedNonce = Math.max(this.minedNonce, tx.nonce + 1);
        const receipt: TransactionReceipt = {
            transactionHash: hash,
            blockNumber,
            blockHash: keccakText(`b${blockNumber}`),
            status,
            gasUsed: 80_000n,
            effectiveGasPrice: 11n * GWEI,
            logs: [],
        };
        this.receipts.set(hash, receipt);
        return receipt;
    }

    asClient(): ChainClient {
        return this as unknown as ChainClient;
    }
}

function decode(raw: string): Transaction {
    return Transaction.from(raw);
}

/** fee * (100 + FEE_BUMP_PERCENT) / 100, rounded up. */
function bumped(fee: bigint): bigint {
    return (fee * BigInt(100 + FEE_BUMP_PERCENT) + 99n) / 100n;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
        () => expect.fail("expected a rejection"),
        (error: unknown) => error,
    );
}

describe("oracle/chain/txSender", function () {
    let wallet: Wallet;

    before(function () {
        wallet = new Wallet(Wallet.createRandom().privateKey);
    });

    const stores: Store[] = [];
    afterEach(function () {
        for (const store of stores.splice(0)) store.close();
    });

    function setup(overrides: Partial<TxSenderOptions> = {}) {
        const clock = { ms: 1_000_000 };
        const store = new Store(
            ":memory:",
            { chainId: CHAIN_ID, coordinator: COORDINATOR, operator: wallet.address },
            { now: () => clock.ms },
        );
        stores.push(store);
        const chain = new FakeChain();
        const mined: { tx: StoredTx; receipt: TransactionReceipt }[] = [];
        const dropped: { tx: StoredTx; reason: string }[] = [];
        const events = {
            onMined: (tx: StoredTx, receipt: TransactionReceipt) => {
                mined.push({ tx, receipt });
            },
            onDropped: (tx: StoredTx, reason: string) => {
                dropped.push({ tx, reason });
            },
        };
        const logged: string[] = [];
        const destination = new Writable({
            write(chunk: Buffer | string, _encoding, callback) {
                logged.push(chunk.toString());
                callback();
            },
        });
        /** The lines logged so far (debug and up), as `{ level, msg, ...fields }`. */
        const logs = (): Record<string, unknown>[] =>
            logged
                .join("")
                .split("\n")
                .filter((line) => line !== "")
                .map((line) => JSON.parse(line) as Record<string, unknown>);
        const sender = new TxSender(
            chain.asClient(),
            store,
            wallet,
            {
                chainId: CHAIN_ID,
                stuckAfterMs: STUCK_AFTER_MS,
                feeBumpPercent: FEE_BUMP_PERCENT,
                maxFeePerGasWei: 100n * GWEI,
                now: () => clock.ms,
                ...overrides,
            },
            events,
            createLogger({ level: "debug", destination }),
        );
        /** Adds computed requests to the store. */
        function computed(...ids: string[]): void {
            for (const requestId of ids) {
                store.addRequest({
                    requestId,
                    modelId: "0x01",
                    blockNumber: 1,
                    blockHash: "0x02",
                    request: {},
                    input: new Uint8Array([1]),
                    notBefore: 0,
                });
                store.saveResult(requestId, { resultCode: 0, output: new Uint8Array([2]), outputHash: "0x03" });
            }
        }
        return { clock, store, chain, sender, mined, dropped, events, computed, logs };
    }

    /** A sent transaction's id (fails the test if it was not sent). */
    function sentId(outcome: Awaited<ReturnType<TxSender["send"]>>): number {
        expect(outcome.sent).to.equal(true);
        return (outcome as { txId: number }).txId;
    }

    describe("init", function () {
        it("starts at the chain's pending nonce when the store has used none", async function () {
            const { chain, sender, store } = setup();
            chain.pendingNonce = 5;
            await sender.init();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            expect(store.getTx(txId)!.nonce).to.equal(5);
            expect(decode(chain.sent[0]!).nonce).to.equal(5);
        });

        it("starts past the store's highest nonce when the chain has seen fewer", async function () {
            const { chain, sender, store } = setup();
            store.addTx(
                { nonce: 7, kind: "submit", to: COORDINATOR, data: "0x", gasLimit: 1n, requestIds: [] },
                { hash: "0x07", raw: "0x", maxFeePerGas: 1n, maxPriorityFeePerGas: 1n },
                null,
            );
            chain.pendingNonce = 3;
            await sender.init();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            expect(store.getTx(txId)!.nonce).to.equal(8);
        });
    });

    describe("send", function () {
        it("signs an EIP-1559 transaction and stores it, with its requests linked, before broadcasting it", async function () {
            const { chain, sender, store, computed } = setup();
            computed("r1", "r2", "r3");
            chain.pendingNonce = 2;
            await sender.init();
            let seenAtBroadcast: { txs: StoredTx[]; raws: string[]; hashes: string[]; states: unknown[] } | undefined;
            chain.onBroadcast = () => {
                const txs = store.pendingTxs();
                const attempts = txs.flatMap((t) => store.attempts(t.id));
                seenAtBroadcast = {
                    txs,
                    raws: attempts.map((a) => a.raw),
                    hashes: attempts.map((a) => a.hash),
                    states: ["r1", "r2"].map((id) => [store.getRequest(id)!.state, store.getRequest(id)!.txId]),
                };
            };

            const outcome = await sender.send("submit_batch", COORDINATOR, "0xc0ffee", ["r1", "r2"], "submitting");
            const txId = sentId(outcome);

            expect(chain.sent).to.have.length(1);
            const raw = chain.sent[0]!;
            const decoded = decode(raw);
            expect(decoded.type).to.equal(2);
            expect(decoded.chainId).to.equal(BigInt(CHAIN_ID));
            expect(decoded.nonce).to.equal(2);
            expect(decoded.to!.toLowerCase()).to.equal(COORDINATOR);
            expect(decoded.data).to.equal("0xc0ffee");
            expect(decoded.value).to.equal(0n);
            expect(decoded.gasLimit).to.equal((ESTIMATE * (100n + GAS_LIMIT_MARGIN_PERCENT)) / 100n);
            expect(decoded.maxPriorityFeePerGas).to.equal(1n * GWEI);
            expect(decoded.maxFeePerGas).to.equal(2n * chain.baseFee + 1n * GWEI);
            expect(decoded.from).to.equal(wallet.address);
            expect(chain.estimateCalls).to.deep.equal([{ from: wallet.address, to: COORDINATOR, data: "0xc0ffee" }]);

            // At broadcast time the store already held the transaction, these exact bytes, and the request links.
            expect(seenAtBroadcast).to.not.equal(undefined);
            expect(seenAtBroadcast!.txs.map((t) => t.id)).to.deep.equal([txId]);
            expect(seenAtBroadcast!.raws).to.deep.equal([raw]);
            expect(seenAtBroadcast!.hashes).to.deep.equal([decoded.hash]);
            expect(seenAtBroadcast!.states).to.deep.equal([
                ["submitting", txId],
                ["submitting", txId],
            ]);

            const stored = store.getTx(txId)!;
            expect(stored).to.include({
                nonce: 2,
                kind: "submit_batch",
                to: COORDINATOR,
                data: "0xc0ffee",
                state: "pending",
            });
            expect(stored.gasLimit).to.equal(decoded.gasLimit);
            expect(stored.requestIds).to.deep.equal(["r1", "r2"]);
            const [attempt] = store.attempts(txId);
            expect(attempt).to.include({ raw, hash: decoded.hash });
            expect(attempt!.maxFeePerGas).to.equal(decoded.maxFeePerGas);
            expect(attempt!.maxPriorityFeePerGas).to.equal(decoded.maxPriorityFeePerGas);
            expect(store.getRequest("r3")!.state).to.equal("computed");
            expect(sender.pendingCount()).to.equal(1);
            expect(sender.address).to.equal(wallet.address);
        });

        it("keeps the gas limit under EIP-7825's cap (2^24) when the margin would take it over: a heavy dispute fits", async function () {
            const { chain, sender } = setup();
            await sender.init();
            for (const [estimate, want] of [
                [14_000_000n, TX_GAS_CAP], // 17.5M with the margin: refused on Ethereum since Osaka
                [13_000_000n, 16_250_000n],
                [TX_GAS_CAP, TX_GAS_CAP],
                [20_000_000n, 25_000_000n], // over the cap anyway (a chain without it): the margin as before
            ] as const) {
                chain.estimate = async () => estimate;
                sentId(await sender.send("challenge", COORDINATOR, "0x01", [], null));
                expect(decode(chain.sent[chain.sent.length - 1]!).gasLimit, String(estimate)).to.equal(want);
            }
        });

        it("caps the fees at maxFeePerGasWei", async function () {
            const { chain, sender } = setup({ maxFeePerGasWei: 5n * GWEI });
            chain.priorityFee = 6n * GWEI;
            await sender.send("submit", COORDINATOR, "0x01", [], "submitting");
            const decoded = decode(chain.sent[0]!);
            expect(decoded.maxFeePerGas).to.equal(5n * GWEI);
            expect(decoded.maxPriorityFeePerGas).to.equal(5n * GWEI);
        });

        it("returns a simulation revert without storing or sending anything, and keeps the nonce free", async function () {
            const { chain, sender, store, computed } = setup();
            computed("r1");
            const revert = new RevertError("eth_estimateGas", "execution reverted", "0xabcdef01");
            chain.estimate = async () => {
                throw revert;
            };
            const outcome = await sender.send("submit", COORDINATOR, "0x01", ["r1"], "submitting");
            expect(outcome).to.deep.equal({ sent: false, revert });
            expect((outcome as { revert: RevertError }).revert).to.equal(revert);
            expect(chain.sent).to.deep.equal([]);
            expect(store.pendingTxs()).to.deep.equal([]);
            expect(store.nextStoredNonce()).to.equal(0);
            expect(store.getRequest("r1")).to.include({ state: "computed", txId: null });

            chain.estimate = async () => ESTIMATE;
            await sender.send("submit", COORDINATOR, "0x01", ["r1"], "submitting");
            expect(decode(chain.sent[0]!).nonce).to.equal(0);
        });

        it("throws other simulation faults, stores nothing, and stays usable", async function () {
            const { chain, sender, store } = setup();
            const fault = new RetryableError("RPC_UNREACHABLE", "down");
            chain.estimate = async () => {
                throw fault;
            };
            expect(await rejection(sender.send("submit", COORDINATOR, "0x01", [], "submitting"))).to.equal(fault);
            expect(store.pendingTxs()).to.deep.equal([]);
            chain.estimate = async () => ESTIMATE;
            sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            expect(decode(chain.sent[0]!).nonce).to.equal(0);
        });

        it("uses consecutive nonces for consecutive sends", async function () {
            const { chain, sender, store } = setup();
            chain.pendingNonce = 4;
            await sender.init();
            const ids: number[] = [];
            for (let i = 0; i < 3; i++)
                ids.push(sentId(await sender.send("finalize", COORDINATOR, `0x0${i}`, [], "finalizing")));
            expect(chain.sent.map((raw) => decode(raw).nonce)).to.deep.equal([4, 5, 6]);
            expect(ids.map((id) => store.getTx(id)!.nonce)).to.deep.equal([4, 5, 6]);
        });

        it("never gives two concurrent sends the same nonce", async function () {
            const { chain, sender, store } = setup();
            // Simulation takes a while, so unserialised sends would all read the same next nonce.
            let delay = 12;
            chain.estimate = async () => {
                const ms = (delay = (delay * 7) % 13);
                await new Promise((resolve) => setTimeout(resolve, ms));
                return ESTIMATE;
            };
            const outcomes = await Promise.all(
                [0, 1, 2, 3, 4].map((i) => sender.send("submit", COORDINATOR, `0x0${i}`, [], "submitting")),
            );
            // Simulations overlap: nonces go in the order they finish, never twice.
            const nonces = outcomes.map((o) => store.getTx(sentId(o))!.nonce);
            expect([...nonces].sort()).to.deep.equal([0, 1, 2, 3, 4]);
            expect(nonces).to.not.deep.equal([0, 1, 2, 3, 4]);
            // Each call's own data went out under its nonce, and the broadcasts left in nonce order.
            expect(outcomes.map((o) => store.getTx(sentId(o))!.data)).to.deep.equal([
                "0x00",
                "0x01",
                "0x02",
                "0x03",
                "0x04",
            ]);
            for (const o of outcomes) {
                const tx = store.getTx(sentId(o))!;
                expect(decode(chain.sent[tx.nonce]!).data).to.equal(tx.data);
            }
            expect(chain.sent.map((raw) => decode(raw).nonce)).to.deep.equal([0, 1, 2, 3, 4]);
        });

        for (const [name, error] of [
            ["already known", new TxPoolError("already_known", "eth_sendRawTransaction: already known")],
            ["nonce too low", new TxPoolError("nonce_too_low", "eth_sendRawTransaction: nonce too low")],
            ["a transport fault", new RetryableError("RPC_UNREACHABLE", "eth_sendRawTransaction: did not answer")],
            ["a revert at broadcast", new RevertError("eth_sendRawTransaction", "execution reverted", "0x")],
        ] as const) {
            it(`does not throw when the broadcast fails with ${name}; the transaction stays stored`, async function () {
                const { chain, sender, store } = setup();
                chain.broadcastError = error;
                const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
                expect(chain.sent).to.have.length(1);
                expect(store.getTx(txId)!.state).to.equal("pending");
                expect(store.attempts(txId)[0]!.raw).to.equal(chain.sent[0]);
                // The nonce is consumed: the next send uses the next one.
                chain.broadcastError = undefined;
                await sender.send("submit", COORDINATOR, "0x02", [], "submitting");
                expect(decode(chain.sent[1]!).nonce).to.equal(1);
            });
        }
    });

    describe("sends made together", function () {
        const slow = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

        it("share one fee read and overlap their simulations", async function () {
            const { chain, sender } = setup();
            let simulating = 0;
            let peak = 0;
            chain.estimate = async () => {
                peak = Math.max(peak, ++simulating);
                await slow();
                simulating--;
                return ESTIMATE;
            };
            await Promise.all([0, 1, 2, 3].map((i) => sender.send("submit", COORDINATOR, `0x0${i}`, [], "submitting")));
            expect(peak).to.equal(4);
            expect(chain.blockReads).to.equal(1);
            expect(chain.sent).to.have.length(4);
        });

        it("broadcast one at a time in nonce order by default, all at once (still in nonce order) with broadcastTogether", async function () {
            for (const together of [false, true]) {
                const { chain, sender } = setup({ broadcastTogether: () => together });
                chain.broadcastDelay = slow;
                await Promise.all(
                    [0, 1, 2, 3, 4].map((i) => sender.send("submit", COORDINATOR, `0x0${i}`, [], "submitting")),
                );
                expect(
                    chain.sent.map((raw) => decode(raw).nonce),
                    String(together),
                ).to.deep.equal([0, 1, 2, 3, 4]);
                // The first goes alone; the four signed while it was in flight wait for it, then leave together.
                expect(chain.maxBroadcastsInFlight, String(together)).to.equal(together ? 4 : 1);
            }
        });

        it("tick: a second call joins the one running; receipt look-ups overlap", async function () {
            const { chain, sender, mined } = setup();
            for (let i = 0; i < 3; i++) await sender.send("submit", COORDINATOR, `0x0${i}`, [], "submitting");
            for (const raw of chain.sent) chain.mine(raw);
            let looking = 0;
            let peak = 0;
            const lookup = chain.getTransactionReceipt.bind(chain);
            chain.getTransactionReceipt = async (hash: string) => {
                peak = Math.max(peak, ++looking);
                await slow();
                looking--;
                return lookup(hash);
            };
            await Promise.all([sender.tick(), sender.tick()]);
            expect(mined).to.have.length(3);
            expect(peak).to.equal(3);
        });

        it("a tick leaves alone a transaction whose first broadcast is still on its way", async function () {
            const { chain, sender, clock } = setup();
            let arrive!: () => void;
            chain.broadcastDelay = () => new Promise<void>((resolve) => (arrive = resolve));
            const sending = sender.send("submit", COORDINATOR, "0x01", [], "submitting");
            while (chain.broadcastsInFlight === 0) await slow();
            clock.ms += RECHECK_AFTER_MS;
            await sender.tick();
            expect(chain.lookedUp).to.deep.equal([]);
            expect(chain.estimateCalls).to.have.length(1);
            arrive();
            await sending;
            expect(chain.sent).to.have.length(1);
        });

        it("a transaction whose broadcast failed is looked up at the next tick (only an accepted one is trusted for a while)", async function () {
            const { chain, sender } = setup();
            chain.broadcastError = new RetryableError("RPC_UNREACHABLE", "eth_sendRawTransaction: did not answer");
            await sender.send("submit", COORDINATOR, "0x01", [], "submitting");
            chain.broadcastError = undefined;
            await sender.tick();
            expect(chain.lookedUp).to.have.length(1);
            expect(chain.sent).to.have.length(2);
            // The rebroadcast was accepted: the next tick trusts it.
            await sender.tick();
            expect(chain.lookedUp).to.have.length(1);
        });
    });

    describe("a transaction the RPC node refuses for good", function () {
        it("is replaced at its nonce by a no-op, its requests handed back through onRefused", async function () {
            const { chain, sender, store } = setup();
            const refused: { tx: StoredTx; reason: string }[] = [];
            (sender as unknown as { events: { onRefused: (tx: StoredTx, reason: string) => void } }).events.onRefused =
                (tx, reason) => refused.push({ tx, reason });
            // Refuse only the first payload (the submission), accept what follows (the no-op).
            chain.onBroadcast = (raw) => {
                chain.broadcastError =
                    decode(raw).data === "0x01"
                        ? new RpcError(
                              "eth_sendRawTransaction",
                              -32000,
                              "tx fee (2.00 ether) exceeds the configured cap (1.00 ether)",
                          )
                        : undefined;
            };
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", ["r1"], "submitting"));
            expect(chain.sent).to.have.length(2);
            const [first, second] = chain.sent.map(decode);
            expect(second!.nonce).to.equal(first!.nonce);
            expect(second!.to).to.equal(wallet.address);
            expect(second!.data).to.equal("0x");
            expect(second!.value).to.equal(0n);
            expect(refused).to.have.length(1);
            expect(refused[0]!.tx.requestIds).to.deep.equal(["r1"]);
            expect(refused[0]!.reason).to.contain("exceeds the configured cap");
            expect(store.getTx(txId)).to.include({ kind: "noop", state: "pending" });
            // The nonce is filled, so the next transaction takes the next one.
            await sender.send("submit", COORDINATOR, "0x02", [], "submitting");
            expect(decode(chain.sent[2]!).nonce).to.equal(first!.nonce + 1);
        });
    });

    describe("tick", function () {
        it("sends nothing and reports nothing without pending transactions", async function () {
            const { chain, sender, mined, dropped } = setup();
            await sender.tick();
            expect(chain.sent).to.deep.equal([]);
            expect(chain.estimateCalls).to.deep.equal([]);
            expect(mined).to.deep.equal([]);
            expect(dropped).to.deep.equal([]);
        });

        it("continues after nonces another process got mined with the same key, never going back", async function () {
            const { chain, sender, store } = setup();
            sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            // Only nonces already mined count: a foreign transaction merely pending could still be evicted.
            chain.pendingNonce = 9;
            await sender.tick();
            expect(
                store.getTx(sentId(await sender.send("submit", COORDINATOR, "0x02", [], "submitting")))!.nonce,
            ).to.equal(1);
            chain.minedNonce = 7;
            await sender.tick();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x02", [], "submitting"));
            expect(store.getTx(txId)!.nonce).to.equal(7);

            // A node that reports a lower nonce (lagging) does not move the nonce back.
            chain.minedNonce = 0;
            chain.pendingNonce = 0;
            await sender.tick();
            const next = sentId(await sender.send("submit", COORDINATOR, "0x03", [], "submitting"));
            expect(store.getTx(next)!.nonce).to.equal(8);
        });

        it("logs nonces another process got mined past ours at debug only: they took no transaction of ours", async function () {
            const { chain, sender, store, mined, dropped, logs } = setup();
            sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            // Ours (nonce 0) is mined, and so are two transactions the CLI sent with the same key (nonces 1, 2).
            chain.mine(chain.sent[0]!);
            chain.minedNonce = 3;
            await sender.tick();
            expect(mined).to.have.length(1);
            expect(dropped).to.deep.equal([]);
            const advanced = logs().filter((l) => l.msg === "nonce advanced outside this node");
            expect(advanced).to.have.length(1);
            expect(advanced[0]).to.include({ level: "debug", chain_nonce: 3, our_nonce: 1 });
            expect(logs().filter((l) => l.level === "warn" || l.level === "error")).to.deep.equal([]);
            const next = sentId(await sender.send("submit", COORDINATOR, "0x02", [], "submitting"));
            expect(store.getTx(next)!.nonce).to.equal(3);
        });

        it("warns, once, when another transaction signed with this key took the nonce of a pending one of ours", async function () {
            const { chain, sender, dropped, logs } = setup();
            sentId(await sender.send("submit", COORDINATOR, "0x01", ["r1"], "submitting"));
            // The CLI, with the same key, got two transactions mined: the first at our pending nonce 0.
            chain.minedNonce = 2;
            const warnings = () => logs().filter((l) => l.level === "warn" || l.level === "error");
            for (let i = 1; i < DROP_AFTER_CHECKS; i++) {
                await sender.tick();
                expect(warnings(), `round ${i}`).to.deep.equal([]);
            }
            await sender.tick();
            expect(dropped).to.have.length(1);
            expect(warnings()).to.have.length(1);
            expect(warnings()[0]).to.deep.include({
                level: "warn",
                nonce: 0,
                kind: "submit",
                request_ids: ["r1"],
                reason: "nonce used by another transaction",
            });
            expect(warnings()[0]!.msg).to.contain("another transaction signed with this key took its nonce");
            // The advance past our nonces was harmless in itself: debug.
            expect(logs().find((l) => l.msg === "nonce advanced outside this node")).to.include({ level: "debug" });
        });

        it("makes a mined transaction pending again when a reorg took its block (the chain's nonce fell back)", async function () {
            const { chain, sender, store, mined } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            chain.mine(chain.sent[0]!, 1, 150);
            await sender.tick();
            expect(store.getTx(txId)).to.include({ state: "mined", minedBlock: 150 });

            // The block is gone: no receipt, and the account's mined nonce is back at 0.
            chain.receipts.clear();
            chain.minedNonce = 0;
            await sender.tick();
            expect(store.getTx(txId)).to.include({ state: "pending", minedHash: null, minedBlock: null });
            expect(sender.pendingCount()).to.equal(1);
            expect(mined).to.have.length(1);

            // Mined again in the new chain: recorded again.
            const receipt = chain.mine(chain.sent[0]!, 1, 151);
            await sender.tick();
            expect(store.getTx(txId)).to.include({ state: "mined", minedBlock: 151 });
            expect(mined.map((m) => m.receipt)).to.deep.equal([mined[0]!.receipt, receipt]);
        });

        it("records a successful receipt: onMined, and the transaction is mined", async function () {
            const { chain, sender, store, mined, dropped } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            const receipt = chain.mine(chain.sent[0]!, 1, 123);
            await sender.tick();
            expect(mined).to.have.length(1);
            expect(mined[0]!.tx.id).to.equal(txId);
            expect(mined[0]!.receipt).to.deep.equal(receipt);
            expect(dropped).to.deep.equal([]);
            expect(store.getTx(txId)).to.include({
                state: "mined",
                minedHash: receipt.transactionHash,
                minedBlock: 123,
            });
            expect(sender.pendingCount()).to.equal(0);
            // Mined transactions are not looked at again.
            await sender.tick();
            expect(mined).to.have.length(1);
        });

        it("records a reverted receipt: onMined, and the transaction is reverted", async function () {
            const { chain, sender, store, mined } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            chain.mine(chain.sent[0]!, 0);
            await sender.tick();
            expect(mined.map((m) => m.receipt.status)).to.deep.equal([0]);
            expect(store.getTx(txId)!.state).to.equal("reverted");
        });

        it("keeps the transaction pending when onMined throws (state and callback are one store transaction)", async function () {
            const { chain, sender, store, events } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            chain.mine(chain.sent[0]!);
            events.onMined = () => {
                throw new Error("handler failed");
            };
            // The failure is contained to this transaction (logged), and nothing of it was recorded.
            await sender.tick();
            expect(store.getTx(txId)!.state).to.equal("pending");
        });

        it("leaves a known transaction alone until it is stuck", async function () {
            const { chain, sender, store, clock } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            clock.ms += STUCK_AFTER_MS - 1;
            await sender.tick();
            expect(chain.sent).to.have.length(1);
            expect(store.attempts(txId)).to.have.length(1);
        });

        it("replaces a stuck transaction at the same nonce with fees raised by feeBumpPercent", async function () {
            const { chain, sender, store, clock } = setup();
            chain.pendingNonce = 3;
            await sender.init();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            const first = decode(chain.sent[0]!);
            clock.ms += STUCK_AFTER_MS;
            await sender.tick();

            const attempts = store.attempts(txId);
            expect(attempts).to.have.length(2);
            const [newest, oldest] = attempts;
            expect(oldest!.hash).to.equal(first.hash);
            expect(newest!.maxFeePerGas).to.equal(bumped(first.maxFeePerGas!));
            expect(newest!.maxPriorityFeePerGas).to.equal(bumped(first.maxPriorityFeePerGas!));
            // At least feeBumpPercent more on both fees (what nodes require of a replacement).
            const factor = BigInt(100 + FEE_BUMP_PERCENT);
            expect(newest!.maxFeePerGas * 100n >= first.maxFeePerGas! * factor).to.equal(true);
            expect(newest!.maxPriorityFeePerGas * 100n >= first.maxPriorityFeePerGas! * factor).to.equal(true);
            expect(newest!.sentAtMs).to.equal(clock.ms);

            expect(chain.sent).to.have.length(2);
            expect(chain.sent[1]).to.equal(newest!.raw);
            const second = decode(newest!.raw);
            expect(second.hash).to.equal(newest!.hash).and.not.equal(first.hash);
            expect(second.nonce).to.equal(3);
            expect(second.to).to.equal(first.to);
            expect(second.data).to.equal(first.data);
            expect(second.gasLimit).to.equal(first.gasLimit);
            expect(second.maxFeePerGas).to.equal(newest!.maxFeePerGas);
            expect(store.getTx(txId)!.state).to.equal("pending");

            // Not stuck again yet: nothing more.
            await sender.tick();
            expect(chain.sent).to.have.length(2);
        });

        it("offers the market's fees when they are above the bumped ones", async function () {
            const { chain, sender, store, clock } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            chain.baseFee = 40n * GWEI;
            chain.priorityFee = 3n * GWEI;
            clock.ms += STUCK_AFTER_MS;
            await sender.tick();
            const [newest] = store.attempts(txId);
            expect(newest!.maxFeePerGas).to.equal(83n * GWEI);
            expect(newest!.maxPriorityFeePerGas).to.equal(3n * GWEI);
        });

        it("caps a bump at maxFeePerGasWei, then only rebroadcasts the newest version while at the cap", async function () {
            const { chain, sender, store, clock } = setup({ maxFeePerGasWei: 22n * GWEI });
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            expect(decode(chain.sent[0]!).maxFeePerGas).to.equal(21n * GWEI);

            clock.ms += STUCK_AFTER_MS;
            await sender.tick();
            let attempts = store.attempts(txId);
            expect(attempts).to.have.length(2);
            expect(attempts[0]!.maxFeePerGas).to.equal(22n * GWEI);
            expect(attempts[0]!.maxPriorityFeePerGas).to.equal(bumped(1n * GWEI));
            expect(decode(chain.sent[1]!).maxFeePerGas).to.equal(22n * GWEI);

            clock.ms += STUCK_AFTER_MS;
            await sender.tick();
            attempts = store.attempts(txId);
            expect(attempts).to.have.length(2);
            expect(chain.sent).to.have.length(3);
            expect(chain.sent[2]).to.equal(attempts[0]!.raw);
            expect(attempts[0]!.sentAtMs).to.equal(clock.ms);
        });

        it("rebroadcasts the same raw bytes of a transaction the node forgot", async function () {
            const { chain, sender, store, clock } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            chain.known.clear();
            // A pool does not forget what it took moments ago: until RECHECK_AFTER_MS, no look-up.
            clock.ms += RECHECK_AFTER_MS - 1;
            await sender.tick();
            expect(chain.lookedUp).to.deep.equal([]);
            expect(chain.sent).to.have.length(1);
            clock.ms += 1;
            await sender.tick();
            expect(chain.lookedUp).to.have.length(1);
            expect(chain.sent).to.have.length(2);
            expect(chain.sent[1]).to.equal(chain.sent[0]);
            const attempts = store.attempts(txId);
            expect(attempts).to.have.length(1);
            // The stuck timer is not reset by a rebroadcast: an evicted transaction still gets its fee bump.
            expect(attempts[0]!.sentAtMs).to.equal(clock.ms - RECHECK_AFTER_MS);
            expect(store.getTx(txId)!.state).to.equal("pending");
        });

        it("drops a transaction whose nonce was used by another one (no receipt for any version): onDropped", async function () {
            const { chain, sender, store, mined, dropped } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", ["r1"], "submitting"));
            const later = sentId(await sender.send("submit", COORDINATOR, "0x02", [], "submitting"));
            chain.minedNonce = 1;
            // A lagging backend could say this about a mined transaction: it takes DROP_AFTER_CHECKS rounds.
            for (let i = 1; i < DROP_AFTER_CHECKS; i++) {
                await sender.tick();
                expect(dropped, `round ${i}`).to.deep.equal([]);
                expect(store.getTx(txId)!.state).to.equal("pending");
            }
            await sender.tick();
            expect(mined).to.deep.equal([]);
            expect(dropped).to.have.length(1);
            expect(dropped[0]!.tx.id).to.equal(txId);
            expect(dropped[0]!.tx.requestIds).to.deep.equal(["r1"]);
            expect(dropped[0]!.reason).to.equal("nonce used by another transaction");
            expect(store.getTx(txId)!.state).to.equal("dropped");
            // The later nonce is still open and left pending.
            expect(store.getTx(later)!.state).to.equal("pending");
            expect(chain.sent).to.have.length(2);
        });

        it("records the receipt of an earlier version when that one was mined", async function () {
            const { chain, sender, store, clock, mined, dropped } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", [], "submitting"));
            clock.ms += STUCK_AFTER_MS;
            await sender.tick();
            expect(store.attempts(txId)).to.have.length(2);
            const receipt = chain.mine(chain.sent[0]!);
            chain.minedNonce = 1;
            await sender.tick();
            expect(dropped).to.deep.equal([]);
            expect(mined.map((m) => m.receipt)).to.deep.equal([receipt]);
            expect(store.getTx(txId)!.minedHash).to.equal(receipt.transactionHash);
        });

        it("replaces a stuck transaction that would now revert by a no-op at the same nonce: onDropped", async function () {
            const { chain, sender, store, clock, dropped } = setup();
            chain.pendingNonce = 9;
            await sender.init();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0xc0ffee", ["r1"], "submitting"));
            const first = decode(chain.sent[0]!);
            chain.estimate = async () => {
                throw new RevertError("eth_estimateGas", "execution reverted", "0x12345678");
            };
            clock.ms += STUCK_AFTER_MS;
            await sender.tick();

            expect(dropped).to.have.length(1);
            expect(dropped[0]!.tx).to.include({ id: txId, kind: "submit", to: COORDINATOR, data: "0xc0ffee" });
            expect(dropped[0]!.tx.requestIds).to.deep.equal(["r1"]);
            expect(dropped[0]!.reason).to.contain("would revert now");

            const stored = store.getTx(txId)!;
            expect(stored).to.include({ kind: "noop", to: wallet.address, data: "0x", nonce: 9, state: "pending" });
            expect(stored.gasLimit).to.equal(21_000n);
            expect(stored.requestIds).to.deep.equal([]);

            expect(chain.sent).to.have.length(2);
            const noop = decode(chain.sent[1]!);
            expect(noop.nonce).to.equal(9);
            expect(noop.to).to.equal(wallet.address);
            expect(noop.data).to.equal("0x");
            expect(noop.value).to.equal(0n);
            expect(noop.gasLimit).to.equal(21_000n);
            expect(noop.maxFeePerGas).to.equal(bumped(first.maxFeePerGas!));
            expect(noop.maxPriorityFeePerGas).to.equal(bumped(first.maxPriorityFeePerGas!));
            expect(store.attempts(txId)[0]!.hash).to.equal(noop.hash);

            // A no-op is not simulated again.
            const simulations = chain.estimateCalls.length;
            clock.ms += STUCK_AFTER_MS;
            await sender.tick();
            expect(chain.estimateCalls).to.have.length(simulations);
            expect(dropped).to.have.length(1);
        });

        it("keeps a transaction whose re-check only says 'not yet': a fee bump when stuck, a rebroadcast when forgotten", async function () {
            // The window of a finalization still open by a second, after a reorg moved the chain's clock back.
            const { chain, sender, store, clock, dropped } = setup({
                notYet: (data) => (data === "0xabcdef01" ? "CoordinatorChallengeWindowOpen" : undefined),
            });
            const txId = sentId(await sender.send("finalize", COORDINATOR, "0xc0ffee", ["r1"], "finalizing"));
            const first = decode(chain.sent[0]!);
            chain.estimate = async () => {
                throw new RevertError("eth_estimateGas", "execution reverted", "0xabcdef01");
            };
            clock.ms += STUCK_AFTER_MS;
            await sender.tick();
            expect(dropped).to.deep.equal([]);
            expect(store.getTx(txId)).to.include({ kind: "finalize", data: "0xc0ffee", state: "pending" });
            expect(chain.sent).to.have.length(2);
            const bump = decode(chain.sent[1]!);
            expect(bump).to.include({ nonce: first.nonce, data: "0xc0ffee" });
            expect(bump.maxFeePerGas).to.equal(bumped(first.maxFeePerGas!));

            chain.known.clear();
            clock.ms += RECHECK_AFTER_MS;
            await sender.tick();
            expect(dropped).to.deep.equal([]);
            expect(chain.sent).to.have.length(3);
            expect(chain.sent[2]).to.equal(chain.sent[1]);
        });

        it("turns a forgotten transaction that would now revert into a no-op instead of rebroadcasting it", async function () {
            const { chain, sender, store, dropped, clock } = setup();
            const txId = sentId(await sender.send("submit", COORDINATOR, "0x01", ["r1"], "submitting"));
            chain.known.clear();
            chain.estimate = async () => {
                throw new RevertError("eth_estimateGas", "execution reverted", "0x");
            };
            clock.ms += RECHECK_AFTER_MS;
            await sender.tick();
            expect(dropped).to.have.length(1);
            expect(chain.sent).to.have.length(2);
            expect(chain.sent[1]).to.not.equal(chain.sent[0]);
            expect(decode(chain.sent[1]!).to).to.equal(wallet.address);
            expect(store.getTx(txId)!.kind).to.equal("noop");
        });
    });
});
