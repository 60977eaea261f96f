/**
 * The node's Prometheus metrics, on a registry of its own (never prom-client's global one), so two nodes or two
 * tests in one process never share or collide on series. Served at /metrics by the HTTP server.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Prefix of the Node.js process metrics (CPU, memory, event loop, GC) collected on each registry. */
export const DEFAULT_METRICS_PREFIX = "verity_node_";

/** Buckets of `verity_inference_seconds`: 1 ms to 60 s. */
export const INFERENCE_SECONDS_BUCKETS: readonly number[] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Buckets of `verity_request_end_to_end_seconds`: 100 ms to 10 minutes. */
export const END_TO_END_SECONDS_BUCKETS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600];

/** Values of the `kind` label of `verity_transactions_total`. */
export const TRANSACTION_KINDS = [
    "submit",
    "finalize",
    "submit_batch",
    "finalize_batch",
    "expire_dispute",
    "challenge",
    "approve",
    "withdraw",
    "noop",
] as const;

/** Values of the `outcome` label of `verity_transactions_total`. */
export const TRANSACTION_OUTCOMES = ["mined", "reverted", "replaced"] as const;

/** A transaction's purpose, as counted by `verity_transactions_total`. */
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/** How a transaction ended, as counted by `verity_transactions_total`. */
export type TransactionOutcome = (typeof TRANSACTION_OUTCOMES)[number];

/** Every metric the node exports, typed by label names so callers get label checking. */
/** How far behind the chain the node is, as `/healthz` and `/metrics` report it. */
export interface SyncState {
    lagBlocks: number;
    headAgeSeconds: number;
}

export interface NodeMetrics {
    /** The registry holding all of the metrics below plus the default process metrics. */
    readonly registry: Registry;
    /** `verity_requests_seen_total`: inference requests observed on-chain. */
    readonly requestsSeen: Counter<"model_id">;
    /** `verity_requests_served_total`: results submitted on-chain, by result code. */
    readonly requestsServed: Counter<"model_id" | "result_code">;
    /**
     * `verity_requests_failed_total`: requests not served, by reason: `declined` (cannot answer honestly),
     * `unprofitable` (the worth check: the fee does not cover the cost plus the margin), `expired`, `reverted`.
     */
    readonly requestsFailed: Counter<"model_id" | "reason">;
    /** `verity_requests_finalized_total`: results finalized after their challenge window. */
    readonly requestsFinalized: Counter<"model_id">;
    /** `verity_inference_seconds`: model run time, by outcome (e.g. ok, error, timeout). */
    readonly inferenceSeconds: Histogram<"model_id" | "outcome">;
    /** `verity_request_end_to_end_seconds`: from request seen to result submitted on-chain. */
    readonly requestEndToEndSeconds: Histogram<"model_id">;
    /** `verity_pending_transactions`: transactions sent and not yet mined. */
    readonly pendingTransactions: Gauge;
    /** `verity_transactions_total`: transactions ended, by kind (TransactionKind) and outcome (TransactionOutcome). */
    readonly transactions: Counter<"kind" | "outcome">;
    /** `verity_rpc_errors_total`: failed JSON-RPC calls, by method and whether they were retryable ("true"/"false"). */
    readonly rpcErrors: Counter<"method" | "retryable">;
    /** `verity_chain_head_block`: latest block number seen. */
    readonly chainHeadBlock: Gauge;
    /** `verity_processed_block`: last block whose events were fully processed. */
    readonly processedBlock: Gauge;
    /** `verity_sync_lag_blocks`: blocks between the processed block and the head, beyond the confirmations. */
    readonly syncLagBlocks: Gauge;
    /** `verity_head_age_seconds`: seconds since the head block arrived. */
    readonly headAgeSeconds: Gauge;
    /** Where the two gauges above read their values at each scrape (a stalled main loop must not freeze them). */
    setSyncSource(source: () => SyncState): void;
    /** `verity_operator_stake_wei`: total stake. Set with `bigintGaugeValue` (approximate above 2^53). */
    readonly operatorStakeWei: Gauge;
    /** `verity_operator_free_stake_wei`: stake not locked as collateral (approximate above 2^53). */
    readonly operatorFreeStakeWei: Gauge;
    /** `verity_operator_locked_collateral_wei`: stake locked behind open results (approximate above 2^53). */
    readonly operatorLockedCollateralWei: Gauge;
    /** `verity_operator_balance_wei`: the operator's credit balance in the coordinator (approximate above 2^53). */
    readonly operatorBalanceWei: Gauge;
    /** `verity_inflight_inferences`: model runs in progress. */
    readonly inflightInferences: Gauge;
    /**
     * `verity_reference_mismatch_total`: runs of a verifiable model where onnxruntime's result differed from the
     * reference interpreter's (the reference result was submitted).
     */
    readonly referenceMismatch: Counter<"model_id">;
    /**
     * `verity_results_checked_total`: other operators' results the challenger re-executed, by verdict: `correct`,
     * `wrong` (once the chain's re-execution confirmed it) or `reference_disagrees_with_chain`.
     */
    readonly resultsChecked: Counter<"model_id" | "verdict">;
    /** `verity_disputes_opened_total`: challenges this node opened (confirmed ResultChallenged events). */
    readonly disputesOpened: Counter<"model_id">;
    /** `verity_disputes_won_total`: our challenges decided against the operator. */
    readonly disputesWon: Counter<"model_id">;
    /** `verity_disputes_lost_total`: our challenges decided for the operator (our bond lost). */
    readonly disputesLost: Counter<"model_id">;
    /**
     * `verity_disputes_skipped_total`: wrong results the challenger did not dispute, by reason (`bond_above_cap`,
     * `window_closed`, `model_unavailable`, `no_resolver`, `gave_up`).
     */
    readonly disputesSkipped: Counter<"model_id" | "reason">;
    /** `verity_challenger_withdrawn_wei_total`: wei withdrawn from the coordinator balance by the challenger. */
    readonly challengerWithdrawnWei: Counter;
}

/**
 * A wei amount as a gauge value. Prometheus samples are float64, so values above 2^53 wei (about 0.009 ETH)
 * lose precision: the gauge is approximate, good for dashboards and alerts, not for accounting.
 */
export function bigintGaugeValue(value: bigint): number {
    return Number(value);
}

/** Creates every node metric on a fresh registry, with default process metrics prefixed `verity_node_`. */
export function createMetrics(): NodeMetrics {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
    const registers = [registry];
    let sync: (() => SyncState) | undefined;

    const transactions = new Counter({
        name: "verity_transactions_total",
        help: "Transactions ended, by kind and outcome",
        labelNames: ["kind", "outcome"] as const,
        registers,
    });
    // The label sets are closed: export every series from the start so rate() and alerts see zeros, not gaps.
    for (const kind of TRANSACTION_KINDS) {
        for (const outcome of TRANSACTION_OUTCOMES) transactions.inc({ kind, outcome }, 0);
    }

    return {
        registry,
        requestsSeen: new Counter({
            name: "verity_requests_seen_total",
            help: "Inference requests observed on-chain",
            labelNames: ["model_id"] as const,
            registers,
        }),
        requestsServed: new Counter({
            name: "verity_requests_served_total",
            help: "Results submitted on-chain, by result code",
            labelNames: ["model_id", "result_code"] as const,
            registers,
        }),
        requestsFailed: new Counter({
            name: "verity_requests_failed_total",
            help: "Requests not served (declined, unprofitable, expired, reverted), by reason",
            labelNames: ["model_id", "reason"] as const,
            registers,
        }),
        requestsFinalized: new Counter({
            name: "verity_requests_finalized_total",
            help: "Results finalized after their challenge window",
            labelNames: ["model_id"] as const,
            registers,
        }),
        inferenceSeconds: new Histogram({
            name: "verity_inference_seconds",
            help: "Model run time in seconds, by outcome",
            labelNames: ["model_id", "outcome"] as const,
            buckets: [...INFERENCE_SECONDS_BUCKETS],
            registers,
        }),
        requestEndToEndSeconds: new Histogram({
            name: "verity_request_end_to_end_seconds",
            help: "Seconds from request seen to result submitted on-chain",
            labelNames: ["model_id"] as const,
            buckets: [...END_TO_END_SECONDS_BUCKETS],
            registers,
        }),
        pendingTransactions: new Gauge({
            name: "verity_pending_transactions",
            help: "Transactions sent and not yet mined",
            registers,
        }),
        transactions,
        rpcErrors: new Counter({
            name: "verity_rpc_errors_total",
            help: "Failed JSON-RPC calls, by method and whether the fault was retryable",
            labelNames: ["method", "retryable"] as const,
            registers,
        }),
        chainHeadBlock: new Gauge({
            name: "verity_chain_head_block",
            help: "Latest block number seen",
            registers,
        }),
        processedBlock: new Gauge({
            name: "verity_processed_block",
            help: "Last block whose events were fully processed",
            registers,
        }),
        syncLagBlocks: new Gauge({
            name: "verity_sync_lag_blocks",
            help: "Blocks the processed block trails the head by, beyond the configured confirmations",
            registers,
            collect() {
                if (sync !== undefined) this.set(sync().lagBlocks);
            },
        }),
        headAgeSeconds: new Gauge({
            name: "verity_head_age_seconds",
            help: "Seconds since the latest block arrived",
            registers,
            collect() {
                if (sync !== undefined) this.set(sync().headAgeSeconds);
            },
        }),
        setSyncSource(source) {
            sync = source;
        },
        operatorStakeWei: new Gauge({
            name: "verity_operator_stake_wei",
            help: "Operator's total stake in wei (approximate above 2^53)",
            registers,
        }),
        operatorFreeStakeWei: new Gauge({
            name: "verity_operator_free_stake_wei",
            help: "Operator's stake not locked as collateral, in wei (approximate above 2^53)",
            registers,
        }),
        operatorLockedCollateralWei: new Gauge({
            name: "verity_operator_locked_collateral_wei",
            help: "Operator's stake locked behind open results, in wei (approximate above 2^53)",
            registers,
        }),
        operatorBalanceWei: new Gauge({
            name: "verity_operator_balance_wei",
            help: "Operator's credit balance in the coordinator, in wei (approximate above 2^53)",
            registers,
        }),
        inflightInferences: new Gauge({
            name: "verity_inflight_inferences",
            help: "Model runs in progress",
            registers,
        }),
        referenceMismatch: new Counter({
            name: "verity_reference_mismatch_total",
            help: "Runs of a verifiable model where onnxruntime disagreed with the reference interpreter",
            labelNames: ["model_id"] as const,
            registers,
        }),
        resultsChecked: new Counter({
            name: "verity_results_checked_total",
            help: "Other operators' results re-executed by the challenger, by verdict",
            labelNames: ["model_id", "verdict"] as const,
            registers,
        }),
        disputesOpened: new Counter({
            name: "verity_disputes_opened_total",
            help: "Challenges opened by this node",
            labelNames: ["model_id"] as const,
            registers,
        }),
        disputesWon: new Counter({
            name: "verity_disputes_won_total",
            help: "Challenges by this node decided against the operator",
            labelNames: ["model_id"] as const,
            registers,
        }),
        disputesLost: new Counter({
            name: "verity_disputes_lost_total",
            help: "Challenges by this node decided for the operator",
            labelNames: ["model_id"] as const,
            registers,
        }),
        disputesSkipped: new Counter({
            name: "verity_disputes_skipped_total",
            help: "Wrong results the challenger did not dispute, by reason",
            labelNames: ["model_id", "reason"] as const,
            registers,
        }),
        challengerWithdrawnWei: new Counter({
            name: "verity_challenger_withdrawn_wei_total",
            help: "Wei withdrawn from the coordinator balance by the challenger (approximate above 2^53)",
            registers,
        }),
    };
}
