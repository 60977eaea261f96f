/**
 * The node's persistent state: one SQLite database (better-sqlite3, WAL, synchronous=FULL).
 *
 * Every state change the node makes is one SQLite transaction, written before the action it enables: a
 * transaction is signed and stored with its nonce before it is broadcast, a range of blocks is recorded together
 * with the requests found in it and the new checkpoint. So a crash at any point (kill -9 included) leaves a
 * consistent state: on restart the node rebroadcasts what it had signed (the same nonce, so at most one version
 * is ever mined) and rescans from the checkpoint, and no request is lost or submitted twice.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PermanentError } from "../internal/errors";

/**
 * Schema version written in `meta`. A database of an older version is brought up to this one on open by the steps
 * in `MIGRATIONS`, one version at a time, each in one SQLite transaction with the version it reaches (so a crash
 * mid-way leaves the old version, migrated again on the next open); a database of a newer or unknown version is
 * refused. Additions that older databases take as they are (a new table, created empty on open) keep the version.
 */
export const SCHEMA_VERSION = 2;

/** What brings a database of version `v` to version `v + 1`. */
const MIGRATIONS: Readonly<Record<number, string>> = {
    // 1 → 2: commit-reveal challenges; a watched result keeps the secret salt of our challenge commitment.
    1: "ALTER TABLE watched ADD COLUMN salt TEXT",
};

/**
 * Lifecycle of a request in the node (not on chain):
 * - `pending`: seen; the operator role may execute it (from `not_before` on).
 * - `computed`: the result is stored; waiting to be sent.
 * - `submitting`: a submit transaction holding it is pending.
 * - `submitted`: our result is on chain; the finalizer waits for the challenge window.
 * - `finalizing`: a finalize transaction holding it is pending.
 * - `disputed`: our result is challenged; the resolver decides.
 * - `done`: nothing left to do (finalized, cancelled, served by another operator, declined, expired, dropped...).
 *   `outcome` says which.
 */
export type RequestState = "pending" | "computed" | "submitting" | "submitted" | "finalizing" | "disputed" | "done";

/** Why a request is done. */
export type RequestOutcome =
    | "finalized"
    | "finalized_by_other"
    | "served_by_other"
    | "cancelled"
    | "expired"
    | "declined"
    | "reorged"
    | "reverted"
    | "slashed"
    | "voided";

export interface StoredRequest {
    requestId: string;
    modelId: string;
    blockNumber: number;
    blockHash: string;
    /** The coordinator's Request struct as it stands now, JSON with bigints as decimal strings. */
    request: Record<string, string | number | boolean>;
    input: Uint8Array;
    state: RequestState;
    outcome: RequestOutcome | null;
    reason: string | null;
    resultCode: number | null;
    output: Uint8Array | null;
    outputHash: string | null;
    txId: number | null;
    /** Unix seconds before which the operator should not act (exclusive window of another operator). */
    notBefore: number;
    /** Whether this request may go into a batch transaction (false after a batch holding it reverted). */
    batchable: boolean;
    /** Times a send of this request was put off because the chain did not (yet) agree with our view. */
    attempts: number;
    seenAtMs: number;
    updatedAtMs: number;
}

export type TxKind =
    | "submit"
    | "submit_batch"
    | "finalize"
    | "finalize_batch"
    | "expire_dispute"
    | "commit_challenge"
    | "challenge"
    | "approve"
    | "withdraw"
    | "noop";

/**
 * Lifecycle of another operator's result watched by the challenger (table `watched`):
 * - `unchecked`: seen (confirmed ResultSubmitted); to be re-executed by the reference interpreter.
 * - `suspect`: the reference disagrees with the submitted result; the chain's own re-execution must confirm it.
 * - `wrong`: the chain's re-execution confirms it; a dispute is due (from `not_before` on). Its challenge commitment
 *   is made first (`salt`, stored before the commitment is sent).
 * - `committing`: a `commitChallenge` transaction holding it is pending.
 * - `committed`: our commitment is on chain; its reveal (`challenge`) is due once a later block accepts it.
 * - `challenging`: a challenge (reveal) transaction holding it is pending.
 * - `challenged`: that transaction was mined; the confirmed DisputeResolved event records the outcome.
 * - `done`: nothing left to do; `outcome` says why.
 */
export type WatchState =
    "unchecked" | "suspect" | "wrong" | "committing" | "committed" | "challenging" | "challenged" | "done";

/** States in which a bond of ours is earmarked: to be pulled (`committing` to `challenging`) or pulled, undecided. */
export type BondState = "committing" | "committed" | "challenging" | "challenged";

/** Why a watched result is done. */
export type WatchOutcome =
    /** The reference interpreter agrees with the submitted result. */
    | "correct"
    /** Our reference disagrees with the submitted result, but the chain's re-execution agrees with it. */
    | "reference_disagrees"
    /** Our dispute slashed the operator / was rejected. */
    | "won"
    | "lost"
    /** Someone else's dispute slashed the operator first. */
    | "slashed_by_other"
    | "finalized"
    | "voided"
    /** The challenge window closed before a dispute could be sent. */
    | "window_closed"
    /** Not disputed on purpose (bond above the cap, model not available, no resolver); `reason` says which. */
    | "skipped"
    /** The chain kept refusing our challenge. */
    | "reverted"
    | "reorged";

export interface WatchedResult {
    requestId: string;
    modelId: string;
    /** Block of the ResultSubmitted event. */
    blockNumber: number;
    /** The coordinator's Request struct as it stands now (status Submitted or Disputed), JSON. */
    request: Record<string, string | number | boolean>;
    input: Uint8Array;
    /** The operator that submitted it (lowercase). */
    operator: string;
    resultCode: number;
    outputHash: string;
    state: WatchState;
    outcome: WatchOutcome | null;
    reason: string | null;
    /** The canonical result (reference interpreter, then the chain's re-execution), once checked. */
    expectedCode: number | null;
    expectedHash: string | null;
    /** The bond of our pending challenge (wei, decimal). */
    bondWei: string | null;
    /**
     * The secret salt of our challenge commitment (`challengeCommitment(requestId, us, salt)`), 32 bytes hex: stored
     * before the commitment is sent and kept until the row is replaced, so a restart reveals what was committed.
     */
    salt: string | null;
    txId: number | null;
    notBefore: number;
    attempts: number;
    seenAtMs: number;
    updatedAtMs: number;
}
export type TxState = "pending" | "mined" | "reverted" | "dropped";

export interface StoredTx {
    id: number;
    nonce: number;
    kind: TxKind;
    to: string;
    data: string;
    gasLimit: bigint;
    state: TxState;
    requestIds: string[];
    createdAtMs: number;
    minedHash: string | null;
    minedBlock: number | null;
}

export interface TxAttempt {
    txId: number;
    hash: string;
    raw: string;
    maxFeePerGas: bigint;
    maxPriorityFeePerGas: bigint;
    sentAtMs: number;
}

/** The database file is not one the node can use (another schema, chain or coordinator). */
export class StoreError extends PermanentError {}

interface RequestRow {
    request_id: string;
    model_id: string;
    block_number: number;
    block_hash: string;
    request_json: string;
    input: Buffer;
    state: RequestState;
    outcome: RequestOutcome | null;
    reason: string | null;
    result_code: number | null;
    output: Buffer | null;
    output_hash: string | null;
    tx_id: number | null;
    not_before: number;
    batchable: number;
    attempts: number;
    seen_at_ms: number;
    updated_at_ms: number;
}

interface WatchedRow {
    request_id: string;
    model_id: string;
    block_number: number;
    request_json: string;
    input: Buffer;
    operator: string;
    result_code: number;
    output_hash: string;
    state: WatchState;
    outcome: WatchOutcome | null;
    reason: string | null;
    expected_code: number | null;
    expected_hash: string | null;
    bond_wei: string | null;
    salt: string | null;
    tx_id: number | null;
    not_before: number;
    attempts: number;
    seen_at_ms: number;
    updated_at_ms: number;
}

interface TxRow {
    id: number;
    nonce: number;
    kind: TxKind;
    to_address: string;
    data: string;
    gas_limit: string;
    state: TxState;
    request_ids: string;
    created_at_ms: number;
    mined_hash: string | null;
    mined_block: number | null;
}

interface AttemptRow {
    tx_id: number;
    hash: string;
    raw: string;
    max_fee: string;
    priority_fee: string;
    sent_at_ms: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    request_json TEXT NOT NULL,
    input BLOB NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    reason TEXT,
    result_code INTEGER,
    output BLOB,
    output_hash TEXT,
    tx_id INTEGER,
    not_before INTEGER NOT NULL DEFAULT 0,
    batchable INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    prior_state TEXT,
    seen_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_by_state ON requests (state, not_before);
CREATE INDEX IF NOT EXISTS requests_by_block ON requests (block_number);
CREATE TABLE IF NOT EXISTS txs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nonce INTEGER NOT NULL,
    kind TEXT NOT NULL,
    to_address TEXT NOT NULL,
    data TEXT NOT NULL,
    gas_limit TEXT NOT NULL,
    state TEXT NOT NULL,
    request_ids TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    mined_hash TEXT,
    mined_block INTEGER
);
CREATE INDEX IF NOT EXISTS txs_by_state ON txs (state, nonce);
CREATE TABLE IF NOT EXISTS tx_attempts (
    hash TEXT PRIMARY KEY,
    tx_id INTEGER NOT NULL REFERENCES txs (id),
    raw TEXT NOT NULL,
    max_fee TEXT NOT NULL,
    priority_fee TEXT NOT NULL,
    sent_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_tx ON tx_attempts (tx_id);
CREATE TABLE IF NOT EXISTS watched (
    request_id TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    request_json TEXT NOT NULL,
    input BLOB NOT NULL,
    operator TEXT NOT NULL,
    result_code INTEGER NOT NULL,
    output_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    reason TEXT,
    expected_code INTEGER,
    expected_hash TEXT,
    bond_wei TEXT,
    tx_id INTEGER,
    not_before INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    prior_state TEXT,
    seen_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    salt TEXT
);
CREATE INDEX IF NOT EXISTS watched_by_state ON watched (state, not_before);
CREATE INDEX IF NOT EXISTS watched_by_tx ON watched (tx_id);
`;

/** Identity of the chain state the database belongs to; checked on every open. */
export interface StoreIdentity {
    chainId: number;
    coordinator: string;
    operator: string;
}

function toRequest(row: RequestRow): StoredRequest {
    return {
        requestId: row.request_id,
        modelId: row.model_id,
        blockNumber: row.block_number,
        blockHash: row.block_hash,
        request: JSON.parse(row.request_json) as StoredRequest["request"],
        input: new Uint8Array(row.input),
        state: row.state,
        outcome: row.outcome,
        reason: row.reason,
        resultCode: row.result_code,
        output: row.output === null ? null : new Uint8Array(row.output),
        outputHash: row.output_hash,
        txId: row.tx_id,
        notBefore: row.not_before,
        batchable: row.batchable === 1,
        attempts: row.attempts,
        seenAtMs: row.seen_at_ms,
        updatedAtMs: row.updated_at_ms,
    };
}

function toWatched(row: WatchedRow): WatchedResult {
    return {
        requestId: row.request_id,
        modelId: row.model_id,
        blockNumber: row.block_number,
        request: JSON.parse(row.request_json) as WatchedResult["request"],
        input: new Uint8Array(row.input),
        operator: row.operator,
        resultCode: row.result_code,
        outputHash: row.output_hash,
        state: row.state,
        outcome: row.outcome,
        reason: row.reason,
        expectedCode: row.expected_code,
        expectedHash: row.expected_hash,
        bondWei: row.bond_wei,
        salt: row.salt,
        txId: row.tx_id,
        notBefore: row.not_before,
        attempts: row.attempts,
        seenAtMs: row.seen_at_ms,
        updatedAtMs: row.updated_at_ms,
    };
}

function toTx(row: TxRow): StoredTx {
    return {
        id: row.id,
        nonce: row.nonce,
        kind: row.kind,
        to: row.to_address,
        data: row.data,
        gasLimit: BigInt(row.gas_limit),
        state: row.state,
        requestIds: JSON.parse(row.request_ids) as string[],
        createdAtMs: row.created_at_ms,
        minedHash: row.mined_hash,
        minedBlock: row.mined_block,
    };
}

function toAttempt(row: AttemptRow): TxAttempt {
    return {
        txId: row.tx_id,
        hash: row.hash,
        raw: row.raw,
        maxFeePerGas: BigInt(row.max_fee),
        maxPriorityFeePerGas: BigInt(row.priority_fee),
        sentAtMs: row.sent_at_ms,
    };
}

/** Terminal states of a transaction. */
const OPEN_REQUEST_STATES: readonly RequestState[] = [
    "pending",
    "computed",
    "submitting",
    "submitted",
    "finalizing",
    "disputed",
];

export class Store {
    private readonly db: Database.Database;
    private readonly now: () => number;

    /** Opens (creating if needed) the database at `path` (":memory:" for tests) for `identity`. */
    constructor(path: string, identity: StoreIdentity, options: { now?: () => number } = {}) {
        if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
        this.now = options.now ?? Date.now;
        this.db = new Database(path);
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
        return this.db.transaction(fn)();
    }

    getMeta(key: string): string | undefined {
        const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
        return row?.value;
    }

    setMeta(key: string, value: string): void {
        this.db
            .prepare(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            )
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
        this.db.prepare("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)").run(number, hash);
        this.db.prepare("DELETE FROM blocks WHERE number < ?").run(number - keepBlocks);
        this.setMeta("checkpoint", String(number));
    }

    /** Recorded block hashes, newest first (for finding the common ancestor after a reorg). */
    recordedBlocks(): { number: number; hash: string }[] {
        return this.db.prepare("SELECT number, hash FROM blocks ORDER BY number DESC").all() as {
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
            this.db.prepare("DELETE FROM blocks WHERE number > ?").run(ancestor);
            this.setMeta("checkpoint", String(ancestor));
            const rows = this.db
                .prepare(
                    `SELECT request_id FROM requests WHERE block_number > ? AND state IN (${OPEN_REQUEST_STATES.map(() => "?").join(",")})`,
                )
                .all(ancestor, ...OPEN_REQUEST_STATES) as { request_id: string }[];
            const ids = rows.map((r) => r.request_id);
            this.db
                .prepare(
                    `UPDATE requests SET prior_state = state, state = 'done', outcome = 'reorged', reason = ?,
                     updated_at_ms = ? WHERE block_number > ? AND state != 'done'`,
                )
                .run(`announcing block above ${ancestor} was reorged out`, this.now(), ancestor);
            this.db
                .prepare(
                    `UPDATE watched SET prior_state = state, state = 'done', outcome = 'reorged', reason = ?,
                     updated_at_ms = ? WHERE block_number > ? AND state != 'done'`,
                )
                .run(`submitting block above ${ancestor} was reorged out`, this.now(), ancestor);
            return ids;
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Requests
    // ---------------------------------------------------------------------------------------------------------

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
        const now = this.now();
        if (existing !== undefined) {
            const same =
                JSON.stringify(existing.request) === JSON.stringify(r.request) &&
                Buffer.from(existing.input).equals(Buffer.from(r.input));
            if (existing.state !== "done") return false; // seen again; an open request above a reorg is reorged first
            if (existing.outcome !== "reorged" && same) return false; // done, and the same announcement
            const prior = (
                this.db.prepare("SELECT prior_state FROM requests WHERE request_id = ?").get(r.requestId) as {
                    prior_state: RequestState | null;
                }
            ).prior_state;
            if (existing.outcome === "reorged" && same && prior !== null) {
                // The new chain announced the very same request: carry on where we were (result, transaction).
                this.db
                    .prepare(
                        `UPDATE requests SET state = ?, prior_state = NULL, outcome = NULL, reason = NULL,
                         block_number = ?, block_hash = ?, updated_at_ms = ? WHERE request_id = ?`,
                    )
                    .run(prior, r.blockNumber, r.blockHash, now, r.requestId);
                return true;
            }
            // Another announcement under the same id (new timestamps, maybe new input): start over. A request done on
            // the old chain (served by another operator, finalized...) replays from the new chain's events.
            this.db.prepare("DELETE FROM requests WHERE request_id = ?").run(r.requestId);
        }
        this.db
            .prepare(
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
        const row = this.db.prepare("SELECT * FROM requests WHERE request_id = ?").get(requestId) as
            RequestRow | undefined;
        return row === undefined ? undefined : toRequest(row);
    }

    /** Requests in `state`, oldest first; `readyAt` (unix seconds) filters on not_before. */
    requestsIn(state: RequestState, options: { limit?: number; readyAt?: number } = {}): StoredRequest[] {
        const rows = this.db
            .prepare(
                `SELECT * FROM requests WHERE state = ? AND not_before <= ? ORDER BY block_number, request_id LIMIT ?`,
            )
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
        for (const row of this.db.prepare("SELECT state, COUNT(*) AS n FROM requests GROUP BY state").all() as {
            state: RequestState;
            n: number;
        }[]) {
            out[row.state] = row.n;
        }
        return out;
    }

    /** Stores the computed result (state computed). */
    saveResult(requestId: string, result: { resultCode: number; output: Uint8Array; outputHash: string }): void {
        this.db
            .prepare(
                `UPDATE requests SET state = 'computed', result_code = ?, output = ?, output_hash = ?, updated_at_ms = ?
                 WHERE request_id = ? AND state = 'pending'`,
            )
            .run(result.resultCode, Buffer.from(result.output), result.outputHash, this.now(), requestId);
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
        this.db
            .prepare(
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
                this.now(),
                requestId,
            );
    }

    /**
     * Puts off acting on a request until chain time `notBefore`, counting the attempt. Used when a simulation
     * says the chain does not agree with our view yet (a challenge we have not seen, collateral still locked):
     * confirmed events settle it meanwhile. Returns the attempts so far.
     */
    postpone(requestId: string, state: RequestState, notBefore: number, reason: string): number {
        this.db
            .prepare(
                `UPDATE requests SET state = ?, not_before = ?, attempts = attempts + 1, reason = ?, tx_id = NULL,
                 updated_at_ms = ? WHERE request_id = ? AND state != 'done'`,
            )
            .run(state, notBefore, reason, this.now(), requestId);
        return this.getRequest(requestId)?.attempts ?? 0;
    }

    /** Reopens a request the node had closed on its own inference, when the chain says otherwise. */
    reopen(requestId: string, state: RequestState): void {
        this.db
            .prepare(
                `UPDATE requests SET state = ?, outcome = NULL, reason = NULL, attempts = 0, updated_at_ms = ?
                 WHERE request_id = ? AND state = 'done'`,
            )
            .run(state, this.now(), requestId);
    }

    /** Stores our output if the request lost it (seen again from our ResultSubmitted event after a resync). */
    restoreOutput(requestId: string, resultCode: number, output: Uint8Array, outputHash: string): void {
        this.db
            .prepare(
                "UPDATE requests SET result_code = ?, output = ?, output_hash = ? WHERE request_id = ? AND output IS NULL",
            )
            .run(resultCode, Buffer.from(output), outputHash, requestId);
    }

    /** Marks a request done with its outcome. Done is final except for reorged requests that come back. */
    finish(requestId: string, outcome: RequestOutcome, reason: string | null = null): void {
        this.db
            .prepare(
                "UPDATE requests SET state = 'done', outcome = ?, reason = ?, tx_id = NULL, updated_at_ms = ? WHERE request_id = ? AND state != 'done'",
            )
            .run(outcome, reason, this.now(), requestId);
    }

    /** Counts of done requests by outcome (for tests, metrics and the status command). */
    outcomes(): Partial<Record<RequestOutcome, number>> {
        const out: Partial<Record<RequestOutcome, number>> = {};
        for (const row of this.db
            .prepare("SELECT outcome, COUNT(*) AS n FROM requests WHERE state = 'done' GROUP BY outcome")
            .all() as { outcome: RequestOutcome; n: number }[]) {
            out[row.outcome] = row.n;
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Watched results (the challenger's)
    // ---------------------------------------------------------------------------------------------------------

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
        const now = this.now();
        if (existing !== undefined) {
            const same =
                JSON.stringify(existing.request) === JSON.stringify(w.request) &&
                existing.operator === w.operator.toLowerCase() &&
                existing.resultCode === w.resultCode &&
                existing.outputHash.toLowerCase() === w.outputHash.toLowerCase();
            if (same) {
                if (existing.state !== "done" || existing.outcome !== "reorged") return false;
                const prior = (
                    this.db.prepare("SELECT prior_state FROM watched WHERE request_id = ?").get(w.requestId) as {
                        prior_state: WatchState | null;
                    }
                ).prior_state;
                if (prior !== null) {
                    const revived = this.challengeState(prior, existing.txId);
                    this.db
                        .prepare(
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
            this.db.prepare("DELETE FROM watched WHERE request_id = ?").run(w.requestId);
        }
        this.db
            .prepare(
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
        const tx = txId === null ? undefined : this.getTx(txId);
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
        return this.transaction(() => {
            const rows = this.db
                .prepare(
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
        const info = this.db
            .prepare(
                `UPDATE watched SET state = 'unchecked', prior_state = NULL, outcome = NULL, reason = NULL,
                 request_json = ?, expected_code = NULL, expected_hash = NULL, bond_wei = NULL, tx_id = NULL,
                 not_before = 0, attempts = 0, updated_at_ms = ?
                 WHERE request_id = ? AND state = 'done' AND outcome IN ('window_closed', 'reverted')`,
            )
            .run(JSON.stringify(request), this.now(), requestId);
        return info.changes > 0;
    }

    getWatched(requestId: string): WatchedResult | undefined {
        const row = this.db.prepare("SELECT * FROM watched WHERE request_id = ?").get(requestId) as
            WatchedRow | undefined;
        return row === undefined ? undefined : toWatched(row);
    }

    /** Watched results in `state`, oldest first; `readyAt` (unix seconds) filters on not_before. */
    watchedIn(state: WatchState, options: { limit?: number; readyAt?: number } = {}): WatchedResult[] {
        const rows = this.db
            .prepare(
                `SELECT * FROM watched WHERE state = ? AND not_before <= ? ORDER BY block_number, request_id LIMIT ?`,
            )
            .all(state, options.readyAt ?? Number.MAX_SAFE_INTEGER, options.limit ?? 1_000_000) as WatchedRow[];
        return rows.map(toWatched);
    }

    /** Watched results linked to transaction `txId` (not done). */
    watchedByTx(txId: number): WatchedResult[] {
        const rows = this.db
            .prepare("SELECT * FROM watched WHERE tx_id = ? AND state != 'done'")
            .all(txId) as WatchedRow[];
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
        this.db
            .prepare(
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
                this.now(),
                requestId,
            );
    }

    /** Puts off acting on a watched result until chain time `notBefore`, counting the attempt. Returns attempts. */
    postponeWatched(requestId: string, state: WatchState, notBefore: number, reason: string): number {
        this.db
            .prepare(
                `UPDATE watched SET state = ?, not_before = ?, attempts = attempts + 1, reason = ?, tx_id = NULL,
                 bond_wei = NULL, updated_at_ms = ? WHERE request_id = ? AND state != 'done'`,
            )
            .run(state, notBefore, reason, this.now(), requestId);
        return this.getWatched(requestId)?.attempts ?? 0;
    }

    /** Marks a watched result done with its outcome; returns whether it was open until now. */
    finishWatched(requestId: string, outcome: WatchOutcome, reason: string | null = null): boolean {
        const info = this.db
            .prepare(
                `UPDATE watched SET state = 'done', outcome = ?, reason = ?, tx_id = NULL, bond_wei = NULL,
                 updated_at_ms = ? WHERE request_id = ? AND state != 'done'`,
            )
            .run(outcome, reason, this.now(), requestId);
        return info.changes > 0;
    }

    /**
     * Bonds of our disputes in `states`, in wei: `committing`, `committed` and `challenging` ones have yet to be pulled
     * from the wallet (by the reveal), `challenged` ones are pulled and not known to be decided (their confirmed
     * DisputeResolved not seen yet).
     */
    bondsWei(states: readonly BondState[]): bigint {
        if (states.length === 0) return 0n;
        const rows = this.db
            .prepare(
                `SELECT bond_wei FROM watched WHERE state IN (${states.map(() => "?").join(",")}) AND bond_wei IS NOT NULL`,
            )
            .all(...states) as { bond_wei: string }[];
        return rows.reduce((sum, row) => sum + BigInt(row.bond_wei), 0n);
    }

    /** Counts of done watched results by outcome. */
    watchedOutcomes(): Partial<Record<WatchOutcome, number>> {
        const out: Partial<Record<WatchOutcome, number>> = {};
        for (const row of this.db
            .prepare("SELECT outcome, COUNT(*) AS n FROM watched WHERE state = 'done' GROUP BY outcome")
            .all() as { outcome: WatchOutcome; n: number }[]) {
            out[row.outcome] = row.n;
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Transactions
    // ---------------------------------------------------------------------------------------------------------

    /** The nonce after the highest one this database ever used, or 0. */
    nextStoredNonce(): number {
        const row = this.db.prepare("SELECT MAX(nonce) AS n FROM txs WHERE state != 'dropped'").get() as {
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
        return this.transaction(() => this.insertTx(tx, attempt, requestState));
    }

    private insertTx(
        tx: Omit<StoredTx, "id" | "state" | "createdAtMs" | "minedHash" | "minedBlock">,
        attempt: Omit<TxAttempt, "txId" | "sentAtMs">,
        requestState: RequestState | null,
    ): number {
        const now = this.now();
        const info = this.db
            .prepare(
                `INSERT INTO txs (nonce, kind, to_address, data, gas_limit, state, request_ids, created_at_ms)
                 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
            )
            .run(tx.nonce, tx.kind, tx.to, tx.data, tx.gasLimit.toString(), JSON.stringify(tx.requestIds), now);
        const txId = Number(info.lastInsertRowid);
        this.addAttempt({ ...attempt, txId, sentAtMs: now });
        if (requestState !== null) {
            for (const id of tx.requestIds) this.update(id, requestState, { txId });
        }
        return txId;
    }

    addAttempt(attempt: TxAttempt): void {
        this.db
            .prepare(
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
        const row = this.db.prepare("SELECT * FROM txs WHERE id = ?").get(id) as TxRow | undefined;
        return row === undefined ? undefined : toTx(row);
    }

    pendingTxs(): StoredTx[] {
        return (this.db.prepare("SELECT * FROM txs WHERE state = 'pending' ORDER BY nonce").all() as TxRow[]).map(toTx);
    }

    /** Transactions recorded as mined (or reverted) at `nonce` or above, lowest nonce first. */
    minedTxsFrom(nonce: number): StoredTx[] {
        return (
            this.db
                .prepare("SELECT * FROM txs WHERE state IN ('mined', 'reverted') AND nonce >= ? ORDER BY nonce")
                .all(nonce) as TxRow[]
        ).map(toTx);
    }

    /** Attempts of a transaction, newest first. */
    attempts(txId: number): TxAttempt[] {
        return (
            this.db
                .prepare("SELECT * FROM tx_attempts WHERE tx_id = ? ORDER BY sent_at_ms DESC, rowid DESC")
                .all(txId) as AttemptRow[]
        ).map(toAttempt);
    }

    /** Marks the last attempt as re-sent now (for the stuck timer). */
    touchAttempt(hash: string): void {
        this.db.prepare("UPDATE tx_attempts SET sent_at_ms = ? WHERE hash = ?").run(this.now(), hash);
    }

    setTxState(id: number, state: TxState, mined?: { hash: string; block: number }): void {
        this.db
            .prepare("UPDATE txs SET state = ?, mined_hash = ?, mined_block = ? WHERE id = ?")
            .run(state, mined?.hash ?? null, mined?.block ?? null, id);
    }

    /** Replaces a pending transaction's payload (used to turn a no longer wanted transaction into a no-op). */
    replaceTxPayload(id: number, kind: TxKind, to: string, data: string, gasLimit: bigint): void {
        this.db
            .prepare(
                "UPDATE txs SET kind = ?, to_address = ?, data = ?, gas_limit = ?, request_ids = '[]' WHERE id = ?",
            )
            .run(kind, to, data, gasLimit.toString(), id);
    }
}
