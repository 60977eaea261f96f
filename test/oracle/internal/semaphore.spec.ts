import { expect } from "chai";
import { Semaphore } from "../../../oracle/src/internal/semaphore";

/** Resolves after the pending microtasks and one macrotask. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("oracle/internal/semaphore", function () {
    it("refuses a permit count below 1 or fractional", function () {
        expect(() => new Semaphore(0)).to.throw(RangeError);
        expect(() => new Semaphore(1.5)).to.throw(RangeError);
    });

    it("grants up to `permits` at once and queues the rest", async function () {
        const semaphore = new Semaphore(2);
        const a = await semaphore.acquire();
        const b = await semaphore.acquire();
        expect(semaphore.inUse).to.equal(2);
        let third = false;
        const c = semaphore.acquire().then((release) => {
            third = true;
            return release;
        });
        await tick();
        expect(third).to.be.false;
        expect(semaphore.waiting).to.equal(1);
        a();
        const releaseC = await c;
        expect(third).to.be.true;
        expect(semaphore.inUse).to.equal(2);
        expect(semaphore.waiting).to.equal(0);
        b();
        releaseC();
        expect(semaphore.inUse).to.equal(0);
    });

    it("serves waiters in arrival order, and a permit is not stolen by a late caller", async function () {
        const semaphore = new Semaphore(1);
        const first = await semaphore.acquire();
        const order: number[] = [];
        const waiters = [1, 2, 3].map((i) =>
            semaphore.acquire().then((release) => {
                order.push(i);
                release();
            }),
        );
        first();
        // A caller arriving after the release but before the waiters ran must queue behind them.
        const late = semaphore.acquire().then((release) => {
            order.push(4);
            release();
        });
        await Promise.all([...waiters, late]);
        expect(order).to.deep.equal([1, 2, 3, 4]);
        expect(semaphore.inUse).to.equal(0);
    });

    it("ignores a second release of the same permit", async function () {
        const semaphore = new Semaphore(1);
        const release = await semaphore.acquire();
        release();
        release();
        expect(semaphore.inUse).to.equal(0);
        const again = await semaphore.acquire();
        expect(semaphore.inUse).to.equal(1);
        again();
    });

    it("never runs more than `permits` tasks at once under load (use)", async function () {
        const semaphore = new Semaphore(3);
        let running = 0;
        let peak = 0;
        const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
                semaphore.use(async () => {
                    running++;
                    peak = Math.max(peak, running);
                    await new Promise((resolve) => setTimeout(resolve, 1 + (i % 3)));
                    running--;
                    return i;
                }),
            ),
        );
        expect(results).to.deep.equal(Array.from({ length: 20 }, (_, i) => i));
        expect(peak).to.equal(3);
        expect(semaphore.inUse).to.equal(0);
    });

    it("gives the permit back when the task throws (use)", async function () {
        const semaphore = new Semaphore(1);
        let caught: unknown;
        try {
            await semaphore.use(async () => {
                throw new Error("boom");
            });
        } catch (err) {
            caught = err;
        }
        expect(caught).to.be.instanceOf(Error).with.property("message", "boom");
        expect(semaphore.inUse).to.equal(0);
    });
});
