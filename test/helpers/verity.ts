import { ethers } from "hardhat";
import type { ContractTransactionReceipt, Signer } from "ethers";
import type {
    InferenceCoordinator,
    IntegerExecutor,
    MockERC20,
    ModelRegistry,
    ProgramStore,
    ReexecutionResolver,
    Staking,
    TestConsumer,
    TestResolver,
} from "../../typechain-types";
import type { IInferenceCoordinator } from "../../typechain-types/contracts/InferenceCoordinator";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { announcedRequests, applyRequestEvents } from "../../oracle/src/chain/requestEvents";
import { ATTESTATION_TYPES } from "../../oracle/src/chain/coordinator";
import { storeProgram as storeProgramChunks } from "../../oracle/src/chain/programStore";
import { DEPLOYMENT_DEFAULTS } from "../../oracle/src/protocol/deploymentDefaults";
import { VerificationMode } from "../../oracle/src/protocol/verificationMode";

export type Request = IInferenceCoordinator.RequestStruct;
export type Params = IInferenceCoordinator.ParamsStruct;
export type Attestation = IInferenceCoordinator.AttestationStruct;

/** VerificationMode in IModelRegistry: the protocol's table, under the tests' short name. */
export const Mode = VerificationMode;
export const Status = { None: 0, Requested: 1, Submitted: 2, Disputed: 3 } as const;
export const ResultCode = { OK: 0, INVALID_INPUT: 1, MODEL_ERROR: 2, RESERVED_FROM: 128, VOIDED: 255 };

export const TOKEN = 10n ** 18n;
/** RequestOptions.maxFeeWei that accepts any fee. */
export const NO_FEE_LIMIT = 2n ** 96n - 1n;
export const MIN_WINDOW = 60;
export const MAX_WINDOW = 86_400;
export const MIN_COLLATERAL = TOKEN / 10n;
export const DISPUTE_TIMEOUT = 86_400;
export const UNBONDING_DELAY = 3 * 86_400;
export const MODEL_FEE = TOKEN / 100n;
export const MODEL_COLLATERAL = 10n * TOKEN;
export const MODEL_WINDOW = 600;
export const CALLBACK_GAS = 200_000;
/** The REEXECUTION resolver's dispute gas bound (EIP-7825's per-transaction cap, 2^24) and gas price: the deployment defaults. */
export const MAX_DISPUTE_GAS = DEPLOYMENT_DEFAULTS.maxDisputeGas;
export const DISPUTE_GAS_PRICE_WEI = DEPLOYMENT_DEFAULTS.disputeGasPriceWei;

export const DEFAULT_PARAMS: Params = {
    exclusiveWindowSeconds: 30,
    minDeadlineSeconds: 60,
    maxDeadlineSeconds: 7 * 86_400,
    maxCallbackGasLimit: 2_500_000,
    maxInputBytes: 65_536,
    callbackGasFeeWei: 1_000_000_000n,
    protocolFeeBps: 500,
    challengerRewardBps: 5_000,
    failedChallengeOperatorBps: 9_000,
    challengeBondBps: 1_000,
    minChallengeBondWei: TOKEN / 2n,
};

/** A canonical input: one int8 tensor of shape [1, 4]. */
export const INPUT = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [12n, -7n, 100n, -128n] }]);
/** A canonical output: one int32 tensor of shape [1, 3]. */
export const OUTPUT = encodeTensors([{ dtype: DType.INT32, shape: [1, 3], data: [-5000n, 123456n, 7n] }]);
/** A different (wrong) output. */
export const WRONG_OUTPUT = encodeTensors([{ dtype: DType.INT32, shape: [1, 3], data: [999999n, 0n, 0n] }]);

/** The program every test model registers (its hash is `ethers.id("program bytes")`), stored by deployCore. */
export const TEST_PROGRAM = ethers.toUtf8Bytes("program bytes");

export interface Deployment {
    token: MockERC20;
    programStore: ProgramStore;
    /** Set by deployCore with `reexecution: "real"`. */
    reexecution?: { executor: IntegerExecutor; resolver: ReexecutionResolver } | undefined;
    registry: ModelRegistry;
    staking: Staking;
    coordinator: InferenceCoordinator;
    resolver: TestResolver;
    consumer: TestConsumer;
    modelId: string;
    admin: Signer;
    treasury: Signer;
    publisher: Signer;
    operators: Signer[];
    challenger: Signer;
    others: Signer[];
}

/** Stores `program` in the ProgramStore (oracle/src/chain/programStore.ts) and returns its hash. */
export async function storeProgram(programStore: ProgramStore, program: Uint8Array): Promise<string> {
    return (await storeProgramChunks(programStore, program)).programHash;
}

/**
 * Deploys an InferenceCoordinator with `args` (its constructor's) and the DisputeLogic library it links, so that the
 * linking lives in one place for the tests.
 */
export async function deployCoordinator(args: unknown[]): Promise<InferenceCoordinator> {
    const library = await ethers.deployContract("DisputeLogic");
    const coordinator = await ethers.deployContract("InferenceCoordinator", args, {
        libraries: { DisputeLogic: await library.getAddress() },
    });
    return coordinator as unknown as InferenceCoordinator;
}

/**
 * The protocol contracts. REEXECUTION disputes go to the real ReexecutionResolver (IntegerExecutor over
 * ProgramStore programs) with `reexecution: "real"`, else to the TestResolver like the other modes.
 */
export async function deployCore(params: Params = DEFAULT_PARAMS, opts: { reexecution?: "test" | "real" } = {}) {
    const signers = await ethers.getSigners();
    const [admin, treasury, publisher, op1, op2, op3, challenger] = signers.map((s) => s);
    const others = signers.slice(7);
    if (admin === undefined || treasury === undefined || publisher === undefined || challenger === undefined) {
        throw new Error("hardhat network needs at least 7 accounts");
    }
    if (op1 === undefined || op2 === undefined || op3 === undefined) throw new Error("need 3 operator accounts");
    const token = await ethers.deployContract("MockERC20", ["Verity Test Token", "VTT"]);
    const programStore = await ethers.deployContract("ProgramStore");
    await storeProgram(programStore, TEST_PROGRAM);
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
    const coordinator = await deployCoordinator([
        await registry.getAddress(),
        await staking.getAddress(),
        DISPUTE_TIMEOUT,
        await admin.getAddress(),
        await treasury.getAddress(),
        params,
    ]);
    await registry.bindCoordinator(await coordinator.getAddress());
    await staking.grantRole(await staking.SLASHER_ROLE(), await coordinator.getAddress());
    const resolver = await ethers.deployContract("TestResolver", [await coordinator.getAddress()]);
    let reexecution: { executor: IntegerExecutor; resolver: ReexecutionResolver } | undefined;
    if (opts.reexecution === "real") {
        const executor = await ethers.deployContract("IntegerExecutor");
        const real = await ethers.deployContract("ReexecutionResolver", [
            await coordinator.getAddress(),
            await registry.getAddress(),
            await programStore.getAddress(),
            await executor.getAddress(),
            MAX_DISPUTE_GAS,
            DISPUTE_GAS_PRICE_WEI,
        ]);
        reexecution = { executor, resolver: real };
        await coordinator.setResolver(Mode.REEXECUTION, await real.getAddress());
    }
    for (const mode of [Mode.REEXECUTION, Mode.BISECTION, Mode.QUORUM]) {
        if (mode === Mode.REEXECUTION && reexecution !== undefined) continue;
        await coordinator.setResolver(mode, await resolver.getAddress());
    }
    const consumer = await ethers.deployContract("TestConsumer", [await coordinator.getAddress()]);
    return {
        reexecution,
        programStore,
        token,
        registry,
        staking,
        coordinator,
        resolver,
        consumer,
        admin,
        treasury,
        publisher,
        operators: [op1, op2, op3],
        challenger,
        others,
    };
}

export async function registerModel(
    registry: ModelRegistry,
    publisher: Signer,
    opts: {
        salt?: string;
        onnxHash?: string;
        manifestHash?: string;
        programHash?: string;
        mode?: number;
        feeWei?: bigint;
        collateralWei?: bigint;
        windowSeconds?: number;
    } = {},
): Promise<string> {
    const salt = opts.salt ?? ethers.id("risk-model-v1");
    const spec = {
        onnxHash: opts.onnxHash ?? ethers.id("onnx bytes"),
        manifestHash: opts.manifestHash ?? ethers.id("manifest bytes"),
        programHash: opts.programHash ?? ethers.id("program bytes"),
        uri: "file://models/risk.onnx",
        mode: opts.mode ?? Mode.REEXECUTION,
        feeWei: opts.feeWei ?? MODEL_FEE,
        collateralWei: opts.collateralWei ?? MODEL_COLLATERAL,
        challengeWindowSeconds: opts.windowSeconds ?? MODEL_WINDOW,
    };
    await registry.connect(publisher).registerModel(salt, spec);
    return registry.computeModelId(await publisher.getAddress(), salt);
}

/** Mints, stakes and registers each operator for the model. */
export async function stakeOperators(d: Omit<Deployment, "modelId">, modelId: string, stakeWei = 100n * TOKEN) {
    for (const op of d.operators) {
        await d.token.mint(await op.getAddress(), stakeWei);
        await d.token.connect(op).approve(await d.staking.getAddress(), stakeWei);
        await d.staking.connect(op).stake(stakeWei);
        await d.staking.connect(op).registerForModel(modelId);
    }
}

/** Deposits `amount` into `account`'s prepaid balance at the coordinator. */
export async function fund(d: Omit<Deployment, "modelId">, account: string, amount = 10n * TOKEN) {
    await d.token.mint(await d.admin.getAddress(), amount);
    await d.token.connect(d.admin).approve(await d.coordinator.getAddress(), amount);
    await d.coordinator.connect(d.admin).deposit(account, amount);
}

/** A deployment with one REEXECUTION model, three staked operators, and a funded TestConsumer. */
export async function deployWithModel(params: Params = DEFAULT_PARAMS): Promise<Deployment> {
    const core = await deployCore(params);
    const modelId = await registerModel(core.registry, core.publisher);
    await stakeOperators(core, modelId);
    await fund(core, await core.consumer.getAddress());
    return { ...core, modelId };
}

/** The Request struct(s) emitted by InferenceRequested in a receipt. */
export function requestsFrom(receipt: ContractTransactionReceipt | null): Request[] {
    if (receipt === null) throw new Error("no receipt");
    return announcedRequests(receipt.logs).map((a) => a.request);
}

/** Applies the ResultSubmitted / ResultChallenged / ChallengeWindowRestarted events of a receipt to `request`. */
export function applyEvents(request: Request, receipt: ContractTransactionReceipt | null): Request {
    if (receipt === null) throw new Error("no receipt");
    return applyRequestEvents(request, receipt.logs);
}

export async function now(): Promise<number> {
    const block = await ethers.provider.getBlock("latest");
    if (block === null) throw new Error("no block");
    return block.timestamp;
}

/** Sends a request from the TestConsumer and returns the emitted Request. */
export async function sendRequest(
    d: Deployment,
    opts: { input?: Uint8Array; deadlineIn?: number; preferred?: string; callbackGasLimit?: number } = {},
): Promise<Request> {
    const deadline = (await now()) + (opts.deadlineIn ?? 3_600);
    const tx = await d.consumer.request(d.modelId, opts.input ?? INPUT, {
        callbackGasLimit: opts.callbackGasLimit ?? CALLBACK_GAS,
        deadline,
        preferredOperator: opts.preferred ?? ethers.ZeroAddress,
        maxFeeWei: NO_FEE_LIMIT,
    });
    const [request] = requestsFrom(await tx.wait());
    if (request === undefined) throw new Error("no InferenceRequested event");
    return request;
}

/**
 * The operator `request` is assigned to (fixed at request time: the preferred one, else the rotation's pick if it
 * could back it), or, for a request open to all at once, the rotation's current pick.
 */
export async function assignedOperator(d: Pick<Deployment, "staking">, request: Request): Promise<string> {
    if (request.assignedOperator !== ethers.ZeroAddress) return String(request.assignedOperator);
    return d.staking.operatorAt(request.modelId, request.requestId);
}

/** The signer of the operator assigned to `request`. */
export async function assignedSigner(d: Deployment, request: Request): Promise<Signer> {
    const assigned = await assignedOperator(d, request);
    for (const op of d.operators) {
        if ((await op.getAddress()) === assigned) return op;
    }
    throw new Error(`assigned operator ${assigned} is not a test operator`);
}

/** Submits `output` as the assigned operator and returns the updated Request. */
export async function submit(
    d: Deployment,
    request: Request,
    output: Uint8Array = OUTPUT,
    opts: { operator?: Signer; resultCode?: number; trace?: string } = {},
): Promise<Request> {
    const operator = opts.operator ?? (await assignedSigner(d, request));
    const tx = await d.coordinator
        .connect(operator)
        .submitResult(request, opts.resultCode ?? ResultCode.OK, output, opts.trace ?? ethers.ZeroHash);
    return applyEvents(request, await tx.wait());
}

export function attestationOf(
    request: Request,
    output: Uint8Array,
    resultCode = 0,
    trace = ethers.ZeroHash,
): Attestation {
    return {
        requestId: request.requestId,
        modelId: request.modelId,
        inputHash: request.inputHash,
        resultCode,
        outputHash: ethers.keccak256(output),
        traceCommitment: trace,
    };
}

export { ATTESTATION_TYPES };

export async function signAttestation(
    signer: Signer,
    coordinator: InferenceCoordinator,
    attestation: Attestation,
): Promise<string> {
    const { chainId } = await ethers.provider.getNetwork();
    return signer.signTypedData(
        { name: "Verity", version: "1", chainId, verifyingContract: await coordinator.getAddress() },
        ATTESTATION_TYPES,
        attestation,
    );
}
