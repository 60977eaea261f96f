/**
 * The node's /healthz report: `down` when the chain has not answered a poll for a while (30 s, or ten poll
 * intervals); `degraded` when a followed model is not served, or the node trails the head by more than
 * health.maxLagBlocks, or no new block came for health.maxHeadAgeSeconds (on a chain that mines for every
 * transaction, an idle head is normal); else `ok`. Each check says why.
 */
import type { Config } from "../config/schema";
import type { HealthReport } from "../internal/httpServer";
import type { ModelCatalogue } from "./catalogue";

/** What the report reads, each time it is asked. */
export interface HealthSources {
    readonly config: Config;
    readonly models: ModelCatalogue;
    /** Whether the chain mines only when a transaction arrives. */
    readonly automine: boolean;
    /** When a poll of the chain last succeeded (ms since the epoch). */
    lastPollOkMs(): number;
    head(): { number: number };
    processedBlock(): number;
    sync(): { lagBlocks: number; headAgeSeconds: number };
    pendingTransactions(): number;
}

export function healthReport(s: HealthSources): HealthReport {
    const { config } = s;
    const stalledMs = Date.now() - s.lastPollOkMs();
    const chainOk = stalledMs < Math.max(30_000, config.chain.pollIntervalMs * 10);
    const missing = [...s.models.followed].filter((m) => s.models.whyNotServed(m) !== undefined);
    const { lagBlocks, headAgeSeconds } = s.sync();
    const lagging = lagBlocks > config.health.maxLagBlocks;
    const halted = !s.automine && headAgeSeconds > config.health.maxHeadAgeSeconds;
    const syncOk = !lagging && !halted;
    return {
        status: !chainOk ? "down" : missing.length > 0 || !syncOk ? "degraded" : "ok",
        checks: {
            chain: {
                ok: chainOk,
                detail: `head ${s.head().number}, last poll ${Math.round(stalledMs / 1000)}s ago`,
            },
            sync: {
                ok: syncOk,
                detail:
                    `processed ${s.processedBlock()}, head ${s.head().number}: ${lagBlocks} block${lagBlocks === 1 ? "" : "s"} behind beyond ${config.chain.confirmations} confirmation${config.chain.confirmations === 1 ? "" : "s"}` +
                    (lagging ? ` (more than health.maxLagBlocks ${config.health.maxLagBlocks})` : "") +
                    `; last new block ${headAgeSeconds}s ago` +
                    (halted
                        ? ` (more than health.maxHeadAgeSeconds ${config.health.maxHeadAgeSeconds}: the chain halted, the RPC endpoint is stuck on an old head, or this node's loop is stalled)`
                        : s.automine
                          ? " (the chain mines only for transactions)"
                          : ""),
            },
            models: {
                ok: missing.length === 0,
                ...(missing.length > 0
                    ? {
                          detail: missing.map((m) => `${m}: ${s.models.whyNotServed(m) ?? "loading"}`).join("; "),
                      }
                    : {}),
            },
            transactions: { ok: true, detail: `${s.pendingTransactions()} pending` },
        },
    };
}
