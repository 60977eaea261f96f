/** The store's tables, its schema version and the migrations that bring older databases up to it. */

/**
 * Schema version written in `meta`. A database of an older version is brought up to this one on open by the steps
 * in `MIGRATIONS`, one version at a time, each in one SQLite transaction with the version it reaches (so a crash
 * mid-way leaves the old version, migrated again on the next open); a database of a newer or unknown version is
 * refused. Additions that older databases take as they are (a new table, created empty on open) keep the version.
 */
export const SCHEMA_VERSION = 2;

/** What brings a database of version `v` to version `v + 1`. */
export const MIGRATIONS: Readonly<Record<number, string>> = {
    // 1 → 2: commit-reveal challenges; a watched result keeps the secret salt of our challenge commitment.
    1: "ALTER TABLE watched ADD COLUMN salt TEXT",
};

/** Every table and index; run on every open (IF NOT EXISTS), before the migrations. */
export const SCHEMA = `
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
