/**
 * `npm run demo` in its short mode, as CI runs it: the launcher (demo/cli.ts) in a child process, which runs the
 * whole demo (chain, deployment, nodes, liar, requests) and must exit 0 with the liar slashed.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { expect } from "chai";

const ROOT = resolve(__dirname, "../..");

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env = { ...process.env };
    delete env.HARDHAT_NETWORK; // the demo runs on its own in-process network
    return new Promise((done, fail) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "demo/cli.ts", ...args], {
            cwd: ROOT,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("error", fail);
        child.on("exit", (code) => done({ code, stdout, stderr }));
    });
}

describe("npm run demo (short mode)", function () {
    this.timeout(180_000);

    it("settles every request correctly, slashes the liar and exits 0", async function () {
        const { code, stdout, stderr } = await runDemo(["--requests", "6", "--interval-ms", "500"]);
        expect(code, `demo output:\n${stdout}\n${stderr}`).to.equal(0);
        expect(stdout).to.match(/RESULT: PASS: 6\/6 requests settled with the correct result; liar slashed [1-9]/);
        expect(stdout).to.match(/requests settled\s+6\/6/);
        expect(stdout).to.match(/disputes won by the challenger\s+([1-9]\d*)\/\1/);
        expect(stdout).to.match(/stake slashed\s+[1-9][\d.]* VTT \(liar: 100\.00 VTT → /);
        // Not a terminal: plain lines, no escape codes.
        expect(stdout).not.to.include("\x1b[");
    });

    it("fails with exit code 1 and the reason when nobody challenges the liar", async function () {
        const { code, stdout } = await runDemo(["--requests", "3", "--interval-ms", "300", "--no-challenger"]);
        expect(code, stdout).to.equal(1);
        expect(stdout).to.include("RESULT: FAIL");
        expect(stdout).to.match(/request #2 \(iris, id 0x[0-9a-f]{8}…\) delivered a wrong result/);
        expect(stdout).to.include("the liar was not slashed");
    });

    it("rejects an unknown option with exit code 2 and the usage", async function () {
        const { code, stderr } = await runDemo(["--bogus"]);
        expect(code).to.equal(2);
        expect(stderr).to.include("Usage: npm run demo");
    });
});
