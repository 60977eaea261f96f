/**
 * Named crash points for crash-safety tests (the approach of FoundationDB's "buggify" and CockroachDB's testing
 * knobs, reduced to one switch). `VERITY_TEST_CRASH_POINT=<name>:<n>` makes the process kill itself with SIGKILL
 * the n-th time execution reaches `crashPoint(<name>)`, exactly where a power cut would hurt most (after a
 * write, before the action it enables). Unset, a crash point is one map lookup.
 */

/** Every crash point of the operator's path, in the order a request meets them. */
export const CRASH_POINTS = [
    "follower.range_committed",
    "operator.result_saved",
    "tx.stored_before_broadcast",
    "tx.broadcast_before_receipt",
    "tx.mined_recorded",
] as const;

/**
 * Crash points only the challenger role meets, in the order a dispute meets them (its transactions also meet the
 * `tx.*` points above): decided; the commitment's salt stored, nothing signed; the commitment sent (stored and
 * broadcast), not mined; the commitment mined and the reveal about to be sent; the reveal sent, not mined.
 */
export const CHALLENGER_CRASH_POINTS = [
    "challenger.dispute_decided",
    "challenger.salt_saved",
    "challenger.commit_sent",
    "challenger.reveal_due",
    "challenger.reveal_sent",
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number] | (typeof CHALLENGER_CRASH_POINTS)[number];

const ALL_POINTS: readonly string[] = [...CRASH_POINTS, ...CHALLENGER_CRASH_POINTS];

function parse(spec: string | undefined): { name: string; hit: number } | undefined {
    if (spec === undefined || spec === "") return undefined;
    const match = /^([a-z_.]+):(\d+)$/.exec(spec);
    if (match === null || !ALL_POINTS.includes(match[1] ?? "")) {
        throw new Error(`VERITY_TEST_CRASH_POINT must be <point>:<n> with a point among ${ALL_POINTS.join(", ")}`);
    }
    return { name: match[1] ?? "", hit: Number(match[2]) };
}

const armed = parse(process.env.VERITY_TEST_CRASH_POINT);
let hits = 0;

/** Kills the process here if this crash point is armed and this is its n-th hit. */
export function crashPoint(name: CrashPoint): void {
    if (armed === undefined || armed.name !== name) return;
    hits++;
    if (hits === armed.hit) process.kill(process.pid, "SIGKILL");
}
