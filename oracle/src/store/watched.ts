/** The challenger's watched results (table `watched`): other operators' submissions, their checks and our disputes. */
import type { StoreDb } from "./db";
import { toWatched, type WatchedRow } from "./rows";
import type { TxsTable } from "./txs";
import type { WatchState, BondState, WatchOutcome, WatchedResult } from "./types";

export class WatchedTable {
    constructor(
        private readonly s: StoreDb,
        private readonly txs: TxsTable,
    ) {}

    /**
     * Records another operator's submitted result (state unchecked). The same submission seen again is left as it
     * is, except that one dropped by a reorg resumes where it was (check, verdict), a challenge of ours taking the
     * state its transaction has now (`challengeState`: the sender's callbacks skip a row while it is reorged). A
     * different submission under the same request id (the new chain has another one, or another struct or input)
     * starts over. Returns whether the row is new, revived or replaced.
     */
    addWatched(w: {
        requestId: string;
        modelId: string;
        blockNumber: number;
        request: WatchedResult["request"];
        input: Uint8Array;
        operator: string;
        resultCode: number;
        outputHash: string;
    }): boolean {
        const existing = this.getWatched(w.requestId);
        const now = this.s.now();
        if (existing !== undefined) {
            const same =
                JSON.stringify(existing.request) === JSON.stringify(w.request) &&
                existing.operator === w.operator.toLowerCase() &&
                existing.resultCode === w.resultCode &&
                existing.outputHash.toLowerCase() === w.outputHash.toLowerCase();
            if (same) {
                if (existing.state !== "done" || existing.outcome !== "reorged") return false;
                const prior = (
                    this.s.sql("SELECT prior_state FROM watched WHERE request_id = ?").get(w.requestId) as {
                        prior_state: WatchState | null;
                    }
                ).prior_state;
                if (prior !== null) {
                    const revived = this.challengeState(prior, existing.txId);
                    this.s
                        .sql(
                            `UPDATE watched SET state = ?, prior_state = NULL, outcome = NULL, reason = ?, tx_id = ?,
                             bond_wei = ?, block_number = ?, updated_at_ms = ? WHERE request_id = ?`,
                        )
                        .run(
                            revived.state,
                            revived.released
                                ? "challenge transaction ended while the submission was reorged out"
                                : null,
                            revived.released ? null : existing.txId,
                            revived.released ? null : existing.bondWei,
                            w.blockNumber,
                            now,
                            w.requestId,
                        );
                    return true;
                }
            }
            this.s.sql("DELETE FROM watched WHERE request_id = ?").run(w.requestId);
        }
        this.s
            .sql(
                `INSERT INTO watched (request_id, model_id, block_number, request_json, input, operator, result_code,
                 output_hash, state, seen_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'unchecked', ?, ?)`,
            )
            .run(
                w.requestId,
                w.modelId,
                w.blockNumber,
                JSON.stringify(w.request),
                Buffer.from(w.input),
                w.operator.toLowerCase(),
                w.resultCode,
                w.outputHash.toLowerCase(),
                now,
                now,
            );
        return true;
    }

    /**
     * The state a watched result in `state` should have given its linked transaction as recorded now; only the
     * states of our dispute depend on it (other states are returned as they are). For the commitment
     * (`committing`, `committed`, linked to the `commit_challenge` transaction):
     * - the commitment transaction is pending: `committing` (also after a reorg took its block away);
     * - it is mined (status 1): `committed`; a `committed` row with no transaction found the commitment on chain;
     * - anything else: `wrong`, released (`released`: its tx link and bond are to be cleared; the salt stays), where
     *   the chain's own record of the commitment decides whether to commit again or reveal.
     * For the reveal (`challenging`, `challenged`, linked to the `challenge` transaction):
     * - the challenge is pending: `challenging` (also after a reorg took its block away: pending again);
     * - it is mined (status 1): `challenged`, the confirmed DisputeResolved decides;
     * - anything else (reverted, dropped, turned into a no-op, unknown): `wrong`, released, disputed again while the
     *   window is open.
     */
    private challengeState(state: WatchState, txId: number | null): { state: WatchState; released: boolean } {
        const tx = txId === null ? undefined : this.txs.getTx(txId);
        if (state === "committing" || state === "committed") {
            if (state === "committed" && txId === null) return { state, released: false };
            if (tx?.kind === "commit_challenge" && tx.state === "pending") {
                return { state: "committing", released: false };
            }
            if (tx?.kind === "commit_challenge" && tx.state === "mined") return { state: "committed", released: false };
            return { state: "wrong", released: true };
        }
        if (state !== "challenging" && state !== "challenged") return { state, released: false };
        if (tx?.kind === "challenge" && tx.state === "pending") return { state: "challenging", released: false };
        if (tx?.kind === "challenge" && tx.state === "mined") return { state: "challenged", released: false };
        return { state: "wrong", released: true };
    }

    /**
     * Brings every result of ours in dispute (`committing` to `challenged`) in line with its transaction
     * (`challengeState`), releasing those whose transaction is no longer in flight nor mined (their bond no longer
     * counts; the salt stays). The sender's callbacks keep them in line as it goes; this catches what they could not
     * reach. Returns what changed.
     */
    reconcileChallenges(): { requestId: string; txId: number | null; from: WatchState; to: WatchState }[] {
        return this.s.transaction(() => {
            const rows = this.s
                .sql(
                    `SELECT request_id, state, tx_id FROM watched
                     WHERE state IN ('committing', 'committed', 'challenging', 'challenged')`,
                )
                .all() as { request_id: string; state: WatchState; tx_id: number | null }[];
            const changed: { requestId: string; txId: number | null; from: WatchState; to: WatchState }[] = [];
            for (const row of rows) {
                const next = this.challengeState(row.state, row.tx_id);
                if (next.state === row.state) continue;
                if (next.released) {
                    this.updateWatched(row.request_id, next.state, {
                        txId: null,
                        bondWei: null,
                        notBefore: 0,
                        reason: `${row.state === "committing" || row.state === "committed" ? "commitment" : "challenge"} transaction no longer in flight`,
                    });
                } else {
                    this.updateWatched(row.request_id, next.state);
                }
                changed.push({ requestId: row.request_id, txId: row.tx_id, from: row.state, to: next.state });
            }
            return changed;
        });
    }

    /**
     * Takes up again a watched result that was closed as `window_closed` or `reverted` (its window, or the chain's
     * refusals, belonged to the struct before): unchecked, verdict, attempts and tx link cleared, with the request's
     * new struct. Used when the chain restarts its challenge window (another challenger's dispute was rejected).
     * The salt stays: a commitment of ours made before and never revealed (such results were never challenged by us)
     * can still be revealed, and the chain's record of it says whether it is there. Returns whether it was reopened.
     */
    reopenWatched(requestId: string, request: WatchedResult["request"]): boolean {
        const info = this.s
            .sql(
                `UPDATE watched SET state = 'unchecked', prior_state = NULL, outcome = NULL, reason = NULL,
                 request_json = ?, expected_code = NULL, expected_hash = NULL, bond_wei = NULL, tx_id = NULL,
                 not_before = 0, attempts = 0, updated_at_ms = ?
                 WHERE request_id = ? AND state = 'done' AND outcome IN ('window_closed', 'reverted')`,
            )
            .run(JSON.stringify(request), this.s.now(), requestId);
        return info.changes > 0;
    }

    getWatched(requestId: string): WatchedResult | undefined {
        const row = this.s.sql("SELECT * FROM watched WHERE request_id = ?").get(requestId) as WatchedRow | undefined;
        return row === undefined ? undefined : toWatched(row);
    }

    /** Watched results in `state`, oldest first; `readyAt` (unix seconds) filters on not_before. */
    watchedIn(state: WatchState, options: { limit?: number; readyAt?: number } = {}): WatchedResult[] {
        const rows = this.s
            .sql(`SELECT * FROM watched WHERE state = ? AND not_before <= ? ORDER BY block_number, request_id LIMIT ?`)
            .all(state, options.readyAt ?? Number.MAX_SAFE_INTEGER, options.limit ?? 1_000_000) as WatchedRow[];
        return rows.map(toWatched);
    }

    /** Watched results linked to transaction `txId` (not done). */
    watchedByTx(txId: number): WatchedResult[] {
        const rows = this.s.sql("SELECT * FROM watched WHERE tx_id = ? AND state != 'done'").all(txId) as WatchedRow[];
        return rows.map(toWatched);
    }

    /**
     * Moves a watched result to `state`, optionally changing its struct, verdict, bond, salt, tx link, not_before.
     */
    updateWatched(
        requestId: string,
        state: WatchState,
        changes: {
            request?: WatchedResult["request"];
            expectedCode?: number;
            expectedHash?: string;
            bondWei?: string | null;
            salt?: string;
            txId?: number | null;
            notBefore?: number;
            reason?: string | null;
        } = {},
    ): void {
        const current = this.getWatched(requestId);
        if (current === undefined || current.state === "done") return;
        this.s
            .sql(
                `UPDATE watched SET state = ?, request_json = ?, expected_code = ?, expected_hash = ?, bond_wei = ?,
                 salt = ?, tx_id = ?, not_before = ?, reason = ?, updated_at_ms = ? WHERE request_id = ?`,
            )
            .run(
                state,
                JSON.stringify(changes.request ?? current.request),
                changes.expectedCode ?? current.expectedCode,
                changes.expectedHash ?? current.expectedHash,
                changes.bondWei === undefined ? current.bondWei : changes.bondWei,
                changes.salt ?? current.salt,
                changes.txId === undefined ? current.txId : changes.txId,
                changes.notBefore ?? current.notBefore,
                changes.reason === undefined ? current.reason : changes.reason,
                this.s.now(),
                requestId,
            );
    }

    /** Puts off acting on a watched result until chain time `notBefore`, counting the attempt. Returns attempts. */
    postponeWatched(requestId: string, state: WatchState, notBefore: number, reason: string): number {
        this.s
            .sql(
                `UPDATE watched SET state = ?, not_before = ?, attempts = attempts + 1, reason = ?, tx_id = NULL,
                 bond_wei = NULL, updated_at_ms = ? WHERE request_id = ? AND state != 'done'`,
            )
            .run(state, notBefore, reason, this.s.now(), requestId);
        return this.getWatched(requestId)?.attempts ?? 0;
    }

    /** Marks a watched result done with its outcome; returns whether it was open until now. */
    finishWatched(requestId: string, outcome: WatchOutcome, reason: string | null = null): boolean {
        const info = this.s
            .sql(
                `UPDATE watched SET state = 'done', outcome = ?, reason = ?, tx_id = NULL, bond_wei = NULL,
                 updated_at_ms = ? WHERE request_id = ? AND state != 'done'`,
            )
            .run(outcome, reason, this.s.now(), requestId);
        return info.changes > 0;
    }

    /**
     * Bonds of our disputes in `states`, in wei: `committing`, `committed` and `challenging` ones have yet to be pulled
     * from the wallet (by the reveal), `challenged` ones are pulled and not known to be decided (their confirmed
     * DisputeResolved not seen yet).
     */
    bondsWei(states: readonly BondState[]): bigint {
        if (states.length === 0) return 0n;
        const rows = this.s
            .sql(
                `SELECT bond_wei FROM watched WHERE state IN (${states.map(() => "?").join(",")}) AND bond_wei IS NOT NULL`,
            )
            .all(...states) as { bond_wei: string }[];
        return rows.reduce((sum, row) => sum + BigInt(row.bond_wei), 0n);
    }

    /** Counts of done watched results by outcome. */
    watchedOutcomes(): Partial<Record<WatchOutcome, number>> {
        return this.s.outcomeCounts<WatchOutcome>("watched");
    }
}
