import { expect } from "chai";
import type { Filter, Log, Provider } from "ethers";
import { getLogsInChunks, RANGE_REFUSAL } from "../../../oracle/src/chain/logs";

/** A provider whose getLogs records each range and refuses ranges wider than `cap` with `refusal`. */
function fakeProvider(opts: { head: number; cap?: number; refusal?: string; fail?: Error; logsAt?: number[] }) {
    const calls: [number, number][] = [];
    const provider = {
        getBlockNumber: async () => opts.head,
        getLogs: async (filter: Filter) => {
            const from = Number(filter.fromBlock);
            const to = Number(filter.toBlock);
            calls.push([from, to]);
            if (opts.fail !== undefined) throw opts.fail;
            if (opts.cap !== undefined && to - from + 1 > opts.cap)
                throw new Error(opts.refusal ?? "block range too large");
            // Returned newest first, to check the sort.
            return (opts.logsAt ?? [])
                .filter((b) => b >= from && b <= to)
                .reverse()
                .map((blockNumber) => ({ blockNumber, index: 0 }) as unknown as Log);
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
        expect(logs.map((l) => l.blockNumber)).to.deep.equal([3, 7, 12, 25]);
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
