/**
 * The `resultCode` of a Verity result, mirroring `contracts/libraries/ResultCodes.sol`. Codes below
 * RESERVED_FROM are chosen by the operator; codes from RESERVED_FROM up are set by the protocol only.
 */
export const ResultCode = {
    /** The output holds the model's output tensors. */
    OK: 0,
    /** The input bytes are malformed or do not match the model's manifest (dtype, shape, count). */
    INVALID_INPUT: 1,
    /** The model failed on a well-formed input (runtime error, bad output, unconvertible float). */
    MODEL_ERROR: 2,
    /** First code reserved for the protocol; an operator never submits codes from here up. */
    RESERVED_FROM: 128,
    /** The submitted result was proven wrong and no correct result was available. */
    VOIDED: 255,
} as const;

/** A result code an operator submits. */
export type OperatorResultCode = typeof ResultCode.OK | typeof ResultCode.INVALID_INPUT | typeof ResultCode.MODEL_ERROR;

/**
 * What each defined code means, for people (`verity inspect`, the SDK, docs/protocol.md#result-codes, which a test
 * keeps equal to this table). Fixed text: an error result carries no reason on chain (its output is empty, see
 * docs/protocol.md), so this is all a reader of the chain can be told about why.
 */
export const RESULT_CODE_MEANINGS = {
    OK: "the output holds the model's output tensors",
    INVALID_INPUT:
        "the input does not fit the model: the bytes are not a canonical tensor list, or their tensor count, a " +
        "dtype, a shape or (verifiable models) an element's range differs from the model's manifest",
    MODEL_ERROR:
        "the model failed on a well-formed input: a value left its dtype, a divisor was zero or an index out of " +
        "range (verifiable models), or the runtime failed or gave an output that is missing, of another dtype or " +
        "shape than the manifest's, or not encodable (NaN, infinite, outside the output's dtype)",
    VOIDED:
        "the protocol's, not the operator's: the submitted result was proven wrong and no correct one was " +
        "available, or its dispute expired undecided, or it lost the last dispute round; the fee was refunded",
} as const satisfies Record<Exclude<keyof typeof ResultCode, "RESERVED_FROM">, string>;

/** A result code's name and meaning, including the codes this protocol does not define. */
export function describeResultCode(code: number): { name: string; meaning: string } {
    for (const [name, meaning] of Object.entries(RESULT_CODE_MEANINGS)) {
        if (ResultCode[name as keyof typeof RESULT_CODE_MEANINGS] === code) return { name, meaning };
    }
    if (code >= 0 && code < ResultCode.RESERVED_FROM) {
        return {
            name: "UNDEFINED",
            meaning: "an operator's code that this protocol does not define: disputable like any other result",
        };
    }
    return { name: "RESERVED", meaning: "reserved for the protocol, which does not use it" };
}
