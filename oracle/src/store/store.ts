/**
 * The node's persistent state: one SQLite database (better-sqlite3, WAL, synchronous=FULL).
 *
 * Every state change the node makes is one SQLite transaction, written before the action it enables: a
 * transaction is signed and stored with its nonce before it is broadcast, a range of blocks is recorded together
 * with the requests found in it and the new checkpoint. So a crash at any point (kill -9 included) leaves a
 * consistent state: on restart the node rebroadcasts what it had signed (the same nonce, so at most one version
 * is ever mined) and rescans from the checkpoint, and no request is lost or submitted twice.
 */
import type Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PermanentError } from "../internal/errors";
import { StoreDb } from "./db";
import { RequestsTable } from "./requests";
import { OPEN_REQUEST_STATES } from "./rows";
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from "./schema";
import { TxsTable } from "./txs";
import type { StoreIdentity } from "./types";
import { WatchedTable } from "./watched";

export { SCHEMA_VERSION } from "./schema";
export type * from "./types";

/** The database file is not one the node can use (another schema, chain or coordinator). */
export class StoreError extends PermanentError {}

export class Store {
    private readonly s: StoreDb;
    private readonly db: Database.Database;
    private readonly now: () => number;
    readonly #requests: RequestsTable;
    readonly #watched: WatchedTable;
    readonly #txs: TxsTable;

    /** Opens (creating if needed) the database at `path` (":memory:" for tests) for `identity`. */
    constructor(path: string, identity: StoreIdentity, options: { now?: () => number } = {}) {
        if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
        this.now = options.now ?? Date.now;
        this.s = new StoreDb(path, this.now);
        this.db = this.s.db;
        this.#requests = new RequestsTable(this.s);
        this.#txs = new TxsTable(this.s, this.#requests);
        this.#watched = new WatchedTable(this.s, this.#txs);
        try {
            this.db.pragma("journal_mode = WAL");
            // FULL: a committed transaction survives power loss, not just a process crash.
            this.db.pragma("synchronous = FULL");
            this.db.pragma("foreign_keys = ON");
            this.db.exec(SCHEMA);
            this.migrate();
            this.checkIdentity(identity);
        } catch (error) {
            this.db.close();
            throw error;
        }
    }

    /** Brings a database of an older schema version up to SCHEMA_VERSION (see MIGRATIONS); a new one has none yet. */
    private migrate(): void {
        for (;;) {
            const have = this.getMeta("schema_version");
            if (have === undefined || !/^\d+$/.test(have)) return; // new (checkIdentity records it) or unknown
            const version = Number(have);
            const step = MIGRATIONS[version];
            if (version >= SCHEMA_VERSION || step === undefined) return; // current, or refused by checkIdentity
            this.db.transaction(() => {
                this.db.exec(step);
                this.setMeta("schema_version", String(version + 1));
            })();
        }
    }

    private checkIdentity(identity: StoreIdentity): void {
        const want: Record<string, string> = {
            schema_version: String(SCHEMA_VERSION),
            chain_id: String(identity.chainId),
            coordinator: identity.coordinator.toLowerCase(),
            operator: identity.operator.toLowerCase(),
        };
        this.db.transaction(() => {
            for (const [key, value] of Object.entries(want)) {
                const have = this.getMeta(key);
                if (have === undefined) this.setMeta(key, value);
                else if (have !== value) {
                    throw new StoreError(
                        "STORE_IDENTITY_MISMATCH",
                        `the database belongs to ${key} ${have}, not ${value}; use another storage.dataDir`,
                    );
                }
            }
        })();
    }

    close(): void {
        if (this.db.open) this.db.close();
    }

    /** Runs `fn` in one SQLite transaction (all of it is written, or none). */
    transaction<T>(fn: () => T): T {
        return this.s.transaction(fn);
    }

    getMeta(key: string): string | undefined {
        const row = this.s.sql("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
        return row?.value;
    }

    setMeta(key: string, value: string): void {
        this.s
            .sql("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .run(key, value);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Chain position
    // ---------------------------------------------------------------------------------------------------------

    /** Last block whose events are fully recorded, or undefined before the first scan. */
    checkpoint(): number | undefined {
        const value = this.getMeta("checkpoint");
        return value === undefined ? undefined : Number(value);
    }

    /** Records that blocks up to `number` (whose hash is `hash`) are processed. Call inside `transaction`. */
    advance(number: number, hash: string, keepBlocks: number): void {
        this.s.sql("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)").run(number, hash);
        this.s.sql("DELETE FROM blocks WHERE number < ?").run(number - keepBlocks);
        this.setMeta("checkpoint", String(number));
    }

    /** Recorded block hashes, newest first (for finding the common ancestor after a reorg). */
    recordedBlocks(): { number: number; hash: string }[] {
        return this.s.sql("SELECT number, hash FROM blocks ORDER BY number DESC").all() as {
            number: number;
            hash: string;
        }[];
    }

    /**
     * Forgets everything seen after block `ancestor` (a reorg replaced those blocks): their recorded hashes go,
     * the checkpoint moves back, and open requests announced there are marked done/reorged (and so are open watched
     * results submitted there). Returns the request ids.
     * They keep their link to a pending transaction: if the new chain includes the request again, `addRequest`
     * puts it back in flight instead of executing it a second time; if not, the sender turns the transaction
     * into a no-op when it next finds it would revert.
     * Requests already done stay as they are; if the new chain announces one of them differently (another struct or
     * input), `addRequest` replaces it then.
     */
    rewind(ancestor: number): string[] {
        return this.transaction(() => {
            this.s.sql("DELETE FROM blocks WHERE number > ?").run(ancestor);
            this.setMeta("checkpoint", String(ancestor));
            const rows = this.s
                .sql(
                    `SELECT request_id FROM requests WHERE block_number > ? AND state IN (${OPEN_REQUEST_STATES.map(() => "?").join(",")})`,
                )
                .all(ancestor, ...OPEN_REQUEST_STATES) as { request_id: string }[];
            const ids = rows.map((r) => r.request_id);
            this.s
                .sql(
                    `UPDATE requests SET prior_state = state, state = 'done', outcome = 'reorged', reason = ?,
                     updated_at_ms = ? WHERE block_number > ? AND state != 'done'`,
                )
                .run(`announcing block above ${ancestor} was reorged out`, this.now(), ancestor);
            this.s
                .sql(
                    `UPDATE watched SET prior_state = state, state = 'done', outcome = 'reorged', reason = ?,
                     updated_at_ms = ? WHERE block_number > ? AND state != 'done'`,
                )
                .run(`submitting block above ${ancestor} was reorged out`, this.now(), ancestor);
            return ids;
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Requests (requests.ts), watched results (watched.ts), transactions (txs.ts)
    // ---------------------------------------------------------------------------------------------------------

    /** {@inheritDoc RequestsTable.addRequest} */
    readonly addRequest: RequestsTable["addRequest"] = (...args) => this.#requests.addRequest(...args);
    /** {@inheritDoc RequestsTable.getRequest} */
    readonly getRequest: RequestsTable["getRequest"] = (...args) => this.#requests.getRequest(...args);
    /** {@inheritDoc RequestsTable.requestsIn} */
    readonly requestsIn: RequestsTable["requestsIn"] = (...args) => this.#requests.requestsIn(...args);
    /** {@inheritDoc RequestsTable.countByState} */
    readonly countByState: RequestsTable["countByState"] = (...args) => this.#requests.countByState(...args);
    /** {@inheritDoc RequestsTable.saveResult} */
    readonly saveResult: RequestsTable["saveResult"] = (...args) => this.#requests.saveResult(...args);
    /** {@inheritDoc RequestsTable.update} */
    readonly update: RequestsTable["update"] = (...args) => this.#requests.update(...args);
    /** {@inheritDoc RequestsTable.postpone} */
    readonly postpone: RequestsTable["postpone"] = (...args) => this.#requests.postpone(...args);
    /** {@inheritDoc RequestsTable.reopen} */
    readonly reopen: RequestsTable["reopen"] = (...args) => this.#requests.reopen(...args);
    /** {@inheritDoc RequestsTable.restoreOutput} */
    readonly restoreOutput: RequestsTable["restoreOutput"] = (...args) => this.#requests.restoreOutput(...args);
    /** {@inheritDoc RequestsTable.finish} */
    readonly finish: RequestsTable["finish"] = (...args) => this.#requests.finish(...args);
    /** {@inheritDoc RequestsTable.outcomes} */
    readonly outcomes: RequestsTable["outcomes"] = (...args) => this.#requests.outcomes(...args);

    /** {@inheritDoc WatchedTable.addWatched} */
    readonly addWatched: WatchedTable["addWatched"] = (...args) => this.#watched.addWatched(...args);
    /** {@inheritDoc WatchedTable.reconcileChallenges} */
    readonly reconcileChallenges: WatchedTable["reconcileChallenges"] = (...args) =>
        this.#watched.reconcileChallenges(...args);
    /** {@inheritDoc WatchedTable.reopenWatched} */
    readonly reopenWatched: WatchedTable["reopenWatched"] = (...args) => this.#watched.reopenWatched(...args);
    /** {@inheritDoc WatchedTable.getWatched} */
    readonly getWatched: WatchedTable["getWatched"] = (...args) => this.#watched.getWatched(...args);
    /** {@inheritDoc WatchedTable.watchedIn} */
    readonly watchedIn: WatchedTable["watchedIn"] = (...args) => this.#watched.watchedIn(...args);
    /** {@inheritDoc WatchedTable.watchedByTx} */
    readonly watchedByTx: WatchedTable["watchedByTx"] = (...args) => this.#watched.watchedByTx(...args);
    /** {@inheritDoc WatchedTable.updateWatched} */
    readonly updateWatched: WatchedTable["updateWatched"] = (...args) => this.#watched.updateWatched(...args);
    /** {@inheritDoc WatchedTable.postponeWatched} */
    readonly postponeWatched: WatchedTable["postponeWatched"] = (...args) => this.#watched.postponeWatched(...args);
    /** {@inheritDoc WatchedTable.finishWatched} */
    readonly finishWatched: WatchedTable["finishWatched"] = (...args) => this.#watched.finishWatched(...args);
    /** {@inheritDoc WatchedTable.bondsWei} */
    readonly bondsWei: WatchedTable["bondsWei"] = (...args) => this.#watched.bondsWei(...args);
    /** {@inheritDoc WatchedTable.watchedOutcomes} */
    readonly watchedOutcomes: WatchedTable["watchedOutcomes"] = (...args) => this.#watched.watchedOutcomes(...args);

    /** {@inheritDoc TxsTable.nextStoredNonce} */
    readonly nextStoredNonce: TxsTable["nextStoredNonce"] = (...args) => this.#txs.nextStoredNonce(...args);
    /** {@inheritDoc TxsTable.addTx} */
    readonly addTx: TxsTable["addTx"] = (...args) => this.#txs.addTx(...args);
    /** {@inheritDoc TxsTable.addAttempt} */
    readonly addAttempt: TxsTable["addAttempt"] = (...args) => this.#txs.addAttempt(...args);
    /** {@inheritDoc TxsTable.getTx} */
    readonly getTx: TxsTable["getTx"] = (...args) => this.#txs.getTx(...args);
    /** {@inheritDoc TxsTable.pendingTxs} */
    readonly pendingTxs: TxsTable["pendingTxs"] = (...args) => this.#txs.pendingTxs(...args);
    /** {@inheritDoc TxsTable.minedTxsFrom} */
    readonly minedTxsFrom: TxsTable["minedTxsFrom"] = (...args) => this.#txs.minedTxsFrom(...args);
    /** {@inheritDoc TxsTable.attempts} */
    readonly attempts: TxsTable["attempts"] = (...args) => this.#txs.attempts(...args);
    /** {@inheritDoc TxsTable.touchAttempt} */
    readonly touchAttempt: TxsTable["touchAttempt"] = (...args) => this.#txs.touchAttempt(...args);
    /** {@inheritDoc TxsTable.setTxState} */
    readonly setTxState: TxsTable["setTxState"] = (...args) => this.#txs.setTxState(...args);
    /** {@inheritDoc TxsTable.replaceTxPayload} */
    readonly replaceTxPayload: TxsTable["replaceTxPayload"] = (...args) => this.#txs.replaceTxPayload(...args);
}
