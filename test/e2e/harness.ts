/**
 * End-to-end harness: the in-process Hardhat chain served over HTTP (as `hardhat node` does), a deployment with
 * real ONNX models registered by their true hashes, funded consumers, and node configs pointing at it all.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hre, { ethers } from "hardhat";
import { keccak256 } from "ethers";
import type { Config } from "../../oracle/src/config/schema";
import { parseCoordinatorLog, requestFromRequested, type Request } from "../../oracle/src/chain/requestEvents";
import type { RecordingConsumer } from "../../typechain-types";
import { hardhatWallet, localNodeConfig, startRpcServer } from "../../scripts/localChain";
import { deployCore, MODEL_FEE, MODEL_WINDOW, Mode, NO_FEE_LIMIT, TOKEN } from "../helpers/verity";

export { hardhatWallet, startRpcServer };

/** Serves the chain over HTTP for the enclosing `describe` (started before its tests, closed after). */
export function serveChainDuringSuite(): { url(): string } {
    let server: Awaited<ReturnType<typeof startRpcServer>> | undefined;
    before(async () => {
        server = await startRpcServer();
    });
    after(async () => {
        await server?.close();
    });
    return {
        url() {
            if (server === undefined) throw new Error("the RPC server starts in the suite's before hook");
            return server.url;
        },
    };
}

export interface ModelArtifact {
    onnx: Uint8Array;
    manifestJson: string;
}

export interface E2EDeployment extends Awaited<ReturnType<typeof deployCore>> {
    recorder: RecordingConsumer;
    /** Registered model ids, in the order given. */
    modelIds: string[];
    /** Where each model file was written (its registered URI). */
    modelPaths: string[];
    dir: string;
    /** First block of this deployment: scans of "what the operator sent" start here, not at genesis. */
    startBlock: number;
}

/**
 * Deploys the protocol, writes each model to a temp dir and registers it under its real onnx/manifest hashes,
 * stakes `operatorCount` operators (deployCore's op1.. in order) for every model, and funds a RecordingConsumer.
 */
export async function deployForNode(
    models: ModelArtifact[],
    opts: { operatorCount?: number; mode?: number; windowSeconds?: number } = {},
): Promise<E2EDeployment> {
    const startBlock = (await ethers.provider.getBlockNumber()) + 1;
    const d = await deployCore();
    const dir = mkdtempSync(join(tmpdir(), "verity-e2e-"));
    const modelIds: string[] = [];
    const modelPaths: string[] = [];
    for (const [i, model] of models.entries()) {
        const path = join(dir, `model-${i}.onnx`);
        writeFileSync(path, model.onnx);
        const salt = ethers.id(`e2e-model-${i}`);
        await d.registry.connect(d.publisher).registerModel(salt, {
            onnxHash: keccak256(model.onnx),
            manifestHash: keccak256(Buffer.from(model.manifestJson, "utf8")),
            programHash: ethers.id("program bytes"), // stored by deployCore
            uri: path,
            mode: opts.mode ?? Mode.QUORUM,
            feeWei: MODEL_FEE,
            collateralWei: TOKEN,
            challengeWindowSeconds: opts.windowSeconds ?? MODEL_WINDOW,
        });
        modelIds.push(await d.registry.computeModelId(await d.publisher.getAddress(), salt));
        modelPaths.push(path);
    }
    const operators = d.operators.slice(0, opts.operatorCount ?? 1);
    for (const op of operators) {
        const stake = 1_000n * TOKEN;
        await d.token.mint(await op.getAddress(), stake);
        await d.token.connect(op).approve(await d.staking.getAddress(), stake);
        await d.staking.connect(op).stake(stake);
        for (const modelId of modelIds) await d.staking.connect(op).registerForModel(modelId);
    }
    const recorder = await ethers.deployContract("RecordingConsumer", [await d.coordinator.getAddress()]);
    const funding = 1_000n * TOKEN;
    await d.token.mint(await d.admin.getAddress(), funding);
    await d.token.connect(d.admin).approve(await d.coordinator.getAddress(), funding);
    await d.coordinator.connect(d.admin).deposit(await recorder.getAddress(), funding);
    return { ...d, recorder, modelIds, modelPaths, dir, startBlock };
}

/**
 * A validated node config for a deployment (this harness's or test/e2e/verifiable.ts's); `overrides` are merged
 * section by section.
 */
export async function nodeConfig(
    d: Pick<E2EDeployment, "modelIds" | "dir"> & { coordinator: { getAddress(): Promise<string> } },
    rpcUrl: string,
    overrides: Record<string, Record<string, unknown>> = {},
): Promise<Config> {
    const target = {
        rpcUrl,
        coordinator: await d.coordinator.getAddress(),
        modelIds: d.modelIds,
        dataDir: mkdtempSync(join(d.dir, "node-")),
    };
    return localNodeConfig(target, overrides);
}

/** Writes a config file (for the CLI in a child process). */
export function writeConfig(d: E2EDeployment, config: Config, name = "verity.config.json"): string {
    const path = join(d.dir, name);
    writeFileSync(path, JSON.stringify(config, null, 2));
    return path;
}

/** Sends a request from the recording consumer; returns its request id. */
export async function request(
    d: E2EDeployment,
    modelId: string,
    input: Uint8Array,
    opts: { deadlineIn?: number; callbackGasLimit?: number; preferred?: string } = {},
): Promise<bigint> {
    const block = await ethers.provider.getBlock("latest");
    const tx = await d.recorder.request(modelId, input, {
        callbackGasLimit: opts.callbackGasLimit ?? 500_000,
        deadline: (block?.timestamp ?? 0) + (opts.deadlineIn ?? 3_600),
        preferredOperator: opts.preferred ?? ethers.ZeroAddress,
        maxFeeWei: NO_FEE_LIMIT,
    });
    const receipt = await tx.wait();
    for (const log of receipt?.logs ?? []) {
        const parsed = d.coordinator.interface.parseLog(log);
        if (parsed?.name === "InferenceRequested") return parsed.args.requestId as bigint;
    }
    throw new Error("no InferenceRequested event");
}

/**
 * The struct request `id` committed to when it was made, rebuilt from its InferenceRequested event as the node
 * does: what `isCommitted` must accept while the request waits for a result.
 */
export async function requestedStruct(d: E2EDeployment, id: bigint): Promise<Request> {
    const logs = await d.coordinator.queryFilter(d.coordinator.filters.InferenceRequested(id), d.startBlock);
    if (logs.length !== 1) throw new Error(`${logs.length} InferenceRequested events for request ${id}`);
    const parsed = parseCoordinatorLog(logs[0]!);
    if (parsed === null) throw new Error(`unreadable InferenceRequested event for request ${id}`);
    return requestFromRequested(parsed);
}

/** A transaction `from` sent in this deployment's blocks, with its receipt status and the function it called. */
export interface SentTransaction {
    hash: string;
    nonce: number;
    to: string;
    status: number;
    /** The coordinator function called, or "" for anything else (e.g. a no-op transfer). */
    call: string;
}

/** Every transaction `from` sent since the deployment, in chain order. */
export async function transactionsFrom(d: E2EDeployment, from: string): Promise<SentTransaction[]> {
    const latest = await ethers.provider.getBlockNumber();
    const coordinator = (await d.coordinator.getAddress()).toLowerCase();
    const out: SentTransaction[] = [];
    for (let n = d.startBlock; n <= latest; n++) {
        const block = await ethers.provider.getBlock(n, true);
        for (const tx of block?.prefetchedTransactions ?? []) {
            if (tx.from.toLowerCase() !== from.toLowerCase()) continue;
            const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
            const toCoordinator = tx.to?.toLowerCase() === coordinator;
            out.push({
                hash: tx.hash,
                nonce: tx.nonce,
                to: tx.to ?? "",
                status: receipt?.status ?? -1,
                call: toCoordinator ? (d.coordinator.interface.parseTransaction({ data: tx.data })?.name ?? "") : "",
            });
        }
    }
    return out;
}

/** Polls `predicate` until it holds (or throws after `timeoutMs`, naming `what`). */
export async function waitFor(
    what: string,
    predicate: () => Promise<boolean> | boolean,
    timeoutMs = 60_000,
    intervalMs = 100,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await predicate()) return;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

/** Moves chain time past the challenge window and mines a block. */
export async function passChallengeWindow(seconds = MODEL_WINDOW + 1): Promise<void> {
    await hre.network.provider.send("evm_increaseTime", [seconds]);
    await hre.network.provider.send("evm_mine", []);
}

export { MODEL_FEE };
