import { expect } from "chai";
import { id as keccakText } from "ethers";
import { ChainFollower, type FollowerOptions, type LogSink } from "../../../oracle/src/chain/follower";
import { RpcError, type BlockHeader, type ChainClient, type RpcLog } from "../../../oracle/src/chain/rpc";
import { Store } from "../../../oracle/src/store/store";

const COORDINATOR = "0x" + "c0".repeat(20);
const TOPIC_REQUESTED = keccakText("InferenceRequested(uint256)");
const TOPIC_OTHER = keccakText("ResultSubmitted(uint256)");

interface FakeBlock {
    header: BlockHeader;
    logs: RpcLog[];
}

/**
 * An in-memory chain: blocks 0..head, each with a hash that depends on its fork, and the coordinator logs
 * announcing the requests given when the block was made. Implements the two calls the follower makes.
 */
class FakeChain {
    private blocks: FakeBlock[] = [];
    private fork = 0;
    readonly getLogsCalls: { address: string; fromBlock: number; toBlock: number; topics: unknown }[] = [];
    /** Extra logs getLogs returns for a block (e.g. removed ones), keyed by block number. */
    readonly extraLogs = new Map<number, RpcLog[]>();

    constructor(head: number, requests: Record<number, string[]> = {}) {
        this.mine(head, requests);
    }

    get head(): number {
        return this.blocks.length - 1;
    }

    hashOf(n: number): string {
        return this.blocks[n]!.header.hash;
    }

    /** Adds blocks up to `head`, announcing `requests[n]` in block n. */
    mine(head: number, requests: Record<number, string[]> = {}): void {
        for (let n = this.blocks.length; n <= head; n++) {
            const hash = keccakText(`fork ${this.fork} block ${n}`);
            const header: BlockHeader = {
                number: n,
                hash,
                parentHash: n === 0 ? "0x" + "00".repeat(32) : this.blocks[n - 1]!.header.hash,
                timestamp: 1_700_000_000 + n * 12,
                baseFeePerGas: 1n,
            };
            const logs = (requests[n] ?? []).map((requestId, index) => requestLog(requestId, n, hash, index));
            this.blocks.push({ header, logs });
        }
    }

    /** Replaces every block above `ancestor` by a new fork up to `head`. */
    reorg(ancestor: number, head: number, requests: Record<number, string[]> = {}): void {
        this.fork++;
        this.blocks = this.blocks.slice(0, ancestor + 1);
        for (const n of [...this.extraLogs.keys()]) if (n > ancestor) this.extraLogs.delete(n);
        this.mine(head, requests);
    }

    async getBlock(tag: number | "latest"): Promise<BlockHeader | null> {
        const n = tag === "latest" ? this.head : tag;
        const block = this.blocks[n];
        return block === undefined ? null : { ...block.header };
    }

    async getLogs(filter: {
        address: string;
        fromBlock: number;
        toBlock: number;
        topics: (string | string[] | null)[];
    }): Promise<RpcLog[]> {
        this.getLogsCalls.push({ ...filter });
        const wanted = filter.topics[0];
        const logs: RpcLog[] = [];
        for (let n = filter.fromBlock; n <= Math.min(filter.toBlock, this.head); n++) {
            for (const log of [...this.blocks[n]!.logs, ...(this.extraLogs.get(n) ?? [])]) {
                if (log.address !== filter.address) continue;
                if (Array.isArray(wanted) && !wanted.includes(log.topics[0]!)) continue;
                logs.push({ ...log });
            }
        }
        return logs;
    }

    asClient(): ChainClient {
        return this as unknown as ChainClient;
    }
}

function requestLog(requestId: string, blockNumber: number, blockHash: string, index: number): RpcLog {
    return {
        address: COORDINATOR,
        topics: [TOPIC_REQUESTED, requestId],
        data: "0x",
        blockNumber,
        blockHash,
        transactionHash: keccakText(`tx ${requestId} ${blockHash}`),
        index,
        removed: false,
    };
}

const IDENTITY = { chainId: 31337, coordinator: COORDINATOR, operator: "0x" + "0e".repeat(20) };

/** A sink like the tracker: records each call and adds the announced requests to the store. */
function recordingSink(store: Store) {
    const calls: { range: { from: number; to: number }; requestIds: string[] }[] = [];
    const sink: LogSink = (logs, range) => {
        calls.push({ range, requestIds: logs.map((l) => l.topics[1]!) });
        for (const log of logs) {
            store.addRequest({
                requestId: log.topics[1]!,
                modelId: "0x01",
                blockNumber: log.blockNumber,
                blockHash: log.blockHash,
                request: {},
                input: new Uint8Array([1]),
                notBefore: 0,
            });
        }
    };
    return { calls, sink };
}

function options(overrides: Partial<FollowerOptions> = {}): FollowerOptions {
    return {
        coordinator: COORDINATOR,
        topics: [TOPIC_REQUESTED, TOPIC_OTHER],
        confirmations: 0,
        startBlock: 1,
        maxBlockRange: 5,
        keepBlocks: 1_000,
        ...overrides,
    };
}

describe("oracle/chain/follower", function () {
    let store: Store;

    beforeEach(function () {
        store = new Store(":memory:", IDENTITY);
    });

    afterEach(function () {
        store.close();
    });

    describe("scanning", function () {
        it("scans from startBlock to head - confirmations in ranges of maxBlockRange and advances the checkpoint", async function () {
            const chain = new FakeChain(60, {
                9: ["0x09"],
                10: ["0x0a"],
                29: ["0x1d"],
                30: ["0x1e", "0x1f"],
                55: ["0x37"],
                56: ["0x38"],
            });
            const { calls, sink } = recordingSink(store);
            const follower = new ChainFollower(
                chain.asClient(),
                store,
                options({ startBlock: 10, confirmations: 5, maxBlockRange: 20 }),
                sink,
            );

            const result = await follower.poll();

            expect(chain.getLogsCalls).to.deep.equal([
                { address: COORDINATOR, fromBlock: 10, toBlock: 29, topics: [[TOPIC_REQUESTED, TOPIC_OTHER]] },
                { address: COORDINATOR, fromBlock: 30, toBlock: 49, topics: [[TOPIC_REQUESTED, TOPIC_OTHER]] },
                { address: COORDINATOR, fromBlock: 50, toBlock: 55, topics: [[TOPIC_REQUESTED, TOPIC_OTHER]] },
            ]);
            expect(calls).to.deep.equal([
                { range: { from: 10, to: 29 }, requestIds: ["0x0a", "0x1d"] },
                { range: { from: 30, to: 49 }, requestIds: ["0x1e", "0x1f"] },
                { range: { from: 50, to: 55 }, requestIds: ["0x37"] },
            ]);
            expect(store.checkpoint()).to.equal(55);
            expect(store.recordedBlocks()).to.deep.equal([
                { number: 55, hash: chain.hashOf(55) },
                { number: 49, hash: chain.hashOf(49) },
                { number: 29, hash: chain.hashOf(29) },
            ]);
            expect(result.processed).to.equal(55);
            expect(result.head.number).to.equal(60);
            expect(result.head.hash).to.equal(chain.hashOf(60));
            expect(result.dropped).to.deep.equal([]);
            expect(result.reorgedTo).to.equal(undefined);
            // Outside the scanned blocks: block 9 (before startBlock), block 56 (not yet confirmed).
            expect(store.getRequest("0x09")).to.equal(undefined);
            expect(store.getRequest("0x38")).to.equal(undefined);
            expect(store.getRequest("0x1f")!.blockHash).to.equal(chain.hashOf(30));
        });

        it("scans nothing while head - confirmations is below the next block", async function () {
            const chain = new FakeChain(14, { 10: ["0x0a"] });
            const { calls, sink } = recordingSink(store);
            const follower = new ChainFollower(
                chain.asClient(),
                store,
                options({ startBlock: 10, confirmations: 5 }),
                sink,
            );

            let result = await follower.poll();
            expect(chain.getLogsCalls).to.have.length(0);
            expect(calls).to.have.length(0);
            expect(store.checkpoint()).to.equal(undefined);
            expect(result.processed).to.equal(9);

            // Exactly one confirmed block: it is scanned.
            chain.mine(15);
            result = await follower.poll();
            expect(calls).to.deep.equal([{ range: { from: 10, to: 10 }, requestIds: ["0x0a"] }]);
            expect(result.processed).to.equal(10);

            // Nothing new confirmed: no call at all.
            result = await follower.poll();
            expect(chain.getLogsCalls).to.have.length(1);
            expect(calls).to.have.length(1);
            expect(result.processed).to.equal(10);
            expect(store.checkpoint()).to.equal(10);
        });

        it("resumes from the stored checkpoint after a restart, without rescanning", async function () {
            const chain = new FakeChain(20, { 3: ["0x03"], 18: ["0x12"], 19: ["0x13"] });
            const first = recordingSink(store);
            await new ChainFollower(chain.asClient(), store, options({ confirmations: 2 }), first.sink).poll();
            expect(store.checkpoint()).to.equal(18);

            expect(first.calls.flatMap((c) => c.requestIds)).to.deep.equal(["0x03", "0x12"]);

            chain.mine(30, { 22: ["0x16"], 27: ["0x1b"] });
            const second = recordingSink(store);
            const restarted = new ChainFollower(chain.asClient(), store, options({ confirmations: 2 }), second.sink);
            const result = await restarted.poll();

            expect(chain.getLogsCalls.slice(-2).map((c) => [c.fromBlock, c.toBlock])).to.deep.equal([
                [19, 23],
                [24, 28],
            ]);
            expect(second.calls.flatMap((c) => c.requestIds)).to.deep.equal(["0x13", "0x16", "0x1b"]);
            expect(result.processed).to.equal(28);
            expect(store.checkpoint()).to.equal(28);
        });

        it("does not pass removed logs to the sink", async function () {
            const chain = new FakeChain(10, { 4: ["0x04"] });
            chain.extraLogs.set(5, [{ ...requestLog("0x05", 5, chain.hashOf(5), 0), removed: true }]);
            const { calls, sink } = recordingSink(store);
            await new ChainFollower(chain.asClient(), store, options({ maxBlockRange: 100 }), sink).poll();
            expect(calls).to.deep.equal([{ range: { from: 1, to: 10 }, requestIds: ["0x04"] }]);
            expect(store.getRequest("0x05")).to.equal(undefined);
            expect(store.checkpoint()).to.equal(10);
        });

        it("leaves the checkpoint and the store unchanged when the sink throws (the range is rolled back)", async function () {
            const chain = new FakeChain(10, { 3: ["0x03"] });
            const ok = recordingSink(store);
            await new ChainFollower(chain.asClient(), store, options(), ok.sink).poll();
            expect(store.checkpoint()).to.equal(10);

            chain.mine(20, { 12: ["0x0c"], 17: ["0x11"] });
            const failing: LogSink = (logs, range) => {
                ok.sink(logs, range);
                if (range.from === 16) throw new Error("sink failed");
            };
            const follower = new ChainFollower(chain.asClient(), store, options(), failing);
            let error: unknown;
            try {
                await follower.poll();
            } catch (e) {
                error = e;
            }
            expect((error as Error).message).to.equal("sink failed");
            // The first range [11, 15] was committed; the failing range [16, 20] left nothing behind.
            expect(store.checkpoint()).to.equal(15);
            expect(store.getRequest("0x0c")).to.not.equal(undefined);
            expect(store.getRequest("0x11")).to.equal(undefined);
            expect(store.recordedBlocks()[0]).to.deep.equal({ number: 15, hash: chain.hashOf(15) });

            // The next poll scans the failed range again.
            const retried = recordingSink(store);
            const result = await new ChainFollower(chain.asClient(), store, options(), retried.sink).poll();
            expect(retried.calls).to.deep.equal([{ range: { from: 16, to: 20 }, requestIds: ["0x11"] }]);
            expect(result.processed).to.equal(20);
        });

        it("does not advance past a range whose last block changed between getLogs and getBlock", async function () {
            const chain = new FakeChain(10, { 10: ["0x0a"] });
            // getLogs answers from a block 10 that the header lookup no longer returns.
            chain.extraLogs.set(10, [requestLog("0xff", 10, "0x" + "99".repeat(32), 1)]);
            const { calls, sink } = recordingSink(store);
            const result = await new ChainFollower(
                chain.asClient(),
                store,
                options({ maxBlockRange: 100 }),
                sink,
            ).poll();
            expect(calls).to.have.length(0);
            expect(store.checkpoint()).to.equal(undefined);
            expect(result.processed).to.equal(0);
        });
    });

    describe("round trips", function () {
        it("asks for the head and checks the checkpoint at once, and reads each range's logs and last header at once", async function () {
            const chain = new FakeChain(10, { 7: ["0x07"] });
            const { sink } = recordingSink(store);
            const follower = new ChainFollower(chain.asClient(), store, options(), sink);
            await follower.poll();
            chain.mine(12);
            // Every call takes a while: count how many are in flight together.
            let inFlight = 0;
            const waves: string[][] = [];
            let wave: string[] = [];
            const slow = <T>(name: string, call: () => Promise<T>): Promise<T> => {
                if (inFlight === 0) waves.push((wave = []));
                inFlight++;
                wave.push(name);
                return new Promise((resolve) => setTimeout(resolve, 5)).then(async () => {
                    inFlight--;
                    return call();
                });
            };
            const getBlock = chain.getBlock.bind(chain);
            const getLogs = chain.getLogs.bind(chain);
            chain.getBlock = (tag) => slow(`getBlock(${tag})`, () => getBlock(tag));
            chain.getLogs = (filter) => slow(`getLogs(${filter.fromBlock}..${filter.toBlock})`, () => getLogs(filter));
            await follower.poll();
            expect(waves).to.deep.equal([
                ["getBlock(latest)", "getBlock(10)"],
                ["getLogs(11..12)", "getBlock(12)"],
            ]);
            expect(store.checkpoint()).to.equal(12);
        });
    });

    describe("provider limits", function () {
        it("halves the eth_getLogs range while the provider refuses it, and keeps the smaller range", async function () {
            const chain = new FakeChain(20, { 3: ["0x03"], 17: ["0x11"] });
            const { sink } = recordingSink(store);
            const original = chain.getLogs.bind(chain);
            const spans: number[] = [];
            chain.getLogs = async (filter) => {
                spans.push(filter.toBlock - filter.fromBlock + 1);
                if (filter.toBlock - filter.fromBlock + 1 > 3) {
                    throw new RpcError("eth_getLogs", -32000, "query exceeds max block range 3");
                }
                return original(filter);
            };
            const follower = new ChainFollower(chain.asClient(), store, options({ maxBlockRange: 16 }), sink);
            const result = await follower.poll();
            expect(result.processed).to.equal(20);
            expect(store.getRequest("0x03")?.state).to.equal("pending");
            expect(store.getRequest("0x11")?.state).to.equal("pending");
            // 16 -> 8 -> 4 refused, then 2: every call afterwards spans at most 2 blocks.
            expect(spans.slice(0, 4)).to.deep.equal([16, 8, 4, 2]);
            expect(Math.max(...spans.slice(3))).to.equal(2);
        });

        it("keeps its range when the endpoint answers that the range starts past its head: it is behind, the next poll scans on", async function () {
            const chain = new FakeChain(20, { 3: ["0x03"], 18: ["0x12"] });
            const { sink } = recordingSink(store);
            const original = chain.getLogs.bind(chain);
            const spans: number[] = [];
            let behindAt: number | undefined = 10;
            chain.getLogs = async (filter) => {
                spans.push(filter.toBlock - filter.fromBlock + 1);
                // A backend that has only blocks up to 10 (anvil's words; geth says "block range extends beyond
                // current head block").
                if (behindAt !== undefined && filter.fromBlock > behindAt) {
                    throw new RpcError(
                        "eth_getLogs",
                        -32602,
                        `BlockOutOfRangeError: block height is ${behindAt} but requested was ${filter.toBlock}`,
                    );
                }
                return original({ ...filter, toBlock: Math.min(filter.toBlock, behindAt ?? filter.toBlock) });
            };
            const follower = new ChainFollower(chain.asClient(), store, options({ maxBlockRange: 10 }), sink);
            const first = await follower.poll();
            expect(first.processed).to.equal(10);
            expect(store.getRequest("0x03")?.state).to.equal("pending");
            behindAt = undefined;
            spans.length = 0;
            const second = await follower.poll();
            expect(second.processed).to.equal(20);
            expect(store.getRequest("0x12")?.state).to.equal("pending");
            expect(spans, "the range is still 10 blocks").to.deep.equal([10]);
        });

        it("does not shrink the range for other errors", async function () {
            const chain = new FakeChain(20);
            const { sink } = recordingSink(store);
            chain.getLogs = async () => {
                throw new RpcError("eth_getLogs", -32601, "method not found");
            };
            const follower = new ChainFollower(chain.asClient(), store, options({ maxBlockRange: 16 }), sink);
            const error = await follower.poll().then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(error).to.be.instanceOf(RpcError);
            expect(store.checkpoint()).to.equal(undefined);
        });
    });

    describe("reorgs", function () {
        it("rewinds to the newest recorded block still canonical, drops the requests above it and rescans", async function () {
            const chain = new FakeChain(20, {
                3: ["0x03"],
                8: ["0x08"],
                12: ["0x0c"],
                17: ["0x11"],
                19: ["0x13"],
            });
            const { calls, sink } = recordingSink(store);
            const follower = new ChainFollower(chain.asClient(), store, options(), sink);
            await follower.poll();
            expect(store.recordedBlocks().map((b) => b.number)).to.deep.equal([20, 15, 10, 5]);
            store.saveResult("0x11", { resultCode: 0, output: new Uint8Array([1]), outputHash: "0x1" });

            // Blocks above 12 are replaced: 0x11 moves to block 18, 0x13 is gone, 0x0e is new.
            chain.reorg(12, 22, { 14: ["0x0e"], 18: ["0x11"] });
            calls.length = 0;
            const result = await follower.poll();

            // Block 15's recorded hash no longer matches; block 10's does.
            expect(result.reorgedTo).to.equal(10);
            expect([...result.dropped].sort()).to.deep.equal(["0x0c", "0x11", "0x13"]);
            expect(calls).to.deep.equal([
                { range: { from: 11, to: 15 }, requestIds: ["0x0c", "0x0e"] },
                { range: { from: 16, to: 20 }, requestIds: ["0x11"] },
                { range: { from: 21, to: 22 }, requestIds: [] },
            ]);
            expect(result.processed).to.equal(22);
            expect(store.checkpoint()).to.equal(22);
            expect(store.recordedBlocks()).to.deep.equal([
                { number: 22, hash: chain.hashOf(22) },
                { number: 20, hash: chain.hashOf(20) },
                { number: 15, hash: chain.hashOf(15) },
                { number: 10, hash: chain.hashOf(10) },
                { number: 5, hash: chain.hashOf(5) },
            ]);

            // Below the ancestor: untouched.
            expect(store.getRequest("0x03")!.state).to.equal("pending");
            expect(store.getRequest("0x08")!.state).to.equal("pending");
            // Re-included by the new chain with the same announcement: carries on where it was (result kept).
            const moved = store.getRequest("0x11")!;
            expect(moved).to.include({
                state: "computed",
                blockNumber: 18,
                blockHash: chain.hashOf(18),
                outcome: null,
            });
            expect(moved.outputHash).to.not.equal(null);
            expect(store.getRequest("0x0c")!.state).to.equal("pending");
            expect(store.getRequest("0x0e")!.state).to.equal("pending");
            // Not in the new chain: stays dropped.
            expect(store.getRequest("0x13")).to.include({ state: "done", outcome: "reorged" });
        });

        it("finds no reorg when the recorded checkpoint is still canonical", async function () {
            const chain = new FakeChain(10, { 7: ["0x07"] });
            const { sink } = recordingSink(store);
            const follower = new ChainFollower(chain.asClient(), store, options(), sink);
            await follower.poll();
            chain.mine(12);
            const result = await follower.poll();
            expect(result.reorgedTo).to.equal(undefined);
            expect(result.dropped).to.deep.equal([]);
            expect(store.getRequest("0x07")!.state).to.equal("pending");
        });

        it("concludes nothing from a checkpoint block the endpoint lacks (lagging backend), then sees the reorg", async function () {
            const chain = new FakeChain(20, { 18: ["0x12"] });
            const { calls, sink } = recordingSink(store);
            const follower = new ChainFollower(chain.asClient(), store, options(), sink);
            await follower.poll();
            const before = store.checkpoint();
            // The chain is shorter than our checkpoint for now: no rewind, no scan, nothing dropped.
            chain.reorg(16, 17);
            calls.length = 0;
            const waiting = await follower.poll();
            expect(waiting.reorgedTo).to.equal(undefined);
            expect(waiting.dropped).to.deep.equal([]);
            expect(calls).to.deep.equal([]);
            expect(store.checkpoint()).to.equal(before);
            expect(store.getRequest("0x12")?.state).to.equal("pending");
            // Once the new chain passes our checkpoint, the different hash proves the reorg.
            chain.mine(22);
            const result = await follower.poll();
            expect(result.reorgedTo).to.equal(15);
            expect(result.dropped).to.deep.equal(["0x12"]);
            expect(store.recordedBlocks()[0]).to.deep.equal({
                number: result.processed,
                hash: chain.hashOf(result.processed),
            });
        });

        it("rewinds to before the oldest recorded block when the reorg is deeper than the recorded history", async function () {
            const chain = new FakeChain(20, { 16: ["0x10"], 19: ["0x13"] });
            const { calls, sink } = recordingSink(store);
            // keepBlocks 5: after the checkpoint 20 only blocks 15 and 20 stay recorded.
            const follower = new ChainFollower(chain.asClient(), store, options({ keepBlocks: 5 }), sink);
            await follower.poll();
            expect(store.recordedBlocks().map((b) => b.number)).to.deep.equal([20, 15]);

            chain.reorg(8, 21, { 19: ["0x13"] });
            calls.length = 0;
            const result = await follower.poll();

            expect(result.reorgedTo).to.equal(14);
            expect([...result.dropped].sort()).to.deep.equal(["0x10", "0x13"]);
            expect(calls.map((c) => c.range)).to.deep.equal([
                { from: 15, to: 19 },
                { from: 20, to: 21 },
            ]);
            expect(store.getRequest("0x13")).to.include({ state: "pending", blockHash: chain.hashOf(19) });
            expect(store.getRequest("0x10")).to.include({ state: "done", outcome: "reorged" });
            expect(store.checkpoint()).to.equal(21);
        });
    });
});
