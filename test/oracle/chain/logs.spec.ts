import { expect } from "chai";
import { makeError, type Filter, type Log, type Provider } from "ethers";
import { getLogsInChunks, isRangeRefusal, RANGE_REFUSAL } from "../../../oracle/src/chain/logs";

/** A provider whose getLogs records each range and refuses ranges wider than `cap` with `refusal`. */
function fakeProvider(opts: {
    head: number;
    cap?: number;
    refusal?: string | (() => Error);
    fail?: Error;
    logsAt?: number[];
}) {
    const calls: [number, number][] = [];
    const provider = {
        getBlockNumber: async () => opts.head,
        getLogs: async (filter: Filter) => {
            const from = Number(filter.fromBlock);
            const to = Number(filter.toBlock);
            calls.push([from, to]);
            if (opts.fail !== undefined) throw opts.fail;
            if (opts.cap !== undefined && to - from + 1 > opts.cap) {
                throw typeof opts.refusal === "function"
                    ? opts.refusal()
                    : new Error(opts.refusal ?? "block range too large");
            }
            // Returned newest first, to check the sort.
            return (opts.logsAt ?? [])
                .filter((b) => b >= from && b <= to)
                .reverse()
                .flatMap((blockNumber) => [1, 0].map((index) => ({ blockNumber, index }) as unknown as Log));
        },
    } as unknown as Provider;
    return { provider, calls };
}

describe("getLogsInChunks", () => {
    it("covers [from, head] in chunks with no gap or overlap, and returns the logs in chain order", async () => {
        const { provider, calls } = fakeProvider({ head: 25, logsAt: [3, 12, 25, 7] });
        const logs = await getLogsInChunks(provider, { address: "0x00" }, 1, undefined, 10);
        expect(calls).to.deep.equal([
            [1, 10],
            [11, 20],
            [21, 25],
        ]);
        // Chain order: by block, then by index within a block (each fake block holds logs 1 and 0, newest first).
        expect(logs.map((l) => `${l.blockNumber}.${l.index}`)).to.deep.equal([
            "3.0",
            "3.1",
            "7.0",
            "7.1",
            "12.0",
            "12.1",
            "25.0",
            "25.1",
        ]);
    });

    it("halves the chunk whenever the provider refuses a range, and keeps the smaller size", async () => {
        const { provider, calls } = fakeProvider({
            head: 20,
            cap: 3,
            refusal: "query returned more than 10000 results",
        });
        await getLogsInChunks(provider, {}, 0, 19, 16);
        // 16 refused, 8 refused, 4 refused, then 2-block chunks to the end.
        expect(calls.slice(0, 4)).to.deep.equal([
            [0, 15],
            [0, 7],
            [0, 3],
            [0, 1],
        ]);
        expect(calls.slice(3).every(([from, to]) => to - from + 1 <= 2)).to.equal(true);
        expect(calls[calls.length - 1]).to.deep.equal([18, 19]);
    });

    it("after halving, the blocks read are exactly [from, to]: no gap, no overlap", async () => {
        const { provider, calls } = fakeProvider({ head: 100, cap: 7 });
        await getLogsInChunks(provider, {}, 3, 100, 64);
        const served = calls.filter(([from, to]) => to - from + 1 <= 7);
        const blocks = served.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => from + i));
        expect(blocks).to.deep.equal(Array.from({ length: 98 }, (_, i) => i + 3));
    });

    it("reads the provider's words through ethers' wrapping (could not coalesce error), and halves", async () => {
        // What ethers' JsonRpcProvider throws for a JSON-RPC error it has no code for.
        const wrapped = () =>
            makeError("could not coalesce error", "UNKNOWN_ERROR", {
                error: { code: -32005, message: "query returned more than 10000 results" },
                payload: { method: "eth_getLogs" },
            } as never);
        expect(isRangeRefusal(wrapped())).to.equal(true);
        const { provider, calls } = fakeProvider({ head: 15, cap: 4, refusal: wrapped });
        await getLogsInChunks(provider, {}, 0, 15, 16);
        expect(calls.map(([from, to]) => to - from + 1).slice(0, 3)).to.deep.equal([16, 8, 4]);
    });

    it("does not halve on rate limiting (a 429, or 'rate limit exceeded'): that is the caller's to retry", async () => {
        for (const message of ["server response 429 Too Many Requests", "daily request rate limit exceeded"]) {
            expect(isRangeRefusal(new Error(message)), message).to.equal(false);
            const { provider, calls } = fakeProvider({ head: 15, cap: 0, refusal: message });
            const error = await getLogsInChunks(provider, {}, 0, 15, 16).catch((e: unknown) => e);
            expect((error as Error).message).to.equal(message);
            expect(calls).to.have.length(1);
        }
    });

    it("does not halve when the endpoint says the range starts past its head (it is behind): rethrown at once", async () => {
        for (const message of [
            "BlockOutOfRangeError: block height is 67 but requested was 70", // anvil
            "block range extends beyond current head block", // geth, reth
        ]) {
            expect(isRangeRefusal(new Error(message)), message).to.equal(false);
            const { provider, calls } = fakeProvider({ head: 15, cap: 0, refusal: message });
            const error = await getLogsInChunks(provider, {}, 0, 15, 16).catch((e: unknown) => e);
            expect((error as Error).message).to.equal(message);
            expect(calls).to.have.length(1);
        }
    });

    it("rethrows an error that is not a range refusal, at once", async () => {
        const { provider, calls } = fakeProvider({ head: 100, fail: new Error("connection reset") });
        const error = await getLogsInChunks(provider, {}, 0).catch((e: unknown) => e);
        expect((error as Error).message).to.equal("connection reset");
        expect(calls).to.have.length(1);
    });

    it("rethrows a refusal of a single block (nothing left to halve)", async () => {
        const { provider } = fakeProvider({ head: 5, cap: 0, refusal: "response size exceeded" });
        const error = await getLogsInChunks(provider, {}, 0, 5, 4).catch((e: unknown) => e);
        expect((error as Error).message).to.equal("response size exceeded");
    });

    it("knows the providers' words for a refusal, and not other errors", () => {
        for (const message of [
            "block range too large",
            "query returned more than 10000 results",
            "eth_getLogs is limited to a 2000 range",
            "Log response size exceeded",
        ]) {
            expect(RANGE_REFUSAL.test(message), message).to.equal(true);
        }
        expect(RANGE_REFUSAL.test("connection reset")).to.equal(false);
    });

    it("an empty range reads nothing; a bad chunk size is refused", async () => {
        const { provider, calls } = fakeProvider({ head: 3 });
        expect(await getLogsInChunks(provider, {}, 10, 9)).to.deep.equal([]);
        expect(calls).to.deep.equal([]);
        const error = await getLogsInChunks(provider, {}, 0, 3, 0).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(RangeError);
    });
});
