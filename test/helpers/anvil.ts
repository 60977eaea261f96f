/**
 * Foundry's anvil as a chain for end-to-end tests: a second, independent chain client next to Hardhat's, run as its
 * own process.
 *
 * The binary comes from npm, never from a download at install or run time: `@foundry-rs/anvil` (a dev dependency
 * whose install script package.json's `allowScripts` denies: it would download the binary when the platform's package
 * is missing) lists one optional dependency per platform, `@foundry-rs/anvil-<os>-<arch>`, each holding the binary
 * in `bin/`. npm installs the one whose `os` and `cpu` match the machine, and `anvilBinary` finds it the same way,
 * from those packages' own manifests, so there is no path or platform table to keep here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const UMBRELLA = "@foundry-rs/anvil";

interface PackageJson {
    name: string;
    version: string;
    os?: string[];
    cpu?: string[];
    bin?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
}

function readPackage(name: string): { dir: string; pkg: PackageJson } | undefined {
    let path: string;
    try {
        path = require.resolve(`${name}/package.json`);
    } catch {
        return undefined;
    }
    return { dir: dirname(path), pkg: JSON.parse(readFileSync(path, "utf8")) as PackageJson };
}

/**
 * The anvil binary of this machine's platform package. Throws, saying what to install, when there is none: the
 * suites that need anvil fail rather than skip.
 */
export function anvilBinary(): string {
    const umbrella = readPackage(UMBRELLA);
    if (umbrella === undefined) throw new Error(`${UMBRELLA} is not installed: run npm ci`);
    const platforms = Object.keys(umbrella.pkg.optionalDependencies ?? {});
    for (const name of platforms) {
        const found = readPackage(name);
        if (found === undefined) continue;
        const { os = [], cpu = [], bin = {} } = found.pkg;
        if (!os.includes(process.platform) || !cpu.includes(process.arch)) continue;
        const relative = bin.anvil;
        if (relative === undefined) throw new Error(`${name} declares no anvil binary`);
        return join(found.dir, relative);
    }
    throw new Error(
        `no anvil binary for ${process.platform}-${process.arch}: ${UMBRELLA}@${umbrella.pkg.version} ships ` +
            `${platforms.join(", ")}; npm ci installs the one matching this machine (unless optional dependencies ` +
            `are omitted: drop --omit=optional)`,
    );
}

export interface AnvilChain {
    url: string;
    /** One JSON-RPC call; an error answer rejects with its message. */
    rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
    /** The last few kilobytes anvil printed (for failure messages). */
    output(): string;
    stop(): Promise<void>;
}

/**
 * Starts anvil on a free local port with interval mining (a block every `blockTimeSeconds`, whether or not a
 * transaction waits: no automine), Hardhat's default accounts (anvil derives the same ones from the same mnemonic)
 * and chain id 31337, and `args` besides. Resolves once it answers JSON-RPC.
 */
export async function startAnvil(opts: { blockTimeSeconds: number; args?: string[] }): Promise<AnvilChain> {
    const child: ChildProcess = spawn(
        anvilBinary(),
        ["--host", "127.0.0.1", "--port", "0", "--block-time", String(opts.blockTimeSeconds), ...(opts.args ?? [])],
        { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    const keep = (d: Buffer) => (out = (out + d.toString()).slice(-8_000));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`anvil did not start within 30 s: ${out}`)), 30_000);
        const onData = () => {
            const port = /Listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
            if (port === undefined) return;
            clearTimeout(timer);
            child.stdout?.off("data", onData);
            resolve(`http://127.0.0.1:${port}`);
        };
        child.stdout?.on("data", onData);
        child.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`anvil exited with ${code}: ${out}`));
        });
    });
    let id = 1;
    async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
        const response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: id++, method, params }),
        });
        const body = (await response.json()) as { result?: T; error?: { message?: string } };
        if (body.error !== undefined) throw new Error(`${method}: ${body.error.message ?? JSON.stringify(body.error)}`);
        return body.result as T;
    }
    return {
        url,
        rpc,
        output: () => out,
        async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
            child.kill("SIGKILL");
            await exited;
        },
    };
}
