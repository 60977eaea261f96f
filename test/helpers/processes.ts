/**
 * Child processes as the tests run them: the `verity` binary (or Hardhat's CLI) with output collected, and a
 * long-running `verity node` a test starts, kills and restarts. Always spawned asynchronously: the chain under test
 * is served by the test's own process, so a blocking spawn would deadlock.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
/** The `verity` command: it runs the CLI compiled to dist/ (see the hook below). */
export const VERITY_BIN = join(ROOT, "bin", "verity.js");
/** Hardhat's command line (what `npx hardhat` runs). */
export const HARDHAT_BIN = join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js");
/** Builds dist/ when it is missing or older than the sources (`--if-stale`). */
export const BUILD_CLI = join(ROOT, "scripts", "buildCli.js");
/** An incremental rebuild takes seconds, a first build about half a minute on 2 busy cores. */
const BUILD_TIMEOUT_MS = 300_000;

export interface ProcessRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs `node <script> <args>` to completion and collects its output; rejects (after killing it) when it takes longer
 * than `timeoutMs`.
 */
export function runNodeScript(
    script: string,
    args: readonly string[],
    opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<ProcessRun> {
    const timeoutMs = opts.timeoutMs ?? 90_000;
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [script, ...args], { env: opts.env, cwd: opts.cwd });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`${script} ${args.join(" ")} timed out after ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        child.on("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
    });
}

/**
 * `verity node --config <configPath>` (or `verity challenger`, with `command`) as a child process a test controls,
 * one at a time, signing with `privateKey`, in `cwd` (default: this process's; a config's relative data directory
 * is resolved from it); stdout and stderr are collected together.
 */
export function nodeProcess(
    configPath: string,
    privateKey: string,
    opts: { command?: "node" | "challenger"; cwd?: string } = {},
) {
    let output = "";
    let child: ChildProcess | undefined;
    const alive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
    return {
        spawn(env: NodeJS.ProcessEnv = {}): void {
            if (alive()) throw new Error("a node process is already running");
            child = spawn(process.execPath, [VERITY_BIN, opts.command ?? "node", "--config", configPath], {
                env: { ...process.env, VERITY_PRIVATE_KEY: privateKey, ...env },
                stdio: ["ignore", "pipe", "pipe"],
                ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
            });
            child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
            child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
        },
        async kill(signal: NodeJS.Signals): Promise<void> {
            const c = child;
            if (c === undefined || !alive()) return;
            const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
            c.kill(signal);
            await exited;
        },
        exitCode: (): number | null => child?.exitCode ?? null,
        signal: (): NodeJS.Signals | null => child?.signalCode ?? null,
        output: (): string => output,
        /** How many times a process has logged "node started" so far. */
        starts: (): number => output.split('"msg":"node started"').length - 1,
    };
}

/**
 * A root hook: before the first test of any run that loads this module (every spec that starts `verity` does),
 * bring dist/ up to date. bin/verity.js refuses a dist/ older than the sources, so after an edit to oracle/src (or
 * the contracts) the tests build it first and run the code as it is now; when nothing changed this takes one
 * short `node` start. `hardhat test` has compiled the contracts (typechain-types) by then.
 */
before(async function () {
    this.timeout(BUILD_TIMEOUT_MS);
    const run = await runNodeScript(BUILD_CLI, ["--if-stale"], { env: process.env, timeoutMs: BUILD_TIMEOUT_MS });
    if (run.status !== 0) throw new Error(`node scripts/buildCli.js --if-stale: exit ${run.status}\n${run.stderr}`);
    if (run.stderr !== "") process.stderr.write(run.stderr);
});
