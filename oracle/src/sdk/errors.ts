/**
 * The SDK's errors: one class, `VeritySdkError`, with a stable `code` and one clear message. Reverts carry the
 * contract's custom error decoded by name and arguments (`revert`), so callers branch on
 * `err.code === "REVERTED" && err.revert?.name === "CoordinatorInsufficientBalance"` instead of parsing strings.
 */
import { isError } from "ethers";
import { decodeRevert, type DecodedRevert } from "../chain/coordinator";
import { revertData, VerityError } from "../internal/errors";

/** Every code a VeritySdkError may carry. */
export type SdkErrorCode =
    /** No InferenceRequested event for this request id (in the blocks searched). */
    | "UNKNOWN_REQUEST"
    /** waitForResult gave up after `timeoutMs`. */
    | "TIMEOUT"
    /** waitForResult was aborted by its AbortSignal. */
    | "ABORTED"
    /** A transaction or call reverted; `revert` holds the decoded custom error. */
    | "REVERTED"
    /** The method sends a transaction but the client has no signer. */
    | "NO_SIGNER"
    /** An argument is malformed (bad hex, negative amount...). */
    | "INVALID_ARGUMENT"
    /** The coordinator's EIP-712 domain is not the one Verity attestations are signed for. */
    | "DOMAIN_MISMATCH"
    /** The input bytes do not hash to the attestation's inputHash. */
    | "INPUT_MISMATCH"
    /** The model cannot be checked on-chain (only REEXECUTION models can), or it has no resolver yet. */
    | "UNSUPPORTED_MODE"
    /** The request is not in a state that allows the action (e.g. cancelling a served request). */
    | "WRONG_STATE";

/** An error raised by the SDK. */
export class VeritySdkError extends VerityError {
    declare readonly code: SdkErrorCode;
    /** The decoded custom error of a revert (code REVERTED). */
    readonly revert: DecodedRevert | undefined;

    constructor(code: SdkErrorCode, message: string, options: { cause?: unknown; revert?: DecodedRevert } = {}) {
        super(code, message, { cause: options.cause });
        this.revert = options.revert;
    }
}

function formatArg(value: unknown): string {
    if (typeof value === "bigint") return value.toString();
    if (Array.isArray(value)) return `[${value.map(formatArg).join(", ")}]`;
    return String(value);
}

/** `Name(arg1, arg2)` for a decoded revert. */
export function formatRevert(revert: DecodedRevert): string {
    return `${revert.name}(${revert.args.map(formatArg).join(", ")})`;
}

/**
 * Turns whatever a contract call threw into a VeritySdkError: reverts become REVERTED with the custom error
 * decoded (coordinator, staking, registry, resolver or ERC-20 errors); other errors pass through unchanged
 * (network faults keep their ethers codes, so callers can retry them).
 */
export function toSdkError(err: unknown, action: string): unknown {
    if (err instanceof VeritySdkError) return err;
    const data = revertData(err);
    // Empty or selector-less data is not decoded: a CALL_EXCEPTION says "reverted without data", anything else
    // passes through.
    if (data !== undefined && data.length >= 10) {
        const revert = decodeRevert(data);
        return new VeritySdkError("REVERTED", `${action} reverted: ${formatRevert(revert)}`, { cause: err, revert });
    }
    if (isError(err, "CALL_EXCEPTION")) {
        const revert: DecodedRevert = { name: "EmptyRevert", args: [] };
        return new VeritySdkError("REVERTED", `${action} reverted without data`, { cause: err, revert });
    }
    return err;
}

/** Runs `fn`, rethrowing reverts as VeritySdkError (see toSdkError). */
export async function wrapReverts<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
        return await fn();
    } catch (err) {
        throw toSdkError(err, action);
    }
}
