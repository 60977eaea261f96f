import { expect } from "chai";
import { createMetrics, type NodeMetrics } from "../../../oracle/src/internal/metrics";
import { silentLogger } from "../../../oracle/src/internal/logger";
import { MAX_POSTPONES, POSTPONE_SECONDS, postponeOrGiveUp } from "../../../oracle/src/roles/postpone";
import type { NodeContext } from "../../../oracle/src/roles/context";
import { Store, type StoredRequest } from "../../../oracle/src/store/store";

const MODEL = "0x" + "7a".repeat(32);
const CHAIN_TIME = 1_000;

describe("oracle/roles/postpone", function () {
    let store: Store;
    let metrics: NodeMetrics;
    let ctx: NodeContext;

    beforeEach(function () {
        store = new Store(":memory:", {
            chainId: 31337,
            coordinator: "0x" + "c0".repeat(20),
            operator: "0x" + "ab".repeat(20),
        });
        metrics = createMetrics();
        ctx = {
            store,
            chainTime: () => CHAIN_TIME,
            metrics,
            logger: silentLogger(),
        } as Partial<NodeContext> as NodeContext;
        store.addRequest({
            requestId: "1",
            modelId: MODEL,
            blockNumber: 10,
            blockHash: "0x" + "0a".repeat(32),
            request: { requestId: "1" },
            input: new Uint8Array([1]),
            notBefore: 0,
        });
        store.saveResult("1", { resultCode: 0, output: new Uint8Array([2]), outputHash: "0x" + "00".repeat(32) });
        store.update("1", "submitting", { txId: 4 });
    });

    afterEach(function () {
        store.close();
    });

    const current = (): StoredRequest => store.getRequest("1")!;

    async function revertedFailures(): Promise<number> {
        const series = (await metrics.requestsFailed.get()).values.find(
            (v) => v.labels.model_id === MODEL && v.labels.reason === "reverted",
        );
        return series?.value ?? 0;
    }

    it("puts the request back in the given state for POSTPONE_SECONDS of chain time, counting the attempt", async function () {
        postponeOrGiveUp(ctx, current(), "computed", "submission would revert: CoordinatorWrongStatus");
        const stored = current();
        expect(stored.state).to.equal("computed");
        expect(stored.outcome).to.equal(null);
        expect(stored.notBefore).to.equal(CHAIN_TIME + POSTPONE_SECONDS);
        expect(stored.attempts).to.equal(1);
        expect(stored.reason).to.equal("submission would revert: CoordinatorWrongStatus");
        expect(stored.txId).to.equal(null);
        expect(await revertedFailures()).to.equal(0);
    });

    it("keeps the request open through MAX_POSTPONES disagreements", async function () {
        for (let i = 1; i <= MAX_POSTPONES; i++) {
            postponeOrGiveUp(ctx, current(), "submitted", `try ${i}`);
            expect(current().attempts).to.equal(i);
        }
        const stored = current();
        expect(stored.state).to.equal("submitted");
        expect(stored.outcome).to.equal(null);
        expect(stored.reason).to.equal(`try ${MAX_POSTPONES}`);
        expect(stored.notBefore).to.equal(CHAIN_TIME + POSTPONE_SECONDS);
        expect(await revertedFailures()).to.equal(0);
    });

    it("gives up after MAX_POSTPONES: done/reverted with the reason, counted as a reverted failure", async function () {
        for (let i = 0; i < MAX_POSTPONES; i++) postponeOrGiveUp(ctx, current(), "computed", "still refused");
        postponeOrGiveUp(ctx, current(), "computed", "submission reverted on chain");
        const stored = current();
        expect(stored.state).to.equal("done");
        expect(stored.outcome).to.equal("reverted");
        expect(stored.reason).to.equal("submission reverted on chain");
        expect(stored.txId).to.equal(null);
        expect(await revertedFailures()).to.equal(1);
        const text = await metrics.registry.getSingleMetricAsString("verity_requests_failed_total");
        expect(text).to.include(`verity_requests_failed_total{model_id="${MODEL}",reason="reverted"} 1`);
    });
});
