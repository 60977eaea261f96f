import { expect } from "chai";
import { CliError, EXIT } from "../../../oracle/src/commands/exit";
import { describeError, PermanentError, shouldRetry, VerityError } from "../../../oracle/src/internal/errors";

describe("oracle/commands/exit", function () {
    describe("CliError", function () {
        it("is a PermanentError whose code names its exit code (CLI_<EXIT key>)", function () {
            const codes = Object.entries(EXIT).map(([key, exitCode]) => {
                const error = new CliError("x", exitCode);
                expect(error.exitCode).to.equal(exitCode);
                return [error.code, `CLI_${key}`];
            });
            for (const [code, want] of codes) expect(code).to.equal(want);
            expect(codes.map(([code]) => code)).to.deep.equal([
                "CLI_USAGE",
                "CLI_CHAIN",
                "CLI_REFUSED",
                "CLI_TIMEOUT",
                "CLI_VERIFY",
            ]);
        });

        it("defaults to exit code 1 (CLI_USAGE), keeps its name, message and cause, and is never retried", function () {
            const cause = new Error("socket hang up");
            const error = new CliError("no RPC URL: pass --rpc-url", EXIT.USAGE, { cause });
            expect(error).to.be.instanceOf(CliError).and.instanceOf(PermanentError).and.instanceOf(VerityError);
            expect(new CliError("bad").exitCode).to.equal(EXIT.USAGE);
            expect(new CliError("bad").code).to.equal("CLI_USAGE");
            expect(error.name).to.equal("CliError");
            expect(error.message).to.equal("no RPC URL: pass --rpc-url");
            expect(error.cause).to.equal(cause);
            // A chain fault the command already gave up on is reported, not retried by whoever catches it.
            expect(shouldRetry(new CliError("reading the chain failed: timeout", EXIT.CHAIN))).to.equal(false);
            // What `verity` prints on stderr is the message alone (cli.ts: `error: <message>`).
            expect(describeError(new CliError("refused", EXIT.REFUSED))).to.deep.equal({
                code: "CLI_REFUSED",
                message: "refused",
            });
        });
    });
});
