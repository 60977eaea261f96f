import { ethers } from "hardhat";
import type { ContractTransactionResponse, Signer } from "ethers";
import type { IInferenceCoordinator } from "../../typechain-types/contracts/InferenceCoordinator";
import {
    DEFAULT_PARAMS,
    MIN_COLLATERAL,
    Mode,
    ResultCode,
    WRONG_OUTPUT,
    applyEvents,
    assignedSigner,
    deployWithModel,
    registerModel,
    sendRequest,
    submit,
    type Deployment,
    type Request,
} from "./verity";
import { challengeCommitment, newChallengeSalt } from "../../oracle/src/chain/coordinator";

export type Verdict = IInferenceCoordinator.VerdictStruct;

export const BPS = 10_000n;
export const CHALLENGER_REWARD_BPS = BigInt(DEFAULT_PARAMS.challengerRewardBps);
export const FAILED_CHALLENGE_OPERATOR_BPS = BigInt(DEFAULT_PARAMS.failedChallengeOperatorBps);
export const CHALLENGE_BOND_BPS = BigInt(DEFAULT_PARAMS.challengeBondBps);
export const MIN_CHALLENGE_BOND = BigInt(DEFAULT_PARAMS.minChallengeBondWei);

/**
 * Callback gas for requests in dispute tests. The TestConsumer's Store behaviour writes five fresh storage slots
 * (about 110k gas when the result code is non-zero), more than the default CALLBACK_GAS.
 */
export const DISPUTE_CALLBACK_GAS = 300_000;

/** The resolver rejects the challenge without proving the result (as a lost game would): the window restarts. */
export const NOT_AT_FAULT: Verdict = {
    operatorAtFault: false,
    conclusive: false,
    deliverResult: false,
    resultCode: 0,
    output: "0x",
};

/** The resolver rejects the challenge and proves the result right (as a re-execution does): final at once. */
export const PROVEN: Verdict = { ...NOT_AT_FAULT, conclusive: true };

/** The operator was wrong and no correct result is delivered: the request is voided. */
export const VOID: Verdict = {
    operatorAtFault: true,
    conclusive: true,
    deliverResult: false,
    resultCode: 0,
    output: "0x",
};

/** The operator was wrong; the resolver delivers the correct `output` with `resultCode`. */
export function corrected(output: Uint8Array, resultCode: number = ResultCode.OK): Verdict {
    return { operatorAtFault: true, conclusive: true, deliverResult: true, resultCode, output };
}

/** The bond the coordinator's formula fixes for a result with `collateralWei`: the bps share, at least the floor,
 * at most the collateral. */
export function expectedBond(collateralWei: bigint, bondBps: bigint = CHALLENGE_BOND_BPS): bigint {
    const share = (collateralWei * bondBps) / BPS;
    const bond = share < MIN_CHALLENGE_BOND ? MIN_CHALLENGE_BOND : share;
    return bond > collateralWei ? collateralWei : bond;
}

/** Mints `amountWei` stake tokens to `signer` and approves the coordinator to pull exactly that much. */
export async function fundBond(d: Deployment, signer: Signer, amountWei: bigint): Promise<void> {
    await d.token.mint(await signer.getAddress(), amountWei);
    await d.token.connect(signer).approve(await d.coordinator.getAddress(), amountWei);
}

/** Whether Hardhat mines each transaction as it comes (tests that stage the mempool turn that off). */
async function automining(): Promise<boolean> {
    return (await ethers.provider.send("hardhat_getAutomine", [])) as boolean;
}

/**
 * Commits a challenge of `requestId` by `challenger` (`commitChallenge`, the first half of commit-reveal) with a fresh
 * random salt unless one is given, and makes sure it is in a block (mines one when automine is off). Returns the salt
 * that reveals it, the commitment and the commit transaction.
 */
export async function commitChallengeAs(
    d: Pick<Deployment, "coordinator">,
    challenger: Signer,
    requestId: bigint | string | number,
    salt: string = newChallengeSalt(),
): Promise<{ salt: string; commitment: string; tx: ContractTransactionResponse }> {
    const commitment = challengeCommitment(BigInt(requestId), await challenger.getAddress(), salt);
    const tx = await d.coordinator.connect(challenger).commitChallenge(commitment);
    if (!(await automining())) await ethers.provider.send("evm_mine", []);
    await tx.wait();
    return { salt, commitment, tx };
}

/**
 * Reveals `challenger`'s commitment made with `salt`: `challenge(request, evidence, salt)`. Returns the transaction
 * and the request updated by its events.
 */
export async function revealChallengeAs(
    d: Pick<Deployment, "coordinator">,
    challenger: Signer,
    request: Request,
    salt: string,
    evidence: string = "0x",
): Promise<{ tx: ContractTransactionResponse; request: Request }> {
    const tx = await d.coordinator.connect(challenger).challenge(request, evidence, salt);
    return { tx, request: applyEvents(request, await tx.wait()) };
}

/**
 * Challenges `request` as `challenger` the way the protocol takes it: commits, then reveals in a later block (the
 * next one under automine). Returns the reveal transaction and the request updated by its events.
 */
export async function challengeAs(
    d: Pick<Deployment, "coordinator">,
    challenger: Signer,
    request: Request,
    evidence: string = "0x",
): Promise<{ tx: ContractTransactionResponse; request: Request }> {
    const { salt } = await commitChallengeAs(d, challenger, request.requestId);
    return revealChallengeAs(d, challenger, request, salt, evidence);
}

/** Has the test resolver decide an open dispute; returns the transaction and the request updated by its events. */
export async function decide(
    d: Deployment,
    disputed: Request,
    verdict: Verdict,
): Promise<{ tx: ContractTransactionResponse; request: Request }> {
    const tx = await d.resolver.decide(disputed, verdict);
    return { tx, request: applyEvents(disputed, await tx.wait()) };
}

/** An operator's whole position: active + unbonding stake, coordinator balance and token balance. */
export async function totalHoldings(d: Deployment, account: string): Promise<bigint> {
    const stake = await d.staking.getStake(account);
    return (
        stake.stakedWei +
        stake.unbondingWei +
        (await d.coordinator.balanceOf(account)) +
        (await d.token.balanceOf(account))
    );
}

export interface SubmittedScenario extends Deployment {
    /** The request in status Submitted, carrying WRONG_OUTPUT. */
    request: Request;
    /** The operator that submitted it. */
    operator: Signer;
    /** The bond a challenge of it needs (fixed in the request). */
    bondWei: bigint;
}

/** A REEXECUTION request answered with WRONG_OUTPUT by its assigned operator; the challenger is funded for one bond. */
export async function deploySubmittedWrong(): Promise<SubmittedScenario> {
    const d = await deployWithModel();
    const requested = await sendRequest(d, { callbackGasLimit: DISPUTE_CALLBACK_GAS });
    const operator = await assignedSigner(d, requested);
    const request = await submit(d, requested, WRONG_OUTPUT, { operator });
    // The bond the request fixed when it was made.
    const bondWei = BigInt(request.bondWei);
    await fundBond(d, d.challenger, bondWei);
    return { ...d, request, operator, bondWei };
}

export interface DisputedScenario extends SubmittedScenario {
    /** The request in status Disputed (the resolver has not decided). */
    disputed: Request;
}

/** deploySubmittedWrong, then challenged by `challenger`; the dispute is left open. */
export async function deployDisputed(): Promise<DisputedScenario> {
    const s = await deploySubmittedWrong();
    const { request: disputed } = await challengeAs(s, s.challenger, s.request, "0x");
    return { ...s, disputed };
}

/**
 * A model whose collateral is the registry's minimum (so the bps bond is far below the floor), served by the
 * same operators, with one request answered and a challenger holding plenty of tokens but no allowance yet.
 */
export async function deployTinyCollateral(): Promise<SubmittedScenario> {
    const base = await deployWithModel();
    const modelId = await registerModel(base.registry, base.publisher, {
        salt: ethers.id("tiny-collateral"),
        collateralWei: MIN_COLLATERAL,
    });
    for (const op of base.operators) await base.staking.connect(op).registerForModel(modelId);
    const d: Deployment = { ...base, modelId };
    const requested = await sendRequest(d, { callbackGasLimit: DISPUTE_CALLBACK_GAS });
    const operator = await assignedSigner(d, requested);
    const request = await submit(d, requested, WRONG_OUTPUT, { operator });
    await d.token.mint(await d.challenger.getAddress(), 100n * MIN_CHALLENGE_BOND);
    return { ...d, request, operator, bondWei: BigInt(request.bondWei) };
}

/** deployWithModel plus a QUORUM model the three operators are registered for. */
export async function deployWithQuorumModel(): Promise<Deployment & { quorumModelId: string }> {
    const d = await deployWithModel();
    const quorumModelId = await registerModel(d.registry, d.publisher, {
        salt: ethers.id("quorum-model"),
        mode: Mode.QUORUM,
    });
    for (const op of d.operators) await d.staking.connect(op).registerForModel(quorumModelId);
    return { ...d, quorumModelId };
}

/** The timestamp of the block that mined `tx`. */
export async function minedAt(tx: ContractTransactionResponse): Promise<number> {
    const receipt = await tx.wait();
    if (receipt === null) throw new Error("no receipt");
    const block = await ethers.provider.getBlock(receipt.blockNumber);
    if (block === null) throw new Error("no block");
    return block.timestamp;
}
