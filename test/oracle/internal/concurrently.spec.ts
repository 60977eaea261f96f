import { expect } from "chai";
import { forEachConcurrently } from "../../../oracle/src/internal/concurrently";

describe("oracle/internal/concurrently", function () {
    it("runs every item, in order of start, with at most `limit` in flight", async function () {
        let inFlight = 0;
        let peak = 0;
        const started: number[] = [];
        await forEachConcurrently([10, 11, 12, 13, 14, 15, 16], 3, async (item, index) => {
            expect(item).to.equal(index + 10);
            started.push(index);
            peak = Math.max(peak, ++inFlight);
            await new Promise((resolve) => setTimeout(resolve, 2 + (index % 3)));
            inFlight--;
        });
        expect(started).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
        expect(peak).to.equal(3);
        expect(inFlight).to.equal(0);
    });

    it("finishes the other items when one rejects, then rethrows the first rejection", async function () {
        const done: number[] = [];
        const error = await forEachConcurrently([0, 1, 2, 3], 2, async (item) => {
            await new Promise((resolve) => setTimeout(resolve, 1));
            if (item === 1) throw new Error("one");
            if (item === 2) throw new Error("two");
            done.push(item);
        }).then(
            () => expect.fail("expected a rejection"),
            (e: unknown) => e as Error,
        );
        expect(error.message).to.equal("one");
        expect(done.sort()).to.deep.equal([0, 3]);
    });

    it("resolves at once for no items, and refuses a limit below 1 or not an integer", async function () {
        await forEachConcurrently([], 4, async () => expect.fail("called"));
        for (const limit of [0, -1, 1.5]) {
            const error = await forEachConcurrently([1], limit, async () => undefined).catch((e: unknown) => e);
            expect(error, String(limit)).to.be.instanceOf(RangeError);
        }
    });
});
