/** The node's own transactions and their signed attempts (tables `txs`, `tx_attempts`). */
import type { StoreDb } from "./db";
import type { RequestsTable } from "./requests";
import { toTx, toAttempt, type TxRow, type AttemptRow } from "./rows";
import type { RequestState, TxKind, TxState, StoredTx, TxAttempt } from "./types";

export class TxsTable {
    constructor(
        private readonly s: StoreDb,
        private readonly requests: RequestsTable,
    ) {}

    /** The nonce after the highest one this database ever used, or 0. */
    nextStoredNonce(): number {
        const row = this.s.sql("SELECT MAX(nonce) AS n FROM txs WHERE state != 'dropped'").get() as {
            n: number | null;
        };
        return row.n === null ? 0 : row.n + 1;
    }

    /** Inserts a transaction and its first signed attempt, and links `requestIds` to it (state `requestState`). */
    addTx(
        tx: Omit<StoredTx, "id" | "state" | "createdAtMs" | "minedHash" | "minedBlock">,
        attempt: Omit<TxAttempt, "txId" | "sentAtMs">,
        requestState: RequestState | null,
    ): number {
        return this.s.transaction(() => this.insertTx(tx, attempt, requestState));
    }

    private insertTx(
        tx: Omit<StoredTx, "id" | "state" | "createdAtMs" | "minedHash" | "minedBlock">,
        attempt: Omit<TxAttempt, "txId" | "sentAtMs">,
        requestState: RequestState | null,
    ): number {
        const now = this.s.now();
        const info = this.s
            .sql(
                `INSERT INTO txs (nonce, kind, to_address, data, gas_limit, state, request_ids, created_at_ms)
                 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
            )
            .run(tx.nonce, tx.kind, tx.to, tx.data, tx.gasLimit.toString(), JSON.stringify(tx.requestIds), now);
        const txId = Number(info.lastInsertRowid);
        this.addAttempt({ ...attempt, txId, sentAtMs: now });
        if (requestState !== null) {
            for (const id of tx.requestIds) this.requests.update(id, requestState, { txId });
        }
        return txId;
    }

    addAttempt(attempt: TxAttempt): void {
        this.s
            .sql(
                "INSERT OR IGNORE INTO tx_attempts (hash, tx_id, raw, max_fee, priority_fee, sent_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .run(
                attempt.hash,
                attempt.txId,
                attempt.raw,
                attempt.maxFeePerGas.toString(),
                attempt.maxPriorityFeePerGas.toString(),
                attempt.sentAtMs,
            );
    }

    getTx(id: number): StoredTx | undefined {
        const row = this.s.sql("SELECT * FROM txs WHERE id = ?").get(id) as TxRow | undefined;
        return row === undefined ? undefined : toTx(row);
    }

    pendingTxs(): StoredTx[] {
        return (this.s.sql("SELECT * FROM txs WHERE state = 'pending' ORDER BY nonce").all() as TxRow[]).map(toTx);
    }

    /** Transactions recorded as mined (or reverted) at `nonce` or above, lowest nonce first. */
    minedTxsFrom(nonce: number): StoredTx[] {
        return (
            this.s
                .sql("SELECT * FROM txs WHERE state IN ('mined', 'reverted') AND nonce >= ? ORDER BY nonce")
                .all(nonce) as TxRow[]
        ).map(toTx);
    }

    /** Attempts of a transaction, newest first. */
    attempts(txId: number): TxAttempt[] {
        return (
            this.s
                .sql("SELECT * FROM tx_attempts WHERE tx_id = ? ORDER BY sent_at_ms DESC, rowid DESC")
                .all(txId) as AttemptRow[]
        ).map(toAttempt);
    }

    /** Marks the last attempt as re-sent now (for the stuck timer). */
    touchAttempt(hash: string): void {
        this.s.sql("UPDATE tx_attempts SET sent_at_ms = ? WHERE hash = ?").run(this.s.now(), hash);
    }

    setTxState(id: number, state: TxState, mined?: { hash: string; block: number }): void {
        this.s
            .sql("UPDATE txs SET state = ?, mined_hash = ?, mined_block = ? WHERE id = ?")
            .run(state, mined?.hash ?? null, mined?.block ?? null, id);
    }

    /** Replaces a pending transaction's payload (used to turn a no longer wanted transaction into a no-op). */
    replaceTxPayload(id: number, kind: TxKind, to: string, data: string, gasLimit: bigint): void {
        this.s
            .sql("UPDATE txs SET kind = ?, to_address = ?, data = ?, gas_limit = ?, request_ids = '[]' WHERE id = ?")
            .run(kind, to, data, gasLimit.toString(), id);
    }
}
