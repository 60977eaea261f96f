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
import { announcedRequests, type Request } from "../../oracle/src/chain/requestEvents";
import { storeProgram } from "../../oracle/src/chain/programStore";
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
import { DEFAULT_PARAMS, deployCore, MODEL_FEE, MODEL_WINDOW, Mode, NO_FEE_LIMIT, TOKEN } from "../helpers/verity";

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

/**
 * Deploys the protocol with the real ReexecutionResolver for REEXECUTION, registers each model in REEXECUTION mode
 * with its compiled program (stored first), stakes three operators for every model and funds a RecordingConsumer.
 */
export async function deployVerifiableForNode(
    specs: VerifiableModelSpec[],
    opts: { windowSeconds?: number } = {},
): Promise<VerifiableE2EDeployment> {
    const startBlock = (await ethers.provider.getBlockNumber()) + 1;
    const core = await deployCore(DEFAULT_PARAMS, { reexecution: "real" });
    if (core.reexecution === undefined) throw new Error("deployCore did not deploy the ReexecutionResolver");
    const { token, programStore, registry, staking, coordinator, admin, treasury, publisher, challenger } = core;
    const { executor, resolver } = core.reexecution;

    const dir = mkdtempSync(join(tmpdir(), "verity-e2e-verifiable-"));
    const modelIds: string[] = [];
    const programHashes: string[] = [];
    const modelPaths: string[] = [];
    for (const [i, spec] of specs.entries()) {
        const path = join(dir, `model-${i}.onnx`);
        writeFileSync(path, spec.model.onnx);
        const program = spec.programOverride ?? compileModel(spec.model.onnx, spec.model.manifest).program;
        const { programHash } = await storeProgram(programStore, program);
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
    const operators = core.operators;
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
