/**
 * How a `verity` command fails: the exit codes and CliError. Apart from context.ts (which re-exports them) so that
 * the CLI's entry can tell a CliError without loading ethers and the contract bindings, which `verity --help` and
 * the commands that do not talk to a chain never need.
 */

/** Exit codes of the chain-facing commands (0 is success). 2 is the node's "forced stop" and is not used here. */
export const EXIT = {
    /** Bad arguments, configuration or files: missing RPC URL or key, unreadable model, no deployment manifest. */
    USAGE: 1,
    /** The chain could not be reached, or answered with an error that is not a revert. */
    CHAIN: 3,
    /** The chain refused: a transaction or call reverted, the key is unfunded, a balance or stake is short. */
    REFUSED: 4,
    /** Waiting (request --wait) timed out before the request settled. */
    TIMEOUT: 5,
    /** A deployment did not verify (a role, resolver or parameter read back differently). */
    VERIFY: 6,
} as const;

/** An error the CLI prints as one line (`error: <message>`) and exits with `exitCode`. */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = EXIT.USAGE,
    ) {
        super(message);
        this.name = "CliError";
    }
}
