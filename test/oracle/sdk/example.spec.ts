/**
 * examples/offchain-consumer.ts run as a reader runs it, where the README's walkthrough leaves off: the chain served
 * over HTTP (as `npx hardhat node` serves it), and in a directory of its own, with the walkthrough's one key for every
 * role, `verity deploy` (which writes deployments/31337.json there), `model register`, `operator stake`,
 * `operator register-model`, `config init` and an operator node; then the example from that directory with
 * `--model <modelId>` and nothing else: the coordinator comes from the manifest, the input is the default JSON
 * tensors. Nothing is done behind the reader's back: no block is mined and no time skipped, so the model's 60 s
 * challenge window (the walkthrough's) passes in real time, as in test/docs/readme.spec.ts.
 */
import { expect } from "chai";
import { registerModelArgs } from "../../helpers/cliArgs";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "hardhat";
import { ReexecutionResolver__factory } from "../../../typechain-types";
import { loadDeployment } from "../../../oracle/src/commands/context";
import { decodeTensors, DType, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
import { hardhatWallet, startRpcServer } from "../../../scripts/localChain";
import { runNodeScript, VERITY_BIN } from "../../helpers/processes";

const ROOT = join(__dirname, "..", "..", "..");
/** What `npx ts-node` runs (npx itself would look in the registry from a temporary directory). */
const TS_NODE_BIN = join(ROOT, "node_modules", "ts-node", "dist", "bin.js");
const IRIS = join(ROOT, "models", "iris", "iris.onnx");

describe("examples/offchain-consumer.ts, run as written after the README's walkthrough", function () {
    this.timeout(300_000);
    // An account no other suite uses: the walkthrough's one key (deployer, operator and consumer alike).
    const wallet = hardhatWallet(19);
    const dir = mkdtempSync(join(tmpdir(), "verity-example-"));
    let server: Awaited<ReturnType<typeof startRpcServer>>;
    let node: ChildProcess | undefined;
    let nodeLogs = "";
    let env: NodeJS.ProcessEnv = {};

    before(async () => {
        server = await startRpcServer();
        env = { PATH: process.env.PATH, VERITY_RPC_URL: server.url, VERITY_PRIVATE_KEY: wallet.privateKey };
    });

    after(async () => {
        if (node !== undefined && node.exitCode === null) {
            const exited = new Promise((resolve) => node?.once("exit", resolve));
            node.kill("SIGTERM");
            await exited;
        }
        await server?.close();
    });

    async function verity(...args: string[]): Promise<string> {
        const run = await runNodeScript(VERITY_BIN, args, { env, cwd: dir, timeoutMs: 120_000 });
        expect(run.status, `verity ${args.join(" ")}: ${run.stderr}`).to.equal(0);
        return run.stdout;
    }

    it("requests with the manifest's coordinator and the default tensors, and prints the finalized result", async () => {
        // The README's walkthrough, up to a running operator node.
        await verity("deploy");
        const { chainId } = await ethers.provider.getNetwork();
        const deployment = loadDeployment({ deployment: join(dir, "deployments", `${chainId}.json`) }, Number(chainId));
        const registered = await verity(...registerModelArgs(IRIS, 60));
        const modelId = /0x[0-9a-f]{64}/.exec(registered)?.[0] ?? expect.fail(`no model id in: ${registered}`);
        await verity("operator", "stake", "100");
        await verity("operator", "register-model", modelId);
        await verity("config", "init", "--model", modelId);
        node = spawn(process.execPath, [VERITY_BIN, "node", "--config", "verity.config.json"], {
            env: { ...env, VERITY_SERVER_PORT: "0" },
            cwd: dir,
            stdio: ["ignore", "pipe", "pipe"],
        });
        node.stdout?.on("data", (d: Buffer) => (nodeLogs += d.toString()));
        node.stderr?.on("data", (d: Buffer) => (nodeLogs += d.toString()));
        const started = Date.now() + 60_000;
        while (!nodeLogs.includes('"node started"')) {
            if (node.exitCode !== null || Date.now() > started) expect.fail(`verity node did not start: ${nodeLogs}`);
            await new Promise((r) => setTimeout(r, 100));
        }

        // The example, as its header says to run it, in the directory `verity deploy` wrote its manifest in (the
        // repository's root in the README; here its examples/ is linked in).
        symlinkSync(join(ROOT, "examples"), join(dir, "examples"));
        const example = ["--transpile-only", "examples/offchain-consumer.ts", "--model", modelId];
        const run = await runNodeScript(TS_NODE_BIN, example, {
            env,
            cwd: dir,
            timeoutMs: 180_000,
        });
        expect(run.status, `${run.stderr}\n${run.stdout}\nnode: ${nodeLogs.slice(-3_000)}`).to.equal(0);

        const lines = run.stdout.trim().split("\n");
        expect(lines[0]).to.equal("fee: 0.01 tokens");
        const requestId = /^requested (0x[0-9a-f]{64}) in 0x[0-9a-f]{64}$/.exec(lines[1] ?? "")?.[1];
        expect(requestId, lines[1]).to.not.equal(undefined);
        // Served and finalized by the node, with the chain's own answer to the default input.
        expect(lines[2]).to.equal(`settled ${requestId}: finalized (result code 0) by operator ${wallet.address}`);
        const input = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [12n, -7n, 100n, -128n] }]);
        const resolver = ReexecutionResolver__factory.connect(
            deployment.address("reexecutionResolver"),
            ethers.provider,
        );
        const [, expected] = await resolver.reexecute(modelId, input);
        const outputs = decodeTensors(ethers.getBytes(expected)).map(
            (t, i) => `output ${i}: ${DType[t.dtype].toLowerCase()} [${t.shape.join(", ")}] = [${t.data.join(", ")}]`,
        );
        expect(lines.slice(3)).to.deep.equal(outputs);
        // The node logged the same id, in the same form.
        expect(nodeLogs).to.contain(`"request_id":"${requestId}"`);
    });
});
