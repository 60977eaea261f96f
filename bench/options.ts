/**
 * Options shared by the benchmarks (bench/gas.ts, bench/node.ts, bench/verify.ts), read from the environment:
 *
 * - `VERITY_BENCH_OUT=<dir>`: write the JSON and markdown results to `<dir>` (created if missing; a relative path is
 *   taken from the working directory, the repository root under `npm run`) instead of bench/results/, where the
 *   committed figures live.
 * - `VERITY_BENCH_QUICK=1`: the smallest meaningful run, for the smoke test (test/bench/bench.smoke.spec.ts); each
 *   bench's header says what it scales down. Its results say so: `"quick": true` and `quickScope` as the first
 *   fields of the JSON, and QUICK_NOTICE under the markdown's title. Refused unless VERITY_BENCH_OUT names a
 *   directory outside bench/results/, so a quick run can never overwrite (or be mistaken for) the committed figures.
 *
 * Without either variable a bench behaves as it always did: a full run writing bench/results/.
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** Where the committed results live, and where a full run writes unless VERITY_BENCH_OUT says otherwise. */
export const RESULTS_DIR = resolve(__dirname, "results");

/** The line a quick run's markdown carries under its title (and the test looks for). */
export const QUICK_NOTICE = "QUICK RUN — not the committed figures";

export interface BenchOptions {
    /** VERITY_BENCH_QUICK=1: the smallest meaningful run. */
    quick: boolean;
    /** Absolute directory the JSON and markdown are written to. */
    outDir: string;
}

/**
 * `p` with symbolic links resolved: the nearest existing ancestor's real path, plus the rest (so a directory that
 * does not exist yet, below a link into bench/results/, is still seen as inside it).
 */
function realPath(p: string): string {
    const missing: string[] = [];
    let at = resolve(p);
    while (!existsSync(at)) {
        const up = dirname(at);
        if (up === at) break;
        missing.unshift(basename(at));
        at = up;
    }
    return join(existsSync(at) ? realpathSync(at) : at, ...missing);
}

/** Whether `dir` is `parent` or inside it, following symbolic links. */
function within(dir: string, parent: string): boolean {
    const rel = relative(realPath(parent), realPath(dir));
    return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The options in `env`. Throws on a VERITY_BENCH_QUICK other than unset, "", "0" or "1", and on a quick run whose
 * output would land in bench/results/ (VERITY_BENCH_OUT unset, or pointing there or below).
 */
export function parseBenchOptions(env: NodeJS.ProcessEnv): BenchOptions {
    const quickValue = env.VERITY_BENCH_QUICK ?? "";
    if (!["", "0", "1"].includes(quickValue)) {
        throw new Error(`VERITY_BENCH_QUICK must be 1 (quick run) or unset / 0 (full run), not "${quickValue}"`);
    }
    const quick = quickValue === "1";
    const out = env.VERITY_BENCH_OUT ?? "";
    const outDir = out === "" ? RESULTS_DIR : resolve(out);
    if (quick && within(outDir, RESULTS_DIR)) {
        throw new Error(
            out === ""
                ? "VERITY_BENCH_QUICK=1 needs VERITY_BENCH_OUT=<dir>: a quick run never writes bench/results/ (the committed figures)"
                : `VERITY_BENCH_OUT=${out} is bench/results/ or inside it: a quick run never writes there (the committed figures)`,
        );
    }
    return { quick, outDir };
}

/**
 * The options of this process, for the bench `name` ("gas", "node", "verify"). On a misuse it prints why and exits
 * with status 2 before the bench does anything.
 */
export function benchOptions(name: string): BenchOptions {
    try {
        return parseBenchOptions(process.env);
    } catch (err) {
        console.error(`bench/${name}.ts: refused: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(2);
    }
}

/** The fields a quick run's JSON starts with; none in a full run, whose JSON keeps its format. */
export function quickFields(options: BenchOptions, scope: string): { quick?: true; quickScope?: string } {
    return options.quick ? { quick: true, quickScope: scope } : {};
}

/** The lines a quick run's markdown carries under its title; none in a full run. */
export function quickLines(options: BenchOptions, scope: string): string[] {
    return options.quick ? [`**${QUICK_NOTICE}** (VERITY_BENCH_QUICK=1: ${scope}).`, ""] : [];
}
