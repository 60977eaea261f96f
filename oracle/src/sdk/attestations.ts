/**
 * Operator attestations: the coordinator's EIP-712 `Attestation` (requestId 0 for off-chain answers), signed and
 * verified under the domain read from the chain, with what backs the signer now (stake, registration, the
 * model's collateral) and, for REEXECUTION models, the chain's own answer to compare with.
 *
 * "Backed" means a proof against the signer would slash the model's full collateral right now: proveFraud and
 * proveEquivocation slash all-or-nothing from free then unbonding stake (`Staking.slash`), so free + unbonding
 * must cover `collateralWei`. Registration for the model is reported but not needed for that recourse.
 */
import { getAddress, getBytes, keccak256, verifyTypedData, ZeroHash, type BytesLike } from "ethers";
import { ATTESTATION_TYPES } from "../chain/coordinator";
import { decodeTensors, type Tensor } from "../protocol/tensorCodec";
import { ResultCode } from "../protocol/resultCodes";
import {
    attestationDomain,
    reexecutionResolverAt,
    registryOf,
    requireSigner,
    resolverOf,
    stakingOf,
    type SdkContext,
} from "./context";
import { VerificationMode } from "../protocol/verificationMode";
import { formatRevert, toSdkError, VeritySdkError, wrapReverts } from "./errors";
import { sendTransaction } from "./transactions";

/** The coordinator's EIP-712 `Attestation`, with plain types. */
export interface Attestation {
    /** 0 for an off-chain attestation. */
    requestId: bigint;
    modelId: string;
    /** keccak256 of the canonical input bytes. */
    inputHash: string;
    resultCode: number;
    /** keccak256 of the canonical output bytes. */
    outputHash: string;
    /** Trace commitment (BISECTION models), else zero. */
    traceCommitment: string;
}

/** An attestation of `output` for `input` (hashes computed here). Off-chain (requestId 0) by default. */
export function buildAttestation(fields: {
    modelId: string;
    input: BytesLike;
    output: BytesLike;
    resultCode?: number;
    requestId?: bigint;
    traceCommitment?: string;
}): Attestation {
    return {
        requestId: fields.requestId ?? 0n,
        modelId: fields.modelId,
        inputHash: keccak256(fields.input),
        resultCode: fields.resultCode ?? ResultCode.OK,
        outputHash: keccak256(fields.output),
        traceCommitment: fields.traceCommitment ?? ZeroHash,
    };
}

export interface OperatorStake {
    stakedWei: bigint;
    lockedWei: bigint;
    unbondingWei: bigint;
    unbondingReadyAt: number;
    /** staked - locked. */
    freeWei: bigint;
    /** free + unbonding: what a fraud or equivocation proof can slash. */
    slashableWei: bigint;
}

export interface AttestationVerification {
    /** The recovered signer (null when the signature is malformed or rejected by the coordinator). */
    signer: string | null;
    /** The coordinator accepts the signature (`recoverAttester`) and it matches `expectedSigner` when given. */
    valid: boolean;
    /** Why `valid` is false. */
    reason?: string;
    operatorStake: OperatorStake | null;
    registeredForModel: boolean;
    /** The model's collateral (the slash a proof brings), null for an unknown model. */
    collateralRequired: bigint | null;
    /** valid, and the signer's slashable stake covers collateralRequired now. */
    backed: boolean;
    /** How a wrong attestation can be punished: fraud proof (REEXECUTION, off-chain) or equivocation only. */
    recourse: "fraud proof" | "equivocation" | "none";
}

/** Signs `attestation` with the client's signer. */
export async function signAttestation(ctx: SdkContext, attestation: Attestation): Promise<string> {
    const signer = requireSigner(ctx, "signAttestation");
    return signer.signTypedData(await attestationDomain(ctx), ATTESTATION_TYPES, { ...attestation });
}

async function stakeOf(ctx: SdkContext, operator: string): Promise<OperatorStake> {
    const staking = await stakingOf(ctx);
    const s = await staking.getStake(operator);
    const freeWei = s.stakedWei - s.lockedWei;
    return {
        stakedWei: s.stakedWei,
        lockedWei: s.lockedWei,
        unbondingWei: s.unbondingWei,
        unbondingReadyAt: Number(s.unbondingReadyAt),
        freeWei,
        slashableWei: freeWei + s.unbondingWei,
    };
}

/**
 * Recovers the signer locally (ethers) and on-chain (`recoverAttester`, which also rejects malleable
 * signatures), and reads the signer's stake, registration and the model's collateral.
 */
export async function verifyAttestation(
    ctx: SdkContext,
    attestation: Attestation,
    signature: string,
    opts: { expectedSigner?: string } = {},
): Promise<AttestationVerification> {
    const domain = await attestationDomain(ctx);
    let signer: string | null = null;
    let reason: string | undefined;
    try {
        const local = getAddress(verifyTypedData(domain, ATTESTATION_TYPES, { ...attestation }, signature));
        const onChain = getAddress(await ctx.coordinator.recoverAttester({ ...attestation }, signature));
        if (local !== onChain) reason = `local recovery ${local} differs from the coordinator's ${onChain}`;
        else signer = onChain;
    } catch (err) {
        const sdkErr = toSdkError(err, "recoverAttester");
        reason =
            sdkErr instanceof VeritySdkError && sdkErr.revert !== undefined
                ? `coordinator rejects the signature: ${formatRevert(sdkErr.revert)}`
                : `malformed signature: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (signer !== null && opts.expectedSigner !== undefined && signer !== getAddress(opts.expectedSigner)) {
        reason = `signed by ${signer}, not by ${getAddress(opts.expectedSigner)}`;
    }
    const valid = signer !== null && reason === undefined;

    let collateralRequired: bigint | null = null;
    let mode: number | null = null;
    try {
        const terms = await (await registryOf(ctx)).getModelTerms(attestation.modelId);
        collateralRequired = terms.collateralWei;
        mode = Number(terms.mode);
    } catch {
        // Unknown model: nothing backs the attestation.
    }
    const operatorStake = signer === null ? null : await stakeOf(ctx, signer);
    const registeredForModel =
        signer === null ? false : await (await stakingOf(ctx)).isRegistered(attestation.modelId, signer);
    const backed =
        valid &&
        operatorStake !== null &&
        collateralRequired !== null &&
        operatorStake.slashableWei >= collateralRequired;
    const recourse =
        mode === null
            ? "none"
            : mode === VerificationMode.REEXECUTION && attestation.requestId === 0n
              ? "fraud proof"
              : "equivocation";
    return {
        signer,
        valid,
        ...(reason !== undefined ? { reason } : {}),
        operatorStake,
        registeredForModel,
        collateralRequired,
        backed,
        recourse,
    };
}

/** The chain's answer for an attestation's question. */
export interface ChainCheck {
    /** The attestation's result code and output hash equal the re-execution's. */
    correct: boolean;
    resultCode: number;
    output: Uint8Array;
    outputHash: string;
    tensors: Tensor[] | null;
    /** Wrong and off-chain (requestId 0): `proveFraud` would slash the signer. */
    fraudProvable: boolean;
}

/**
 * Re-executes the model on `input` with the REEXECUTION resolver's `reexecute` view (eth_call; the same check
 * `isWrongResult` makes for a fraud proof) and compares. Throws INPUT_MISMATCH when `input` is not the
 * attested input, UNSUPPORTED_MODE for other modes or when no resolver is set.
 */
export async function checkAgainstChain(
    ctx: SdkContext,
    attestation: Attestation,
    input: Uint8Array,
): Promise<ChainCheck> {
    const inputHash = keccak256(input);
    if (inputHash !== attestation.inputHash) {
        throw new VeritySdkError(
            "INPUT_MISMATCH",
            `input hashes to ${inputHash}, the attestation says ${attestation.inputHash}`,
        );
    }
    const terms = await wrapReverts("getModelTerms", async () =>
        (await registryOf(ctx)).getModelTerms(attestation.modelId),
    );
    if (Number(terms.mode) !== VerificationMode.REEXECUTION) {
        throw new VeritySdkError(
            "UNSUPPORTED_MODE",
            `model ${attestation.modelId} has mode ${String(terms.mode)}: only REEXECUTION models can be checked on-chain`,
        );
    }
    const resolver = await resolverOf(ctx, VerificationMode.REEXECUTION);
    if (resolver === null) throw new VeritySdkError("UNSUPPORTED_MODE", "the coordinator has no REEXECUTION resolver");
    const [code, outputHex] = await wrapReverts("reexecute", () =>
        reexecutionResolverAt(ctx, resolver).reexecute(attestation.modelId, input),
    );
    const resultCode = Number(code);
    const output = getBytes(outputHex);
    const outputHash = keccak256(output);
    const correct = resultCode === attestation.resultCode && outputHash === attestation.outputHash;
    let tensors: Tensor[] | null = null;
    if (resultCode === ResultCode.OK) {
        try {
            tensors = decodeTensors(output);
        } catch {
            tensors = null;
        }
    }
    return {
        correct,
        resultCode,
        output,
        outputHash,
        tensors,
        fraudProvable: !correct && attestation.requestId === 0n,
    };
}

/** Sends `proveFraud` (the coordinator re-executes, and slashes the signer when the attestation is wrong). */
export async function proveFraud(
    ctx: SdkContext,
    attestation: Attestation,
    signature: string,
    input: Uint8Array,
): Promise<string> {
    const receipt = await sendTransaction(ctx, "proveFraud", (signer, overrides) =>
        ctx.coordinator.connect(signer).proveFraud({ ...attestation }, signature, input, overrides),
    );
    return receipt.hash;
}
