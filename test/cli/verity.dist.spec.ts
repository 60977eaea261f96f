/**
 * How the `verity` command runs: the CLI compiled to dist/ by `npm run build` (npm ci runs it, "postprepare"), with no
 * TypeScript at run time, and a clear refusal instead of a stack trace, or of old code, when dist/ is missing or
 * older than its sources (bin/verity.js, scripts/buildCli.js).
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BUILD_CLI, VERITY_BIN } from "../helpers/processes";

const ROOT = join(__dirname, "..", "..");

/**
 * Preloaded into the runs below (and inherited by their worker threads): TypeScript cannot be loaded, neither the
 * compilers nor any .ts file.
 */
const NO_TYPESCRIPT = `const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
    if (/^(ts-node|typescript)(\\/|$)/.test(request) || request.endsWith(".ts")) {
        throw new Error("loaded at run time: " + request);
    }
    return load.call(this, request, ...rest);
};
`;

function node(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
    const run = spawnSync(process.execPath, args, {
        cwd,
        env: { PATH: process.env.PATH },
        encoding: "utf8",
        timeout: 60_000,
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A directory holding bin/verity.js and scripts/buildCli.js as in the repository, and whatever `files` adds. */
function installCopy(files: Record<string, string> = {}): string {
    const dir = mkdtempSync(join(tmpdir(), "verity-dist-"));
    for (const [path, content] of Object.entries({
        "bin/verity.js": readFileSync(VERITY_BIN, "utf8"),
        "scripts/buildCli.js": readFileSync(BUILD_CLI, "utf8"),
        ...files,
    })) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
    }
    return dir;
}

describe("verity command: compiled to dist/", function () {
    this.timeout(120_000);
    const dirs: string[] = [];
    const copy = (files?: Record<string, string>): string => {
        const dir = installCopy(files);
        dirs.push(dir);
        return dir;
    };
    after(() => {
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it("npm ci and npm install build it: postprepare runs npm run build (contracts, then dist/)", () => {
        const { scripts } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
            scripts: Record<string, string>;
        };
        expect(scripts.postprepare).to.equal("npm run build");
        expect(scripts.build).to.equal("hardhat compile --quiet && node scripts/buildCli.js");
        // Not "prepare": npx links the project into its cache as a dependency, for which prepare is an install
        // script that strict-allow-scripts refuses (and would otherwise run, rebuilding on a first npx).
        expect(scripts).to.not.have.property("prepare");
    });

    it("npx verity --help works in the repository (npx installs no script and builds nothing)", () => {
        // An empty npm cache, as on a fresh machine: npx links the project into its cache on first use, and that
        // install is where strict-allow-scripts would refuse an install script.
        const cache = mkdtempSync(join(tmpdir(), "verity-npm-cache-"));
        dirs.push(cache);
        const run = spawnSync("npx", ["verity", "--help"], {
            cwd: ROOT,
            env: { ...process.env, npm_config_cache: cache },
            encoding: "utf8",
            timeout: 60_000,
        });
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stdout).to.match(/^Usage: verity /);
    });

    describe("from dist/ alone (no TypeScript sources, no root typechain-types, ts-node unloadable)", () => {
        let dir = "";
        before(() => {
            // The root hook (test/helpers/processes.ts) has brought dist/ up to date.
            dir = copy({ "no-typescript.js": NO_TYPESCRIPT });
            cpSync(join(ROOT, "dist"), join(dir, "dist"), { recursive: true });
            symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
        });

        it("--help lists the commands and exits 0", () => {
            const run = node(["--require", "./no-typescript.js", "bin/verity.js", "--help"], dir);
            expect(run.status, run.stderr).to.equal(0);
            expect(run.stderr).to.equal("");
            expect(run.stdout).to.match(/^Usage: verity /);
            expect(run.stdout).to.match(/^ {2}node \[options\]/m);
        });

        it("an inference worker starts from dist/ (executorWorker.js) and runs a model", () => {
            const script = `
                const { Executor } = require("./dist/oracle/src/runtime/executor");
                const { tinyIntegerModel } = require("./dist/models/examples");
                const { DType, encodeTensors } = require("./dist/oracle/src/protocol/tensorCodec");
                (async () => {
                    const model = tinyIntegerModel();
                    const executor = new Executor({ concurrency: 1, timeoutMs: 30000 });
                    await executor.load("tiny", model.onnx, model.manifest);
                    const input = encodeTensors([{ dtype: DType.INT32, shape: [1, 4], data: [1n, 2n, 3n, 4n] }]);
                    const result = await executor.run("tiny", input);
                    await executor.close();
                    process.stdout.write(String(result.resultCode));
                })().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });
            `;
            const run = node(["--require", "./no-typescript.js", "-e", script], dir);
            expect(run.status, run.stderr).to.equal(0);
            expect(run.stdout).to.equal("0"); // ResultCode.OK
        });
    });

    it("without dist/: one line saying to run npm run build, exit 1", () => {
        const run = node(["bin/verity.js", "--help"], copy());
        expect(run.status).to.equal(1);
        expect(run.stdout).to.equal("");
        expect(run.stderr).to.equal("error: verity is not built (no dist/build.json): run `npm run build`\n");
    });

    it("refuses a dist/ older than a source it was built from, naming it; runs it otherwise", () => {
        const builtAt = Date.UTC(2001, 0, 1);
        const dir = copy({
            "dist/build.json": JSON.stringify({ startedAtMs: builtAt, sources: ["oracle/src/cli.ts", "gone.ts"] }),
            "dist/oracle/src/cli.js": `exports.main = async (argv) => process.stdout.write("ran " + argv[2] + "\\n");`,
            "oracle/src/cli.ts": "// edited",
        });
        const source = join(dir, "oracle", "src", "cli.ts");

        // Older than the build (and gone.ts absent, as in a copy without sources): it runs.
        utimesSync(source, new Date(Date.UTC(2000, 0, 1)), new Date(Date.UTC(2000, 0, 1)));
        const fresh = node(["bin/verity.js", "--help"], dir);
        expect(fresh.status, fresh.stderr).to.equal(0);
        expect(fresh.stdout).to.equal("ran --help\n");

        // Changed after the build started: refused before anything runs.
        utimesSync(source, new Date(Date.UTC(2002, 0, 1)), new Date(Date.UTC(2002, 0, 1)));
        const stale = node(["bin/verity.js", "--help"], dir);
        expect(stale.status).to.equal(1);
        expect(stale.stdout).to.equal("");
        expect(stale.stderr).to.equal(
            "error: dist/ is older than oracle/src/cli.ts (changed since the last build): run `npm run build`\n",
        );
    });
});
