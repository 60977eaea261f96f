/**
 * The benchmarks the README lists (`npm run bench:gas`, `npm run bench:node`, `npm run bench:verify`,
 * `npm run bench:cli`), run as the README runs them but in their quick mode (bench/options.ts): VERITY_BENCH_QUICK=1
 * and VERITY_BENCH_OUT=<a temporary directory>. Each must exit 0 and write its JSON and markdown there, marked as a
 * quick run, holding the figures the bench promises with sane values, and leave the committed results in
 * bench/results/ byte for byte as they were. A quick run without VERITY_BENCH_OUT must be refused (non-zero exit, a
 * message naming the variable) before it writes anything. The full runs take minutes and are not run here; what a
 * quick run scales down is in each bench's header.
 *
 * The runs are spawned through npm rather than `node node_modules/hardhat/internal/cli/cli.js run bench/<name>.ts`:
 * the README's command is `npm run bench:<name>`, so the package.json script is part of what is tested (npm adds
 * about a second). All eight runs are queued in `before` and run one at a time (see there), each in a process group
 * of its own (npm → sh → hardhat → the script's hardhat subprocess) so that a run that hangs is killed whole.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Figures as CliFigures } from "../../bench/cli";
import type { Breakdown, Figure } from "../../bench/gas";
import type { E2EResult, ExecutorResult, LatencyComparison } from "../../bench/node";
import { parseBenchOptions, QUICK_NOTICE, RESULTS_DIR } from "../../bench/options";
import type { Row as VerifyRow } from "../../bench/verify";

const ROOT = resolve(__dirname, "..", "..");
/** The README's benchmark commands, as package.json scripts. */
const SCRIPTS = ["bench:gas", "bench:node", "bench:verify", "bench:cli"] as const;
type Script = (typeof SCRIPTS)[number];
/** A quick run takes seconds (the node bench about 30 s on 2 cores); past this it is killed and fails. */
const RUN_TIMEOUT_MS = 240_000;
const BLOCK_GAS = 30_000_000;

interface Run {
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    seconds: number;
}

const children = new Set<ChildProcess>();

/** Kills a run's whole process group (the child was spawned detached, so it leads one). */
function killGroup(child: ChildProcess): void {
    if (child.pid === undefined) return;
    try {
        process.kill(-child.pid, "SIGKILL");
    } catch {
        // already gone
    }
}

/** `npm run <script>` in the repository with `env`, asynchronously; never rejects. */
function npmRun(script: Script, env: NodeJS.ProcessEnv): Promise<Run> {
    return new Promise((resolveRun) => {
        const started = performance.now();
        const keep = (s: string): string => s.slice(-20_000);
        let stdout = "";
        let stderr = "";
        const child = spawn("npm", ["run", script], {
            cwd: ROOT,
            env,
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        children.add(child);
        child.stdout?.on("data", (d: Buffer) => (stdout = keep(stdout + d.toString())));
        child.stderr?.on("data", (d: Buffer) => (stderr = keep(stderr + d.toString())));
        const timer = setTimeout(() => {
            stderr += `\n[bench.smoke.spec] killed after ${RUN_TIMEOUT_MS / 1000} s`;
            killGroup(child);
        }, RUN_TIMEOUT_MS);
        const done = (status: number | null, signal: NodeJS.Signals | null): void => {
            clearTimeout(timer);
            children.delete(child);
            resolveRun({ status, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 });
        };
        child.on("error", (err) => {
            stderr += `\n[bench.smoke.spec] ${err.message}`;
            done(null, null);
        });
        child.on("close", done);
    });
}

/** Every file under `dir` (relative path → sha256 of its bytes). */
function snapshot(dir: string, prefix = ""): Record<string, string> {
    const files: Record<string, string> = {};
    for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
        const rel = join(prefix, entry.name);
        if (entry.isDirectory()) Object.assign(files, snapshot(dir, rel));
        else
            files[rel] = createHash("sha256")
                .update(readFileSync(join(dir, rel)))
                .digest("hex");
    }
    return files;
}

/** What a failed run printed last, for the assertion message. */
function tail(run: Run): string {
    return `exit ${run.status} (signal ${run.signal}) after ${run.seconds.toFixed(1)} s\n--- stdout ---\n${run.stdout.slice(-3_000)}\n--- stderr ---\n${run.stderr.slice(-3_000)}`;
}

function readJson<T>(path: string): T {
    return JSON.parse(readFileSync(path, "utf8")) as T;
}

// The parts of each bench's JSON checked here; the rows are the benches' own types.
interface QuickHeader {
    quick?: boolean;
    quickScope?: string;
    generatedBy: string;
}
interface GasResult extends QuickHeader {
    targets: Record<string, { target: number; measured: number; met: boolean }>;
    figures: Figure[];
    batch: { size: number; submitPerResult: number; finalizePerResult: number }[];
    breakdown: Breakdown[];
}
interface NodeResult extends QuickHeader {
    settings: { executor: { rounds: number } };
    executor: ExecutorResult[];
    endToEnd: E2EResult[];
    latency: LatencyComparison[];
    runtimeSeconds: number;
}
interface VerifyResult extends QuickHeader {
    blockGas: number;
    models: VerifyRow[];
}
interface CliResult extends QuickHeader {
    help: CliFigures[];
    restart: CliFigures[];
}

describe("bench/options.ts: VERITY_BENCH_QUICK and VERITY_BENCH_OUT", () => {
    it("neither set: a full run writing bench/results/, as before", () => {
        expect(parseBenchOptions({})).to.deep.equal({ quick: false, outDir: RESULTS_DIR });
        expect(parseBenchOptions({ VERITY_BENCH_QUICK: "0" })).to.deep.equal({ quick: false, outDir: RESULTS_DIR });
    });

    it("VERITY_BENCH_OUT alone: a full run writing there (relative to the working directory)", () => {
        expect(parseBenchOptions({ VERITY_BENCH_OUT: "some/dir" })).to.deep.equal({
            quick: false,
            outDir: resolve("some/dir"),
        });
    });

    it("VERITY_BENCH_QUICK=1 with VERITY_BENCH_OUT elsewhere: a quick run writing there", () => {
        const out = join(tmpdir(), "verity-bench-quick");
        expect(parseBenchOptions({ VERITY_BENCH_QUICK: "1", VERITY_BENCH_OUT: out })).to.deep.equal({
            quick: true,
            outDir: out,
        });
    });

    it("refuses a quick run that would write bench/results/, and an unknown VERITY_BENCH_QUICK", () => {
        expect(() => parseBenchOptions({ VERITY_BENCH_QUICK: "1" })).to.throw(/needs VERITY_BENCH_OUT/);
        for (const out of [
            RESULTS_DIR,
            `${RESULTS_DIR}/`,
            join(RESULTS_DIR, "quick"),
            join(RESULTS_DIR, "..", "results"),
        ]) {
            expect(() => parseBenchOptions({ VERITY_BENCH_QUICK: "1", VERITY_BENCH_OUT: out }), out).to.throw(
                /bench\/results\/ or inside it/,
            );
        }
        // A directory that does not exist yet, below a link into bench/results/, is inside it too; so is a child
        // whose name starts with "..".
        const links = mkdtempSync(join(tmpdir(), "verity-bench-link-"));
        try {
            symlinkSync(RESULTS_DIR, join(links, "results-link"));
            expect(() =>
                parseBenchOptions({ VERITY_BENCH_QUICK: "1", VERITY_BENCH_OUT: join(links, "results-link", "new") }),
            ).to.throw(/bench\/results\/ or inside it/);
            expect(() =>
                parseBenchOptions({ VERITY_BENCH_QUICK: "1", VERITY_BENCH_OUT: join(RESULTS_DIR, "..quick") }),
            ).to.throw(/bench\/results\/ or inside it/);
        } finally {
            rmSync(links, { recursive: true, force: true });
        }
        expect(() => parseBenchOptions({ VERITY_BENCH_QUICK: "true", VERITY_BENCH_OUT: tmpdir() })).to.throw(
            /VERITY_BENCH_QUICK must be 1/,
        );
    });
});

describe("benchmarks in quick mode, run as the README runs them (npm run bench:*)", function () {
    this.timeout(RUN_TIMEOUT_MS + 15_000);
    let committed: Record<string, string> = {};
    const outDirs: Partial<Record<Script, string>> = {};
    const quickRuns: Partial<Record<Script, Promise<Run>>> = {};
    const refusedRuns: Partial<Record<Script, Promise<Run>>> = {};

    before(() => {
        committed = snapshot(RESULTS_DIR);
        expect(Object.keys(committed), "bench/results/ holds the committed results").to.not.be.empty;
        const withoutBenchVariables = { ...process.env };
        delete withoutBenchVariables.VERITY_BENCH_QUICK;
        delete withoutBenchVariables.VERITY_BENCH_OUT;
        // One run at a time: each `hardhat run` compiles first and rewrites Hardhat's build cache, and concurrent
        // rewrites can make another run see a truncated cache and recompile (and regenerate types) under the rest.
        let previous: Promise<unknown> = Promise.resolve();
        const inTurn = (start: () => Promise<Run>): Promise<Run> => {
            const run = previous.then(start);
            previous = run;
            return run;
        };
        for (const script of SCRIPTS) {
            const out = mkdtempSync(join(tmpdir(), `verity-${script.replace(":", "-")}-`));
            outDirs[script] = out;
            quickRuns[script] = inTurn(() =>
                npmRun(script, { ...withoutBenchVariables, VERITY_BENCH_QUICK: "1", VERITY_BENCH_OUT: out }),
            );
            refusedRuns[script] = inTurn(() => npmRun(script, { ...withoutBenchVariables, VERITY_BENCH_QUICK: "1" }));
        }
    });

    after(async () => {
        for (const child of children) killGroup(child);
        await Promise.allSettled([...Object.values(quickRuns), ...Object.values(refusedRuns)]);
        for (const out of Object.values(outDirs)) rmSync(out, { recursive: true, force: true });
    });

    function expectCommittedResultsUnchanged(): void {
        expect(snapshot(RESULTS_DIR), "bench/results/ (the committed results) must not change").to.deep.equal(
            committed,
        );
    }

    /** Awaits the quick run of `script`: exit 0, both files written and marked quick, bench/results/ untouched. */
    async function quickRun<T extends QuickHeader>(script: Script, name: string): Promise<{ json: T; md: string }> {
        const run = await quickRuns[script]!;
        expect(run.status, tail(run)).to.equal(0);
        expectCommittedResultsUnchanged();
        const out = outDirs[script]!;
        for (const file of [`${name}.json`, `${name}.md`]) {
            expect(existsSync(join(out, file)), `${file} in VERITY_BENCH_OUT`).to.equal(true);
        }
        const json = readJson<T>(join(out, `${name}.json`));
        expect(json.quick).to.equal(true);
        expect(json.quickScope).to.be.a("string").and.not.be.empty;
        expect(Object.keys(json).slice(0, 3)).to.deep.equal(["quick", "quickScope", "generatedBy"]);
        const md = readFileSync(join(out, `${name}.md`), "utf8");
        expect(md.split("\n").slice(0, 3).join("\n")).to.contain(QUICK_NOTICE);
        return { json, md };
    }

    it("npm run bench:gas: exits 0 and writes gas.json / gas.md (quick: batch sizes 1 and 2) with sane gas figures", async () => {
        const { json, md } = await quickRun<GasResult>("bench:gas", "gas");
        expect(md).to.match(/^# Gas \(bench\/gas\.ts\)\n/);

        // The same figures under the same labels as the committed run, but for the batch sizes.
        const full = readJson<GasResult>(join(RESULTS_DIR, "gas.json"));
        const unbatched = (labels: string[]): string[] => labels.filter((l) => !/\(n=\d+\)$/.test(l));
        const labels = json.figures.map((f) => f.label);
        expect(unbatched(labels)).to.deep.equal(unbatched(full.figures.map((f) => f.label)));
        expect(json.batch.map((b) => b.size)).to.deep.equal([1, 2]);
        expect(labels.filter((l) => l.endsWith("(n=2)"))).to.have.length(2);

        for (const f of json.figures) {
            // The callback's own work and the library calls are parts of a transaction; the rest are whole ones.
            const min = /^(callback itself|Tensors\.)/.test(f.label) ? 0 : 21_000;
            expect(f.gas, f.label).to.be.a("number").greaterThan(min).and.lessThan(BLOCK_GAS);
        }
        const [one, two] = json.batch;
        for (const b of json.batch) {
            expect(b.submitPerResult, `batch ${b.size}`).to.be.greaterThan(0).and.lessThan(BLOCK_GAS);
            expect(b.finalizePerResult, `batch ${b.size}`).to.be.greaterThan(0).and.lessThan(BLOCK_GAS);
        }
        expect(two!.submitPerResult, "a batch of 2 shares the 21,000 intrinsic gas").to.be.lessThan(
            one!.submitPerResult,
        );
        expect(json.breakdown.map((b) => b.label)).to.deep.equal(["request", "submit", "finalize"]);
        for (const b of json.breakdown) {
            expect(b.intrinsic).to.equal(21_000);
            expect(b.execution, b.label).to.be.greaterThan(0);
            expect(b.intrinsic + b.calldata + b.logs + b.execution, b.label).to.equal(b.total);
        }
        // The lifecycle target is measured; the batch target (at 32) is not, so it is absent rather than made up.
        const lifecycle = json.figures.find((f) => f.label === "lifecycle excluding the callback's own work")!;
        expect(json.targets.lifecycleExcludingCallback!.measured).to.equal(lifecycle.gas);
        expect(json.targets).to.not.have.property("batchSubmitPerResultAt32");
        expect(md).to.contain("| not measured (quick run) | n/a |");
    });

    it("npm run bench:node: exits 0 and writes node.json / node.md (quick: 2 rounds, 4 requests) with settle rates > 0", async () => {
        const { json, md } = await quickRun<NodeResult>("bench:node", "node");
        expect(md).to.match(/^# Operator node \(bench\/node\.ts\)\n/);

        const rounds = json.settings.executor.rounds;
        expect(rounds).to.equal(2);
        expect(json.executor.map((e) => e.model)).to.deep.equal(["heavy float", "tiny int"]);
        for (const e of json.executor) {
            for (const rate of [
                e.bareRunsPerSec,
                e.workRunsPerSec,
                e.workRatio,
                e.executorC2RunsPerSec,
                e.executorC1RunsPerSec,
                e.ratioC2,
                e.ratioC1,
            ]) {
                expect(rate, e.model).to.be.a("number").greaterThan(0);
            }
            expect(e.ratioC2Rounds, e.model).to.have.length(rounds);
            expect(e.ratioC1Rounds, e.model).to.have.length(rounds);
            expect(["inline", "worker"], e.model).to.include(e.placementC2).and.to.include(e.placementC1);
        }

        expect(json.endToEnd.map((e) => [e.batching, e.requests, e.rpcLatencyMs, e.mining])).to.deep.equal([
            [false, 4, 0, "auto"],
            [true, 4, 0, "auto"],
            [false, 4, 0, "interval"],
            [false, 4, 50, "interval"],
        ]);
        for (const e of json.endToEnd) {
            const label = `batching ${e.batching ? "on" : "off"}`;
            for (const rate of [e.submitPerSec, e.finalizePerSec, e.settledPerSec, e.servedPerSec]) {
                expect(rate, label).to.be.a("number").greaterThan(0);
            }
            expect(e.submitTransactions, label).to.be.within(1, e.requests);
            expect(e.finalizeTransactions, label).to.be.within(1, e.requests);
            expect(e.operatorTransactions, label).to.equal(e.submitTransactions + e.finalizeTransactions);
            expect(e.rpcCalls, label).to.be.greaterThan(0);
            // Batched calls travel together: never more round trips than calls.
            expect(e.rpcRoundTrips, label).to.be.within(1, e.rpcCalls);
            expect(e.peakRssMiB, label).to.be.greaterThan(0);
        }
        // The latency run against the same scenario at 0 ms.
        expect(json.latency).to.have.length(1);
        expect(json.latency[0]).to.include({ batching: false, requests: 4, latencyMs: 50, mining: "interval" });
        expect(json.latency[0]!.baselineServedPerSec).to.equal(json.endToEnd[2]!.servedPerSec);
        expect(json.latency[0]!.share).to.be.greaterThan(0);
        expect(md).to.contain("### Throughput under RPC latency");
        expect(json.endToEnd[0]!.submitTransactions, "batching off: one submission per request").to.equal(4);
        expect(json.runtimeSeconds).to.be.greaterThan(0);
    });

    it("npm run bench:verify: exits 0 and writes verify.json / verify.md (quick: 2 models, no search) with gas/MAC > 0", async () => {
        const { json, md } = await quickRun<VerifyResult>("bench:verify", "verify");
        expect(md).to.match(/^# On-chain re-execution \(bench\/verify\.ts\)\n/);

        expect(json.blockGas).to.equal(BLOCK_GAS);
        expect(json.models.map((m) => m.model)).to.deep.equal(["[16, 16, 10]", "[64, 64, 10]"]);
        for (const m of json.models) {
            expect(m.executionGas, m.model).to.be.greaterThan(0);
            expect(m.txGas, `${m.model}: the transaction is 21,000 + calldata + the execution`).to.be.greaterThan(
                21_000 + m.calldataGas,
            );
            expect(m.txGas, m.model).to.be.greaterThan(m.executionGas).and.lessThan(BLOCK_GAS);
            expect(m.fits, m.model).to.equal(true);
            expect(m.txGasPerMac, m.model).to.be.closeTo(m.txGas / m.macs, 0.01);
            expect(m.executionGasPerMac, m.model).to.be.greaterThan(0).and.lessThan(m.txGasPerMac);
            expect(m.stored, m.model).to.not.equal(undefined);
            for (const gas of [m.stored!.storeGas, m.stored!.loadGas, m.stored!.directLoadGas]) {
                expect(gas, m.model).to.be.greaterThan(0);
            }
            expect(m.stored!.directTotalGas, m.model).to.be.greaterThan(21_000).and.lessThan(BLOCK_GAS);
        }
        // No search, so no largest model and no gas/MAC target: absent, not made up.
        expect(json).to.not.have.property("targets");
        expect(json).to.not.have.property("largest");
        expect(md).to.contain("not searched (quick run)");
    });

    it("npm run bench:cli: exits 0 and writes cli.json / cli.md (quick: one run per way) with start-up times > 0", async () => {
        const { json, md } = await quickRun<CliResult>("bench:cli", "cli");
        expect(md).to.match(/^# CLI start-up \(bench\/cli\.ts\)\n/);
        expect(json.help.map((f) => f.way)).to.deep.equal(["compiled", "ts-node"]);
        expect(json.restart.map((f) => f.way)).to.deep.equal(["compiled"]);
        for (const f of [...json.help, ...json.restart]) {
            expect(f.runs, f.way).to.equal(1);
            expect(f.wallMs.median, f.way).to.be.greaterThan(0);
            expect(f.wallMs.min, f.way).to.equal(f.wallMs.max);
        }
        for (const f of json.help) expect(f.cpuMs?.median, f.way).to.be.greaterThan(0);
    });

    it("VERITY_BENCH_QUICK=1 without VERITY_BENCH_OUT: every bench refuses (exit 2) and writes nothing", async () => {
        for (const script of SCRIPTS) {
            const run = await refusedRuns[script]!;
            expect(run.status, tail(run)).to.equal(2);
            expect(run.stderr, script).to.contain(
                `bench/${script.slice("bench:".length)}.ts: refused: VERITY_BENCH_QUICK=1 needs VERITY_BENCH_OUT=<dir>`,
            );
            expect(run.stdout, script).to.not.contain(QUICK_NOTICE);
        }
        expectCommittedResultsUnchanged();
    });
});
