/** The open database the store's tables share: its connection, its clock, and each SQL statement prepared once. */
import Database from "better-sqlite3";

export class StoreDb {
    readonly db: Database.Database;
    /** Milliseconds since the epoch (injectable for tests). */
    readonly now: () => number;
    /** Statements by SQL text: better-sqlite3 statements can be run any number of times, preparing costs each call. */
    readonly #statements = new Map<string, Database.Statement>();

    constructor(path: string, now: () => number) {
        this.db = new Database(path);
        this.now = now;
    }

    /** `text` as a prepared statement, prepared on first use. */
    sql(text: string): Database.Statement {
        let statement = this.#statements.get(text);
        if (statement === undefined) {
            statement = this.db.prepare(text);
            this.#statements.set(text, statement);
        }
        return statement;
    }

    /** Counts of the done rows of `table` (requests, watched) by outcome. */
    outcomeCounts<O extends string>(table: "requests" | "watched"): Partial<Record<O, number>> {
        const out: Partial<Record<O, number>> = {};
        const rows = this.sql(
            `SELECT outcome, COUNT(*) AS n FROM ${table} WHERE state = 'done' GROUP BY outcome`,
        ).all();
        for (const row of rows as { outcome: O; n: number }[]) out[row.outcome] = row.n;
        return out;
    }

    /** Runs `fn` in one SQLite transaction (all of it is written, or none). */
    transaction<T>(fn: () => T): T {
        return this.db.transaction(fn)();
    }
}
