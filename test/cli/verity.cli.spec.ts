/**
 * The `verity` command as a user runs it: a child process, exit codes and messages.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptKeystoreJson, keccak256, Wallet } from "ethers";
import { VERITY_BIN } from "../helpers/processes";

function verity(
    args: string[],
    env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [VERITY_BIN, ...args], {
        env: { PATH: process.env.PATH, ...env },
        encoding: "utf8",
        timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const VALID = {
    chain: {
        rpcUrl: "http://127.0.0.1:8545",
        chainId: 31337,
        coordinator: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    },
    key: { source: "env" },
    models: [{ modelId: `0x${"11".repeat(32)}` }],
};

describe("verity CLI", function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), "verity-cli-"));
    const file = (name: string, content: unknown): string => {
        const path = join(dir, name);
        writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
        return path;
    };

    it("--help lists every command and exits 0; a command's --help lists its options", () => {
        const out = verity(["--help"]);
        expect(out.status, out.stderr).to.equal(0);
        for (const command of [
            "node",
            "challenger",
            "config",
            "model",
            "deploy",
            "operator",
            "request",
            "inspect",
            "finalize",
            "cancel",
            "dispute",
        ]) {
            expect(out.stdout).to.match(new RegExp(`^  ${command}\\b`, "m"));
        }
        const request = verity(["request", "--help"]);
        expect(request.status, request.stderr).to.equal(0);
        for (const option of ["--model <id>", "--tensors <json>", "--wait", "--finalize", "--timeout <seconds>"]) {
            expect(request.stdout).to.contain(option);
        }
    });

    it("an unknown command or option: exit 1 with commander's message", () => {
        const command = verity(["reqest"]);
        expect(command.status).to.equal(1);
        expect(command.stderr).to.contain("unknown command 'reqest'");
        const option = verity(["inspect", "0x01", "--jsn"]);
        expect(option.status).to.equal(1);
        expect(option.stderr).to.contain("unknown option '--jsn'");
    });

    it("config check prints the config with defaults applied", () => {
        const out = verity(["config", "check", "--config", file("ok.json", VALID)]);
        expect(out.status, out.stderr).to.equal(0);
        const config = JSON.parse(out.stdout) as {
            chain: { confirmations: number };
            inference: { concurrency: number };
        };
        expect(config.chain.confirmations).to.equal(2);
        expect(config.inference.concurrency).to.equal(2);
    });

    it("config check names the bad field and exits 1", () => {
        const bad = { ...VALID, chain: { ...VALID.chain, coordinator: "0x1234" } };
        const out = verity(["config", "check", "--config", file("bad.json", bad)]);
        expect(out.status).to.equal(1);
        expect(out.stderr).to.contain("Invalid config: chain.coordinator");
    });

    it("environment variables override the file and are validated too", () => {
        const out = verity(["config", "check", "--config", file("env.json", VALID)], { VERITY_CONFIRMATIONS: "lots" });
        expect(out.status).to.equal(1);
        expect(out.stderr).to.contain("chain.confirmations (from VERITY_CONFIRMATIONS)");
    });

    it("node refuses to start without its key, naming the variable and not printing any secret", () => {
        const out = verity(["node", "--config", file("nokey.json", VALID)]);
        expect(out.status).to.equal(1);
        expect(out.stderr).to.contain("VERITY_PRIVATE_KEY");
    });

    it("node refuses to start against an unreachable chain with a clear error", () => {
        const key = `0x${"ab".repeat(32)}`;
        const unreachable = { ...VALID, chain: { ...VALID.chain, rpcUrl: "http://127.0.0.1:9", rpcTimeoutMs: 200 } };
        const out = verity(["node", "--config", file("unreachable.json", unreachable)], { VERITY_PRIVATE_KEY: key });
        expect(out.status).to.equal(1);
        expect(out.stderr).to.match(/127\.0\.0\.1:9/);
        expect(out.stderr + out.stdout).to.not.contain("ab".repeat(32));
    });

    it("node decrypts an encrypted keystore with the password from the environment", async () => {
        const wallet = Wallet.createRandom();
        const keystore = await encryptKeystoreJson(
            { address: wallet.address, privateKey: wallet.privateKey },
            "correct horse",
            { scrypt: { N: 1024 } },
        );
        const config = {
            ...VALID,
            chain: { ...VALID.chain, rpcUrl: "http://127.0.0.1:9", rpcTimeoutMs: 200 },
            key: { source: "keystore", path: file("keystore.json", keystore) },
        };
        const path = file("keystore-config.json", config);
        // Right password: the key loads, and start-up gets as far as the (unreachable) chain.
        const ok = verity(["node", "--config", path], { VERITY_KEYSTORE_PASSWORD: "correct horse" });
        expect(ok.status).to.equal(1);
        expect(ok.stderr).to.match(/127\.0\.0\.1:9/);
        // Wrong password: refused before any chain access, naming the keystore, never echoing the password.
        const bad = verity(["node", "--config", path], { VERITY_KEYSTORE_PASSWORD: "battery staple" });
        expect(bad.status).to.equal(1);
        expect(bad.stderr).to.contain("keystore.json");
        expect(bad.stderr).to.not.contain("battery staple");
        expect(bad.stderr).to.not.match(/127\.0\.0\.1:9/);
        expect(bad.stderr + ok.stderr + ok.stdout).to.not.contain(wallet.privateKey.slice(2));
    });

    it("challenger runs the challenger role alone and wants challenger.maxBondWei", () => {
        const noBond = file("challenger-no-bond.json", VALID);
        const refused = verity(["challenger", "--config", noBond], { VERITY_PRIVATE_KEY: `0x${"11".repeat(32)}` });
        expect(refused.status).to.equal(1);
        expect(refused.stderr).to.contain("challenger.maxBondWei: required when the challenger role is on");
        const config = {
            ...VALID,
            chain: { ...VALID.chain, rpcUrl: "http://127.0.0.1:9", rpcTimeoutMs: 200 },
            challenger: { maxBondWei: "1000000000000000000" },
        };
        // With a bond cap it gets as far as the (unreachable) chain.
        const started = verity(["challenger", "--config", file("challenger.json", config)], {
            VERITY_PRIVATE_KEY: `0x${"11".repeat(32)}`,
        });
        expect(started.status).to.equal(1);
        expect(started.stderr).to.match(/127\.0\.0\.1:9/);
    });

    it("a missing config file is reported by path", () => {
        const out = verity(["config", "check", "--config", join(dir, "nope.json")]);
        expect(out.status).to.equal(1);
        expect(out.stderr).to.contain("nope.json");
    });

    describe("model", function () {
        const IRIS = join(__dirname, "..", "..", "models", "iris");

        it("check: a subset model's ops, MACs, ranges, program hash and gas (text and JSON)", () => {
            const text = verity(["model", "check", join(IRIS, "iris.onnx")]);
            expect(text.status, text.stderr).to.equal(0);
            expect(text.stdout).to.match(/MatMulInteger ×2/);
            expect(text.stdout).to.match(/MACs: +56/);
            const json = verity(["model", "check", join(IRIS, "iris.onnx"), "--json"]);
            const report = JSON.parse(json.stdout) as { macs: number; programHash: string; gas: { total: number } };
            expect(report.macs).to.equal(56);
            expect(report.programHash).to.match(/^0x[0-9a-f]{64}$/);
            expect(report.gas.total).to.be.greaterThan(0);
        });

        it("check: a model outside the subset fails with exit 1 naming the node and op", () => {
            const out = verity(["model", "check", join(__dirname, "..", "..", "models", "tiny-int.onnx")]);
            expect(out.status).to.equal(1);
            expect(out.stderr).to.match(/node 0 \(Mul_0\) \(Mul\): element 0 of "xw" can reach/);
        });

        it("compile: writes the program whose keccak256 is the printed programHash", () => {
            const out = join(dir, "iris.program");
            const res = verity(["model", "compile", join(IRIS, "iris.onnx"), "--out", out, "--json"]);
            expect(res.status, res.stderr).to.equal(0);
            const report = JSON.parse(res.stdout) as { programHash: string; programBytes: number };
            const bytes = readFileSync(out);
            expect(bytes.length).to.equal(report.programBytes);
            expect(keccak256(bytes)).to.equal(report.programHash);
        });

        it("build: quantizes a float MLP and reports accuracy on labelled data; bad data is named", () => {
            const data = file("samples.json", [
                { x: [5.1, 3.5, 1.4, 0.2], label: 0 },
                { x: [6.7, 3.0, 5.2, 2.3], label: 2 },
            ]);
            const out = join(dir, "built.onnx");
            const res = verity(["model", "build", "--mlp", join(IRIS, "iris-mlp.json"), "--data", data, "--out", out]);
            expect(res.status, res.stderr).to.equal(0);
            expect(res.stdout).to.match(/accuracy on 2 samples: float 1\.0000, quantized 1\.0000/);
            expect(verity(["model", "check", out]).status).to.equal(0);
            const bad = file("bad.json", [{ x: [1, 2], label: -1 }]);
            const refused = verity([
                "model",
                "build",
                "--mlp",
                join(IRIS, "iris-mlp.json"),
                "--data",
                bad,
                "--out",
                out,
            ]);
            expect(refused.status).to.equal(1);
            expect(refused.stderr).to.contain("bad.json: [0].label: ");
        });
    });
});
