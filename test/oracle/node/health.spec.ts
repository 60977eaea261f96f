import { expect } from "chai";
import type { Config } from "../../../oracle/src/config/schema";
import type { ModelCatalogue } from "../../../oracle/src/node/catalogue";
import { healthReport, type HealthSources } from "../../../oracle/src/node/health";

/** A config with only what the report reads. */
const config = {
    chain: { pollIntervalMs: 1_000, confirmations: 2 },
    health: { maxLagBlocks: 10, maxHeadAgeSeconds: 120 },
} as unknown as Config;

function sources(over: Partial<HealthSources> & { notServed?: Record<string, string> } = {}): HealthSources {
    const notServed = over.notServed ?? {};
    const models: ModelCatalogue = {
        followed: new Set(["0xa", ...Object.keys(notServed)]),
        hasFailures: Object.keys(notServed).length > 0,
        whyNotServed: (id) => notServed[id],
        mayLoad: () => true,
        loadAll: async () => undefined,
    };
    return {
        config,
        models,
        automine: false,
        lastPollOkMs: () => Date.now(),
        head: () => ({ number: 100 }),
        processedBlock: () => 98,
        sync: () => ({ lagBlocks: 0, headAgeSeconds: 5 }),
        pendingTransactions: () => 3,
        ...over,
    };
}

describe("oracle/node/health", function () {
    it("ok when the chain answers, the node keeps up and every followed model is served", function () {
        const report = healthReport(sources());
        expect(report.status).to.equal("ok");
        expect(report.checks.transactions!.detail).to.equal("3 pending");
        expect(report.checks.sync!.detail).to.contain("0 blocks behind beyond 2 confirmations");
    });

    it("degraded, naming why, for a model not served, a lag past maxLagBlocks, or a head older than maxHeadAgeSeconds", function () {
        const missing = healthReport(sources({ notServed: { "0xb": "MODEL_HASH_MISMATCH: bad file" } }));
        expect(missing.status).to.equal("degraded");
        expect(missing.checks.models).to.deep.equal({ ok: false, detail: "0xb: MODEL_HASH_MISMATCH: bad file" });
        const lagging = healthReport(sources({ sync: () => ({ lagBlocks: 11, headAgeSeconds: 5 }) }));
        expect(lagging.status).to.equal("degraded");
        expect(lagging.checks.sync!.detail).to.contain("more than health.maxLagBlocks 10");
        const halted = healthReport(sources({ sync: () => ({ lagBlocks: 0, headAgeSeconds: 121 }) }));
        expect(halted.status).to.equal("degraded");
        expect(halted.checks.sync!.detail).to.contain("more than health.maxHeadAgeSeconds 120");
    });

    it("an idle head is normal on a chain that mines only for transactions", function () {
        const idle = healthReport(sources({ automine: true, sync: () => ({ lagBlocks: 0, headAgeSeconds: 3_600 }) }));
        expect(idle.status).to.equal("ok");
        expect(idle.checks.sync!.detail).to.contain("the chain mines only for transactions");
    });

    it("down when no poll succeeded for ten poll intervals (at least 30 s)", function () {
        expect(healthReport(sources({ lastPollOkMs: () => Date.now() - 29_000 })).status).to.equal("ok");
        const down = healthReport(sources({ lastPollOkMs: () => Date.now() - 31_000 }));
        expect(down.status).to.equal("down");
        expect(down.checks.chain!.ok).to.equal(false);
    });
});
