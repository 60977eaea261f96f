/**
 * The verification modes: how a dispute over a model's result is decided, fixed when the model is registered
 * (`IModelRegistry.VerificationMode` in contracts/interfaces/IModelRegistry.sol, a uint8 on the wire).
 *
 * This is the one off-chain copy of that enum; the other forms (bigints, a number's name) are derived from it
 * here, and test/oracle/protocol/verificationMode.spec.ts pins it to the Solidity enum's members and order.
 */

/** Each mode's number, by its Solidity name. */
export const VerificationMode = { REEXECUTION: 0, BISECTION: 1, QUORUM: 2 } as const;

/** A mode's Solidity name: "REEXECUTION", "BISECTION" or "QUORUM". */
export type VerificationModeName = keyof typeof VerificationMode;
/** A mode's number: 0, 1 or 2. */
export type VerificationModeNumber = (typeof VerificationMode)[VerificationModeName];

/** The table's entries, in enum order. */
export const VERIFICATION_MODES = Object.entries(VerificationMode) as [VerificationModeName, VerificationModeNumber][];

/** The same numbers as bigints, the type ethers decodes a uint8 to (request structs, event arguments). */
export const VerificationModeBigInt = Object.fromEntries(
    VERIFICATION_MODES.map(([name, mode]) => [name, BigInt(mode)]),
) as { readonly [K in VerificationModeName]: bigint };

/** The name of a mode's number ("REEXECUTION"), or `mode <n>` for a number that is no mode. */
export function modeName(mode: number | bigint): string {
    const entry = VERIFICATION_MODES.find(([, n]) => n === Number(mode));
    return entry === undefined ? `mode ${mode}` : entry[0];
}
