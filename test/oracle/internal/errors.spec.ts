import { expect } from "chai";
import { JsonRpcProvider, makeError } from "ethers";
import {
    PermanentError,
    RetryableError,
    VerityError,
    describeError,
    revertData,
    shouldRetry,
} from "../../../oracle/src/internal/errors";
import { decodeRevert } from "../../../oracle/src/chain/coordinator";
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

/** Revert data with a selector and one word of arguments. */
const DATA = `0x12345678${"00".repeat(31)}2a`;

/** An ethers CALL_EXCEPTION for an eth_call that reverted with `data`. */
function callReverted(data: string) {
    return makeError("execution reverted", "CALL_EXCEPTION", {
        action: "call",
        data,
        reason: null,
        transaction: { to: null, data: "0x" },
        invocation: null,
        revert: null,
    });
}

/** A JSON-RPC error as a node answers a reverted eth_call. */
const rpcRevert = (data: unknown) => ({ code: 3, message: "execution reverted", data });

/**
 * Error shapes and the revert data each carries. `before` says which of the two extractors this one replaced
 * handled the shape: "both", the SDK's (`findRevertData`, which also followed `data.data`, `cause` and `revert`
 * and wanted a selector) or the CLI's (`revertData` over `error` / `info.error`, which also took `0x`).
 */
const REVERT_DATA_CASES: { shape: string; error: unknown; want: string | undefined; before: string }[] = [
    {
        shape: "an ethers CALL_EXCEPTION with data",
        error: callReverted(DATA),
        want: DATA,
        before: "both",
    },
    {
        shape: "the node's error nested as error (error.error.data)",
        error: makeError("could not coalesce error", "UNKNOWN_ERROR", { error: rpcRevert(DATA) }),
        want: DATA,
        before: "both",
    },
    {
        shape: "nested twice (error.error.error.data)",
        error: { code: "UNKNOWN_ERROR", error: { message: "wrapped", error: rpcRevert(DATA) } },
        want: DATA,
        before: "both",
    },
    {
        shape: "a CALL_EXCEPTION whose node error is in info.error",
        error: callException("missing revert data", { error: rpcRevert(DATA) }),
        want: DATA,
        before: "both",
    },
    { shape: "a JSON-RPC error with a data string", error: rpcRevert(DATA), want: DATA, before: "both" },
    {
        shape: "a CALL_EXCEPTION without data",
        error: callException("missing revert data"),
        want: undefined,
        before: "both",
    },
    {
        shape: "a JSON-RPC error without data",
        error: { code: -32000, message: "nonce too low" },
        want: undefined,
        before: "both",
    },
    { shape: "data that is not hex", error: rpcRevert("Reverted"), want: undefined, before: "both" },
    { shape: "not an error object", error: DATA, want: undefined, before: "both" },
    { shape: "null", error: null, want: undefined, before: "both" },
    {
        shape: "data nested in data (data.data)",
        error: rpcRevert({ message: "x", data: DATA }),
        want: DATA,
        before: "SDK",
    },
    {
        shape: "a wrapper's cause",
        error: new Error("sending failed", { cause: callReverted(DATA) }),
        want: DATA,
        before: "SDK",
    },
    { shape: "empty data (a revert without data)", error: rpcRevert("0x"), want: "0x", before: "CLI" },
    { shape: "data too short for a selector", error: rpcRevert("0x1234"), want: "0x1234", before: "CLI" },
    {
        shape: "empty data outside, a selector inside: the selector wins",
        error: { code: "CALL_EXCEPTION", data: "0x", error: rpcRevert(DATA) },
        want: DATA,
        before: "SDK (CLI: 0x)",
    },
];

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

    describe("revertData", function () {
        for (const { shape, error, want, before } of REVERT_DATA_CASES) {
            it(`${shape}: ${want === DATA ? "the data" : (want ?? "none")} (before: ${before})`, function () {
                expect(revertData(error)).to.equal(want);
            });
        }

        it("stops on an error that contains itself", function () {
            const cyclic: Record<string, unknown> = { code: "UNKNOWN_ERROR" };
            cyclic.error = cyclic;
            cyclic.cause = { error: cyclic };
            expect(revertData(cyclic)).to.equal(undefined);
        });

        it("finds the custom error of a real revert from the chain", async function () {
            const d = await deployWithModel();
            const request = await sendRequest(d);
            const error = await d.coordinator.finalize.staticCall(request, OUTPUT).then(
                () => null,
                (e: unknown) => e,
            );
            const data = revertData(error);
            expect(data).to.be.a("string");
            expect(decodeRevert(data!).name).to.match(/^Coordinator/);
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
