import { expect } from "chai";
import { Rounds } from "../../../oracle/src/node/rounds";

/** A poll interval no test waits for: a round that comes must have been asked for. */
const NEVER_MS = 3_600_000;

describe("oracle/node/rounds", function () {
    it("runs the first round at once, and nextRound resolves when a round is complete", async function () {
        const controller = new AbortController();
        const rounds = new Rounds({ signal: controller.signal, pollIntervalMs: NEVER_MS, minGapMs: 1 });
        const seen: number[] = [];
        const next = rounds.nextRound();
        const running = rounds.run(async (n) => {
            seen.push(n);
        });
        await next;
        expect(seen).to.deep.equal([0]);
        controller.abort();
        await running;
    });

    it("work that becomes ready during a round gets the next round without waiting for the poll", async function () {
        const controller = new AbortController();
        const rounds = new Rounds({ signal: controller.signal, pollIntervalMs: NEVER_MS, minGapMs: 1 });
        const seen: number[] = [];
        const running = rounds.run(async (n) => {
            seen.push(n);
            if (n === 0) rounds.requestRound(); // asked during round 0
        });
        while (seen.length < 2) await rounds.nextRound();
        expect(seen).to.deep.equal([0, 1]);
        controller.abort();
        await running;
    });

    it("requestRound wakes a sleeping loop, and an abort ends it while it sleeps", async function () {
        const controller = new AbortController();
        const rounds = new Rounds({ signal: controller.signal, pollIntervalMs: NEVER_MS, minGapMs: 1 });
        const seen: number[] = [];
        const running = rounds.run(async (n) => {
            seen.push(n);
        });
        await rounds.nextRound(); // round 0 done; the loop now sleeps for the poll interval
        const second = rounds.nextRound();
        setTimeout(() => rounds.requestRound(), 20);
        await second;
        expect(seen).to.deep.equal([0, 1]);
        setTimeout(() => controller.abort(), 20);
        await running; // would hang for the poll interval if the abort did not end the sleep
        expect(seen).to.deep.equal([0, 1]);
    });
});
