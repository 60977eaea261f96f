import { expect } from "chai";
import { JsonRpcProvider, makeError } from "ethers";
import {
    PermanentError,
    RetryableError,
    VerityError,
    describeError,
    shouldRetry,
} from "../../../oracle/src/internal/errors";
import { OUTPUT, deployWithModel, sendRequest } from "../../helpers/verity";

/** An ethers CALL_EXCEPTION for an eth_call without revert data; `info` as JsonRpcProvider attaches it. */
function callException(message: string, info?: Record<string, unknown>) {
    return makeError(message, "CALL_EXCEPTION", {
        action: "call",
        data: null,
        reason: null,
        transaction: { to: null, data: "0x" },
        invocation: null,
        revert: null,
        ...(info === undefined ? {} : { info }),
    });
}

describe("oracle/internal/errors", function () {
    describe("shouldRetry", function () {
        it("never retries a revert, with or without data (a real CALL_EXCEPTION from the chain)", async function () {
            const d = await deployWithModel();
            const request = await sendRequest(d);
            const error = await d.coordinator.finalize.staticCall(request, OUTPUT).then(
                () => null,
                (e: unknown) => e,
            );
            expect(error).to.not.equal(null);
            expect(shouldRetry(error)).to.equal(false);
            expect(shouldRetry(callException("execution reverted"))).to.equal(false);
        });

        it("retries a refused connection (a real one, to a closed local port)", async function () {
            const provider = new JsonRpcProvider("http://127.0.0.1:1", 31337, { staticNetwork: true });
            const error = await provider.getBlockNumber().then(
                () => null,
                (e: unknown) => e,
            );
            provider.destroy();
            expect(error).to.not.equal(null);
            expect(shouldRetry(error)).to.equal(true);
        });

        it("retries ethers transport faults and not other ethers errors", function () {
            for (const code of ["NETWORK_ERROR", "TIMEOUT", "SERVER_ERROR"] as const) {
                expect(shouldRetry(makeError("x", code)), code).to.equal(true);
            }
            for (const code of ["INVALID_ARGUMENT", "INSUFFICIENT_FUNDS", "NONCE_EXPIRED", "BAD_DATA"] as const) {
                expect(shouldRetry(makeError("x", code)), code).to.equal(false);
            }
        });

        it("retries rate limits and overload, whether as RPC codes, HTTP statuses or wrapped errors", function () {
            expect(shouldRetry({ code: -32005, message: "limit exceeded" })).to.equal(true);
            expect(shouldRetry({ code: 429, message: "Too Many Requests" })).to.equal(true);
            expect(shouldRetry({ status: 503 })).to.equal(true);
            expect(shouldRetry({ response: { status: 502 } })).to.equal(true);
            expect(shouldRetry({ code: "UNKNOWN_ERROR", error: { code: -32005, message: "rate limited" } })).to.equal(
                true,
            );
            expect(shouldRetry(new Error("wrapped", { cause: { code: "ECONNRESET" } }))).to.equal(true);
            expect(shouldRetry({ code: -32602, message: "invalid params" })).to.equal(false);
            expect(shouldRetry({ status: 400 })).to.equal(false);
        });

        it("lets the node's own errors decide, and refuses to retry anything unrecognised", function () {
            expect(shouldRetry(new RetryableError("RPC_STALE", "behind"))).to.equal(true);
            expect(shouldRetry(new PermanentError("BAD_INPUT", "nope"))).to.equal(false);
            expect(shouldRetry(new VerityError("X", "y"))).to.equal(false);
            expect(shouldRetry(new TypeError("bug"))).to.equal(false);
            expect(shouldRetry("a string")).to.equal(false);
            expect(shouldRetry(null)).to.equal(false);
        });
    });

    describe("VerityError", function () {
        it("carries a code, a cause and its subclass name", function () {
            const cause = new Error("socket hang up");
            const error = new RetryableError("RPC_UNAVAILABLE", "rpc down", { cause });
            expect(error).to.be.instanceOf(VerityError);
            expect(error.name).to.equal("RetryableError");
            expect(error.code).to.equal("RPC_UNAVAILABLE");
            expect(error.cause).to.equal(cause);
        });
    });

    describe("describeError", function () {
        it("summarises node errors, ethers errors and arbitrary values", function () {
            expect(describeError(new PermanentError("BAD_INPUT", "shape [2] != [4]"))).to.deep.equal({
                code: "BAD_INPUT",
                message: "shape [2] != [4]",
            });
            expect(describeError(makeError("could not coalesce", "BAD_DATA", { value: 1 })).code).to.equal("BAD_DATA");
            expect(describeError("boom")).to.deep.equal({ code: "UNKNOWN", message: "boom" });
            // A revert without data: ethers says "missing revert data", the node said what happened.
            const noData = callException("missing revert data", {
                error: { code: -32000, message: "invalid opcode: TLOAD" },
            });
            expect(describeError(noData)).to.deep.equal({
                code: "CALL_EXCEPTION",
                message: "missing revert data; the RPC said: invalid opcode: TLOAD",
            });
        });
    });
});
