/**
 * The Hardhat tasks (tasks/verity.ts) on the in-process Hardhat network, run as a Hardhat user runs them
 * (`hre.run`): verity:deploy → verity:model-register → verity:stake → verity:operator-register-model →
 * verity:operator-status → verity:config-init → verity:request → verity:inspect → verity:finalize (refused) →
 * verity:cancel, each returning the same report the CLI prints, and a CLI error surfacing as a one-line
 * HardhatPluginError. `--network env` and `--network localhost` (at VERITY_LOCALHOST_URL) run as child processes.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hre, { ethers } from "hardhat";
import { HardhatPluginError } from "hardhat/plugins";
import {
    InferenceCoordinator__factory,
    MockERC20__factory,
    ModelRegistry__factory,
    Staking__factory,
} from "../../typechain-types";
import { hardhatWallet, startRpcServer } from "../../scripts/localChain";
import { VerificationMode } from "../../oracle/src/protocol/verificationMode";
import { HARDHAT_BIN, runNodeScript } from "../helpers/processes";

const IRIS = join(__dirname, "..", "..", "models", "iris", "iris.onnx");

/** Runs a task with stdout captured (the tasks print what the CLI prints). */
async function task<T>(name: string, args: Record<string, unknown>): Promise<{ result: T; stdout: string }> {
    const write = process.stdout.write.bind(process.stdout);
    let stdout = "";
    process.stdout.write = ((chunk: string | Uint8Array) => {
        stdout += chunk.toString();
        return true;
    }) as typeof process.stdout.write;
    try {
        const result = (await hre.run(name, args)) as T;
        return { result, stdout };
    } finally {
        process.stdout.write = write;
    }
}

describe("Hardhat tasks verity:* (in-process network)", function () {
    this.timeout(120_000);
    const deployment = join(mkdtempSync(join(tmpdir(), "verity-tasks-")), "deployment.json");
    let deployer = "";
    let operator = "";
    let consumer = "";
    let contracts: Record<string, string> = {};
    let modelId = "";
    let requestId = "";

    before(async () => {
        // Accounts 15..17, so that other suites' accounts are not disturbed.
        const signers = await ethers.getSigners();
        const address = (i: number): string => signers[i]?.address ?? expect.fail(`no account ${i}`);
        [deployer, operator, consumer] = [address(15), address(16), address(17)];
    });

    it("verity:deploy deploys, verifies and writes the manifest; returns the report", async () => {
        const { result, stdout } = await task<{ verified: boolean; contracts: Record<string, string> }>(
            "verity:deploy",
            { deployment, from: deployer, json: true },
        );
        expect(result.verified).to.equal(true);
        expect(existsSync(deployment)).to.equal(true);
        expect(JSON.parse(stdout)).to.have.property("verified", true);
        contracts = result.contracts;
        const coordinator = InferenceCoordinator__factory.connect(contracts.coordinator!, ethers.provider);
        expect(await coordinator.owner()).to.equal(deployer);
        expect(await coordinator.getResolver(VerificationMode.REEXECUTION)).to.equal(contracts.reexecutionResolver);
        // Again: everything reused.
        const again = await task<{ reused: number }>("verity:deploy", { deployment, from: deployer });
        expect(again.result.reused).to.equal(8);
    });

    it("verity:deploy --owner hands a new deployment over; verity:accept-ownership takes it", async () => {
        const handover = join(mkdtempSync(join(tmpdir(), "verity-tasks-")), "handover.json");
        const { result } = await task<{ verified: boolean; ownership: { pendingOwner: string | null } }>(
            "verity:deploy",
            { deployment: handover, from: deployer, owner: consumer },
        );
        expect(result.verified).to.equal(true);
        expect(result.ownership.pendingOwner).to.equal(consumer);
        const manifest = JSON.parse(readFileSync(handover, "utf8")) as {
            contracts: Record<string, { address: string }>;
        };
        const staking = Staking__factory.connect(manifest.contracts.staking!.address, ethers.provider);
        expect(await staking.hasRole(await staking.DEFAULT_ADMIN_ROLE(), deployer)).to.equal(false);
        const refused = await task("verity:accept-ownership", { deployment: handover, from: operator }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(refused).to.be.instanceOf(HardhatPluginError);
        expect((refused as Error).message).to.contain(`the pending owner is ${consumer}: use its key`);
        const accepted = await task<{ owner: string }>("verity:accept-ownership", {
            deployment: handover,
            from: consumer,
        });
        expect(accepted.result.owner).to.equal(consumer);
        const coordinator = InferenceCoordinator__factory.connect(
            manifest.contracts.coordinator!.address,
            ethers.provider,
        );
        expect(await coordinator.owner()).to.equal(consumer);
    });

    it("verity:model-register stores the program and registers the model", async () => {
        const { result, stdout } = await task<{ modelId: string; programChunksWritten: number }>(
            "verity:model-register",
            {
                onnx: IRIS,
                uri: IRIS,
                mode: "reexecution",
                fee: "0.01",
                collateral: "10",
                window: "600",
                deployment,
                from: deployer,
            },
        );
        modelId = result.modelId;
        expect(stdout).to.contain(modelId);
        expect(result.programChunksWritten).to.be.greaterThan(0);
        const registry = ModelRegistry__factory.connect(contracts.registry!, ethers.provider);
        expect((await registry.getModel(modelId)).owner).to.equal(deployer);
    });

    it("verity:stake approves and stakes from --from", async () => {
        const token = MockERC20__factory.connect(contracts.stakeToken!, await ethers.getSigner(deployer));
        await (await token.mint(operator, ethers.parseEther("20"))).wait();
        const { result } = await task<{ totalStakedWei: bigint }>("verity:stake", {
            amount: "20",
            deployment,
            from: operator,
        });
        expect(result.totalStakedWei).to.equal(ethers.parseEther("20"));
        const staking = Staking__factory.connect(contracts.staking!, ethers.provider);
        expect((await staking.getStake(operator)).stakedWei).to.equal(ethers.parseEther("20"));
    });

    it("verity:operator-register-model refuses a short stake with the CLI's message, then registers --from", async () => {
        const refused = await task("verity:operator-register-model", { modelId, deployment, from: consumer }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(refused).to.be.instanceOf(HardhatPluginError);
        expect((refused as Error).message).to.match(/insufficient stake: .* run `verity operator stake 10.0` first/);
        const { result, stdout } = await task<{ operator: string; modelId: string; transactionHash: string }>(
            "verity:operator-register-model",
            { modelId, deployment, from: operator },
        );
        expect(result).to.include({ operator, modelId });
        expect(stdout).to.contain(`${operator} now serves model ${modelId}`);
        const staking = Staking__factory.connect(contracts.staking!, ethers.provider);
        expect(await staking.isRegistered(modelId, operator)).to.equal(true);
    });

    it("verity:operator-status reports the --from account's stake and models, or the address given", async () => {
        const own = await task<{ operator: string; stakedWei: bigint; models: string[] }>("verity:operator-status", {
            deployment,
            from: operator,
        });
        expect(own.result).to.deep.include({ operator, stakedWei: ethers.parseEther("20"), models: [modelId] });
        expect(own.stdout).to.contain(`operator ${operator}`).and.to.contain(modelId);
        const other = await task<{ operator: string; models: string[] }>("verity:operator-status", {
            address: operator,
            deployment,
            json: true,
        });
        expect(other.result).to.deep.include({ operator, models: [modelId] });
        expect(JSON.parse(other.stdout)).to.include({ operator, stakedWei: ethers.parseEther("20").toString() });
    });

    it("verity:config-init on the in-process network: refused, a node cannot reach it", async () => {
        const out = join(mkdtempSync(join(tmpdir(), "verity-tasks-")), "verity.config.json");
        const error = await task("verity:config-init", { out, deployment }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(HardhatPluginError);
        expect((error as Error).message).to.match(/in-process chain, which a node cannot connect to: .*localhost/);
        expect(existsSync(out)).to.equal(false);
    });

    it("--network localhost honours VERITY_LOCALHOST_URL: verity:config-init writes a config for that URL", async () => {
        const server = await startRpcServer();
        try {
            const out = join(mkdtempSync(join(tmpdir(), "verity-tasks-localhost-")), "verity.config.json");
            const run = await runNodeScript(
                HARDHAT_BIN,
                ["verity:config-init", "--network", "localhost", "--deployment", deployment, "--out", out],
                {
                    cwd: join(__dirname, "..", ".."),
                    env: { ...process.env, VERITY_LOCALHOST_URL: server.url },
                },
            );
            expect(run.status, run.stderr).to.equal(0);
            expect(run.stdout).to.contain(`wrote ${out} (chain 31337, coordinator ${contracts.coordinator}, 1 model)`);
            const written = JSON.parse(readFileSync(out, "utf8")) as {
                chain: { rpcUrl: string; chainId: number; coordinator: string };
                models: { modelId: string }[];
                roles: { operator: boolean };
            };
            expect(written.chain).to.include({
                rpcUrl: server.url,
                chainId: 31337,
                coordinator: contracts.coordinator,
            });
            expect(written.models).to.deep.equal([{ modelId }]);
            expect(written.roles.operator).to.equal(true);
            expect(server.url).to.not.contain(":8545");
        } finally {
            await server.close();
        }
    });

    it("verity:request sends a request; verity:inspect returns its history", async () => {
        const token = MockERC20__factory.connect(contracts.stakeToken!, await ethers.getSigner(deployer));
        await (await token.mint(consumer, ethers.parseEther("1"))).wait();
        const sent = await task<{ requestId: string }>("verity:request", {
            model: modelId,
            tensors: JSON.stringify([{ dtype: "int8", shape: [1, 4], data: [1, 2, 3, 4] }]),
            deployment,
            from: consumer,
        });
        requestId = sent.result.requestId;
        expect(requestId).to.match(/^0x[0-9a-f]{64}$/);
        const { result, stdout } = await task<{ status: string; consumer: string; events: { event: string }[] }>(
            "verity:inspect",
            { requestId, deployment },
        );
        expect(result.status).to.equal("requested");
        expect(result.consumer).to.equal(consumer);
        expect(result.events.map((e) => e.event)).to.deep.equal(["InferenceRequested"]);
        expect(stdout).to.contain(`request ${requestId}: requested`);
    });

    it("verity:dispute of an unserved request: a HardhatPluginError with the CLI's one-line message", async () => {
        const error = await task("verity:dispute", { requestId, deployment, from: deployer }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(HardhatPluginError);
        expect((error as Error).message).to.match(/has no result yet: dispute it after an operator submits one/);
    });

    it("verity:finalize of an unserved request: refused with the CLI's message", async () => {
        const error = await task("verity:finalize", { requestId, deployment, from: deployer }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(HardhatPluginError);
        expect((error as Error).message).to.match(/has no result yet: an operator must submit one first/);
    });

    it("verity:cancel after the deadline returns the fee to the consumer's balance", async () => {
        const coordinator = InferenceCoordinator__factory.connect(contracts.coordinator!, ethers.provider);
        const before = await coordinator.balanceOf(consumer);
        await hre.network.provider.send("evm_increaseTime", [3_601]);
        await hre.network.provider.send("evm_mine", []);
        const { result } = await task<{ status: string }>("verity:cancel", { requestId, deployment, from: consumer });
        expect(result.status).to.equal("cancelled");
        expect(await coordinator.balanceOf(consumer)).to.equal(before + (await coordinator.quoteFee(modelId, 0)));
    });

    it("--network env: `npx hardhat verity:deploy --network env` deploys to VERITY_RPC_URL with VERITY_PRIVATE_KEY", async () => {
        const server = await startRpcServer();
        try {
            const wallet = hardhatWallet(18);
            const manifest = join(mkdtempSync(join(tmpdir(), "verity-tasks-env-")), "env.json");
            const out = await runNodeScript(
                HARDHAT_BIN,
                ["verity:deploy", "--network", "env", "--deployment", manifest, "--json"],
                {
                    cwd: join(__dirname, "..", ".."),
                    env: { ...process.env, VERITY_RPC_URL: server.url, VERITY_PRIVATE_KEY: wallet.privateKey },
                },
            );
            expect(out.status, out.stderr).to.equal(0);
            const report = JSON.parse(out.stdout) as { verified: boolean };
            expect(report.verified).to.equal(true);
            const written = JSON.parse(readFileSync(manifest, "utf8")) as { deployer: string; chainId: number };
            expect(written).to.include({ deployer: wallet.address, chainId: 31337 });
        } finally {
            await server.close();
        }
    });

    it("docs/cli.md has a row for every verity:* task, and none for a task that does not exist", () => {
        const doc = readFileSync(join(__dirname, "..", "..", "docs", "cli.md"), "utf8");
        const section = doc.slice(doc.indexOf("## Hardhat tasks"));
        const documented = [...section.matchAll(/^\| `(verity:[a-z-]+)/gm)].map((m) => m[1]);
        const registered = Object.keys(hre.tasks).filter((name) => name.startsWith("verity:"));
        expect(documented.sort()).to.deep.equal(registered.sort());
    });

    it("verity:inspect of an unknown request: a HardhatPluginError saying to check the id", async () => {
        const error = await task("verity:inspect", { requestId: "0x1234", deployment }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(HardhatPluginError);
        expect((error as Error).message).to.match(/no request 0x0+1234 on the coordinator .*: check the id/);
    });
});
