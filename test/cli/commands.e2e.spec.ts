/**
 * The chain-facing `verity` commands end to end, as a user runs them: the real binary in a child process against
 * the in-process Hardhat chain served over HTTP. deploy → model register → operator stake + register-model →
 * request --wait (served by a direct submission from the test) → inspect → dispute (a wrong result: won, the operator
 * slashed; a correct one: refused without a transaction); and the error paths (bad RPC URL, missing key, unfunded
 * key, bad model file, insufficient stake).
 */
import { expect } from "chai";
import { registerModelArgs } from "../helpers/cliArgs";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import hre, { ethers } from "hardhat";
import { Wallet } from "ethers";
import {
    InferenceCoordinator__factory,
    MockERC20__factory,
    ModelRegistry__factory,
    ProgramStore__factory,
    ReexecutionResolver__factory,
    Staking__factory,
} from "../../typechain-types";
import { requestFromRequested } from "../../oracle/src/chain/requestEvents";
import { challengeCommitment } from "../../oracle/src/chain/coordinator";
import { decodeTensors, DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { RESULT_CODE_MEANINGS } from "../../oracle/src/protocol/resultCodes";
import { VerificationMode } from "../../oracle/src/protocol/verificationMode";
import { hardhatWallet, serveChainDuringSuite, waitFor } from "../e2e/harness";
import { runNodeScript, VERITY_BIN, type ProcessRun } from "../helpers/processes";

const IRIS = join(__dirname, "..", "..", "models", "iris", "iris.onnx");

/** The real binary, in the suite's working directory. */
function verity(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<ProcessRun> {
    return runNodeScript(VERITY_BIN, args, { env: { PATH: process.env.PATH, ...env }, cwd });
}

/** What `verity dispute --json` prints (bigints as decimal strings). */
interface DisputeJson {
    outcome: string;
    slashedWei: string;
    challengerPayoutWei: string;
    bondWei: string;
    operator: string;
    chainSaysWrong: boolean;
    salt: string;
    commitment: string;
    commitBlock: number;
    commitTransactionHash?: string;
    transactionHash: string;
}

/**
 * A JSON-RPC proxy to `target` that simulates transactions on the latest block rather than the pending one, as geth
 * does (`eth_estimateGas` gets the block tag "latest"): a reveal in the commitment's own block is then refused.
 */
async function startEstimateAtLatestProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
    const atLatest = (call: { method?: string; params?: unknown[] }) =>
        call.method === "eth_estimateGas" && call.params?.length === 1
            ? { ...call, params: [...call.params, "latest"] }
            : call;
    const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
            const rewritten = Array.isArray(body) ? body.map(atLatest) : atLatest(body as { method?: string });
            void fetch(target, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify(rewritten),
            })
                .then(async (answer) => {
                    res.writeHead(answer.status, { "content-type": "application/json" });
                    res.end(await answer.text());
                })
                .catch(() => res.destroy());
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

interface Manifest {
    chainId: number;
    block: number;
    verified: boolean;
    complete: boolean;
    contracts: Record<string, { address: string }>;
}

describe("verity CLI against a chain (deploy, model, operator, request, inspect, dispute)", function () {
    this.timeout(180_000);
    const rpc = serveChainDuringSuite();
    const dir = mkdtempSync(join(tmpdir(), "verity-cli-e2e-"));
    // Accounts 10..13 of Hardhat's mnemonic, so other suites' fixtures (accounts 0..9) are not disturbed.
    const deployer = hardhatWallet(10);
    const publisher = hardhatWallet(11);
    const operator = hardhatWallet(12);
    const consumer = hardhatWallet(13);
    const challenger = hardhatWallet(14);
    const as = (wallet: Wallet, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
        VERITY_RPC_URL: rpc.url(),
        VERITY_PRIVATE_KEY: wallet.privateKey,
        ...extra,
    });
    const run = (args: string[], env: NodeJS.ProcessEnv) => verity(args, env, dir);
    /** `model register` as QUORUM with a nominal fee, collateral and window: for the refusals before any transaction. */
    const registerQuorum = (file: string, uri: string): string[] => [
        "model",
        "register",
        file,
        "--uri",
        uri,
        "--mode",
        "quorum",
        "--fee",
        "0",
        "--collateral",
        "1",
        "--window",
        "600",
    ];
    const manifestPath = join(dir, "deployments", "31337.json");
    const manifest = (): Manifest => JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
    let modelId = "";
    let requestId = "";

    /** What `verity inspect --json` prints of a result (bigints as decimal strings). */
    interface InspectJson {
        status: string;
        input: string;
        operator: string;
        resultCode: number;
        result: { code: number; name: string; meaning: string };
        output?: string;
        outputTensors?: { dtype: string; shape: number[]; data: string[] }[];
        submitted?: { result: { code: number; name: string }; output: string };
        correctedBy?: number;
        disputes: { challenger: string; transactionHash: string; operatorAtFault?: boolean }[];
        events: { event: string; source: string }[];
    }
    /** The request whose wrong result the first dispute test corrects. */
    let correctedId = "";

    /**
     * A request from the consumer (deadline `deadlineSeconds` away, input `input`), served by the operator with the
     * chain's answer or a wrong one, or not served at all.
     */
    async function servedRequest(
        served: "right" | "wrong" | "unserved",
        deadlineSeconds = 3600,
        input = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [12n, -7n, 100n, -128n] }]),
    ): Promise<string> {
        const m = manifest();
        const coordinatorAddress = m.contracts.coordinator?.address ?? "";
        const consumerSigner = await ethers.getSigner(consumer.address);
        const coordinator = InferenceCoordinator__factory.connect(coordinatorAddress, consumerSigner);
        const token = MockERC20__factory.connect(m.contracts.stakeToken?.address ?? "", consumerSigner);
        const fee = await coordinator.quoteFee(modelId, 0);
        await (await token.mint(consumer.address, fee)).wait();
        await (await token.approve(coordinatorAddress, fee)).wait();
        await (await coordinator.deposit(consumer.address, fee)).wait();
        const now = (await ethers.provider.getBlock("latest"))!.timestamp;
        const receipt = await (
            await coordinator.requestInference(modelId, input, {
                callbackGasLimit: 0,
                deadline: now + deadlineSeconds,
                preferredOperator: ethers.ZeroAddress,
                maxFeeWei: fee,
            })
        ).wait();
        const requested = receipt!.logs
            .map((l) => coordinator.interface.parseLog(l))
            .find((e) => e?.name === "InferenceRequested")!;
        const request = requestFromRequested(requested);
        if (served === "unserved") return ethers.toBeHex(request.requestId, 32);
        const resolver = ReexecutionResolver__factory.connect(
            m.contracts.reexecutionResolver?.address ?? "",
            ethers.provider,
        );
        const [resultCode, output] = await resolver.reexecute(modelId, input);
        const bytes = ethers.getBytes(output);
        if (served === "wrong") bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
        const opSigner = await ethers.getSigner(operator.address);
        await (await coordinator.connect(opSigner).submitResult(request, resultCode, bytes, ethers.ZeroHash)).wait();
        return ethers.toBeHex(request.requestId, 32);
    }

    describe("error paths before a deployment", () => {
        it("no RPC URL: exit 1, says to pass --rpc-url or set VERITY_RPC_URL", async () => {
            const out = await run(["deploy"], { VERITY_PRIVATE_KEY: deployer.privateKey });
            expect(out.status).to.equal(1);
            expect(out.stderr).to.match(/no RPC URL: pass --rpc-url <url> or set VERITY_RPC_URL/);
        });

        it("unreachable RPC URL: exit 3, names the origin and what to check", async () => {
            const out = await run(["operator", "status", "--rpc-url", "http://127.0.0.1:9"], as(deployer));
            expect(out.status).to.equal(3);
            expect(out.stderr).to.match(/cannot reach the chain at http:\/\/127\.0\.0\.1:9/);
            expect(out.stderr.trim().split("\n")).to.have.length(1);
        });

        it("missing key: exit 1, names VERITY_PRIVATE_KEY", async () => {
            const out = await run(["deploy"], { VERITY_RPC_URL: rpc.url() });
            expect(out.status).to.equal(1);
            expect(out.stderr).to.contain("set VERITY_PRIVATE_KEY");
        });

        it("unfunded key: exit 4, names the account to fund, writes nothing", async () => {
            const empty = Wallet.createRandom();
            const out = await run(
                ["deploy", "--deployment", join(dir, "unfunded.json")],
                as(new Wallet(empty.privateKey)),
            );
            expect(out.status).to.equal(4);
            expect(out.stderr).to.contain(`${empty.address} has no native balance to pay gas: fund it`);
        });

        it("an owner under the wrong module, or differing from --owner: exit 1, nothing deployed", async () => {
            const params = join(dir, "owner-params.json");
            writeFileSync(params, JSON.stringify({ Verity: { owner: challenger.address } }));
            const misplaced = await run(
                ["deploy", "--params", params, "--deployment", join(dir, "owner.json")],
                as(deployer),
            );
            expect(misplaced.status).to.equal(1);
            expect(misplaced.stderr).to.contain('"owner" belongs under "VerityHandover"');
            writeFileSync(params, JSON.stringify({ Verity: {}, VerityHandover: { owner: challenger.address } }));
            const differing = await run(
                ["deploy", "--params", params, "--owner", publisher.address, "--deployment", join(dir, "owner.json")],
                as(deployer),
            );
            expect(differing.status).to.equal(1);
            expect(differing.stderr).to.contain(`--owner ${publisher.address} and the owner ${challenger.address}`);
            expect(existsSync(join(dir, "owner.json"))).to.equal(false);
        });

        it("a parameters file with a bad value: exit 1 naming it, nothing deployed", async () => {
            const params = join(dir, "bad-params.json");
            writeFileSync(params, JSON.stringify({ Verity: { minCollateralWei: "0.1" } }));
            const out = await run(["deploy", "--params", params, "--deployment", join(dir, "bad.json")], as(deployer));
            expect(out.status).to.equal(1);
            expect(out.stderr).to.contain('parameter "minCollateralWei" must be a non-negative integer');
            expect(existsSync(join(dir, "bad.json"))).to.equal(false);
        });

        it("request --finalize without --wait, or a bad --timeout: exit 1 before anything is sent", async () => {
            const tensors = '[{"dtype":"int8","shape":[1,1],"data":[1]}]';
            const finalize = await run(
                ["request", "--model", ethers.ZeroHash, "--tensors", tensors, "--finalize"],
                as(consumer),
            );
            expect(finalize.status).to.equal(1);
            expect(finalize.stderr).to.contain("--finalize needs --wait");
            const timeout = await run(
                ["request", "--model", ethers.ZeroHash, "--tensors", tensors, "--wait", "--timeout", "soon"],
                as(consumer),
            );
            expect(timeout.status).to.equal(1);
            expect(timeout.stderr).to.contain('--timeout must be a number of seconds, not "soon"');
        });

        it("no manifest: exit 1, says to run verity deploy", async () => {
            const out = await run(["operator", "status", "--deployment", join(dir, "nope.json")], as(operator));
            expect(out.status).to.equal(1);
            expect(out.stderr).to.match(/no deployment manifest at .*nope\.json: run `verity deploy` first/);
        });

        it("model hash of a file that is not a model: exit 1 naming the file", async () => {
            const bad = join(dir, "notes.onnx");
            writeFileSync(bad, "not a model");
            const out = await run(["model", "hash", bad], {});
            expect(out.status).to.equal(1);
            expect(out.stderr).to.match(/notes\.onnx is not an ONNX model/);
        });
    });

    describe("the happy path", () => {
        it("deploy: deploys, verifies, writes deployments/31337.json (roles and resolver read back)", async () => {
            const out = await run(["deploy", "--json"], as(deployer));
            expect(out.status, out.stderr).to.equal(0);
            const report = JSON.parse(out.stdout) as {
                verified: boolean;
                reused: number;
                contracts: Record<string, string>;
            };
            expect(report.verified).to.equal(true);
            expect(report.reused).to.equal(0);
            const m = manifest();
            expect(m).to.include({ chainId: 31337, complete: true, verified: true });
            const a = (k: string) => m.contracts[k]?.address ?? "";
            const staking = Staking__factory.connect(a("staking"), ethers.provider);
            expect(await staking.hasRole(ethers.id("SLASHER_ROLE"), a("coordinator"))).to.equal(true);
            const coordinator = InferenceCoordinator__factory.connect(a("coordinator"), ethers.provider);
            expect(await coordinator.getResolver(VerificationMode.REEXECUTION)).to.equal(a("reexecutionResolver"));
            expect(await coordinator.owner()).to.equal(deployer.address);
        });

        it("deploy again: reuses everything it recorded (idempotent)", async () => {
            const before = manifest();
            // The parameters file in Ignition's nested form (the default delay: nothing changes).
            const params = join(dir, "params.json");
            // minCollateralWei as Ignition writes bigints ("…n").
            writeFileSync(
                params,
                JSON.stringify({
                    Verity: { unbondingDelaySeconds: 7 * 86_400, minCollateralWei: "100000000000000000n" },
                }),
            );
            const out = await run(["deploy", "--params", params, "--json"], as(deployer));
            expect(out.status, out.stderr).to.equal(0);
            expect((JSON.parse(out.stdout) as { reused: number }).reused).to.equal(8);
            expect(manifest().contracts).to.deep.equal(before.contracts);
        });

        it("deploy again with other parameters: exit 1 naming them, the manifest untouched", async () => {
            const before = readFileSync(manifestPath, "utf8");
            const params = join(dir, "other-params.json");
            writeFileSync(params, JSON.stringify({ unbondingDelaySeconds: 86_400 }));
            const out = await run(["deploy", "--params", params], as(deployer));
            expect(out.status).to.equal(1);
            expect(out.stderr).to.contain("was deployed with other parameters (unbondingDelaySeconds)");
            expect(readFileSync(manifestPath, "utf8")).to.equal(before);
        });

        it("model hash prints the registration hashes", async () => {
            const out = await run(["model", "hash", IRIS, "--json"], {});
            expect(out.status, out.stderr).to.equal(0);
            const h = JSON.parse(out.stdout) as { onnxHash: string; programHash: string };
            expect(h.onnxHash).to.equal(ethers.keccak256(readFileSync(IRIS)));
            expect(h.programHash).to.match(/^0x[0-9a-f]{64}$/);
        });

        it("model register: stores the program in chunks and registers; prints the model id", async () => {
            const out = await run([...registerModelArgs(IRIS, 600), "--json"], as(publisher));
            expect(out.status, out.stderr).to.equal(0);
            const report = JSON.parse(out.stdout) as {
                modelId: string;
                programHash: string;
                programChunksWritten: number;
            };
            modelId = report.modelId;
            expect(report.programChunksWritten).to.be.greaterThan(0);
            const m = manifest();
            const registry = ModelRegistry__factory.connect(m.contracts.registry?.address ?? "", ethers.provider);
            const model = await registry.getModel(modelId);
            expect(model.owner).to.equal(publisher.address);
            expect(model.programHash).to.equal(report.programHash);
            const store = ProgramStore__factory.connect(m.contracts.programStore?.address ?? "", ethers.provider);
            expect(await store.exists(report.programHash)).to.equal(true);
            // Again with the same salt: recognised, not refused.
            const again = await run(registerModelArgs(IRIS, 600), as(publisher));
            expect(again.status, again.stderr).to.equal(0);
            expect(again.stdout).to.contain("already registered");
        });

        it("model register with a --mode that is no mode, even a name Object.prototype has: usage error", async () => {
            for (const mode of ["constructor", "__proto__", "optimistic"]) {
                const args = registerQuorum(IRIS, "x");
                args[args.indexOf("quorum")] = mode;
                const out = await run(args, as(publisher));
                expect(out.status, mode).to.equal(1);
                expect(out.stderr, mode).to.contain(`invalid --mode "${mode}"`);
            }
        });

        it("model register of a bad file: exit 1 before any transaction", async () => {
            const out = await run(registerQuorum(join(dir, "missing.onnx"), "x"), as(publisher));
            expect(out.status).to.equal(1);
            expect(out.stderr).to.match(/cannot read model file .*missing\.onnx: ENOENT/);
        });

        it("model register with a --uri holding another file: exit 1 before any transaction", async () => {
            const other = join(__dirname, "..", "..", "models", "tiny-int.onnx");
            const nonce = await ethers.provider.getTransactionCount(publisher.address);
            const out = await run(registerQuorum(IRIS, other), as(publisher));
            expect(out.status).to.equal(1);
            expect(out.stderr).to.match(
                /--uri .*tiny-int\.onnx holds another file than the one registered .*: operators would refuse it/,
            );
            const ftp = await run(registerQuorum(IRIS, "ftp://x/y.onnx"), as(publisher));
            expect(ftp.status).to.equal(1);
            expect(ftp.stderr).to.contain('scheme "ftp" is not one operators fetch');
            expect(await ethers.provider.getTransactionCount(publisher.address)).to.equal(nonce);
        });

        it("model register of what the registry would refuse: exit 4 with the numbers, nothing sent", async () => {
            const nonce = await ethers.provider.getTransactionCount(publisher.address);
            // `verity deploy` sets no QUORUM resolver yet: a QUORUM model's results could not be disputed.
            const quorum = await run([...registerQuorum(IRIS, IRIS), "--salt", "quorum"], as(publisher));
            expect(quorum.status, quorum.stderr).to.equal(4);
            expect(quorum.stderr).to.contain(
                "this deployment has no QUORUM resolver, so the registry refuses QUORUM models",
            );
            // A collateral whose challenger share would not pay a dispute's gas at the deployment's price.
            const args = ["model", "register", IRIS, "--uri", IRIS, "--mode", "reexecution", "--fee", "0"];
            const cheap = await run(
                [...args, "--collateral", "0.001", "--window", "600", "--salt", "cheap"],
                as(publisher),
            );
            expect(cheap.status, cheap.stderr).to.equal(4);
            expect(cheap.stderr).to.match(
                /--collateral 0\.001 tokens is too little: a challenger's reward \(50% of it\) would not pay a dispute's \d+ gas at 1000000000 token wei per gas; the collateral must be at least [\d.]+ tokens/,
            );
            expect(await ethers.provider.getTransactionCount(publisher.address)).to.equal(nonce);
        });

        it("operator register-model without stake: exit 4, says how much to stake", async () => {
            const out = await run(["operator", "register-model", modelId], as(operator));
            expect(out.status).to.equal(4);
            expect(out.stderr).to.match(
                /insufficient stake: .* has 0\.0 tokens staked, the model's collateral is 10\.0 tokens: run `verity operator stake 10\.0`/,
            );
        });

        it("operator stake without tokens: exit 4, says to get tokens", async () => {
            const out = await run(["operator", "stake", "100"], as(operator));
            expect(out.status).to.equal(4);
            expect(out.stderr).to.contain("get more tokens first");
        });

        it("operator stake + register-model + status", async () => {
            const token = MockERC20__factory.connect(
                manifest().contracts.stakeToken?.address ?? "",
                (await ethers.getSigners())[0],
            );
            await token.mint(operator.address, ethers.parseEther("100"));
            const staked = await run(["operator", "stake", "100"], as(operator));
            expect(staked.status, staked.stderr).to.equal(0);
            expect(staked.stdout).to.contain("now has 100.0 tokens staked");
            // Spinners are for terminals: behind a pipe stderr stays empty.
            expect(staked.stderr).to.equal("");
            const registered = await run(["operator", "register-model", modelId], as(operator));
            expect(registered.status, registered.stderr).to.equal(0);
            const status = await run(["operator", "status", operator.address, "--json"], { VERITY_RPC_URL: rpc.url() });
            expect(status.status, status.stderr).to.equal(0);
            const s = JSON.parse(status.stdout) as { stakedWei: string; models: string[] };
            expect(s.stakedWei).to.equal(String(ethers.parseEther("100")));
            expect(s.models).to.deep.equal([modelId]);
        });

        it("request --wait: deposits the fee, requests, and prints the settled result", async () => {
            const m = manifest();
            const token = MockERC20__factory.connect(
                m.contracts.stakeToken?.address ?? "",
                (await ethers.getSigners())[0],
            );
            await token.mint(consumer.address, ethers.parseEther("1"));
            const coordinator = InferenceCoordinator__factory.connect(
                m.contracts.coordinator?.address ?? "",
                ethers.provider,
            );
            const fromBlock = await ethers.provider.getBlockNumber();
            const tensors = JSON.stringify([{ dtype: "int8", shape: [1, 4], data: [12, -7, 100, -128] }]);
            const pending = run(
                ["request", "--model", modelId, "--tensors", tensors, "--wait", "--timeout", "60", "--json"],
                as(consumer),
            );

            // Serve it as an operator would: the chain's own answer, submitted, then finalized after the window.
            let event: Awaited<ReturnType<typeof coordinator.queryFilter>>[number] | undefined;
            await waitFor("the InferenceRequested event", async () => {
                const events = await coordinator.queryFilter(
                    coordinator.filters.InferenceRequested(undefined, modelId),
                    fromBlock,
                );
                event = events[0];
                return event !== undefined;
            });
            const parsed = coordinator.interface.parseLog(event!)!;
            const request = requestFromRequested(parsed);
            const resolver = ReexecutionResolver__factory.connect(
                m.contracts.reexecutionResolver?.address ?? "",
                ethers.provider,
            );
            const [resultCode, output] = await resolver.reexecute(modelId, parsed.args.input as string);
            const opSigner = await ethers.getSigner(operator.address);
            const submitted = await (
                await coordinator.connect(opSigner).submitResult(request, resultCode, output, ethers.ZeroHash)
            ).wait();
            const submittedEvent = submitted!.logs
                .map((l) => coordinator.interface.parseLog(l))
                .find((e) => e?.name === "ResultSubmitted")!;
            const settled = {
                ...request,
                status: 2,
                operator: operator.address,
                resultCode,
                challengeEndsAt: submittedEvent.args.challengeEndsAt,
                outputHash: ethers.keccak256(output),
                traceCommitment: ethers.ZeroHash,
            };
            await hre.network.provider.send("evm_increaseTime", [601]);
            await hre.network.provider.send("evm_mine", []);
            await (await coordinator.connect(opSigner).finalize(settled, output)).wait();

            const out = await pending;
            expect(out.status, out.stderr).to.equal(0);
            const result = JSON.parse(out.stdout) as {
                requestId: string;
                status: string;
                operator: string;
                output: string;
                outputTensors: { dtype: string; data: string[] }[];
                callback: { succeeded: boolean; note?: string };
            };
            requestId = result.requestId;
            expect(result.status).to.equal("finalized");
            expect(result.operator).to.equal(operator.address);
            expect(result.output).to.equal(output);
            expect(result.outputTensors.map((t) => t.dtype)).to.deep.equal(["int64", "int32"]);
            expect(result.callback.succeeded).to.equal(false);
            expect(result.callback.note).to.contain("without code");
        });

        it("inspect: the request's whole history from events (text and JSON)", async () => {
            const json = await run(["inspect", requestId, "--json"], { VERITY_RPC_URL: rpc.url() });
            expect(json.status, json.stderr).to.equal(0);
            const h = JSON.parse(json.stdout) as { consumer: string; events: { event: string; from: string }[] };
            expect(h.consumer).to.equal(consumer.address);
            expect(h.events.map((e) => e.event)).to.deep.equal([
                "InferenceRequested",
                "ResultSubmitted",
                "ResultFinalized",
            ]);
            expect(h.events[1]?.from).to.equal(operator.address);
            const text = await run(["inspect", requestId], { VERITY_RPC_URL: rpc.url() });
            expect(text.status, text.stderr).to.equal(0);
            expect(text.stdout).to.match(new RegExp(`request ${requestId}: finalized`));
            expect(text.stdout).to.contain(`served by ${operator.address}`);
            expect(text.stdout).to.contain("callback  failed");
        });

        it("inspect of an unknown request: exit 1", async () => {
            const out = await run(["inspect", "0x1234"], { VERITY_RPC_URL: rpc.url() });
            expect(out.status).to.equal(1);
            expect(out.stderr).to.match(/no request 0x0+1234 on the coordinator/);
        });

        it("operator unstake then withdraw too early: the revert decoded with when to retry", async () => {
            const unstake = await run(["operator", "unstake", "50"], as(operator));
            expect(unstake.status, unstake.stderr).to.equal(0);
            // 50 tokens left cover the model's collateral of 10: no eviction warning.
            expect(unstake.stderr).to.not.contain("evict");
            const withdraw = await run(["operator", "withdraw"], as(operator));
            expect(withdraw.status).to.equal(4);
            expect(withdraw.stderr).to.match(
                /StakingUnbondingNotReady\(.*\): unbonding is ready at .*: withdraw after that/,
            );
        });

        it("operator evict: refuses an operator that still covers the collateral, evicts one that unbonded below it", async () => {
            const covered = await run(["operator", "evict", modelId, operator.address], as(challenger));
            expect(covered.status).to.equal(4);
            expect(covered.stderr).to.contain(
                `${operator.address} cannot be evicted from model ${modelId}: it has 50.0 tokens staked, at least the model's collateral of 10.0 tokens`,
            );
            // A second operator stakes exactly the collateral, registers, then unbonds one token.
            const leaver = hardhatWallet(15);
            const token = MockERC20__factory.connect(
                manifest().contracts.stakeToken?.address ?? "",
                (await ethers.getSigners())[0],
            );
            await (await token.mint(leaver.address, ethers.parseEther("10"))).wait();
            for (const args of [
                ["stake", "10"],
                ["register-model", modelId],
            ]) {
                const out = await run(["operator", ...args], as(leaver));
                expect(out.status, out.stderr).to.equal(0);
            }
            // Unstaking below the collateral warns that anyone may now evict it.
            const unstaked = await run(["operator", "unstake", "1"], as(leaver));
            expect(unstaked.status, unstaked.stderr).to.equal(0);
            expect(unstaked.stderr).to.contain(
                `warning: 9.0 tokens staked is below the collateral of model ${modelId}: anyone may evict you from it`,
            );
            const evicted = await run(["operator", "evict", modelId, leaver.address, "--json"], as(challenger));
            expect(evicted.status, evicted.stderr).to.equal(0);
            const report = JSON.parse(evicted.stdout) as { stakedWei: string; collateralWei: string };
            expect(report.stakedWei).to.equal(String(ethers.parseEther("9")));
            expect(report.collateralWei).to.equal(String(ethers.parseEther("10")));
            const status = await run(["operator", "status", leaver.address, "--json"], { VERITY_RPC_URL: rpc.url() });
            expect((JSON.parse(status.stdout) as { models: string[] }).models).to.deep.equal([]);
            const again = await run(["operator", "evict", modelId, leaver.address], as(challenger));
            expect(again.status).to.equal(4);
            expect(again.stderr).to.contain(
                `${leaver.address} is not registered for model ${modelId}: nothing to evict`,
            );
        });
    });

    describe("dispute", () => {
        before(async () => {
            const token = MockERC20__factory.connect(
                manifest().contracts.stakeToken?.address ?? "",
                (await ethers.getSigners())[0],
            );
            await (await token.mint(challenger.address, ethers.parseEther("5"))).wait();
            // Three wrong results are disputed below, each slashing 10 tokens: the operator stakes 20 more, so that
            // the later suites still find its collateral free.
            const extra = ethers.parseEther("20");
            const opSigner = await ethers.getSigner(operator.address);
            const staking = Staking__factory.connect(manifest().contracts.staking?.address ?? "", opSigner);
            await (await token.mint(operator.address, extra)).wait();
            await (await token.connect(opSigner).approve(await staking.getAddress(), extra)).wait();
            await (await staking.stake(extra)).wait();
        });

        it("a wrong result: approves the bond, commits, prints the salt, reveals in a later block, wins; the operator is slashed", async () => {
            const id = await servedRequest("wrong");
            correctedId = id;
            const staking = Staking__factory.connect(manifest().contracts.staking?.address ?? "", ethers.provider);
            const before = (await staking.getStake(operator.address)).stakedWei;
            const out = await run(["dispute", id, "--json"], as(challenger));
            expect(out.status, out.stderr).to.equal(0);
            const report = JSON.parse(out.stdout) as DisputeJson;
            expect(report).to.include({ outcome: "won", operator: operator.address, chainSaysWrong: true });
            // Commit, then reveal in a later block, both from the challenger; the salt printed once committed.
            expect(report.salt).to.match(/^0x[0-9a-f]{64}$/);
            expect(report.commitment).to.equal(challengeCommitment(BigInt(id), challenger.address, report.salt));
            const commitTx = await ethers.provider.getTransaction(report.commitTransactionHash!);
            const revealTx = await ethers.provider.getTransaction(report.transactionHash);
            expect(commitTx?.from).to.equal(challenger.address);
            expect(commitTx?.blockNumber).to.equal(report.commitBlock);
            expect(revealTx?.blockNumber).to.be.greaterThan(report.commitBlock);
            expect(out.stderr).to.contain(
                `challenge committed in block ${report.commitBlock} with salt ${report.salt}; ` +
                    `if this run is interrupted, reveal it with \`verity dispute ${id} --salt ${report.salt}\``,
            );
            // Collateral 10 slashed; payout = bond (max(10% of 10, 1) = 1) + 50% of the slash.
            expect(report.slashedWei).to.equal(String(ethers.parseEther("10")));
            expect(report.bondWei).to.equal(String(ethers.parseEther("1")));
            expect(report.challengerPayoutWei).to.equal(String(ethers.parseEther("6")));
            expect((await staking.getStake(operator.address)).stakedWei).to.equal(before - ethers.parseEther("10"));
            const coordinator = InferenceCoordinator__factory.connect(
                manifest().contracts.coordinator?.address ?? "",
                ethers.provider,
            );
            expect(await coordinator.balanceOf(challenger.address)).to.equal(ethers.parseEther("6"));
            expect(await coordinator.getChallengeCommitment(report.commitment)).to.equal(0n); // used up

            const inspected = await run(["inspect", id], { VERITY_RPC_URL: rpc.url() });
            expect(inspected.stdout).to.contain(`dispute   by ${challenger.address}`);
            expect(inspected.stdout).to.contain("operator at fault, slashed 10.0 tokens");
            // Settled now: a second dispute is refused.
            const again = await run(["dispute", id], as(challenger));
            expect(again.status).to.equal(4);
            expect(again.stderr).to.contain("is already corrected by dispute: nothing to dispute");
        });

        it("inspect of the corrected request: the output the consumer received and the dispute that delivered it", async () => {
            const json = await run(["inspect", correctedId, "--json"], { VERITY_RPC_URL: rpc.url() });
            expect(json.status, json.stderr).to.equal(0);
            const h = JSON.parse(json.stdout) as InspectJson;
            const resolver = ReexecutionResolver__factory.connect(
                manifest().contracts.reexecutionResolver?.address ?? "",
                ethers.provider,
            );
            const [, right] = await resolver.reexecute(modelId, h.input);
            const wrong = ethers.getBytes(right);
            wrong[wrong.length - 1] = (wrong[wrong.length - 1] ?? 0) ^ 1;
            // Not "finalized" with the operator's output: the dispute's output is what the consumer received.
            expect(h.status).to.equal("corrected by dispute");
            expect(h).to.include({ resultCode: 0, output: right, correctedBy: 0, operator: operator.address });
            expect(h.result).to.include({ code: 0, name: "OK" });
            expect(h.submitted).to.deep.include({ output: ethers.hexlify(wrong) });
            expect(h.disputes[0]).to.include({ challenger: challenger.address, operatorAtFault: true });
            expect(h.events.map((e) => `${e.event}/${e.source}`)).to.deep.equal([
                "InferenceRequested/coordinator",
                "ResultSubmitted/coordinator",
                "ResultChallenged/coordinator",
                "ResultReexecuted/resolver",
                "DisputeResolved/coordinator",
                "ResultDelivered/coordinator",
            ]);
            const tensorsText = (hex: string) =>
                decodeTensors(ethers.getBytes(hex))
                    .map((t) => `${DType[t.dtype].toLowerCase()}[${t.shape.join(",")}] ${t.data.join(" ")}`)
                    .join("; ");

            const text = await run(["inspect", correctedId], { VERITY_RPC_URL: rpc.url() });
            expect(text.status, text.stderr).to.equal(0);
            expect(text.stdout).to.contain(`request ${correctedId}: corrected by dispute`);
            expect(text.stdout).to.contain(`  submitted 0 OK, output ${tensorsText(ethers.hexlify(wrong))}\n`);
            expect(text.stdout).to.contain(
                `  dispute   by ${challenger.address} (tx ${h.disputes[0]?.transactionHash}), bond 1.0 tokens: ` +
                    "operator at fault, slashed 10.0 tokens; the consumer received the dispute's result instead\n",
            );
            expect(text.stdout).to.contain(`  result    0 OK\n  output    ${tensorsText(right)}\n`);
        });

        it("--salt resumes a run interrupted after its commitment; refuses a malformed salt or one with no commitment", async () => {
            const id = await servedRequest("wrong");
            const malformed = await run(["dispute", id, "--salt", "0x1234"], as(challenger));
            expect(malformed.status).to.equal(1);
            expect(malformed.stderr).to.match(/--salt must be the 32-byte salt a commit printed/);

            // A salt this account never committed (nor any other account's commitment with it): nothing sent.
            const salt = ethers.hexlify(ethers.randomBytes(32));
            const coordinator = InferenceCoordinator__factory.connect(
                manifest().contracts.coordinator?.address ?? "",
                await ethers.getSigner(consumer.address),
            );
            await (await coordinator.commitChallenge(challengeCommitment(BigInt(id), consumer.address, salt))).wait();
            const nonce = await ethers.provider.getTransactionCount(challenger.address);
            const unknown = await run(["dispute", id, "--salt", salt], as(challenger));
            expect(unknown.status).to.equal(4);
            expect(unknown.stderr).to.contain(
                `no challenge commitment of ${challenger.address} with this salt for request ${id} on chain`,
            );
            expect(await ethers.provider.getTransactionCount(challenger.address)).to.equal(nonce);

            // The commitment an interrupted run made (here sent by hand, as the first half of the command does).
            const committed = await (
                await coordinator
                    .connect(await ethers.getSigner(challenger.address))
                    .commitChallenge(challengeCommitment(BigInt(id), challenger.address, salt))
            ).wait();
            const out = await run(["dispute", id, "--salt", salt, "--json"], as(challenger));
            expect(out.status, out.stderr).to.equal(0);
            const report = JSON.parse(out.stdout) as DisputeJson;
            expect(report).to.include({ outcome: "won", salt, commitBlock: committed!.blockNumber });
            expect(report).to.not.have.property("commitTransactionHash");
            expect((await ethers.provider.getTransaction(report.transactionHash))?.from).to.equal(challenger.address);
        });

        it("waits for a block after the commitment's when the node simulates on its latest block (as geth does)", async () => {
            const id = await servedRequest("wrong");
            // Hardhat simulates eth_estimateGas on its pending block; this proxy asks for the latest block instead.
            const proxy = await startEstimateAtLatestProxy(rpc.url());
            try {
                const running = run(["dispute", id, "--json"], as(challenger, { VERITY_RPC_URL: proxy.url }));
                const coordinator = InferenceCoordinator__factory.connect(
                    manifest().contracts.coordinator?.address ?? "",
                    ethers.provider,
                );
                const committedEvent = coordinator.filters.ChallengeCommitted(undefined, challenger.address);
                let commitBlock = 0;
                await waitFor("the commitment", async () => {
                    const events = await coordinator.queryFilter(
                        committedEvent,
                        (await ethers.provider.getBlockNumber()) - 2,
                    );
                    commitBlock = events[events.length - 1]?.blockNumber ?? 0;
                    return commitBlock !== 0;
                });
                // No block after the commitment's: the command waits (it polls the head) and sends nothing.
                await new Promise((resolve) => setTimeout(resolve, 1_500));
                expect(await ethers.provider.getBlockNumber()).to.equal(commitBlock);
                await hre.network.provider.send("evm_mine", []);
                const out = await running;
                expect(out.status, out.stderr).to.equal(0);
                const report = JSON.parse(out.stdout) as DisputeJson;
                expect(report).to.include({ outcome: "won", commitBlock });
                const revealed = await ethers.provider.getTransaction(report.transactionHash);
                expect(revealed?.blockNumber).to.equal(commitBlock + 2);
            } finally {
                await proxy.close();
            }
        });

        it("a correct result: refused with exit 4 and no transaction sent", async () => {
            const id = await servedRequest("right");
            const nonce = await ethers.provider.getTransactionCount(challenger.address);
            const out = await run(["dispute", id], as(challenger));
            expect(out.status).to.equal(4);
            expect(out.stderr.trim().split("\n")).to.have.length(1);
            expect(out.stderr).to.match(
                /the result of request 0x[0-9a-f]{64} is correct \(the chain's re-execution agrees with it\): .*pass --force/,
            );
            expect(await ethers.provider.getTransactionCount(challenger.address)).to.equal(nonce);
        });

        it("a request that already settled: exit 4, says there is nothing to dispute", async () => {
            const out = await run(["dispute", requestId], as(challenger));
            expect(out.status).to.equal(4);
            expect(out.stderr).to.contain("is already finalized: nothing to dispute");
        });
    });

    describe("finalize, cancel and request --wait --finalize", () => {
        const passTime = async (seconds: number) => {
            await hre.network.provider.send("evm_increaseTime", [seconds]);
            await hre.network.provider.send("evm_mine", []);
        };

        it("finalize: refused while the window is open (exit 4, says until when), then settles and pays", async () => {
            const id = await servedRequest("right");
            const early = await run(["finalize", id], as(challenger));
            expect(early.status).to.equal(4);
            expect(early.stderr).to.match(
                /the challenge window of request 0x[0-9a-f]{64} is open until .*: finalize it after that/,
            );
            const coordinator = InferenceCoordinator__factory.connect(
                manifest().contracts.coordinator?.address ?? "",
                ethers.provider,
            );
            const before = await coordinator.balanceOf(operator.address);
            await passTime(601);
            // Anyone may finalize: the challenger's key does it here.
            const out = await run(["finalize", id, "--json"], as(challenger));
            expect(out.status, out.stderr).to.equal(0);
            const report = JSON.parse(out.stdout) as {
                status: string;
                history: { events: { event: string; from: string }[] };
            };
            expect(report.status).to.equal("finalized");
            const last = report.history.events[report.history.events.length - 1];
            expect(last).to.include({ event: "ResultFinalized", from: challenger.address });
            // The whole fee is credited to the operator: the model's 0.01, as the request asked for no callback gas
            // (a callback's gas is paid for at the deployment's callbackGasFeeWei) and the protocol fee is 0.
            expect(await coordinator.balanceOf(operator.address)).to.equal(before + ethers.parseEther("0.01"));
            const again = await run(["finalize", id], as(challenger));
            expect(again.status).to.equal(4);
            expect(again.stderr).to.contain("is already finalized: nothing to finalize");
        });

        it("inspect of an error result: the code's name and fixed meaning, and that no reason is on chain", async () => {
            // An input of the wrong shape: the chain's own answer, which the operator submits, is INVALID_INPUT.
            const input = encodeTensors([{ dtype: DType.INT8, shape: [1, 3], data: [1n, 2n, 3n] }]);
            const id = await servedRequest("right", 3600, input);
            await passTime(601);
            const finalized = await run(["finalize", id], as(challenger));
            expect(finalized.status, finalized.stderr).to.equal(0);
            const json = await run(["inspect", id, "--json"], { VERITY_RPC_URL: rpc.url() });
            expect(json.status, json.stderr).to.equal(0);
            const h = JSON.parse(json.stdout) as InspectJson;
            expect(h).to.include({ status: "finalized", resultCode: 1, output: "0x" });
            expect(h.result).to.deep.equal({
                code: 1,
                name: "INVALID_INPUT",
                meaning: RESULT_CODE_MEANINGS.INVALID_INPUT,
            });
            expect(h).to.not.have.property("outputTensors");
            const text = await run(["inspect", id], { VERITY_RPC_URL: rpc.url() });
            expect(text.status, text.stderr).to.equal(0);
            expect(text.stdout).to.contain(
                `  result    1 INVALID_INPUT: ${RESULT_CODE_MEANINGS.INVALID_INPUT}\n` +
                    "  output    none: an error result carries no output (its reason is not published on chain)\n",
            );
        });

        it("finalize of a request nobody served: exit 4, says a result must be submitted first", async () => {
            const id = await servedRequest("unserved");
            const out = await run(["finalize", id], as(challenger));
            expect(out.status).to.equal(4);
            expect(out.stderr).to.contain("has no result yet");
        });

        it("cancel: refused before the deadline and for another account; after it, the fee comes back", async () => {
            const id = await servedRequest("unserved", 300);
            const early = await run(["cancel", id], as(consumer));
            expect(early.status).to.equal(4);
            expect(early.stderr).to.match(/may be cancelled after its deadline .*: an operator may still serve it/);
            await passTime(301);
            const stranger = await run(["cancel", id], as(challenger));
            expect(stranger.status).to.equal(4);
            expect(stranger.stderr).to.contain(`belongs to the consumer ${consumer.address}`);
            const coordinator = InferenceCoordinator__factory.connect(
                manifest().contracts.coordinator?.address ?? "",
                ethers.provider,
            );
            const before = await coordinator.balanceOf(consumer.address);
            const fee = await coordinator.quoteFee(modelId, 0);
            const out = await run(["cancel", id], as(consumer));
            expect(out.status, out.stderr).to.equal(0);
            expect(out.stdout).to.contain("cancelled: the fee of");
            expect(await coordinator.balanceOf(consumer.address)).to.equal(before + fee);
            const served = await servedRequest("right");
            const refused = await run(["cancel", served], as(consumer));
            expect(refused.status).to.equal(4);
            expect(refused.stderr).to.contain(`is submitted (served by ${operator.address})`);
        });

        it("request --wait --finalize: finalizes the result itself once the window closes, telling each stage off a terminal", async () => {
            const m = manifest();
            const coordinator = InferenceCoordinator__factory.connect(
                m.contracts.coordinator?.address ?? "",
                ethers.provider,
            );
            const token = MockERC20__factory.connect(
                m.contracts.stakeToken?.address ?? "",
                (await ethers.getSigners())[0],
            );
            await (await token.mint(consumer.address, ethers.parseEther("1"))).wait();
            const fromBlock = await ethers.provider.getBlockNumber();
            const tensors = JSON.stringify([{ dtype: "int8", shape: [1, 4], data: [1, 2, 3, 4] }]);
            const pending = run(
                ["request", "--model", modelId, "--tensors", tensors, "--wait", "--finalize", "--timeout", "60"],
                as(consumer),
            );
            let event: Awaited<ReturnType<typeof coordinator.queryFilter>>[number] | undefined;
            await waitFor("the InferenceRequested event", async () => {
                event = (
                    await coordinator.queryFilter(coordinator.filters.InferenceRequested(undefined, modelId), fromBlock)
                )[0];
                return event !== undefined;
            });
            const parsed = coordinator.interface.parseLog(event!)!;
            const resolver = ReexecutionResolver__factory.connect(
                m.contracts.reexecutionResolver?.address ?? "",
                ethers.provider,
            );
            const [resultCode, out] = await resolver.reexecute(modelId, parsed.args.input as string);
            const opSigner = await ethers.getSigner(operator.address);
            await (
                await coordinator
                    .connect(opSigner)
                    .submitResult(requestFromRequested(parsed), resultCode, out, ethers.ZeroHash)
            ).wait();
            await passTime(601);
            const result = await pending;
            expect(result.status, result.stderr).to.equal(0);
            // Off a terminal (a pipe here) each stage is one plain line on stderr, the full id first.
            const id = ethers.toBeHex(parsed.args.requestId as bigint, 32);
            const stages = result.stderr.split("\n").filter((l) => l.startsWith(id));
            expect(stages[0]).to.equal(`${id} requested: waiting for an operator to serve it`);
            expect(stages.some((l) => l.startsWith(`${id} served by ${operator.address} (result code `))).to.equal(
                true,
            );
            expect(stages[stages.length - 1]).to.equal(`${id} finalized`);
            // stdout is the settled history, the finalization sent by the consumer's own key.
            expect(result.stdout).to.contain(`request ${id}: finalized`);
            expect(result.stdout).to.match(new RegExp(`ResultFinalized \\(tx from ${consumer.address}\\)`));
        });
    });

    describe("config init", () => {
        it("writes a node config for the deployment that `config check` accepts", async () => {
            const path = join(dir, "operator.config.json");
            const out = await run(["config", "init", "--model", modelId, "--out", path, "--json"], as(operator));
            expect(out.status, out.stderr).to.equal(0);
            const written = JSON.parse(readFileSync(path, "utf8")) as {
                chain: { rpcUrl: string; chainId: number; coordinator: string; startBlock: number };
                models: { modelId: string }[];
                roles: { operator: boolean; challenger: boolean };
            };
            // This chain mines only when a transaction arrives: no block would ever bury an event, so no
            // confirmations (the node would otherwise wait for unrelated transactions).
            expect(written.chain).to.deep.equal({
                rpcUrl: rpc.url(),
                chainId: 31337,
                coordinator: manifest().contracts.coordinator?.address,
                startBlock: manifest().block,
                confirmations: 0,
            });
            expect((JSON.parse(out.stdout) as { confirmations: number }).confirmations).to.equal(0);
            expect(written.models).to.deep.equal([{ modelId }]);
            expect(written.roles).to.include({ operator: true, challenger: false });
            expect(readFileSync(path, "utf8")).not.to.contain(operator.privateKey.slice(2));
            const check = await run(["config", "check", "--config", path], { VERITY_PRIVATE_KEY: operator.privateKey });
            expect(check.status, check.stderr).to.equal(0);
        });

        it("on a chain that mines by itself, keeps the default confirmations and says so", async () => {
            const path = join(dir, "interval.config.json");
            await ethers.provider.send("evm_setAutomine", [false]);
            let out: Awaited<ReturnType<typeof run>>;
            try {
                out = await run(["config", "init", "--model", modelId, "--out", path], as(operator));
            } finally {
                await ethers.provider.send("evm_setAutomine", [true]);
            }
            expect(out.status, out.stderr).to.equal(0);
            expect(out.stdout).to.contain("chain.confirmations 2: the node acts on an event once 2 blocks are mined");
            const written = JSON.parse(readFileSync(path, "utf8")) as { chain: Record<string, unknown> };
            expect(written.chain).not.to.have.property("confirmations");
        });

        it("refuses to overwrite without --force, and rejects an unknown model (exit 4)", async () => {
            const path = join(dir, "operator.config.json");
            const before = readFileSync(path, "utf8");
            const exists = await run(["config", "init", "--model", modelId, "--out", path], as(operator));
            expect(exists.status).to.equal(1);
            expect(exists.stderr).to.contain("exists: pass --force to overwrite it");
            const unknown = await run(
                ["config", "init", "--model", ethers.ZeroHash, "--out", path, "--force"],
                as(operator),
            );
            expect(unknown.status).to.equal(4);
            expect(unknown.stderr).to.contain("is not registered or not active");
            expect(readFileSync(path, "utf8")).to.equal(before);
        });

        it("--challenger without --model: every active model, the challenger role and its bond cap", async () => {
            const path = join(dir, "challenger.config.json");
            const out = await run(["config", "init", "--challenger", "--max-bond", "5", "--out", path], as(challenger));
            expect(out.status, out.stderr).to.equal(0);
            expect(out.stdout).to.contain("npx verity challenger --config");
            const written = JSON.parse(readFileSync(path, "utf8")) as {
                models: { modelId: string }[];
                roles: { operator: boolean; challenger: boolean };
                challenger: { maxBondWei: string };
            };
            expect(written.models).to.deep.equal([{ modelId }]);
            expect(written.roles).to.include({ operator: false, challenger: true });
            expect(written.challenger.maxBondWei).to.equal(String(ethers.parseEther("5")));
        });
    });

    describe("hand-over (deploy --owner, accept-ownership)", () => {
        const path = join(dir, "handover.json");
        const owner = challenger;
        const read = (): Manifest & { parameters: Record<string, unknown> } =>
            JSON.parse(readFileSync(path, "utf8")) as Manifest & { parameters: Record<string, unknown> };
        const contracts = () => {
            const m = read();
            return {
                coordinator: InferenceCoordinator__factory.connect(
                    m.contracts.coordinator?.address ?? "",
                    ethers.provider,
                ),
                staking: Staking__factory.connect(m.contracts.staking?.address ?? "", ethers.provider),
            };
        };

        it("accept-ownership with no hand-over pending: exit 4, nothing sent", async () => {
            const first = await run(["deploy", "--deployment", path], as(deployer));
            expect(first.status, first.stderr).to.equal(0);
            expect(read().parameters.owner).to.equal(deployer.address);
            const out = await run(["accept-ownership", "--deployment", path], as(owner));
            expect(out.status).to.equal(4);
            expect(out.stderr).to.contain("no hand-over is pending");
            expect(await contracts().coordinator.owner()).to.equal(deployer.address);
        });

        it("deploy --owner on a finished deployment: the owner pending, the staking admin renounced, verified", async () => {
            const out = await run(["deploy", "--deployment", path, "--owner", owner.address, "--json"], as(deployer));
            expect(out.status, out.stderr).to.equal(0);
            const report = JSON.parse(out.stdout) as {
                verified: boolean;
                reused: number;
                ownership: { owner: string; current: string; pendingOwner: string | null };
            };
            expect(report).to.include({ verified: true, reused: 8 });
            expect(report.ownership).to.deep.equal({
                owner: owner.address,
                current: deployer.address,
                pendingOwner: owner.address,
                deployerIsStakingAdmin: false,
            });
            expect(read().parameters.owner).to.equal(owner.address);
            const { coordinator, staking } = contracts();
            expect(await coordinator.pendingOwner()).to.equal(owner.address);
            const admin = await staking.DEFAULT_ADMIN_ROLE();
            expect(await staking.hasRole(admin, deployer.address)).to.equal(false);
            expect(await staking.hasRole(admin, owner.address)).to.equal(false);
            // The coordinator keeps the roles it needs.
            expect(await staking.hasRole(ethers.id("SLASHER_ROLE"), await coordinator.getAddress())).to.equal(true);
        });

        it("accept-ownership: refused for another key (exit 4), then the owner takes over", async () => {
            const other = await run(["accept-ownership", "--deployment", path], as(publisher));
            expect(other.status).to.equal(4);
            expect(other.stderr).to.contain(`the pending owner is ${owner.address}: use its key`);
            const out = await run(["accept-ownership", "--deployment", path, "--json"], as(owner));
            expect(out.status, out.stderr).to.equal(0);
            expect(JSON.parse(out.stdout)).to.include({ owner: owner.address, previousOwner: deployer.address });
            expect(await contracts().coordinator.owner()).to.equal(owner.address);
            const again = await run(["accept-ownership", "--deployment", path], as(owner));
            expect(again.status).to.equal(4);
            expect(again.stderr).to.contain("owns the coordinator already");
        });

        it("a re-run still verifies; another --owner is refused (exit 4), the manifest untouched", async () => {
            const rerun = await run(["deploy", "--deployment", path, "--json"], as(deployer));
            expect(rerun.status, rerun.stderr).to.equal(0);
            expect(JSON.parse(rerun.stdout)).to.include({ verified: true, reused: 8 });
            const before = readFileSync(path, "utf8");
            const out = await run(["deploy", "--deployment", path, "--owner", publisher.address], as(deployer));
            expect(out.status).to.equal(4);
            expect(out.stderr).to.contain(`is owned by ${owner.address}, not this deployer`);
            expect(readFileSync(path, "utf8")).to.equal(before);
        });
    });

    after(() => {
        expect(existsSync(join(dir, "unfunded.json"))).to.equal(false);
    });
});
