/**
 * The demo's chain and deployment: the in-process Hardhat network served over HTTP (for the nodes), the protocol
 * deployed with the Ignition module around a test stake token, the Iris model registered as REEXECUTION (its
 * program stored in the ProgramStore) and a float model as QUORUM, two operators staked, a challenger funded and
 * an example consumer with a prepaid balance.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import hre, { ethers } from "hardhat";
import { Wallet, keccak256, type Signer } from "ethers";
import { hardhatWallet, localNodeConfig } from "../scripts/localChain";
import VerityModule from "../deploy/modules/Verity";
import { storeProgram } from "../oracle/src/chain/programStore";
import type { Config } from "../oracle/src/config/schema";
import { compileModel } from "../oracle/src/verify/program";
import { loadVerifiableModel, type VerifiableModel } from "../oracle/src/verify/execute";
import { VerificationMode as Mode } from "../oracle/src/protocol/verificationMode";
import { multiIOFloatModel } from "../models/examples";
import type {
    InferenceCoordinator,
    MockERC20,
    ModelRegistry,
    ProgramStore,
    RecordingConsumer,
    Staking,
} from "../typechain-types";

export const TOKEN = 10n ** 18n;
/** RequestOptions.maxFeeWei that accepts any fee. */
export const NO_FEE_LIMIT = 2n ** 96n - 1n;

/** Demo parameters: short windows so that a run takes a minute or two. */
export const DEMO = {
    challengeWindowSeconds: 8,
    feeWei: TOKEN / 100n,
    collateralWei: 5n * TOKEN,
    operatorStakeWei: 100n * TOKEN,
    challengerFundsWei: 10n * TOKEN,
    consumerDepositWei: 100n * TOKEN,
    callbackGasLimit: 300_000,
    protocolFeeBps: 500,
} as const;

export interface DemoModel {
    modelId: string;
    name: string;
    mode: number;
    path: string;
}

export interface DemoDeployment {
    token: MockERC20;
    programStore: ProgramStore;
    registry: ModelRegistry;
    staking: Staking;
    coordinator: InferenceCoordinator;
    consumer: RecordingConsumer;
    admin: Signer;
    treasury: string;
    /** The liar's signer (Hardhat account 4): the adversary script sends its transactions in-process. */
    liar: Signer;
    honestWallet: Wallet;
    liarAddress: string;
    challengerWallet: Wallet;
    iris: DemoModel & { reference: VerifiableModel; programHash: string };
    float: DemoModel;
    dir: string;
    startBlock: number;
}

async function stakeFor(d: { token: MockERC20; staking: Staking }, op: Signer, modelIds: string[]): Promise<void> {
    await (await d.token.mint(await op.getAddress(), DEMO.operatorStakeWei)).wait();
    await (await d.token.connect(op).approve(await d.staking.getAddress(), DEMO.operatorStakeWei)).wait();
    await (await d.staking.connect(op).stake(DEMO.operatorStakeWei)).wait();
    for (const modelId of modelIds) await (await d.staking.connect(op).registerForModel(modelId)).wait();
}

/** Deploys and sets up everything the demo runs on. */
export async function deployDemo(): Promise<DemoDeployment> {
    const startBlock = (await ethers.provider.getBlockNumber()) + 1;
    const [admin, treasury, publisher, honest, liar, , challenger] = await ethers.getSigners();
    if (!admin || !treasury || !publisher || !honest || !liar || !challenger) {
        throw new Error("the hardhat network needs at least 7 accounts");
    }
    const honestWallet = hardhatWallet(3);
    const challengerWallet = hardhatWallet(6);
    if (honestWallet.address !== (await honest.getAddress())) throw new Error("unexpected Hardhat accounts");

    // The protocol, through the same Ignition module as a real deployment; a test token stands in for the stake.
    const token = await ethers.deployContract("MockERC20", ["Verity Test Token", "VTT"]);
    const deployed = await hre.ignition.deploy(VerityModule, {
        parameters: {
            Verity: {
                stakeToken: await token.getAddress(),
                treasury: await treasury.getAddress(),
                minChallengeWindowSeconds: 1,
                protocolFeeBps: DEMO.protocolFeeBps,
            },
        },
    });
    const registry = await ethers.getContractAt("ModelRegistry", await deployed.registry.getAddress());
    const staking = await ethers.getContractAt("Staking", await deployed.staking.getAddress());
    const coordinator = await ethers.getContractAt("InferenceCoordinator", await deployed.coordinator.getAddress());
    const programStore = await ethers.getContractAt("ProgramStore", await deployed.programStore.getAddress());
    // The QUORUM dispute path is not built yet; the registry refuses a model whose mode has no resolver, so the
    // float model's mode gets a stand-in (no float result is disputed in the demo).
    const quorumStandIn = await ethers.deployContract("TestResolver", [await coordinator.getAddress()]);
    await (await coordinator.setResolver(Mode.QUORUM, await quorumStandIn.getAddress())).wait();

    const dir = mkdtempSync(join(tmpdir(), "verity-demo-"));

    // Iris: the verifiable example model, its on-chain program stored first.
    const irisPath = resolve(__dirname, "../models/iris/iris.onnx");
    const irisOnnx = new Uint8Array(readFileSync(irisPath));
    const irisManifest = readFileSync(resolve(__dirname, "../models/iris/iris.manifest.json"), "utf8");
    const compiled = compileModel(irisOnnx);
    const { programHash } = await storeProgram(programStore, compiled.program);
    const register = async (
        salt: string,
        onnx: Uint8Array,
        manifestJson: string,
        mode: number,
        path: string,
        program: string,
    ): Promise<string> => {
        await (
            await registry.connect(publisher).registerModel(ethers.id(salt), {
                onnxHash: keccak256(onnx),
                manifestHash: keccak256(Buffer.from(manifestJson, "utf8")),
                programHash: program,
                uri: path,
                mode,
                feeWei: DEMO.feeWei,
                collateralWei: DEMO.collateralWei,
                challengeWindowSeconds: DEMO.challengeWindowSeconds,
            })
        ).wait();
        return registry.computeModelId(await publisher.getAddress(), ethers.id(salt));
    };
    const irisId = await register("demo-iris", irisOnnx, irisManifest, Mode.REEXECUTION, irisPath, programHash);

    // The float model (QUORUM, served by the same optimistic flow), written where the node fetches it.
    const floatModel = multiIOFloatModel();
    const floatPath = join(dir, "multi-io-float.onnx");
    writeFileSync(floatPath, floatModel.onnx);
    const floatId = await register(
        "demo-float",
        floatModel.onnx,
        floatModel.manifestJson,
        Mode.QUORUM,
        floatPath,
        ethers.ZeroHash,
    );

    // Operators: the honest one serves both models; the liar only the verifiable one.
    await stakeFor({ token, staking }, honest, [irisId, floatId]);
    await stakeFor({ token, staking }, liar, [irisId]);
    await (await token.mint(challengerWallet.address, DEMO.challengerFundsWei)).wait();

    // The example consumer, with a prepaid balance.
    const consumer = await ethers.deployContract("RecordingConsumer", [await coordinator.getAddress()]);
    await (await token.mint(await admin.getAddress(), DEMO.consumerDepositWei)).wait();
    await (await token.approve(await coordinator.getAddress(), DEMO.consumerDepositWei)).wait();
    await (await coordinator.deposit(await consumer.getAddress(), DEMO.consumerDepositWei)).wait();

    return {
        token,
        programStore,
        registry,
        staking,
        coordinator,
        consumer,
        admin,
        treasury: await treasury.getAddress(),
        liar,
        honestWallet,
        liarAddress: await liar.getAddress(),
        challengerWallet,
        iris: {
            modelId: irisId,
            name: "iris",
            mode: Mode.REEXECUTION,
            path: irisPath,
            reference: loadVerifiableModel(irisOnnx),
            programHash,
        },
        float: { modelId: floatId, name: "float", mode: Mode.QUORUM, path: floatPath },
        dir,
        startBlock,
    };
}

/** A validated node config for the deployment (fast polling, no confirmations: a local chain). */
export async function demoNodeConfig(
    d: DemoDeployment,
    rpcUrl: string,
    name: string,
    modelIds: string[],
    extra: Record<string, Record<string, unknown>> = {},
): Promise<Config> {
    const target = {
        rpcUrl,
        coordinator: await d.coordinator.getAddress(),
        modelIds,
        dataDir: mkdtempSync(join(d.dir, `${name}-`)),
    };
    return localNodeConfig(target, extra, "error");
}
