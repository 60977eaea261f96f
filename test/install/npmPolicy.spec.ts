/**
 * How `npm ci` treats this project on a machine without internet: no dependency runs an install script that the
 * project has not reviewed (onnxruntime-node's would download CUDA libraries), and npm reads the project's
 * `.npmrc` without complaint (an unknown key there once printed a warning before every `npx` command).
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    engines: Record<string, string>;
    allowScripts: Record<string, boolean>;
};

function npm(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const run = spawnSync("npm", args, { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("npm install policy", function () {
    this.timeout(60_000);

    it("reads the project's .npmrc without a warning", function () {
        const run = npm(["config", "list"]);
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stderr).not.to.match(/warn/i);
        // The settings that make the policy binding are the ones npm actually loaded from the project.
        expect(run.stdout).to.match(/^engine-strict = true$/m);
        expect(run.stdout).to.match(/^strict-allow-scripts = true$/m);
    });

    it("denies onnxruntime-node's install script and leaves no installed script unreviewed", function () {
        expect(PACKAGE.allowScripts["onnxruntime-node"]).to.equal(false);
        const run = npm(["approve-scripts", "--allow-scripts-pending"]);
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stdout).to.contain("No packages with unreviewed install scripts");
    });

    it("requires an npm that enforces allowScripts (11.16 or later)", function () {
        expect(PACKAGE.engines.npm).to.equal(">=11.16.0");
    });
});
