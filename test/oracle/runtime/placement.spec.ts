import { expect } from "chai";
import { DEFAULT_INLINE_POLICY, Placements, type InlinePolicy } from "../../../oracle/src/runtime/placement";

const POLICY: InlinePolicy = { ...DEFAULT_INLINE_POLICY, samples: 8 };
const HOP_MS = 0.1;

/** `n` OK worker runs of `runMs` each with a hop of `hopMs`; the reasons to go inline it got. */
function workerRuns(placements: Placements, modelId: string, n: number, runMs: number, hopMs = HOP_MS): string[] {
    const reasons: string[] = [];
    for (let i = 0; i < n; i++) {
        const why = placements.workerRun(modelId, runMs, hopMs);
        if (why !== undefined) reasons.push(why);
    }
    return reasons;
}

/** A tracker with `modelId` (a small file) moved inline after a window of fast worker runs. */
function inline(modelId: string, policy: InlinePolicy = POLICY): Placements {
    const placements = new Placements(policy, 2);
    placements.add(modelId, 1_000);
    expect(workerRuns(placements, modelId, policy.samples, 0.02)).to.have.length(1);
    placements.promote(modelId);
    expect(placements.placement(modelId)).to.equal("inline");
    return placements;
}

describe("oracle/runtime/placement", function () {
    it("sends a model inline once a full window of its runs is below the hop budget, asking once", function () {
        const placements = new Placements(POLICY, 2);
        placements.add("m", 1_000);
        // Error results are no samples; nor does anything happen before the windows are full.
        for (let i = 0; i < 20; i++) expect(placements.workerRun("m", undefined, HOP_MS)).to.equal(undefined);
        expect(workerRuns(placements, "m", POLICY.samples - 1, 0.02)).to.deep.equal([]);
        const [why, ...more] = workerRuns(placements, "m", POLICY.samples, 0.02);
        expect(why).to.match(/median run 0\.020 ms .* against a hop budget of 0\.100 ms/);
        expect(more).to.deep.equal([]); // asked once, until promote or never
        expect(placements.placement("m")).to.equal("worker");
        placements.promote("m");
        expect(placements.placement("m")).to.equal("inline");
    });

    it("keeps in the workers a model slower than the hop budget, or over maxRunMs at the 90th percentile", function () {
        const placements = new Placements({ ...POLICY, promoteBelow: Infinity }, 2);
        placements.add("heavy", 1_000);
        expect(workerRuns(placements, "heavy", 3 * POLICY.samples, 5)).to.deep.equal([]); // over the 2 ms bound

        const strict = new Placements(POLICY, 2);
        strict.add("m", 1_000);
        expect(workerRuns(strict, "m", 3 * POLICY.samples, 0.15)).to.deep.equal([]); // over the 0.1 ms hop
        // At concurrency 3 the budget is half the hop (inline runs take turns where two workers run in parallel).
        const three = new Placements(POLICY, 3);
        three.add("m", 1_000);
        expect(workerRuns(three, "m", 3 * POLICY.samples, 0.06)).to.deep.equal([]);
        expect(workerRuns(three, "m", POLICY.samples, 0.04)).to.have.length(1);
    });

    it("never sends inline a model whose file is over maxModelBytes, or one refused with `never`", function () {
        const placements = new Placements(POLICY, 2);
        placements.add("big", POLICY.maxModelBytes + 1);
        expect(placements.neverInline("big")).to.match(/the main thread loads no model over/);
        expect(workerRuns(placements, "big", 3 * POLICY.samples, 0.001)).to.deep.equal([]);

        placements.add("m", 1_000);
        expect(workerRuns(placements, "m", POLICY.samples, 0.02)).to.have.length(1);
        placements.never("m", "no");
        expect(workerRuns(placements, "m", 3 * POLICY.samples, 0.02)).to.deep.equal([]);
        expect(placements.placement("m")).to.equal("worker");
    });

    it("sends an inline model back after four rounds in a row over maxRunMs, not after fewer, once warm", function () {
        const placements = inline("m");
        const slow = POLICY.maxRunMs + 1;
        const round = (ms: number, runs = 1) =>
            placements.inlineRound(
                Array.from({ length: runs }, () => ({ modelId: "m", ok: false })),
                ms,
            );
        // The first rounds of a fresh session (cold code, first allocations) are not held to the bound.
        for (let i = 0; i < 8; i++) expect(round(slow)).to.equal(undefined);
        // Three slow rounds (pauses of the thread), then a fast one: stays.
        for (let i = 0; i < 3; i++) expect(round(slow)).to.equal(undefined);
        expect(round(0.02)).to.equal(undefined);
        // Two runs of the model in one round count as one round.
        for (let i = 0; i < 3; i++) expect(round(slow, 2)).to.equal(undefined);
        expect(round(slow)?.get("m")).to.match(/over the 2\.0 ms bound 4 times in a row \(the last 3\.0 ms\)/);
        expect(placements.placement("m")).to.equal("worker");
        // Measured afresh: going inline again takes a new full window.
        expect(workerRuns(placements, "m", POLICY.samples - 1, 0.02)).to.deep.equal([]);
        expect(workerRuns(placements, "m", 1, 0.02)).to.have.length(1);
    });

    it("sends an inline model back when its median inline run grows past demoteAbove times the budget", function () {
        const placements = inline("m");
        for (let i = 0; i < POLICY.samples; i++) {
            expect(placements.inlineRound([{ modelId: "m", ok: true }], 0.15)).to.equal(undefined); // under 0.2
        }
        let moved: Map<string, string> | undefined;
        for (let i = 0; i < POLICY.samples && moved === undefined; i++) {
            moved = placements.inlineRound([{ modelId: "m", ok: true }], 0.5);
        }
        expect(moved?.get("m")).to.match(/median inline run 0\.500 ms against a hop budget of 0\.100 ms/);
        expect(placements.placement("m")).to.equal("worker");
    });
});
