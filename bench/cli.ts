/**
 * Start-up benchmark of the `verity` command: how long `verity --help` takes, and how long a node restarted after a
 * crash takes to log "node started" (issue 12: restarts took 3-7 s, mostly compiling TypeScript).
 *
 * Writes bench/results/cli.json and bench/results/cli.md. Two ways of running the same CLI, measured in turns:
 * - **compiled**: `node bin/verity.js`, which runs dist/ (`npm run build`). This is the `verity` command.
 * - **ts-node**: the TypeScript sources through ts-node (transpile-only), as bin/verity.js ran them before dist/
 *   (TS_NODE_CLI reproduces it); `npm run demo` and `hardhat run` scripts still load the node this way.
 *
 * (a) `--help`: HELP_RUNS runs per way after one warm-up each; wall time from spawn to exit, and the process's CPU
 *     time (user + system, all threads, read at exit by a preloaded hook).
 * (b) Restart to "node started": a deployment with the tiny integer model on the in-process chain served over
 *     HTTP, a node config (inference concurrency 2, log level info) and its data directory, initialised by a first,
 *     uncounted start. Then RESTART_RUNS restarts per way on that data directory, each killed with SIGKILL (a
 *     crash) once it has logged "node started": wall time from spawn to that line on stdout, and the process's CPU
 *     time at that moment (/proc/<pid>/stat; Linux only). The node's start-up includes connecting to the chain,
 *     opening its store, loading the model into its inference workers and its first poll.
 *
 * dist/ is brought up to date first (scripts/buildCli.js --if-stale). The figures are medians; on a machine other
 * processes share, wall times vary with their load (reported) while CPU times vary much less.
 *
 * Run: npm run bench:cli   (hardhat run bench/cli.ts)
 *
 * Environment (bench/options.ts):
 * - VERITY_BENCH_OUT=<dir>: write cli.json and cli.md to <dir> (created if missing) instead of bench/results/.
 * - VERITY_BENCH_QUICK=1: a smoke run (QUICK_SCOPE): in (a) one run per way without warm-up, in (b) one restart of
 *   the compiled CLI only (a ts-node start takes several seconds). Refused without VERITY_BENCH_OUT.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { tinyIntegerModel } from "../models/examples";
import { deployForNode, hardhatWallet, nodeConfig, startRpcServer, writeConfig } from "../test/e2e/harness";
import { benchOptions, quickFields, quickLines } from "./options";

const OPTIONS = benchOptions("cli");
const QUICK_SCOPE =
    "(a) one run per way, no warm-up, (b) one restart of the compiled CLI only; figures too few to mean anything";
const ROOT = join(__dirname, "..");
const VERITY_BIN = join(ROOT, "bin", "verity.js");
const BUILD_CLI = join(ROOT, "scripts", "buildCli.js");
const HELP_RUNS = OPTIONS.quick ? 1 : 10;
const RESTART_RUNS = OPTIONS.quick ? 1 : 5;
const INFERENCE_CONCURRENCY = 2;
const STARTED_LINE = '"msg":"node started"';
const RUN_TIMEOUT_MS = 120_000;
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 10 ms. */
const PROC_STAT_TICK_MS = 10;
const OPERATOR = hardhatWallet(3); // deployCore's first operator

/** What bin/verity.js was before dist/: the sources through ts-node (arguments after `--`). */
const TS_NODE_CLI = `require("ts-node").register({ transpileOnly: true, project: ${JSON.stringify(join(ROOT, "tsconfig.json"))} });
require(${JSON.stringify(join(ROOT, "oracle", "src", "cli"))})
    .main(["node", "verity", ...process.argv.slice(1)])
    .catch((e) => { process.stderr.write("error: " + e.message + "\\n"); process.exit(1); });`;

type Way = "compiled" | "ts-node";
const WAYS: readonly Way[] = ["compiled", "ts-node"];
const RESTART_WAYS: readonly Way[] = OPTIONS.quick ? ["compiled"] : WAYS;

function nodeArgs(way: Way, args: readonly string[]): string[] {
    return way === "compiled" ? [VERITY_BIN, ...args] : ["-e", TS_NODE_CLI, "--", ...args];
}

function median(xs: readonly number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function round(x: number, digits: number): number {
    const f = 10 ** digits;
    return Math.round(x * f) / f;
}

export interface Figures {
    way: Way;
    runs: number;
    wallMs: { median: number; min: number; max: number };
    /** Undefined where the CPU time cannot be read (not Linux, for restarts). */
    cpuMs?: { median: number };
}

function figures(way: Way, wall: readonly number[], cpu: readonly (number | undefined)[]): Figures {
    const known = cpu.filter((c): c is number => c !== undefined);
    return {
        way,
        runs: wall.length,
        wallMs: {
            median: round(median(wall), 0),
            min: round(Math.min(...wall), 0),
            max: round(Math.max(...wall), 0),
        },
        ...(known.length === cpu.length && known.length > 0 ? { cpuMs: { median: round(median(known), 0) } } : {}),
    };
}

// ---- (a) --help ----

/** One `--help` run: wall time and CPU time (written at exit by `cpuHook`), in ms. */
function helpRun(way: Way, cpuHook: string, cpuFile: string): { wallMs: number; cpuMs: number } {
    rmSync(cpuFile, { force: true });
    const started = performance.now();
    const run = spawnSync(process.execPath, ["--require", cpuHook, ...nodeArgs(way, ["--help"])], {
        cwd: ROOT,
        env: { ...process.env, VERITY_BENCH_CPU_FILE: cpuFile },
        encoding: "utf8",
        timeout: RUN_TIMEOUT_MS,
    });
    const wallMs = performance.now() - started;
    if (run.status !== 0 || !run.stdout.startsWith("Usage: verity")) {
        throw new Error(`${way} --help: exit ${run.status}\n${run.stderr}`);
    }
    return { wallMs, cpuMs: Number(readFileSync(cpuFile, "utf8")) };
}

function benchHelp(dir: string): Figures[] {
    const cpuHook = join(dir, "cpu-at-exit.js");
    writeFileSync(
        cpuHook,
        `process.on("exit", () => { const u = process.cpuUsage(); require("node:fs").writeFileSync(process.env.VERITY_BENCH_CPU_FILE, String((u.user + u.system) / 1000)); });\n`,
    );
    const cpuFile = join(dir, "cpu-ms");
    if (!OPTIONS.quick) for (const way of WAYS) helpRun(way, cpuHook, cpuFile); // warm-up: file system cache
    const runs: Record<Way, { wallMs: number; cpuMs: number }[]> = { compiled: [], "ts-node": [] };
    for (let i = 0; i < HELP_RUNS; i++) for (const way of WAYS) runs[way].push(helpRun(way, cpuHook, cpuFile));
    return WAYS.map((way) =>
        figures(
            way,
            runs[way].map((r) => r.wallMs),
            runs[way].map((r) => r.cpuMs),
        ),
    );
}

// ---- (b) restart ----

/** CPU time (user + system, all threads) of a running process so far, in ms; undefined off Linux. */
function processCpuMs(pid: number): number | undefined {
    try {
        // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are 14 and 15.
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return (Number(fields[11]) + Number(fields[12])) * PROC_STAT_TICK_MS;
    } catch {
        return undefined;
    }
}

function exited(child: ChildProcess): Promise<void> {
    return child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts `verity node` the given way and resolves once it logged "node started"; then kills it (SIGKILL). */
async function restartRun(way: Way, configPath: string): Promise<{ wallMs: number; cpuMs: number | undefined }> {
    const started = performance.now();
    const child = spawn(process.execPath, nodeArgs(way, ["node", "--config", configPath]), {
        cwd: ROOT,
        env: { ...process.env, VERITY_PRIVATE_KEY: OPERATOR.privateKey },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    try {
        const at = await new Promise<{ wallMs: number; cpuMs: number | undefined }>((resolve, reject) => {
            const timer = setTimeout(
                () =>
                    reject(new Error(`${way}: no "node started" after ${RUN_TIMEOUT_MS} ms\n${output.slice(-3_000)}`)),
                RUN_TIMEOUT_MS,
            );
            child.stdout?.on("data", (d: Buffer) => {
                output += d.toString();
                if (output.includes(STARTED_LINE)) {
                    clearTimeout(timer);
                    resolve({ wallMs: performance.now() - started, cpuMs: processCpuMs(child.pid!) });
                }
            });
            child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
            child.once("exit", (code) => {
                clearTimeout(timer);
                reject(new Error(`${way}: exited (${code}) before "node started"\n${output.slice(-3_000)}`));
            });
        });
        return at;
    } finally {
        child.kill("SIGKILL");
        await exited(child);
    }
}

async function benchRestart(): Promise<Figures[]> {
    const d = await deployForNode([tinyIntegerModel()]);
    const rpc = await startRpcServer();
    try {
        const config = await nodeConfig(d, rpc.url, {
            inference: { concurrency: INFERENCE_CONCURRENCY },
            log: { level: "info" },
        });
        const configPath = writeConfig(d, config);
        await restartRun("compiled", configPath); // initialises the data directory and the model cache
        const runs: Record<Way, { wallMs: number; cpuMs: number | undefined }[]> = { compiled: [], "ts-node": [] };
        for (let i = 0; i < RESTART_RUNS; i++) {
            for (const way of RESTART_WAYS) runs[way].push(await restartRun(way, configPath));
        }
        return RESTART_WAYS.map((way) =>
            figures(
                way,
                runs[way].map((r) => r.wallMs),
                runs[way].map((r) => r.cpuMs),
            ),
        );
    } finally {
        await rpc.close();
        rmSync(d.dir, { recursive: true, force: true });
    }
}

// ---- report ----

interface Machine {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    date: string;
    /** 1-minute load average at the start of (a), of (b) and at the end: other processes compete for the cores. */
    loadAverage: { help: number; restart: number; end: number };
}

interface Result {
    quick?: true;
    quickScope?: string;
    generatedBy: string;
    machine: Machine;
    settings: { helpRuns: number; restartRuns: number; model: string; inferenceConcurrency: number };
    help: Figures[];
    restart: Figures[];
    runtimeSeconds: number;
}

const WAY_LABEL: Record<Way, string> = {
    compiled: "compiled: `node bin/verity.js` (dist/)",
    "ts-node": "ts-node: the sources, transpile-only (bin/verity.js before dist/)",
};

function table(rows: readonly Figures[]): string[] {
    const cpu = (f: Figures): string => (f.cpuMs === undefined ? "n/a" : String(f.cpuMs.median));
    return [
        "| way | runs | wall ms (median) | min | max | CPU ms (median) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        ...rows.map(
            (f) =>
                `| ${WAY_LABEL[f.way]} | ${f.runs} | ${f.wallMs.median} | ${f.wallMs.min} | ${f.wallMs.max} | ${cpu(f)} |`,
        ),
    ];
}

function markdown(result: Result): string {
    const m = result.machine;
    const load = m.loadAverage;
    return [
        "# CLI start-up (bench/cli.ts)",
        "",
        ...quickLines(OPTIONS, QUICK_SCOPE),
        `Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Node ${m.node}. Date: ${m.date}. ` +
            `Whole benchmark: ${Math.round(result.runtimeSeconds)} s. Regenerate with \`npm run bench:cli\`.`,
        `1-minute load average at the start of (a), of (b) and at the end: ${[load.help, load.restart, load.end].map((x) => x.toFixed(2)).join(", ")}`,
        "(other processes share the cores: wall times grow with their load, CPU times much less).",
        "",
        "## (a) `verity --help`",
        "",
        "Wall time from spawn to exit; CPU time of the process (user + system, all threads). One warm-up run per way",
        "first.",
        "",
        ...table(result.help),
        "",
        '## (b) Restart after a crash, to "node started"',
        "",
        `A node serving the tiny integer model (inference concurrency ${result.settings.inferenceConcurrency}) on the`,
        "in-process chain served over HTTP, restarted on its existing data directory, each run killed with SIGKILL",
        'once it logged "node started": wall time from spawn to that line, CPU time of the process at that moment',
        "(from /proc). Start-up connects to the chain, opens the store, loads the model into the inference workers",
        "and polls once.",
        "",
        ...table(result.restart),
        "",
    ].join("\n");
}

async function main(): Promise<void> {
    const started = performance.now();
    const build = spawnSync(process.execPath, [BUILD_CLI, "--if-stale"], { cwd: ROOT, stdio: "inherit" });
    if (build.status !== 0) throw new Error(`scripts/buildCli.js --if-stale: exit ${build.status}`);
    const dir = mkdtempSync(join(tmpdir(), "verity-bench-cli-"));
    const loadAverage = { help: round(loadavg()[0] ?? 0, 2), restart: 0, end: 0 };
    try {
        console.log("(a) verity --help");
        const help = benchHelp(dir);
        console.log('(b) restart to "node started"');
        loadAverage.restart = round(loadavg()[0] ?? 0, 2);
        const restart = await benchRestart();
        loadAverage.end = round(loadavg()[0] ?? 0, 2);
        const cpuList = cpus();
        const result: Result = {
            ...quickFields(OPTIONS, QUICK_SCOPE),
            generatedBy: "npm run bench:cli",
            machine: {
                cpus: cpuList.length,
                cpuModel: cpuList[0]?.model.trim() ?? "unknown",
                memoryGiB: round(totalmem() / 1024 ** 3, 1),
                node: process.version,
                date: new Date().toISOString(),
                loadAverage,
            },
            settings: {
                helpRuns: HELP_RUNS,
                restartRuns: RESTART_RUNS,
                model: "tinyIntegerModel()",
                inferenceConcurrency: INFERENCE_CONCURRENCY,
            },
            help,
            restart,
            runtimeSeconds: round((performance.now() - started) / 1000, 1),
        };
        mkdirSync(OPTIONS.outDir, { recursive: true });
        writeFileSync(join(OPTIONS.outDir, "cli.json"), JSON.stringify(result, null, 2) + "\n");
        const md = markdown(result);
        writeFileSync(join(OPTIONS.outDir, "cli.md"), md);
        console.log(md);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((err: unknown) => {
    console.error(`bench/cli.ts failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
});
