import { expect } from "chai";
import { register } from "prom-client";
import {
    bigintGaugeValue,
    createMetrics,
    END_TO_END_SECONDS_BUCKETS,
    INFERENCE_SECONDS_BUCKETS,
    TRANSACTION_KINDS,
    TRANSACTION_OUTCOMES,
    type NodeMetrics,
} from "../../../oracle/src/internal/metrics";

const MODEL = "0x" + "ab".repeat(32);

/** Sets or increments every metric once. */
function touchAll(metrics: NodeMetrics): void {
    metrics.requestsSeen.inc({ model_id: MODEL });
    metrics.requestsServed.inc({ model_id: MODEL, result_code: "OK" });
    metrics.requestsFailed.inc({ model_id: MODEL, reason: "declined" });
    metrics.requestsFinalized.inc({ model_id: MODEL });
    metrics.inferenceSeconds.observe({ model_id: MODEL, outcome: "ok" }, 0.02);
    metrics.requestEndToEndSeconds.observe({ model_id: MODEL }, 3);
    metrics.pendingTransactions.set(2);
    metrics.transactions.inc({ kind: "submit_batch", outcome: "mined" });
    metrics.rpcErrors.inc({ method: "eth_getLogs", retryable: "true" });
    metrics.chainHeadBlock.set(120);
    metrics.processedBlock.set(118);
    metrics.operatorStakeWei.set(bigintGaugeValue(10n ** 18n));
    metrics.operatorFreeStakeWei.set(bigintGaugeValue(6n * 10n ** 17n));
    metrics.operatorLockedCollateralWei.set(bigintGaugeValue(4n * 10n ** 17n));
    metrics.operatorBalanceWei.set(bigintGaugeValue(12345n));
    metrics.inflightInferences.set(1);
    metrics.referenceMismatch.inc({ model_id: MODEL });
    metrics.resultsChecked.inc({ model_id: MODEL, verdict: "correct" });
    metrics.disputesOpened.inc({ model_id: MODEL });
    metrics.disputesWon.inc({ model_id: MODEL });
    metrics.disputesLost.inc({ model_id: MODEL });
    metrics.disputesSkipped.inc({ model_id: MODEL, reason: "bond_above_cap" });
    metrics.challengerWithdrawnWei.inc(600);
}

describe("oracle/internal/metrics", function () {
    it("exports every metric with its exact name, type and labels once touched", async function () {
        const metrics = createMetrics();
        touchAll(metrics);
        const text = await metrics.registry.metrics();
        const expected: [string, string, string][] = [
            ["verity_requests_seen_total", "counter", `verity_requests_seen_total{model_id="${MODEL}"} 1`],
            [
                "verity_requests_served_total",
                "counter",
                `verity_requests_served_total{model_id="${MODEL}",result_code="OK"} 1`,
            ],
            [
                "verity_requests_failed_total",
                "counter",
                `verity_requests_failed_total{model_id="${MODEL}",reason="declined"} 1`,
            ],
            ["verity_requests_finalized_total", "counter", `verity_requests_finalized_total{model_id="${MODEL}"} 1`],
            [
                "verity_inference_seconds",
                "histogram",
                `verity_inference_seconds_count{model_id="${MODEL}",outcome="ok"} 1`,
            ],
            [
                "verity_request_end_to_end_seconds",
                "histogram",
                `verity_request_end_to_end_seconds_sum{model_id="${MODEL}"} 3`,
            ],
            ["verity_pending_transactions", "gauge", "verity_pending_transactions 2"],
            [
                "verity_transactions_total",
                "counter",
                `verity_transactions_total{kind="submit_batch",outcome="mined"} 1`,
            ],
            ["verity_rpc_errors_total", "counter", `verity_rpc_errors_total{method="eth_getLogs",retryable="true"} 1`],
            ["verity_chain_head_block", "gauge", "verity_chain_head_block 120"],
            ["verity_processed_block", "gauge", "verity_processed_block 118"],
            ["verity_operator_stake_wei", "gauge", "verity_operator_stake_wei 1000000000000000000"],
            ["verity_operator_free_stake_wei", "gauge", "verity_operator_free_stake_wei 600000000000000000"],
            [
                "verity_operator_locked_collateral_wei",
                "gauge",
                "verity_operator_locked_collateral_wei 400000000000000000",
            ],
            ["verity_operator_balance_wei", "gauge", "verity_operator_balance_wei 12345"],
            ["verity_inflight_inferences", "gauge", "verity_inflight_inferences 1"],
            ["verity_reference_mismatch_total", "counter", `verity_reference_mismatch_total{model_id="${MODEL}"} 1`],
            [
                "verity_results_checked_total",
                "counter",
                `verity_results_checked_total{model_id="${MODEL}",verdict="correct"} 1`,
            ],
            ["verity_disputes_opened_total", "counter", `verity_disputes_opened_total{model_id="${MODEL}"} 1`],
            ["verity_disputes_won_total", "counter", `verity_disputes_won_total{model_id="${MODEL}"} 1`],
            ["verity_disputes_lost_total", "counter", `verity_disputes_lost_total{model_id="${MODEL}"} 1`],
            [
                "verity_disputes_skipped_total",
                "counter",
                `verity_disputes_skipped_total{model_id="${MODEL}",reason="bond_above_cap"} 1`,
            ],
            ["verity_challenger_withdrawn_wei_total", "counter", "verity_challenger_withdrawn_wei_total 600"],
        ];
        for (const [name, type, sample] of expected) {
            expect(text, name).to.include(`# TYPE ${name} ${type}\n`);
            expect(text, name).to.include(`${sample}\n`);
        }
    });

    it("uses the documented histogram buckets (1 ms to 60 s, 0.1 s to 600 s)", async function () {
        const metrics = createMetrics();
        touchAll(metrics);
        const text = await metrics.registry.metrics();
        expect(INFERENCE_SECONDS_BUCKETS[0]).to.equal(0.001);
        expect(INFERENCE_SECONDS_BUCKETS.at(-1)).to.equal(60);
        expect(END_TO_END_SECONDS_BUCKETS[0]).to.equal(0.1);
        expect(END_TO_END_SECONDS_BUCKETS.at(-1)).to.equal(600);
        for (const le of INFERENCE_SECONDS_BUCKETS) {
            expect(text).to.include(`verity_inference_seconds_bucket{le="${le}",model_id="${MODEL}",outcome="ok"}`);
        }
        for (const le of END_TO_END_SECONDS_BUCKETS) {
            expect(text).to.include(`verity_request_end_to_end_seconds_bucket{le="${le}",model_id="${MODEL}"}`);
        }
        expect(text).to.include(`verity_inference_seconds_bucket{le="0.01",model_id="${MODEL}",outcome="ok"} 0\n`);
        expect(text).to.include(`verity_inference_seconds_bucket{le="0.025",model_id="${MODEL}",outcome="ok"} 1\n`);
    });

    it("exports every transaction kind × outcome series from the start, at zero", async function () {
        const text = await createMetrics().registry.metrics();
        for (const kind of TRANSACTION_KINDS) {
            for (const outcome of TRANSACTION_OUTCOMES) {
                expect(text).to.include(`verity_transactions_total{kind="${kind}",outcome="${outcome}"} 0\n`);
            }
        }
    });

    it("collects default process metrics with the verity_node_ prefix on its own registry", async function () {
        const { registry } = createMetrics();
        const text = await registry.metrics();
        expect(text).to.match(/^verity_node_process_cpu_seconds_total /m);
        expect(text).to.match(/^verity_node_nodejs_heap_size_used_bytes /m);
        expect(registry.contentType).to.match(/^text\/plain/);
    });

    it("keeps registries independent between createMetrics() calls", async function () {
        const a = createMetrics();
        const b = createMetrics();
        expect(a.registry).not.to.equal(b.registry);
        a.requestsSeen.inc({ model_id: MODEL }, 5);
        a.chainHeadBlock.set(77);
        const textA = await a.registry.metrics();
        const textB = await b.registry.metrics();
        expect(textA).to.include(`verity_requests_seen_total{model_id="${MODEL}"} 5\n`);
        expect(textA).to.include("verity_chain_head_block 77\n");
        expect(textB).not.to.include(`verity_requests_seen_total{model_id="${MODEL}"}`);
        expect(textB).to.include("verity_chain_head_block 0\n");
    });

    it("does not touch prom-client's global registry", async function () {
        createMetrics();
        expect(register.getSingleMetric("verity_requests_seen_total")).to.equal(undefined);
        expect(await register.metrics()).not.to.include("verity_node_");
    });

    it("bigintGaugeValue converts wei exactly up to 2^53 and approximately above", function () {
        expect(bigintGaugeValue(2n ** 53n)).to.equal(2 ** 53);
        expect(bigintGaugeValue(0n)).to.equal(0);
        const big = 123_456_789n * 10n ** 18n;
        expect(Math.abs(bigintGaugeValue(big) - 1.23456789e26) / 1.23456789e26).to.be.lessThan(1e-15);
    });
});
