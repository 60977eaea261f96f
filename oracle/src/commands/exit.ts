/**
 * How a `verity` command fails: the exit codes and CliError. Apart from context.ts (which re-exports them) so that
 * the CLI's entry can tell a CliError without loading ethers and the contract bindings, which `verity --help` and
 * the commands that do not talk to a chain never need.
 */
import { PermanentError } from "../internal/errors";

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

/** One of the exit codes above. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A CliError's stable `code`: `CLI_` and the name of its exit code, e.g. `CLI_REFUSED` for exit code 4. */
export type CliErrorCode = `CLI_${keyof typeof EXIT}`;

function cliErrorCode(exitCode: ExitCode): CliErrorCode {
    const name = (Object.keys(EXIT) as (keyof typeof EXIT)[]).find((key) => EXIT[key] === exitCode);
    return `CLI_${name ?? "USAGE"}`;
}

/**
 * An error the CLI prints as one line (`error: <message>`) and exits with `exitCode`. Permanent: the command has
 * already given up (a transport fault it saw is reported as CLI_CHAIN, not retried again).
 */
export class CliError extends PermanentError {
    declare readonly code: CliErrorCode;

    constructor(
        message: string,
        readonly exitCode: ExitCode = EXIT.USAGE,
        options?: { cause?: unknown },
    ) {
        super(cliErrorCode(exitCode), message, options);
        this.name = "CliError";
    }
}
