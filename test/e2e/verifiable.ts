/**
 * End-to-end fixture for REEXECUTION models decided by the real ReexecutionResolver: the protocol deployed with a
 * ProgramStore and an IntegerExecutor, each model's on-chain program compiled from its ONNX file, stored
 * (ProgramStore.writeChunk + register) and registered with the model; operators staked, a funded
 * RecordingConsumer, and node configs pointing at it all.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "hardhat";
import { keccak256, type Signer } from "ethers";
import { parseConfig } from "../../oracle/src/config/load";
import type { Config } from "../../oracle/src/config/schema";
import { announcedRequests, type Request } from "../../oracle/src/chain/requestEvents";
import { compileModel } from "../../oracle/src/verify/program";
import type { ExampleModel } from "../../models/examples";
import type {
    InferenceCoordinator,
    IntegerExecutor,
    MockERC20,
    ModelRegistry,
    ProgramStore,
    RecordingConsumer,
    ReexecutionResolver,
    Staking,
} from "../../typechain-types";
import {
    DEFAULT_PARAMS,
    DISPUTE_TIMEOUT,
    MAX_WINDOW,
    MIN_COLLATERAL,
    MIN_WINDOW,
    MODEL_FEE,
    MODEL_WINDOW,
    Mode,
    NO_FEE_LIMIT,
    TOKEN,
    UNBONDING_DELAY,
} from "../helpers/verity";

/** Collateral locked per result of the fixture's models. */
export const COLLATERAL = TOKEN;

export interface VerifiableModelSpec {
    model: ExampleModel;
    /** Registered instead of the model's own program (which is then not stored): a wrong registration. */
    programOverride?: Uint8Array;
}

export interface VerifiableE2EDeployment {
    token: MockERC20;
    programStore: ProgramStore;
    executor: IntegerExecutor;
    registry: ModelRegistry;
    staking: Staking;
    coordinator: InferenceCoordinator;
    resolver: ReexecutionResolver;
    recorder: RecordingConsumer;
    admin: Signer;
    treasury: Signer;
    publisher: Signer;
    /** Hardhat accounts 3, 4, 5 (staked and registered for every model). */
    operators: Signer[];
    /** Hardhat account 6 (not staked, holds no tokens until a test mints some). */
    challenger: Signer;
    modelIds: string[];
    /** The registered program hash of each model. */
    programHashes: string[];
    modelPaths: string[];
    dir: string;
    /** First block of this deployment. */
    startBlock: number;
}

/** Writes `program` into the store in chunks and registers it; returns its hash. */
export async function storeProgram(store: ProgramStore, program: Uint8Array): Promise<string> {
    const max = Number(await store.maxChunkSize());
    const pointers: string[] = [];
    for (let at = 0; at < program.length; at += max) {
        const receipt = await (await store.writeChunk(program.slice(at, at + max))).wait();
        const written = receipt?.logs
            .map((log) => store.interface.parseLog(log))
            .find((event) => event?.name === "ProgramChunkWritten");
        if (written === undefined || written === null) throw new Error("no ProgramChunkWritten event");
        pointers.push(String(written.args.pointer));
    }
    await (await store.register(pointers)).wait();
    const programHash = keccak256(program);
    if (!(await store.exists(programHash))) throw new Error(`program ${programHash} not registered`);
    return programHash;
}

/**
 * Deploys the protocol with the real ReexecutionResolver for REEXECUTION, registers each model in REEXECUTION mode
 * with its compiled program (stored first), stakes three operators for every model and funds a RecordingConsumer.
 */
export async function deployVerifiableForNode(
    specs: VerifiableModelSpec[],
    opts: { windowSeconds?: number } = {},
): Promise<VerifiableE2EDeployment> {
    const startBlock = (await ethers.provider.getBlockNumber()) + 1;
    const signers = await ethers.getSigners();
    const [admin, treasury, publisher, op1, op2, op3, challenger] = signers;
    if (!admin || !treasury || !publisher || !op1 || !op2 || !op3 || !challenger) {
        throw new Error("the hardhat network needs at least 7 accounts");
    }
    const token = await ethers.deployContract("MockERC20", ["Verity Test Token", "VTT"]);
    const programStore = await ethers.deployContract("ProgramStore");
    const executor = await ethers.deployContract("IntegerExecutor");
    const registry = await ethers.deployContract("ModelRegistry", [
        MIN_WINDOW,
        MAX_WINDOW,
        MIN_COLLATERAL,
        await programStore.getAddress(),
    ]);
    const staking = await ethers.deployContract("Staking", [
        await token.getAddress(),
        await registry.getAddress(),
        UNBONDING_DELAY,
        await admin.getAddress(),
    ]);
    const coordinator = await ethers.deployContract("InferenceCoordinator", [
        await registry.getAddress(),
        await staking.getAddress(),
        DISPUTE_TIMEOUT,
        await admin.getAddress(),
        await treasury.getAddress(),
        DEFAULT_PARAMS,
    ]);
    await staking.grantRole(await staking.LOCKER_ROLE(), await coordinator.getAddress());
    await staking.grantRole(await staking.SLASHER_ROLE(), await coordinator.getAddress());
    const resolver = await ethers.deployContract("ReexecutionResolver", [
        await coordinator.getAddress(),
        await registry.getAddress(),
        await programStore.getAddress(),
        await executor.getAddress(),
    ]);
    await coordinator.setResolver(Mode.REEXECUTION, await resolver.getAddress());

    const dir = mkdtempSync(join(tmpdir(), "verity-e2e-verifiable-"));
    const modelIds: string[] = [];
    const programHashes: string[] = [];
    const modelPaths: string[] = [];
    for (const [i, spec] of specs.entries()) {
        const path = join(dir, `model-${i}.onnx`);
        writeFileSync(path, spec.model.onnx);
        const program = spec.programOverride ?? compileModel(spec.model.onnx, spec.model.manifest).program;
        const programHash = await storeProgram(programStore, program);
        const salt = ethers.id(`e2e-verifiable-model-${i}`);
        await registry.connect(publisher).registerModel(salt, {
            onnxHash: keccak256(spec.model.onnx),
            manifestHash: keccak256(Buffer.from(spec.model.manifestJson, "utf8")),
            programHash,
            uri: path,
            mode: Mode.REEXECUTION,
            feeWei: MODEL_FEE,
            collateralWei: COLLATERAL,
            challengeWindowSeconds: opts.windowSeconds ?? MODEL_WINDOW,
        });
        modelIds.push(await registry.computeModelId(await publisher.getAddress(), salt));
        programHashes.push(programHash);
        modelPaths.push(path);
    }
    const operators = [op1, op2, op3];
    for (const op of operators) {
        const stake = 1_000n * TOKEN;
        await token.mint(await op.getAddress(), stake);
        await token.connect(op).approve(await staking.getAddress(), stake);
        await staking.connect(op).stake(stake);
        for (const modelId of modelIds) await staking.connect(op).registerForModel(modelId);
    }
    const recorder = await ethers.deployContract("RecordingConsumer", [await coordinator.getAddress()]);
    const funding = 1_000n * TOKEN;
    await token.mint(await admin.getAddress(), funding);
    await token.connect(admin).approve(await coordinator.getAddress(), funding);
    await coordinator.connect(admin).deposit(await recorder.getAddress(), funding);
    return {
        token,
        programStore,
        executor,
        registry,
        staking,
        coordinator,
        resolver,
        recorder,
        admin,
        treasury,
        publisher,
        operators,
        challenger,
        modelIds,
        programHashes,
        modelPaths,
        dir,
        startBlock,
    };
}

/** A validated node config for the deployment; `overrides` are merged section by section. */
export async function verifiableNodeConfig(
    d: VerifiableE2EDeployment,
    rpcUrl: string,
    overrides: Record<string, Record<string, unknown>> = {},
): Promise<Config> {
    const { chainId } = await ethers.provider.getNetwork();
    const raw: Record<string, unknown> = {
        chain: {
            rpcUrl,
            chainId: Number(chainId),
            coordinator: await d.coordinator.getAddress(),
            confirmations: 0,
            pollIntervalMs: 100,
            ...overrides.chain,
        },
        key: { source: "env" },
        models: d.modelIds.map((modelId) => ({ modelId })),
        storage: { dataDir: mkdtempSync(join(d.dir, "node-")), ...overrides.storage },
        inference: { concurrency: 2, ...overrides.inference },
        transactions: { stuckAfterMs: 60_000, ...overrides.transactions },
        server: { port: 0, ...overrides.server },
        log: { level: "warn", ...overrides.log },
    };
    if (overrides.roles) raw.roles = overrides.roles;
    if (overrides.challenger) raw.challenger = overrides.challenger;
    return parseConfig(raw, {});
}

/** Sends a request from the recording consumer; returns the announced Request struct. */
export async function requestFrom(
    d: VerifiableE2EDeployment,
    modelId: string,
    input: Uint8Array,
    opts: { preferred?: string; deadlineIn?: number } = {},
): Promise<Request> {
    const block = await ethers.provider.getBlock("latest");
    const tx = await d.recorder.request(modelId, input, {
        callbackGasLimit: 500_000,
        deadline: (block?.timestamp ?? 0) + (opts.deadlineIn ?? 3_600),
        preferredOperator: opts.preferred ?? ethers.ZeroAddress,
        maxFeeWei: NO_FEE_LIMIT,
    });
    const receipt = await tx.wait();
    const [announced] = announcedRequests(receipt?.logs ?? []);
    if (announced === undefined) throw new Error("no InferenceRequested event");
    return announced.request;
}
