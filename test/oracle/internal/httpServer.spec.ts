import { expect } from "chai";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { PermanentError } from "../../../oracle/src/internal/errors";
import { startHttpServer, type HealthReport, type HttpServerHandle } from "../../../oracle/src/internal/httpServer";
import { silentLogger } from "../../../oracle/src/internal/logger";
import { createMetrics, type NodeMetrics } from "../../../oracle/src/internal/metrics";

interface RawResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

/** One HTTP request with node:http (fetch cannot send arbitrary methods such as TRACE). */
function send(url: string, method: string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
        const req = request(url, { method }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () =>
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
            );
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
    });
}

/** "settled" when `promise` settles within `ms`, "timed out" otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<"settled" | "timed out"> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timed out">((resolve) => {
        timer = setTimeout(() => resolve("timed out"), ms);
    });
    try {
        return await Promise.race([promise.then(() => "settled" as const), timeout]);
    } finally {
        clearTimeout(timer);
    }
}

describe("oracle/internal/httpServer", function () {
    let metrics: NodeMetrics;
    let report: HealthReport;
    let health: () => HealthReport;
    let server: HttpServerHandle;

    beforeEach(async function () {
        metrics = createMetrics();
        report = { status: "ok", checks: { rpc: { ok: true }, head: { ok: true, detail: "2 blocks behind" } } };
        health = () => report;
        server = await startHttpServer({
            host: "127.0.0.1",
            port: 0,
            metrics,
            health: () => health(),
            logger: silentLogger(),
        });
    });

    afterEach(async function () {
        await server.close();
    });

    it("listens on the real port when asked for port 0", function () {
        expect(server.port).to.be.greaterThan(0);
        expect(server.url).to.equal(`http://127.0.0.1:${server.port}`);
    });

    it("GET /healthz answers 200 with the report when ok", async function () {
        const res = await fetch(`${server.url}/healthz`);
        expect(res.status).to.equal(200);
        expect(res.headers.get("content-type")).to.equal("application/json; charset=utf-8");
        expect(await res.json()).to.deep.equal(report);
    });

    it("GET /healthz answers 200 when degraded and 503 when down", async function () {
        report = { status: "degraded", checks: { head: { ok: false, detail: "40 blocks behind" } } };
        const degraded = await fetch(`${server.url}/healthz`);
        expect(degraded.status).to.equal(200);
        expect(await degraded.json()).to.deep.equal(report);

        report = { status: "down", checks: { rpc: { ok: false, detail: "ECONNREFUSED" } } };
        const down = await fetch(`${server.url}/healthz`);
        expect(down.status).to.equal(503);
        expect(await down.json()).to.deep.equal(report);
    });

    it("GET /healthz answers 503 with status down when the health callback throws", async function () {
        health = () => {
            throw new PermanentError("BROKEN", "health state unavailable");
        };
        const res = await fetch(`${server.url}/healthz`);
        expect(res.status).to.equal(503);
        expect(await res.json()).to.deep.equal({
            status: "down",
            checks: { health: { ok: false, detail: "BROKEN: health state unavailable" } },
        });
    });

    it("GET /metrics answers the registry's text with its content type", async function () {
        metrics.requestsSeen.inc({ model_id: "m1" }, 3);
        const res = await fetch(`${server.url}/metrics`);
        expect(res.status).to.equal(200);
        expect(res.headers.get("content-type")).to.equal(metrics.registry.contentType);
        const body = await res.text();
        expect(body).to.include('verity_requests_seen_total{model_id="m1"} 3\n');
        expect(body).to.include("# TYPE verity_inflight_inferences gauge");
    });

    it("ignores the query string", async function () {
        const res = await fetch(`${server.url}/healthz?verbose=1`);
        expect(res.status).to.equal(200);
    });

    it("HEAD answers the headers without a body", async function () {
        const healthz = await send(`${server.url}/healthz`, "HEAD");
        expect(healthz.status).to.equal(200);
        expect(healthz.headers["content-type"]).to.equal("application/json; charset=utf-8");
        expect(Number(healthz.headers["content-length"])).to.equal(Buffer.byteLength(JSON.stringify(report)));
        expect(healthz.body).to.equal("");

        const metricsHead = await send(`${server.url}/metrics`, "HEAD");
        expect(metricsHead.status).to.equal(200);
        expect(metricsHead.headers["content-type"]).to.equal(metrics.registry.contentType);
        expect(metricsHead.body).to.equal("");
    });

    it("answers 405 with Allow: GET, HEAD for other methods", async function () {
        for (const method of ["POST", "PUT", "DELETE", "TRACE"]) {
            const res = await send(`${server.url}/healthz`, method);
            expect(res.status, method).to.equal(405);
            expect(res.headers.allow, method).to.equal("GET, HEAD");
        }
        const res = await fetch(`${server.url}/metrics`, { method: "POST", body: "x" });
        expect(res.status).to.equal(405);
        expect(res.headers.get("allow")).to.equal("GET, HEAD");
    });

    it("answers 404 for unknown paths", async function () {
        for (const path of ["/", "/health", "/metrics/x", "/healthz/"]) {
            const res = await fetch(`${server.url}${path}`);
            expect(res.status, path).to.equal(404);
            await res.text();
        }
    });

    it("close() returns promptly with an idle keep-alive client and a half-sent request", async function () {
        const sockets: Socket[] = [];
        const open = async (): Promise<{ socket: Socket; closed: Promise<void> }> => {
            const socket = connect(server.port, "127.0.0.1");
            sockets.push(socket);
            socket.on("error", () => undefined);
            const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
            await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
            return { socket, closed };
        };
        try {
            // A keep-alive client that got its answer and stays connected, idle.
            const idle = await open();
            const answered = new Promise<string>((resolve) =>
                idle.socket.once("data", (data) => resolve(String(data))),
            );
            idle.socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n");
            const head = await answered;
            expect(head).to.match(/^HTTP\/1\.1 200 /);
            expect(head.toLowerCase()).to.include("connection: keep-alive");

            // A client that never finishes its request headers: not idle, so server.close() alone would wait.
            const halfSent = await open();
            halfSent.socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");

            expect(await settlesWithin(server.close(), 1_000)).to.equal("settled");
            expect(await settlesWithin(Promise.all([idle.closed, halfSent.closed]), 1_000)).to.equal("settled");
            await server.close(); // idempotent
        } finally {
            for (const socket of sockets) socket.destroy();
        }
    });

    it("refuses new connections after close()", async function () {
        await server.close();
        let failure: unknown;
        try {
            await send(`${server.url}/healthz`, "GET");
        } catch (error) {
            failure = error;
        }
        expect(failure).to.have.property("code", "ECONNREFUSED");
    });

    it("fails with HTTP_LISTEN_FAILED when the port is taken", async function () {
        let failure: unknown;
        try {
            const second = await startHttpServer({ host: "127.0.0.1", port: server.port, metrics, health });
            await second.close();
        } catch (error) {
            failure = error;
        }
        expect(failure).to.be.instanceOf(PermanentError);
        expect(failure).to.have.property("code", "HTTP_LISTEN_FAILED");
        expect((failure as Error).message)
            .to.include(`127.0.0.1:${server.port}`)
            .and.to.include("EADDRINUSE");
    });
});
