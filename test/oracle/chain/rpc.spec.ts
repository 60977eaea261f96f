import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
    ChainClient,
    RevertError,
    RpcClient,
    RpcError,
    TxPoolError,
    classifyRpcError,
    quantity,
    toQuantity,
} from "../../../oracle/src/chain/rpc";
import { PermanentError, RetryableError, shouldRetry } from "../../../oracle/src/internal/errors";

interface JsonRpcRequest {
    jsonrpc: string;
    id: number;
    method: string;
    params: unknown[];
}

/** What the test server does with one request: answer (status + body) or misbehave itself. */
type Handler = (request: JsonRpcRequest, req: IncomingMessage, res: ServerResponse) => void;

function reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
}

function result(request: JsonRpcRequest, value: unknown): { jsonrpc: string; id: number; result: unknown } {
    return { jsonrpc: "2.0", id: request.id, result: value };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
        () => expect.fail("expected a rejection"),
        (error: unknown) => error,
    );
}

/** Retries without waiting; counts the waits. */
function instantRetry(maxAttempts?: number) {
    const waits: number[] = [];
    return {
        waits,
        options: {
            ...(maxAttempts === undefined ? {} : { maxAttempts }),
            sleep: async (ms: number) => {
                waits.push(ms);
            },
            random: () => 0.5,
        },
    };
}

describe("oracle/chain/rpc", function () {
    describe("classifyRpcError", function () {
        it("turns a revert with data into a RevertError carrying the data (never retried)", function () {
            const error = classifyRpcError("eth_call", { code: 3, message: "execution reverted", data: "0xdeadbeef" });
            expect(error).to.be.instanceOf(RevertError);
            expect((error as RevertError).data).to.equal("0xdeadbeef");
            expect((error as RevertError).code).to.equal("CALL_REVERTED");
            expect(error.message).to.equal("eth_call reverted: execution reverted");
            expect(shouldRetry(error)).to.equal(false);
        });

        it("finds revert data nested in an object, and treats an internal error with data as a revert", function () {
            const error = classifyRpcError("eth_estimateGas", {
                code: -32603,
                message: "Internal error",
                data: { message: "reverted", data: "0xabcd" },
            });
            expect(error).to.be.instanceOf(RevertError);
            expect((error as RevertError).data).to.equal("0xabcd");
            expect(shouldRetry(error)).to.equal(false);
        });

        it('turns an "execution reverted" message without data into a RevertError with data "0x"', function () {
            for (const message of ["execution reverted", "VM Exception while processing transaction: revert"]) {
                const error = classifyRpcError("eth_estimateGas", { code: -32000, message });
                expect(error, message).to.be.instanceOf(RevertError);
                expect((error as RevertError).data, message).to.equal("0x");
            }
        });

        it("turns an EVM halt without revert data (anvil: 'EVM error …' as -32603, 'Out of gas: …') into a RevertError, never retried", function () {
            for (const [code, message] of [
                [-32603, "EVM error InvalidFEOpcode"],
                [-32603, "EVM error OutOfGas(Basic)"],
                [-32003, "Out of gas: gas required exceeds allowance: 30000000"],
            ] as const) {
                const error = classifyRpcError("eth_estimateGas", { code, message });
                expect(error, message).to.be.instanceOf(RevertError);
                expect((error as RevertError).data, message).to.equal("0x");
                expect(shouldRetry(error), message).to.equal(false);
            }
        });

        for (const [message, kind] of [
            ["nonce too low: next nonce 5, tx nonce 4", "nonce_too_low"],
            ["Nonce too low. Expected nonce to be 5 but got 4.", "nonce_too_low"],
            [
                "Nonce too high. Expected nonce to be 15 but got 16. Note that transactions can't be queued when automining.",
                "nonce_too_high",
            ],
            ["already known", "already_known"],
            ["replacement transaction underpriced", "underpriced"],
            // anvil refuses (geth pools) a fee cap under the base fee: it passes once the fee falls.
            ["max fee per gas less than block base fee", "underpriced"],
            ["transaction already imported", "already_known"],
            ["insufficient funds for gas * price + value", "insufficient_funds"],
        ] as const) {
            it(`turns "${message}" into a TxPoolError of kind ${kind} (not retried)`, function () {
                const error = classifyRpcError("eth_sendRawTransaction", { code: -32000, message });
                expect(error).to.be.instanceOf(TxPoolError);
                expect((error as TxPoolError).kind).to.equal(kind);
                expect((error as TxPoolError).code).to.equal(`TX_${kind.toUpperCase()}`);
                expect(error.message).to.contain(message);
                expect(shouldRetry(error)).to.equal(false);
            });
        }

        it("makes -32005 (limit exceeded) and rate-limit messages retryable", function () {
            const limited = classifyRpcError("eth_getLogs", { code: -32005, message: "limit exceeded" });
            expect(limited).to.be.instanceOf(RetryableError);
            expect(shouldRetry(limited)).to.equal(true);
            const rate = classifyRpcError("eth_getLogs", { code: -32000, message: "Too Many Requests" });
            expect(shouldRetry(rate)).to.equal(true);
        });

        it("makes -32601 (method not found) a permanent RpcError with its code", function () {
            const error = classifyRpcError("eth_maxPriorityFeePerGas", {
                code: -32601,
                message: "the method eth_maxPriorityFeePerGas does not exist/is not available",
            });
            expect(error).to.be.instanceOf(RpcError);
            expect((error as RpcError).rpcCode).to.equal(-32601);
            expect((error as RpcError).code).to.equal("RPC_ERROR");
            expect(shouldRetry(error)).to.equal(false);
        });

        it("copes with a malformed error object", function () {
            const error = classifyRpcError("eth_call", { code: "x", message: 12 });
            expect(error).to.be.instanceOf(RpcError);
            expect((error as RpcError).rpcCode).to.equal(0);
            expect(error.message).to.contain("unknown error");
        });
    });

    describe("quantity / toQuantity", function () {
        it("parses hex quantities", function () {
            expect(quantity("0x0", "x")).to.equal(0n);
            expect(quantity("0x1F", "x")).to.equal(31n);
            expect(quantity("0x" + "f".repeat(64), "x")).to.equal(2n ** 256n - 1n);
        });

        it("refuses anything that is not a hex quantity, as a retryable bad response", function () {
            for (const bad of [12, "12", "0x", "0xg1", "", null, undefined, "0x 1", { hex: "0x1" }]) {
                let error: unknown;
                try {
                    quantity(bad, "block.number");
                } catch (e) {
                    error = e;
                }
                expect(error, String(bad)).to.be.instanceOf(RetryableError);
                expect((error as RetryableError).code).to.equal("RPC_BAD_RESPONSE");
                expect((error as Error).message).to.contain("block.number");
            }
        });

        it("formats quantities without leading zeros", function () {
            expect(toQuantity(0)).to.equal("0x0");
            expect(toQuantity(255n)).to.equal("0xff");
        });
    });

    describe("over HTTP", function () {
        let server: Server;
        let url: string;
        let handler: Handler;
        let received: JsonRpcRequest[];
        let contentTypes: (string | undefined)[];

        before(async function () {
            server = createServer((req, res) => {
                const chunks: Buffer[] = [];
                req.on("data", (chunk: Buffer) => chunks.push(chunk));
                req.on("end", () => {
                    const request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonRpcRequest;
                    received.push(request);
                    contentTypes.push(req.headers["content-type"]);
                    handler(request, req, res);
                });
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });

        after(async function () {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        });

        beforeEach(function () {
            received = [];
            contentTypes = [];
            handler = (request, _req, res) => reply(res, 200, result(request, null));
        });

        afterEach(function () {
            // Drop any request a test left hanging (the timeout test).
            server.closeAllConnections();
        });

        /** Answers the n-th request (0-based) with `answers[n]`, the last one for every later request. */
        function sequence(
            ...answers: ((request: JsonRpcRequest, req: IncomingMessage, res: ServerResponse) => void)[]
        ) {
            let n = 0;
            handler = (request, req, res) => answers[Math.min(n++, answers.length - 1)]!(request, req, res);
        }

        const ok =
            (value: unknown) =>
            (request: JsonRpcRequest, _req: IncomingMessage, res: ServerResponse): void =>
                reply(res, 200, result(request, value));
        const status =
            (code: number) =>
            (_request: JsonRpcRequest, _req: IncomingMessage, res: ServerResponse): void =>
                reply(res, code, "overloaded");

        describe("RpcClient", function () {
            it("posts a JSON-RPC 2.0 request and returns the result", async function () {
                handler = (request, _req, res) => reply(res, 200, result(request, "0x2a"));
                const rpc = new RpcClient({ url });
                expect(await rpc.send("eth_chainId", [])).to.equal("0x2a");
                expect(await rpc.call("eth_getBalance", ["0xabc", "latest"])).to.equal("0x2a");
                expect(received).to.have.length(2);
                expect(received[0]).to.include({ jsonrpc: "2.0", method: "eth_chainId" });
                expect(received[0]!.params).to.deep.equal([]);
                expect(received[1]!.method).to.equal("eth_getBalance");
                expect(received[1]!.params).to.deep.equal(["0xabc", "latest"]);
                expect(received[1]!.id).to.not.equal(received[0]!.id);
                expect(contentTypes[0]).to.equal("application/json");
                expect(rpc.url).to.equal(url);
            });

            it("returns a null result as null", async function () {
                handler = (request, _req, res) => reply(res, 200, result(request, null));
                expect(await new RpcClient({ url }).send("eth_getTransactionReceipt", ["0x1"])).to.equal(null);
            });

            it("retries HTTP 503 in call (then succeeds), but send makes one attempt", async function () {
                sequence(status(503), ok("0x1"));
                const retry = instantRetry();
                const rpc = new RpcClient({ url, retry: retry.options });
                expect(await rpc.call("eth_blockNumber", [])).to.equal("0x1");
                expect(received).to.have.length(2);
                expect(retry.waits).to.have.length(1);

                received = [];
                sequence(status(503), ok("0x1"));
                const error = await rejection(rpc.send("eth_blockNumber", []));
                expect(error).to.be.instanceOf(RetryableError);
                expect((error as RetryableError).code).to.equal("RPC_HTTP_STATUS");
                expect((error as Error).message).to.contain("HTTP 503");
                expect(received).to.have.length(1);
            });

            it("retries HTTP 429", async function () {
                sequence(status(429), ok("0x1"));
                const rpc = new RpcClient({ url, retry: instantRetry().options });
                expect(await rpc.call("eth_blockNumber", [])).to.equal("0x1");
                expect(received).to.have.length(2);
            });

            it("gives up after maxAttempts, rethrowing the last fault", async function () {
                handler = status(502);
                const retry = instantRetry(3);
                const rpc = new RpcClient({ url, retry: retry.options });
                const error = await rejection(rpc.call("eth_blockNumber", []));
                expect(shouldRetry(error)).to.equal(true);
                expect(received).to.have.length(3);
                expect(retry.waits).to.have.length(2);

                // A per-call maxAttempts overrides the client's.
                received = [];
                await rejection(rpc.call("eth_blockNumber", [], { maxAttempts: 1 }));
                expect(received).to.have.length(1);
            });

            it("does not retry HTTP 400", async function () {
                sequence(status(400), ok("0x1"));
                const rpc = new RpcClient({ url, retry: instantRetry().options });
                const error = await rejection(rpc.call("eth_blockNumber", []));
                expect(error).to.be.instanceOf(PermanentError);
                expect((error as PermanentError).code).to.equal("RPC_HTTP_STATUS");
                expect(shouldRetry(error)).to.equal(false);
                expect(received).to.have.length(1);
            });

            it("treats a body that is not JSON as a retryable fault", async function () {
                sequence((_request, _req, res) => reply(res, 200, '{"jsonrpc":"2.0","id":1,"resu'), ok("0x7"));
                const rpc = new RpcClient({ url, retry: instantRetry().options });
                const error = await rejection(rpc.send("eth_blockNumber", []));
                expect(error).to.be.instanceOf(RetryableError);
                expect((error as RetryableError).code).to.equal("RPC_BAD_RESPONSE");
                expect(await rpc.call("eth_blockNumber", [])).to.equal("0x7");
            });

            it("treats JSON that is not a JSON-RPC answer as a retryable fault", async function () {
                for (const body of ["42", "null", '{"jsonrpc":"2.0","id":1}']) {
                    handler = (_request, _req, res) => reply(res, 200, body);
                    const error = await rejection(new RpcClient({ url }).send("eth_blockNumber", []));
                    expect(error, body).to.be.instanceOf(RetryableError);
                    expect((error as RetryableError).code, body).to.equal("RPC_BAD_RESPONSE");
                }
            });

            it("treats a connection closed mid-request as a retryable fault", async function () {
                sequence((_request, req) => req.socket.destroy(), ok("0x9"));
                const rpc = new RpcClient({ url, retry: instantRetry().options });
                const error = await rejection(rpc.send("eth_blockNumber", []));
                expect(error).to.be.instanceOf(RetryableError);
                expect((error as RetryableError).code).to.equal("RPC_UNREACHABLE");
                expect(await rpc.call("eth_blockNumber", [])).to.equal("0x9");
            });

            it("treats an unreachable URL as a retryable fault", async function () {
                const closed = createServer();
                await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
                const port = (closed.address() as AddressInfo).port;
                await new Promise<void>((resolve) => closed.close(() => resolve()));
                const error = await rejection(new RpcClient({ url: `http://127.0.0.1:${port}` }).send("x", []));
                expect(error).to.be.instanceOf(RetryableError);
                expect((error as RetryableError).code).to.equal("RPC_UNREACHABLE");
            });

            it("classifies a JSON-RPC error answer and does not retry a revert", async function () {
                handler = (request, _req, res) =>
                    reply(res, 200, {
                        jsonrpc: "2.0",
                        id: request.id,
                        error: { code: 3, message: "execution reverted", data: "0x1234" },
                    });
                const rpc = new RpcClient({ url, retry: instantRetry().options });
                const error = await rejection(rpc.call("eth_call", [{}, "latest"]));
                expect(error).to.be.instanceOf(RevertError);
                expect((error as RevertError).data).to.equal("0x1234");
                expect(received).to.have.length(1);
            });

            it("retries a JSON-RPC overload error (-32005)", async function () {
                sequence(
                    (request, _req, res) =>
                        reply(res, 200, {
                            jsonrpc: "2.0",
                            id: request.id,
                            error: { code: -32005, message: "limit exceeded" },
                        }),
                    ok("0x3"),
                );
                const rpc = new RpcClient({ url, retry: instantRetry().options });
                expect(await rpc.call("eth_getLogs", [{}])).to.equal("0x3");
                expect(received).to.have.length(2);
            });

            it("times out a call the server never answers, as a retryable fault", async function () {
                this.timeout(5_000);
                handler = () => undefined; // never answers
                const rpc = new RpcClient({ url, timeoutMs: 200 });
                const started = Date.now();
                const error = await rejection(rpc.send("eth_blockNumber", []));
                const elapsed = Date.now() - started;
                expect(error).to.be.instanceOf(RetryableError);
                expect((error as RetryableError).code).to.equal("RPC_UNREACHABLE");
                expect(shouldRetry(error)).to.equal(true);
                expect(elapsed).to.be.at.least(150).and.below(2_000);
            });

            it("lets onError observe every failed attempt, with whether it is retryable", async function () {
                const seen: { method: string; error: unknown; retryable: boolean }[] = [];
                const onError = (method: string, error: unknown, retryable: boolean): void => {
                    seen.push({ method, error, retryable });
                };
                sequence(status(503), status(503), ok("0x1"));
                const rpc = new RpcClient({ url, retry: instantRetry().options, onError });
                expect(await rpc.call("eth_blockNumber", [])).to.equal("0x1");
                expect(seen.map((s) => [s.method, s.retryable])).to.deep.equal([
                    ["eth_blockNumber", true],
                    ["eth_blockNumber", true],
                ]);
                expect(seen[0]!.error).to.be.instanceOf(RetryableError);

                seen.length = 0;
                handler = (request, _req, res) =>
                    reply(res, 200, { jsonrpc: "2.0", id: request.id, error: { code: -32601, message: "no method" } });
                const error = await rejection(rpc.call("eth_foo", []));
                expect(seen).to.have.length(1);
                expect(seen[0]).to.deep.equal({ method: "eth_foo", error, retryable: false });

                // Retries exhausted: each retry is reported, then the final failure (still retryable in kind).
                seen.length = 0;
                handler = status(500);
                await rejection(rpc.call("eth_bar", [], { maxAttempts: 2 }));
                expect(seen.map((s) => [s.method, s.retryable])).to.deep.equal([
                    ["eth_bar", true],
                    ["eth_bar", true],
                ]);
            });
        });

        describe("RpcClient batching (maxBatchSize)", function () {
            /** Answers a batch call by call with `each` (a lone request too), in reverse order to test matching. */
            function batchHandler(each: (request: JsonRpcRequest) => unknown): void {
                handler = (request, _req, res) => {
                    const body = request as unknown as JsonRpcRequest | JsonRpcRequest[];
                    if (Array.isArray(body)) reply(res, 200, body.map(each).reverse());
                    else reply(res, 200, each(body));
                };
            }
            const echo = (request: JsonRpcRequest): unknown => result(request, `${request.method}:${request.id}`);

            it("sends calls made in the same turn as one batch, in call order, and gives each its own answer", async function () {
                batchHandler((request) => {
                    if (request.method === "eth_call") {
                        return {
                            jsonrpc: "2.0",
                            id: request.id,
                            error: { code: 3, message: "execution reverted", data: "0x12" },
                        };
                    }
                    if (request.method === "eth_sendRawTransaction") {
                        return { jsonrpc: "2.0", id: request.id, error: { code: -32000, message: "nonce too low" } };
                    }
                    return echo(request);
                });
                const rpc = new RpcClient({ url, maxBatchSize: 10 });
                expect(rpc.batching).to.equal(true);
                const [a, b, c, d] = await Promise.allSettled([
                    rpc.send("eth_blockNumber", []),
                    rpc.send("eth_call", [{ to: "0x1" }, "latest"]),
                    rpc.send("eth_sendRawTransaction", ["0xraw"]),
                    rpc.call("eth_chainId", []),
                ]);
                expect(received).to.have.length(1);
                const batch = received[0] as unknown as JsonRpcRequest[];
                expect(batch.map((r) => r.method)).to.deep.equal([
                    "eth_blockNumber",
                    "eth_call",
                    "eth_sendRawTransaction",
                    "eth_chainId",
                ]);
                expect(new Set(batch.map((r) => r.id)).size).to.equal(4);
                expect(a).to.deep.equal({ status: "fulfilled", value: `eth_blockNumber:${batch[0]!.id}` });
                expect(d).to.deep.equal({ status: "fulfilled", value: `eth_chainId:${batch[3]!.id}` });
                const revert = (b as PromiseRejectedResult).reason as RevertError;
                expect(revert).to.be.instanceOf(RevertError);
                expect(revert.data).to.equal("0x12");
                expect((c as PromiseRejectedResult).reason).to.be.instanceOf(TxPoolError);
            });

            it("sends a lone call as a plain request, and splits more calls than maxBatchSize into several batches", async function () {
                batchHandler(echo);
                const rpc = new RpcClient({ url, maxBatchSize: 3 });
                expect(await rpc.send("eth_blockNumber", [])).to.match(/^eth_blockNumber:/);
                expect(Array.isArray(received[0])).to.equal(false);
                received = [];
                const answers = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => rpc.send("eth_getBalance", [i])));
                expect(answers).to.have.length(7);
                const sizes = received.map((r) => (Array.isArray(r) ? (r as unknown[]).length : 1));
                expect(sizes).to.deep.equal([3, 3, 1]);
                const order = received.flatMap((r) => (Array.isArray(r) ? (r as JsonRpcRequest[]) : [r]));
                expect(order.map((r) => r.params[0])).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
            });

            for (const [what, refuse] of [
                [
                    "a single error object",
                    (res: ServerResponse) =>
                        reply(res, 200, {
                            jsonrpc: "2.0",
                            id: null,
                            error: { code: -32600, message: "batch requests are not supported" },
                        }),
                ],
                ["HTTP 400", (res: ServerResponse) => reply(res, 400, "bad request")],
                [
                    "a list holding only an error without id",
                    (res: ServerResponse) =>
                        reply(res, 200, [{ jsonrpc: "2.0", id: null, error: { code: -32600, message: "too large" } }]),
                ],
            ] as const) {
                it(`falls back to single calls, for good, when the endpoint answers a batch with ${what}`, async function () {
                    handler = (request, _req, res) => {
                        if (Array.isArray(request)) refuse(res);
                        else reply(res, 200, echo(request));
                    };
                    const refusals: string[] = [];
                    const rpc = new RpcClient({ url, maxBatchSize: 10, onBatchRefused: (r) => refusals.push(r) });
                    const first = await Promise.all([rpc.send("eth_chainId", []), rpc.send("eth_blockNumber", [])]);
                    expect(first[0]).to.match(/^eth_chainId:/);
                    expect(first[1]).to.match(/^eth_blockNumber:/);
                    expect(refusals).to.have.length(1);
                    expect(refusals[0]).to.match(/batch requests are not supported|HTTP 400|too large/);
                    expect(rpc.batching).to.equal(false);
                    received = [];
                    await Promise.all([rpc.send("eth_chainId", []), rpc.send("eth_blockNumber", [])]);
                    expect(received.every((r) => !Array.isArray(r))).to.equal(true);
                    expect(received).to.have.length(2);
                    expect(refusals).to.have.length(1);
                });
            }

            it("keeps batching after a transient fault of a batch (HTTP 503): call retries each call", async function () {
                let failed = false;
                handler = (request, _req, res) => {
                    if (!failed) {
                        failed = true;
                        return reply(res, 503, "overloaded");
                    }
                    const body = request as unknown as JsonRpcRequest | JsonRpcRequest[];
                    reply(res, 200, Array.isArray(body) ? body.map(echo) : echo(body));
                };
                const rpc = new RpcClient({ url, maxBatchSize: 10, retry: instantRetry().options });
                const answers = await Promise.all([rpc.call("eth_chainId", []), rpc.call("eth_blockNumber", [])]);
                expect(answers[0]).to.match(/^eth_chainId:/);
                expect(answers[1]).to.match(/^eth_blockNumber:/);
                expect(rpc.batching).to.equal(true);
                // The failed batch, then the two retries, made in the same turn: one batch again.
                expect(received.map((r) => (Array.isArray(r) ? (r as unknown[]).length : 1))).to.deep.equal([2, 2]);

                failed = false;
                const faults = await Promise.allSettled([rpc.send("eth_chainId", []), rpc.send("eth_getLogs", [])]);
                const errors = faults.map((f) => (f as PromiseRejectedResult).reason as Error);
                expect(errors.every((e) => shouldRetry(e))).to.equal(true);
                expect(errors[0]!.message).to.match(/^eth_chainId \(in a batch of 2 calls .*HTTP 503/);
                expect(errors[1]!.message).to.match(/^eth_getLogs \(in a batch/);
            });

            it("reads one overload error (-32005) answering a whole batch as a transient fault of each call, not a refusal", async function () {
                let limited = true;
                handler = (request, _req, res) => {
                    const body = request as unknown as JsonRpcRequest | JsonRpcRequest[];
                    if (limited) {
                        limited = false;
                        return reply(res, 200, {
                            jsonrpc: "2.0",
                            id: null,
                            error: { code: -32005, message: "limit exceeded" },
                        });
                    }
                    reply(res, 200, Array.isArray(body) ? body.map(echo) : echo(body));
                };
                const refusals: string[] = [];
                const rpc = new RpcClient({
                    url,
                    maxBatchSize: 10,
                    retry: instantRetry().options,
                    onBatchRefused: (r) => refusals.push(r),
                });
                const answers = await Promise.all([rpc.call("eth_chainId", []), rpc.call("eth_blockNumber", [])]);
                expect(answers[1]).to.match(/^eth_blockNumber:/);
                expect(refusals).to.deep.equal([]);
                expect(rpc.batching).to.equal(true);
                expect(received.map((r) => Array.isArray(r))).to.deep.equal([true, true]);
            });

            it("rejects only the call whose answer is missing from the batch, as a retryable bad response", async function () {
                handler = (request, _req, res) => {
                    const body = request as unknown as JsonRpcRequest[];
                    reply(res, 200, body.filter((r) => r.method !== "eth_getLogs").map(echo));
                };
                const rpc = new RpcClient({ url, maxBatchSize: 10 });
                const [a, b] = await Promise.allSettled([rpc.send("eth_chainId", []), rpc.send("eth_getLogs", [])]);
                expect(a.status).to.equal("fulfilled");
                const error = (b as PromiseRejectedResult).reason as RetryableError;
                expect(error).to.be.instanceOf(RetryableError);
                expect(error.code).to.equal("RPC_BAD_RESPONSE");
                expect(error.message).to.contain("eth_getLogs");
            });

            it("refuses a maxBatchSize that is not a positive integer", function () {
                for (const maxBatchSize of [0, -1, 1.5, Number.NaN]) {
                    expect(() => new RpcClient({ url, maxBatchSize }), String(maxBatchSize)).to.throw(RangeError);
                }
            });
        });

        describe("ChainClient", function () {
            function chainWith(answers: Record<string, (params: unknown[]) => unknown>): ChainClient {
                handler = (request, _req, res) => {
                    const answer = answers[request.method];
                    if (answer === undefined) {
                        reply(res, 200, {
                            jsonrpc: "2.0",
                            id: request.id,
                            error: { code: -32601, message: `method ${request.method} not found` },
                        });
                    } else {
                        reply(res, 200, result(request, answer(request.params)));
                    }
                };
                return new ChainClient(new RpcClient({ url, retry: instantRetry(2).options }));
            }

            const rawBlock = {
                number: "0x1b4",
                hash: "0x" + "aa".repeat(32),
                parentHash: "0x" + "bb".repeat(32),
                timestamp: "0x6553f100",
                baseFeePerGas: "0x3b9aca00",
                transactions: [],
            };

            it("getBlock asks for the block by hex number and maps its header", async function () {
                const chain = chainWith({ eth_getBlockByNumber: () => rawBlock });
                expect(await chain.getBlock(436)).to.deep.equal({
                    number: 436,
                    hash: "0x" + "aa".repeat(32),
                    parentHash: "0x" + "bb".repeat(32),
                    timestamp: 0x6553f100,
                    baseFeePerGas: 1_000_000_000n,
                });
                expect(received[0]!.params).to.deep.equal(["0x1b4", false]);
                await chain.getBlock("latest");
                expect(received[1]!.params).to.deep.equal(["latest", false]);
            });

            it("getBlock reads a missing baseFeePerGas (pre-London) as 0", async function () {
                const { baseFeePerGas: _omitted, ...legacy } = rawBlock;
                const chain = chainWith({ eth_getBlockByNumber: () => legacy });
                expect((await chain.getBlock(436))!.baseFeePerGas).to.equal(0n);
            });

            it("getBlock returns null for a block the node does not have", async function () {
                const chain = chainWith({ eth_getBlockByNumber: () => null });
                expect(await chain.getBlock(10_000)).to.equal(null);
            });

            it("getBlock refuses a block without hash or with a malformed number (retryable)", async function () {
                let chain = chainWith({ eth_getBlockByNumber: () => ({ ...rawBlock, hash: null }) });
                let error = await rejection(chain.getBlock(436));
                expect(error).to.be.instanceOf(RetryableError);
                expect((error as RetryableError).code).to.equal("RPC_BAD_RESPONSE");
                chain = chainWith({ eth_getBlockByNumber: () => ({ ...rawBlock, number: 436 }) });
                error = await rejection(chain.getBlock(436));
                expect(error).to.be.instanceOf(RetryableError);
                expect((error as Error).message).to.contain("block.number");
            });

            const rawLog = {
                address: "0x" + "cc".repeat(20),
                topics: ["0x" + "01".repeat(32)],
                data: "0x1234",
                blockNumber: "0x10",
                blockHash: "0x" + "dd".repeat(32),
                transactionHash: "0x" + "ee".repeat(32),
                logIndex: "0x2",
                removed: false,
            };

            it("getTransactionReceipt returns null for an unknown and for a pending (blockNumber null) receipt", async function () {
                let chain = chainWith({ eth_getTransactionReceipt: () => null });
                expect(await chain.getTransactionReceipt("0x01")).to.equal(null);
                chain = chainWith({
                    eth_getTransactionReceipt: () => ({ transactionHash: "0x01", blockNumber: null, status: null }),
                });
                expect(await chain.getTransactionReceipt("0x01")).to.equal(null);
            });

            it("getTransactionReceipt maps a mined receipt and its logs", async function () {
                const chain = chainWith({
                    eth_getTransactionReceipt: () => ({
                        transactionHash: "0x" + "ee".repeat(32),
                        blockNumber: "0x10",
                        blockHash: "0x" + "dd".repeat(32),
                        status: "0x0",
                        gasUsed: "0x5208",
                        effectiveGasPrice: "0x4a817c800",
                        logs: [rawLog, { ...rawLog, logIndex: "0x3", removed: true }],
                    }),
                });
                const receipt = await chain.getTransactionReceipt("0x" + "ee".repeat(32));
                expect(received[0]!.params).to.deep.equal(["0x" + "ee".repeat(32)]);
                expect(receipt).to.deep.equal({
                    transactionHash: "0x" + "ee".repeat(32),
                    blockNumber: 16,
                    blockHash: "0x" + "dd".repeat(32),
                    status: 0,
                    gasUsed: 21_000n,
                    effectiveGasPrice: 20_000_000_000n,
                    logs: [
                        {
                            address: "0x" + "cc".repeat(20),
                            topics: ["0x" + "01".repeat(32)],
                            data: "0x1234",
                            blockNumber: 16,
                            blockHash: "0x" + "dd".repeat(32),
                            transactionHash: "0x" + "ee".repeat(32),
                            index: 2,
                            removed: false,
                        },
                        {
                            address: "0x" + "cc".repeat(20),
                            topics: ["0x" + "01".repeat(32)],
                            data: "0x1234",
                            blockNumber: 16,
                            blockHash: "0x" + "dd".repeat(32),
                            transactionHash: "0x" + "ee".repeat(32),
                            index: 3,
                            removed: true,
                        },
                    ],
                });
            });

            it("getTransactionReceipt reads status 0x1 as success", async function () {
                const chain = chainWith({
                    eth_getTransactionReceipt: () => ({
                        transactionHash: "0x01",
                        blockNumber: "0x1",
                        blockHash: "0x02",
                        status: "0x1",
                        gasUsed: "0x1",
                        logs: [],
                    }),
                });
                const receipt = (await chain.getTransactionReceipt("0x01"))!;
                expect(receipt.status).to.equal(1);
                expect(receipt.effectiveGasPrice).to.equal(0n);
            });

            it("getLogs sends the filter with hex block numbers and parses the logs", async function () {
                const chain = chainWith({ eth_getLogs: () => [rawLog] });
                const topics = [["0x" + "01".repeat(32), "0x" + "02".repeat(32)]];
                const logs = await chain.getLogs({ address: rawLog.address, fromBlock: 16, toBlock: 255, topics });
                expect(received[0]!.params).to.deep.equal([
                    { address: rawLog.address, fromBlock: "0x10", toBlock: "0xff", topics },
                ]);
                expect(logs).to.have.length(1);
                expect(logs[0]).to.include({ blockNumber: 16, index: 2, removed: false });
            });

            it("getLogs refuses a result that is not a list (retryable)", async function () {
                const chain = chainWith({ eth_getLogs: () => ({ logs: [] }) });
                const error = await rejection(chain.getLogs({ address: "0x1", fromBlock: 1, toBlock: 2, topics: [] }));
                expect(error).to.be.instanceOf(RetryableError);
            });

            it("parses the numeric calls and refuses non-hex answers", async function () {
                let chain = chainWith({
                    eth_chainId: () => "0x7a69",
                    eth_blockNumber: () => "0x64",
                    eth_getTransactionCount: () => "0x5",
                    eth_getBalance: () => "0xde0b6b3a7640000",
                    eth_estimateGas: () => "0x5208",
                });
                expect(await chain.chainId()).to.equal(31337);
                expect(await chain.blockNumber()).to.equal(100);
                expect(await chain.getTransactionCount("0xabc", "pending")).to.equal(5);
                expect(received.at(-1)!.params).to.deep.equal(["0xabc", "pending"]);
                expect(await chain.getBalance("0xabc")).to.equal(10n ** 18n);
                expect(await chain.estimateGas({ from: "0x1", to: "0x2", data: "0x" })).to.equal(21_000n);

                chain = chainWith({ eth_blockNumber: () => 100 });
                const error = await rejection(chain.blockNumber());
                expect(error).to.be.instanceOf(RetryableError);
                expect((error as RetryableError).code).to.equal("RPC_BAD_RESPONSE");
            });

            it("maxPriorityFeePerGas falls back when the node lacks the method, but not on other faults", async function () {
                let chain = chainWith({});
                expect(await chain.maxPriorityFeePerGas(7n)).to.equal(7n);
                chain = chainWith({ eth_maxPriorityFeePerGas: () => "0x3b9aca00" });
                expect(await chain.maxPriorityFeePerGas(7n)).to.equal(1_000_000_000n);
                handler = status(503);
                const error = await rejection(chain.maxPriorityFeePerGas(7n));
                expect(error).to.be.instanceOf(RetryableError);
            });

            it("sendRawTransaction makes at most 3 attempts", async function () {
                handler = status(503);
                const chain = new ChainClient(new RpcClient({ url, retry: instantRetry().options }));
                await rejection(chain.sendRawTransaction("0x02f8"));
                expect(received).to.have.length(3);
                expect(received[0]!.method).to.equal("eth_sendRawTransaction");
                expect(received[0]!.params).to.deep.equal(["0x02f8"]);
            });

            it("hasTransaction is whether the node returns the transaction", async function () {
                let chain = chainWith({ eth_getTransactionByHash: () => ({ hash: "0x01" }) });
                expect(await chain.hasTransaction("0x01")).to.equal(true);
                chain = chainWith({ eth_getTransactionByHash: () => null });
                expect(await chain.hasTransaction("0x01")).to.equal(false);
            });

            it("call sends eth_call at latest, with from only when given", async function () {
                const chain = chainWith({ eth_call: () => "0xbeef" });
                expect(await chain.call("0x2", "0x12")).to.equal("0xbeef");
                expect(await chain.call("0x2", "0x12", "0x1")).to.equal("0xbeef");
                expect(received[0]!.params).to.deep.equal([{ to: "0x2", data: "0x12" }, "latest"]);
                expect(received[1]!.params).to.deep.equal([{ to: "0x2", data: "0x12", from: "0x1" }, "latest"]);
            });
        });
    });
});
