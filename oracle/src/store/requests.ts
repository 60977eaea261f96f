/** The operator's requests (table `requests`): what the node was asked, what it computed and sent. */
import type { StoreDb } from "./db";
import { toRequest, type RequestRow } from "./rows";
import type { RequestState, RequestOutcome, StoredRequest } from "./types";

export class RequestsTable {
    constructor(private readonly s: StoreDb) {}

    /**
     * Records a newly announced request (state pending). A request seen again (rescan after a crash or a reorg
     * that re-included it) is left as it is, except that a request dropped by a reorg comes back to life, and that a
     * done request announced again with another struct or input starts over: a reorg replaced the block that
     * announced it (done requests are not marked reorged), and the new chain's request is another one under the
     * same id (its timestamps, maybe its input). The old struct and input are of no use on the new chain: a
     * submission or a challenge built from them would revert, and a result checked against the old input would be
     * judged on the wrong input. Returns whether the request is new, revived or replaced.
     */
    addRequest(r: {
        requestId: string;
        modelId: string;
        blockNumber: number;
        blockHash: string;
        request: StoredRequest["request"];
        input: Uint8Array;
        notBefore: number;
    }): boolean {
        const existing = this.getRequest(r.requestId);
        const now = this.s.now();
        if (existing !== undefined) {
            const same =
                JSON.stringify(existing.request) === JSON.stringify(r.request) &&
                Buffer.from(existing.input).equals(Buffer.from(r.input));
            if (existing.state !== "done") return false; // seen again; an open request above a reorg is reorged first
            if (existing.outcome !== "reorged" && same) return false; // done, and the same announcement
            const prior = (
                this.s.sql("SELECT prior_state FROM requests WHERE request_id = ?").get(r.requestId) as {
                    prior_state: RequestState | null;
                }
            ).prior_state;
            if (existing.outcome === "reorged" && same && prior !== null) {
                // The new chain announced the very same request: carry on where we were (result, transaction).
                this.s
                    .sql(
                        `UPDATE requests SET state = ?, prior_state = NULL, outcome = NULL, reason = NULL,
                         block_number = ?, block_hash = ?, updated_at_ms = ? WHERE request_id = ?`,
                    )
                    .run(prior, r.blockNumber, r.blockHash, now, r.requestId);
                return true;
            }
            // Another announcement under the same id (new timestamps, maybe new input): start over. A request done on
            // the old chain (served by another operator, finalized...) replays from the new chain's events.
            this.s.sql("DELETE FROM requests WHERE request_id = ?").run(r.requestId);
        }
        this.s
            .sql(
                `INSERT INTO requests (request_id, model_id, block_number, block_hash, request_json, input, state,
                 not_before, seen_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
            )
            .run(
                r.requestId,
                r.modelId,
                r.blockNumber,
                r.blockHash,
                JSON.stringify(r.request),
                Buffer.from(r.input),
                r.notBefore,
                now,
                now,
            );
        return true;
    }

    getRequest(requestId: string): StoredRequest | undefined {
        const row = this.s.sql("SELECT * FROM requests WHERE request_id = ?").get(requestId) as RequestRow | undefined;
        return row === undefined ? undefined : toRequest(row);
    }

    /** Requests in `state`, oldest first; `readyAt` (unix seconds) filters on not_before. */
    requestsIn(state: RequestState, options: { limit?: number; readyAt?: number } = {}): StoredRequest[] {
        const rows = this.s
            .sql(`SELECT * FROM requests WHERE state = ? AND not_before <= ? ORDER BY block_number, request_id LIMIT ?`)
            .all(state, options.readyAt ?? Number.MAX_SAFE_INTEGER, options.limit ?? 1_000_000) as RequestRow[];
        return rows.map(toRequest);
    }

    countByState(): Record<RequestState, number> {
        const out: Record<RequestState, number> = {
            pending: 0,
            computed: 0,
            submitting: 0,
            submitted: 0,
            finalizing: 0,
            disputed: 0,
            done: 0,
        };
        for (const row of this.s.sql("SELECT state, COUNT(*) AS n FROM requests GROUP BY state").all() as {
            state: RequestState;
            n: number;
        }[]) {
            out[row.state] = row.n;
        }
        return out;
    }

    /** Stores the computed result (state computed). */
    saveResult(requestId: string, result: { resultCode: number; output: Uint8Array; outputHash: string }): void {
        this.s
            .sql(
                `UPDATE requests SET state = 'computed', result_code = ?, output = ?, output_hash = ?, updated_at_ms = ?
                 WHERE request_id = ? AND state = 'pending'`,
            )
            .run(result.resultCode, Buffer.from(result.output), result.outputHash, this.s.now(), requestId);
    }

    /** Moves a request to `state`, optionally replacing its struct, tx link, not_before or batchable flag. */
    update(
        requestId: string,
        state: RequestState,
        changes: {
            request?: StoredRequest["request"];
            txId?: number | null;
            notBefore?: number;
            batchable?: boolean;
            reason?: string | null;
        } = {},
    ): void {
        const current = this.getRequest(requestId);
        if (current === undefined) return;
        this.s
            .sql(
                `UPDATE requests SET state = ?, request_json = ?, tx_id = ?, not_before = ?, batchable = ?, reason = ?,
                 updated_at_ms = ? WHERE request_id = ?`,
            )
            .run(
                state,
                JSON.stringify(changes.request ?? current.request),
                changes.txId === undefined ? current.txId : changes.txId,
                changes.notBefore ?? current.notBefore,
                (changes.batchable ?? current.batchable) ? 1 : 0,
                changes.reason === undefined ? current.reason : changes.reason,
                this.s.now(),
                requestId,
            );
    }

    /**
     * Puts off acting on a request until chain time `notBefore`, counting the attempt. Used when a simulation
     * says the chain does not agree with our view yet (a challenge we have not seen, collateral still locked):
     * confirmed events settle it meanwhile. Returns the attempts so far.
     */
    postpone(requestId: string, state: RequestState, notBefore: number, reason: string): number {
        this.s
            .sql(
                `UPDATE requests SET state = ?, not_before = ?, attempts = attempts + 1, reason = ?, tx_id = NULL,
                 updated_at_ms = ? WHERE request_id = ? AND state != 'done'`,
            )
            .run(state, notBefore, reason, this.s.now(), requestId);
        return this.getRequest(requestId)?.attempts ?? 0;
    }

    /** Reopens a request the node had closed on its own inference, when the chain says otherwise. */
    reopen(requestId: string, state: RequestState): void {
        this.s
            .sql(
                `UPDATE requests SET state = ?, outcome = NULL, reason = NULL, attempts = 0, updated_at_ms = ?
                 WHERE request_id = ? AND state = 'done'`,
            )
            .run(state, this.s.now(), requestId);
    }

    /** Stores our output if the request lost it (seen again from our ResultSubmitted event after a resync). */
    restoreOutput(requestId: string, resultCode: number, output: Uint8Array, outputHash: string): void {
        this.s
            .sql(
                "UPDATE requests SET result_code = ?, output = ?, output_hash = ? WHERE request_id = ? AND output IS NULL",
            )
            .run(resultCode, Buffer.from(output), outputHash, requestId);
    }

    /** Marks a request done with its outcome. Done is final except for reorged requests that come back. */
    finish(requestId: string, outcome: RequestOutcome, reason: string | null = null): void {
        this.s
            .sql(
                "UPDATE requests SET state = 'done', outcome = ?, reason = ?, tx_id = NULL, updated_at_ms = ? WHERE request_id = ? AND state != 'done'",
            )
            .run(outcome, reason, this.s.now(), requestId);
    }

    /** Counts of done requests by outcome (for tests, metrics and the status command). */
    outcomes(): Partial<Record<RequestOutcome, number>> {
        return this.s.outcomeCounts<RequestOutcome>("requests");
    }
}
