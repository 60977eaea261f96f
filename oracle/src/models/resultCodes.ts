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
