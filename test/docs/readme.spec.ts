/**
 * The README cannot rot. Two checks:
 *
 * 1. Every command the README shows (each line of its `sh` blocks, and each inline `npx verity …` or `npm run …`)
 *    names something that exists: an npm script, a `verity` command whose options and arguments are all declared
 *    (read from the real commander program), a Hardhat task, a file. A renamed command or option fails here.
 * 2. The blocks marked `<!-- readme-test: run -->` (the quick-start walkthrough) run as written, in order, with
 *    the real `verity` binary in child processes, against the chain the README starts (`npx hardhat node`, spawned
 *    here): deploy, build/check/register a model, stake, write a node config, run the node, request and wait for
 *    the settled result, inspect it, and run a challenger. What the test substitutes, and nothing else: the chain's
 *    port (a free one, not 8545), the nodes' metrics ports (free ones, through VERITY_SERVER_PORT), the
 *    challenger's `VERITY_PRIVATE_KEY=0x…` (the chain's account #1), `<modelId>` / `<requestId>` by the ids the
 *    earlier commands printed, `npx verity` by `node bin/verity.js` (npx would look in the registry from a temp
 *    dir). Nothing else: no block is mined and no time is skipped behind the reader's back, so the chain mines only
 *    when a command sends a transaction and the challenge window passes in real time. `verity node` and
 *    `verity challenger` run in the background until the end, then must stop cleanly on SIGTERM.
 *
 * Commands the walkthrough does not run are run by the specs named in COVERED_ELSEWHERE, which this file checks
 * exist and mention them.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";
import hre from "hardhat";
import { JsonRpcProvider, keccak256, Wallet } from "ethers";
import type { Command, Option } from "commander";
import { buildProgram } from "../../oracle/src/cli";
import { ReexecutionResolver__factory } from "../../typechain-types";
import { encodeTensors, DType } from "../../oracle/src/protocol/tensorCodec";
import { hardhatWallet } from "../../scripts/localChain";
import { HARDHAT_BIN, runNodeScript, VERITY_BIN, type ProcessRun } from "../helpers/processes";

const ROOT = resolve(__dirname, "..", "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const RUN_MARKER = "<!-- readme-test: run -->";

interface Block {
    lang: string;
    body: string;
    run: boolean;
}

/** The README's fenced blocks, each with whether the marker line precedes it. */
function blocks(markdown: string): Block[] {
    const out: Block[] = [];
    const lines = markdown.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const open = /^```(\w*)\s*$/.exec(lines[i] ?? "");
        if (open === null) continue;
        let j = i + 1;
        while (j < lines.length && lines[j] !== "```") j++;
        let k = i - 1;
        while (k >= 0 && (lines[k] ?? "").trim() === "") k--;
        out.push({ lang: open[1] ?? "", body: lines.slice(i + 1, j).join("\n"), run: lines[k]?.trim() === RUN_MARKER });
        i = j;
    }
    return out;
}

/** Splits a shell line into words, honouring single and double quotes; drops a trailing `# comment`. */
function words(line: string): string[] {
    const out: string[] = [];
    let word: string | undefined;
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
        const c = line[i] as string;
        if (quote !== undefined) {
            if (c === quote) quote = undefined;
            else word = (word ?? "") + c;
        } else if (c === "'" || c === '"') {
            quote = c;
            word ??= "";
        } else if (c === "#" && word === undefined) {
            break;
        } else if (c === " " || c === "\t") {
            if (word !== undefined) out.push(word);
            word = undefined;
        } else {
            word = (word ?? "") + c;
        }
    }
    if (quote !== undefined) throw new Error(`unclosed quote in README command: ${line}`);
    if (word !== undefined) out.push(word);
    return out;
}

/** The commands of an sh block: continuation lines joined, split on `&&`, comments and blank lines dropped. */
function commandsOf(body: string): string[][] {
    const joined = body.replace(/\\\n\s*/g, " ");
    const out: string[][] = [];
    for (const line of joined.split("\n")) {
        const all = words(line);
        let current: string[] = [];
        for (const w of all) {
            if (w === "&&") {
                out.push(current);
                current = [];
            } else current.push(w);
        }
        if (current.length > 0) out.push(current);
    }
    return out;
}

/** `VAR=value` words before the command. */
function splitEnv(cmd: string[]): { env: Record<string, string>; argv: string[] } {
    const env: Record<string, string> = {};
    let i = 0;
    while (i < cmd.length && /^[A-Z_][A-Z0-9_]*=/.test(cmd[i] ?? "")) {
        const [name, ...value] = (cmd[i] as string).split("=");
        env[name as string] = value.join("=");
        i++;
    }
    return { env, argv: cmd.slice(i) };
}

const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** Checks `verity <args>` against the commander program: the command path, every option, the argument count. */
function checkVerity(args: string[]): string | undefined {
    const { command: cmd, depth } = findCommand(args);
    let i = depth;
    if (cmd.commands.length > 0 && i < args.length && !(args[i] ?? "").startsWith("-")) {
        return `verity ${args.slice(0, i).join(" ")} has no command "${args[i]}"`;
    }
    if (cmd.commands.length > 0 && i === args.length) return undefined; // `verity model` alone prints help
    const options = cmd.options as readonly Option[];
    const seen = new Set<Option>();
    let positional = 0;
    for (; i < args.length; i++) {
        const arg = args[i] as string;
        if (arg === "--help" || arg === "-h") return undefined;
        if (arg.startsWith("-")) {
            const option = options.find((o) => o.long === arg || o.short === arg);
            if (option === undefined) return `verity ${cmd.name()} has no option ${arg}`;
            seen.add(option);
            if (option.required || option.optional) {
                if (option.variadic) {
                    while (i + 1 < args.length && !(args[i + 1] as string).startsWith("-")) i++;
                } else i++;
            }
        } else positional++;
    }
    for (const option of options) {
        if (option.mandatory && !seen.has(option)) return `verity ${cmd.name()} needs ${option.long}`;
    }
    const declared = cmd.registeredArguments;
    const required = declared.filter((a) => a.required).length;
    const variadic = declared.some((a) => a.variadic);
    if (positional < required || (!variadic && positional > declared.length)) {
        return `verity ${cmd.name()} takes ${required}..${declared.length} arguments, the README gives ${positional}`;
    }
    return undefined;
}

/** Checks one README command; returns what is wrong, or undefined. */
function checkCommand(cmd: string[]): string | undefined {
    const { argv } = splitEnv(cmd);
    const [tool, ...rest] = argv;
    const text = cmd.join(" ");
    switch (tool) {
        case "export":
            return rest.every((w) => /^[A-Z_][A-Z0-9_]*=./.test(w)) ? undefined : `bad export: ${text}`;
        case "cp":
            return existsSync(join(ROOT, rest[0] ?? "")) ? undefined : `cp: ${rest[0]} does not exist`;
        case "npm": {
            if (rest[0] === "ci" || rest[0] === "test") return undefined;
            if (rest[0] === "run") return PACKAGE.scripts[rest[1] ?? ""] ? undefined : `no npm script "${rest[1]}"`;
            return `npm command not understood: ${text}`;
        }
        case "npx": {
            const [bin, ...args] = rest;
            if (bin === "verity") return checkVerity(args);
            if (bin === "hardhat") {
                const name = args[0] ?? "";
                if (name in hre.scopes) {
                    const task = hre.scopes[name]?.tasks[args[1] ?? ""];
                    if (task === undefined) return `no Hardhat task ${name} ${args[1]}`;
                    const file = args[2];
                    return file !== undefined && !existsSync(join(ROOT, file)) ? `no file ${file}` : undefined;
                }
                return name in hre.tasks ? undefined : `no Hardhat task ${name}`;
            }
            return `npx ${bin} not understood`;
        }
        default:
            return `command not understood (teach test/docs/readme.spec.ts): ${text}`;
    }
}

/** Inline code spans in the prose that are commands: `npx verity …`, `npx hardhat …`, `npm run …`. */
function inlineCommands(markdown: string): string[][] {
    const prose = markdown.replace(/```[\s\S]*?```/g, "");
    const out: string[][] = [];
    for (const m of prose.matchAll(/`((?:npx verity|npx hardhat|npm run) [^`]+)`/g)) out.push(words(m[1] as string));
    return out;
}

/** Inline spans naming a verity command without `npx verity` (`operator withdraw`, `model hash <onnx>`). */
function bareVerityMentions(markdown: string): string[][] {
    const prose = markdown.replace(/```[\s\S]*?```/g, "");
    const out: string[][] = [];
    for (const m of prose.matchAll(/`([a-z-]+ [^`]+)`/g)) {
        const w = words(m[1] as string);
        const sub = buildProgram().commands.find((c) => c.name() === w[0]);
        if (sub !== undefined && sub.commands.length > 0 && /^[a-z-]+$/.test(w[1] ?? "")) out.push(w);
    }
    return out;
}

/** The deepest verity (sub)command `args` name, and how many of the args named it. */
function findCommand(args: readonly string[]): { command: Command; depth: number } {
    let command: Command = buildProgram();
    let depth = 0;
    for (const arg of args) {
        const sub = command.commands.find((c) => c.name() === arg);
        if (sub === undefined) break;
        command = sub;
        depth++;
    }
    return { command, depth };
}

/** The verity command path an argument list names: `["model", "register", "x.onnx"]` → "model register". */
function verityPath(args: readonly string[]): string {
    return args.slice(0, findCommand(args).depth).join(" ");
}

/** What a README command is, for matching: `npx verity <command path>`, or its first three words. */
function commandKey(argv: readonly string[]): string {
    if (argv[0] === "npx" && argv[1] === "verity") return `npx verity ${verityPath(argv.slice(2))}`.trim();
    return argv.slice(0, 3).join(" ");
}

/** A TCP port nobody listens on right now. */
function freePort(): Promise<number> {
    return new Promise((resolvePort, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            const port = typeof address === "object" && address !== null ? address.port : 0;
            server.close(() => resolvePort(port));
        });
    });
}

/** Polls `done` every 100 ms for up to 60 s. */
async function waitUntil(what: string, done: () => boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

/**
 * Commands the walkthrough does not run, and the spec (or script) that does: `mentions` is how that spec invokes
 * it. Keys are `commandKey`s: `npx verity <command path>`, else the first three words.
 */
const COVERED_ELSEWHERE: Record<string, { file: string; mentions: string }> = {
    "npm ci": { file: ".ci/run", mentions: "npm ci" },
    "npm test": { file: ".ci/run", mentions: "npm test" },
    "npm run lint": { file: "package.json", mentions: '"test": "npm run lint && hardhat test"' },
    "npm run demo": { file: "test/demo/demo.spec.ts", mentions: '"--requests"' },
    "npm run bench:gas": { file: "test/bench/bench.smoke.spec.ts", mentions: '"bench:gas"' },
    "npm run bench:node": { file: "test/bench/bench.smoke.spec.ts", mentions: '"bench:node"' },
    "npm run bench:verify": { file: "test/bench/bench.smoke.spec.ts", mentions: '"bench:verify"' },
    "npm run bench:cli": { file: "test/bench/bench.smoke.spec.ts", mentions: '"bench:cli"' },
    // npm ci runs it (CI starts with npm ci); the tests rebuild dist/ when stale (test/helpers/processes.ts).
    "npm run build": { file: "package.json", mentions: '"postprepare": "npm run build"' },
    "npx hardhat node": { file: "test/docs/readme.spec.ts", mentions: '[HARDHAT_BIN, "node", "--port"' },
    "npx hardhat verity:deploy": { file: "test/tasks/verity.tasks.spec.ts", mentions: '"verity:deploy"' },
    "npx hardhat verity:inspect": { file: "test/tasks/verity.tasks.spec.ts", mentions: '"verity:inspect"' },
    "npx hardhat verity:operator-register-model": {
        file: "test/tasks/verity.tasks.spec.ts",
        mentions: '"verity:operator-register-model"',
    },
    "npx hardhat verity:config-init": { file: "test/tasks/verity.tasks.spec.ts", mentions: '"verity:config-init"' },
    "npx hardhat ignition": { file: "test/deploy/Verity.module.spec.ts", mentions: "hre.ignition.deploy(VerityModule" },
    "npx verity": { file: "test/cli/verity.cli.spec.ts", mentions: 'verity(["--help"])' },
    "npx verity config check": { file: "test/cli/verity.cli.spec.ts", mentions: '["config", "check"' },
    "npx verity model compile": { file: "test/cli/verity.cli.spec.ts", mentions: '["model", "compile"' },
    "npx verity model hash": { file: "test/cli/commands.e2e.spec.ts", mentions: '["model", "hash"' },
    "npx verity operator status": { file: "test/cli/commands.e2e.spec.ts", mentions: '["operator", "status"' },
    "npx verity operator unstake": { file: "test/cli/commands.e2e.spec.ts", mentions: '["operator", "unstake"' },
    "npx verity operator withdraw": { file: "test/cli/commands.e2e.spec.ts", mentions: '["operator", "withdraw"]' },
    "npx verity dispute": { file: "test/cli/commands.e2e.spec.ts", mentions: '["dispute", id' },
    "npx verity finalize": { file: "test/cli/commands.e2e.spec.ts", mentions: '["finalize", id' },
    "npx verity cancel": { file: "test/cli/commands.e2e.spec.ts", mentions: '["cancel", id' },
    "npx verity accept-ownership": { file: "test/cli/commands.e2e.spec.ts", mentions: '["accept-ownership"' },
};

describe("README", function () {
    const all = blocks(README);
    const sh = all.filter((b) => b.lang === "sh");

    describe("every command it shows exists as written", () => {
        it("has shell blocks and a walkthrough to check", () => {
            expect(sh.length).to.be.greaterThan(5);
            expect(sh.filter((b) => b.run).length).to.be.greaterThan(3);
        });

        for (const [i, block] of sh.entries()) {
            for (const cmd of commandsOf(block.body)) {
                it(`sh block ${i + 1}: ${cmd.join(" ").slice(0, 100)}`, () => {
                    expect(checkCommand(cmd)).to.equal(undefined);
                });
            }
        }

        it("every inline `npx verity …` / `npm run …` in the prose exists", () => {
            const problems = inlineCommands(README)
                .map((cmd) => checkCommand(cmd.map((w) => w.replace(/^<[^>]+>$/, "0x01"))))
                .filter((p) => p !== undefined);
            expect(problems).to.deep.equal([]);
        });

        it("the checker is not a rubber stamp: it rejects a wrong command, option, argument count and script", () => {
            expect(checkCommand(["npx", "verity", "operator", "stak", "1"])).to.match(/has no command "stak"/);
            expect(checkCommand(["npx", "verity", "request", "--model", "x", "--wiat"])).to.match(/no option --wiat/);
            expect(checkCommand(["npx", "verity", "inspect"])).to.match(/takes 1..1 arguments/);
            expect(checkCommand(["npx", "verity", "model", "register", "a.onnx", "--uri", "x"])).to.match(
                /needs --mode/,
            );
            expect(checkCommand(["npm", "run", "demoo"])).to.match(/no npm script/);
            expect(checkCommand(["npx", "hardhat", "verity:nope"])).to.match(/no Hardhat task/);
        });

        it("every inline mention of a verity command without `npx verity` names a real command", () => {
            const mentions = bareVerityMentions(README);
            expect(mentions.length).to.be.greaterThan(3);
            for (const w of mentions) {
                expect(verityPath(w), w.join(" ")).to.equal(w.slice(0, 2).join(" "));
            }
        });

        it("has no fenced block in a language the checks would skip", () => {
            expect(all.map((b) => b.lang).filter((lang) => !["sh", "solidity", ""].includes(lang))).to.deep.equal([]);
        });

        it("commands outside the walkthrough are run by the specs that cover them", () => {
            const runInWalkthrough = new Set(
                sh
                    .filter((b) => b.run)
                    .flatMap((b) => commandsOf(b.body))
                    .map((c) => commandKey(splitEnv(c).argv)),
            );
            const elsewhere = [
                ...sh.filter((b) => !b.run).flatMap((b) => commandsOf(b.body)),
                ...inlineCommands(README),
                ...bareVerityMentions(README).map((w) => ["npx", "verity", ...w]),
            ]
                .map((c) => splitEnv(c).argv)
                .filter((argv) => argv[0] === "npx" || argv[0] === "npm")
                .map(commandKey)
                .filter((key) => !runInWalkthrough.has(key));
            const uncovered: string[] = [];
            for (const key of new Set(elsewhere)) {
                // Not run by the suite: coverage (it re-runs the whole suite instrumented). The checks above still
                // prove the script exists.
                if (key === "npm run coverage") continue;
                const cover = COVERED_ELSEWHERE[key];
                if (cover === undefined) {
                    uncovered.push(key);
                    continue;
                }
                expect(readFileSync(join(ROOT, cover.file), "utf8"), `${key}: ${cover.file}`).to.contain(
                    cover.mentions,
                );
            }
            expect(uncovered).to.deep.equal([]);
        });
    });

    describe("the consumer contract it shows", () => {
        it("is contracts/examples/QuickstartConsumer.sol verbatim (compiled and tested there)", () => {
            const solidity = all.filter((b) => b.lang === "solidity");
            expect(solidity).to.have.length(1);
            const source = readFileSync(join(ROOT, "contracts", "examples", "QuickstartConsumer.sol"), "utf8");
            // Line by line, indentation aside: prettier indents Solidity in Markdown by 2 and in .sol files by 4.
            const lines = (text: string) => text.split("\n").map((l) => l.trim());
            const shown = lines((solidity[0] as Block).body).join("\n");
            expect(lines(source).join("\n")).to.contain(shown);
            expect(shown).to.contain("contract QuickstartConsumer is VerityConsumer, Ownable {");
        });
    });

    describe("the quick-start walkthrough, run as written against `npx hardhat node`", function () {
        this.timeout(600_000);
        const background: { name: string; child: ChildProcess; stderr: () => string }[] = [];
        let chain: ChildProcess | undefined;
        let url = "";
        let provider: JsonRpcProvider;
        const dir = mkdtempSync(join(tmpdir(), "verity-readme-"));
        // The README's walkthrough key is the chain's account #0; the challenger's `0x…` is account #1.
        const challengerKey = hardhatWallet(1).privateKey;

        before(async () => {
            // The chain the README starts in a terminal of its own, on a free port rather than 8545 so that a
            // chain the developer is running is neither used nor disturbed.
            const port = await freePort();
            chain = spawn(process.execPath, [HARDHAT_BIN, "node", "--port", String(port)], { cwd: ROOT });
            let out = "";
            chain.stdout?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4_000)));
            chain.stderr?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4_000)));
            await waitUntil("npx hardhat node to listen", () => {
                if (chain?.exitCode !== null) throw new Error(`hardhat node exited: ${out}`);
                return out.includes("Started HTTP and WebSocket JSON-RPC server");
            });
            url = `http://127.0.0.1:${port}`;
            provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
            // The README's paths are relative to the repository; the walkthrough writes into its own directory.
            symlinkSync(join(ROOT, "models"), join(dir, "models"));
            symlinkSync(join(ROOT, "oracle"), join(dir, "oracle"));
        });

        after(async () => {
            for (const b of background) if (b.child.exitCode === null) b.child.kill("SIGKILL");
            provider?.destroy();
            chain?.kill("SIGKILL");
        });

        function spawnVerity(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
            return spawn(process.execPath, [VERITY_BIN, ...args], {
                env: { PATH: process.env.PATH, ...env },
                cwd: dir,
            });
        }

        function runVerity(args: string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
            return runNodeScript(VERITY_BIN, args, {
                env: { PATH: process.env.PATH, ...env },
                cwd: dir,
                timeoutMs: 240_000,
            });
        }

        it("runs every command of the marked blocks and ends with a settled, correct result", async () => {
            const env: Record<string, string> = {};
            const ids: Record<string, string> = {};
            const outputs: Record<string, string> = {};
            let exported = false;
            for (const block of sh.filter((b) => b.run)) {
                for (const cmd of commandsOf(block.body)) {
                    const { env: inline, argv } = splitEnv(cmd);
                    if (argv[0] === "export") {
                        for (const w of argv.slice(1)) {
                            const name = w.split("=")[0] as string;
                            const value = w.slice(name.length + 1);
                            // The one substitution in the exports: the port of the chain this test started.
                            env[name] = name === "VERITY_RPC_URL" ? value.replace("http://127.0.0.1:8545", url) : value;
                        }
                        exported = true;
                        continue;
                    }
                    expect(argv.slice(0, 2), cmd.join(" ")).to.deep.equal(["npx", "verity"]);
                    const args = argv.slice(2).map((w) =>
                        w.replace(/^<(\w+)>$/, (_m, name: string) => {
                            const value = ids[name];
                            if (value === undefined)
                                throw new Error(`README uses <${name}> before a command printed it`);
                            return value;
                        }),
                    );
                    const childEnv = { ...env };
                    if (inline.VERITY_PRIVATE_KEY !== undefined) childEnv.VERITY_PRIVATE_KEY = challengerKey;
                    const label = args.slice(0, 2).join(" ");
                    if (args[0] === "node" || args[0] === "challenger") {
                        // The /metrics port: a free one rather than the config's 9464/9465, as for the chain.
                        childEnv.VERITY_SERVER_PORT = String(await freePort());
                        const child = spawnVerity(args, childEnv);
                        let logs = "";
                        child.stdout?.on("data", (d: Buffer) => (logs += d.toString()));
                        child.stderr?.on("data", (d: Buffer) => (logs += d.toString()));
                        background.push({ name: args[0], child, stderr: () => logs });
                        // Started (the config is valid, the chain answered, the /metrics port was free) before
                        // the walkthrough goes on, as a user would see the "node started" line.
                        await waitUntil(`verity ${args[0]} to start`, () => {
                            if (child.exitCode !== null) throw new Error(`verity ${args[0]} exited: ${logs}`);
                            return logs.includes('"node started"');
                        });
                        continue;
                    }
                    const out = await runVerity(args, childEnv);
                    expect(out.status, `${cmd.join(" ")}\n${out.stderr}`).to.equal(0);
                    outputs[label] = out.stdout;
                    const id = /0x[0-9a-f]{64}/.exec(out.stdout)?.[0];
                    if (args[0] === "model" && args[1] === "register") ids.modelId = id ?? "";
                    if (args[0] === "request") ids.requestId = id ?? "";
                }
            }
            expect(exported).to.equal(true);
            expect(ids.modelId).to.match(/^0x[0-9a-f]{64}$/);
            expect(ids.requestId).to.match(/^0x[0-9a-f]{64}$/);

            // The request was served by the node the walkthrough started (the operator's key), with the chain's
            // own answer, and finalized.
            const manifest = JSON.parse(readFileSync(join(dir, "deployments", "31337.json"), "utf8")) as {
                contracts: Record<string, { address: string }>;
            };
            const resolver = ReexecutionResolver__factory.connect(
                manifest.contracts.reexecutionResolver?.address ?? "",
                provider,
            );
            const input = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [12n, -7n, 100n, -128n] }]);
            const [, expected] = await resolver.reexecute(ids.modelId as string, input);
            const waited = outputs["request --model"] ?? "";
            expect(waited).to.match(new RegExp(`request ${ids.requestId}: finalized`));
            const operator = new Wallet(env.VERITY_PRIVATE_KEY ?? "").address;
            expect(operator).to.equal(hardhatWallet(0).address);
            expect(waited).to.contain(`served by ${operator}`);
            const inspected = outputs[`inspect ${ids.requestId}`] ?? "";
            expect(inspected).to.contain(`request ${ids.requestId}: finalized`);
            const history = await runVerity(["inspect", ids.requestId as string, "--json"], env);
            expect((JSON.parse(history.stdout) as { output: string }).output).to.equal(expected);

            // As the README says, the build from the committed Iris MLP and samples is models/iris/iris.onnx.
            expect(keccak256(readFileSync(join(dir, "my-model.onnx")))).to.equal(
                keccak256(readFileSync(join(ROOT, "models", "iris", "iris.onnx"))),
            );

            // The node and the challenger ran until now and stop cleanly.
            expect(background.map((b) => b.name)).to.deep.equal(["node", "challenger"]);
            for (const b of background) {
                expect(b.child.exitCode, `${b.name} exited early: ${b.stderr()}`).to.equal(null);
                const exit = new Promise<number | null>((r) => b.child.on("exit", (code) => r(code)));
                b.child.kill("SIGTERM");
                expect(await exit, `${b.name}: ${b.stderr()}`).to.equal(0);
            }
        });
    });
});
