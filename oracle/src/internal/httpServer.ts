/**
 * The node's small HTTP server: `GET /healthz` (a JSON health report) and `GET /metrics` (Prometheus text).
 * Nothing else is served; it binds to 127.0.0.1 by default and exposes no secrets or control endpoints.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError, PermanentError } from "./errors";
import type { Logger } from "./logger";
import type { NodeMetrics } from "./metrics";

/** The result of one health check. */
export interface HealthCheck {
    ok: boolean;
    /** A short human-readable explanation, e.g. "head 120 blocks behind". */
    detail?: string;
}

/**
 * The node's health. `ok` and `degraded` answer HTTP 200 (the node is working, perhaps impaired); `down`
 * answers 503 so a load balancer or orchestrator can act on it.
 */
export interface HealthReport {
    status: "ok" | "degraded" | "down";
    checks: Record<string, HealthCheck>;
}

/** Options of `startHttpServer`. */
export interface HttpServerOptions {
    /** Interface to bind, e.g. "127.0.0.1" or "0.0.0.0". */
    host: string;
    /** Port to bind; 0 picks a free one (see the returned `port`). */
    port: number;
    /** Metrics served at /metrics. */
    metrics: NodeMetrics;
    /** Called on each /healthz request. Throwing counts as "down". */
    health: () => HealthReport;
    /** Where listen/serve failures are logged. */
    logger?: Logger;
}

/** A running HTTP server. */
export interface HttpServerHandle {
    /** Base URL, e.g. "http://127.0.0.1:9464". */
    url: string;
    /** The bound port (the real one when 0 was asked for). */
    port: number;
    /** Stops listening and closes every connection, idle keep-alive ones included. Safe to call twice. */
    close(): Promise<void>;
}

/** Methods every path accepts. */
const ALLOWED_METHODS = "GET, HEAD";

const HEALTH_STATUS_CODES: Record<HealthReport["status"], number> = { ok: 200, degraded: 200, down: 503 };

function send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string,
    headers: Record<string, string> = {},
): void {
    res.writeHead(status, {
        "Content-Type": contentType,
        "Content-Length": Buffer.byteLength(body),
        "Cache-Control": "no-store",
        ...headers,
    });
    res.end(req.method === "HEAD" ? undefined : body);
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Starts the server and resolves once it is listening.
 *
 * - `GET|HEAD /healthz`: the `health()` report as JSON; 200 for ok/degraded, 503 for down or when `health()`
 *   throws (the report then has one failed check, `health`, describing the error).
 * - `GET|HEAD /metrics`: `metrics.registry.metrics()` with the registry's content type.
 * - Other methods on those paths: 405 with `Allow: GET, HEAD`. Other paths: 404.
 *
 * @throws PermanentError `HTTP_LISTEN_FAILED` when the address cannot be bound (e.g. EADDRINUSE).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
    const { metrics, health, logger } = options;

    const healthz = (req: IncomingMessage, res: ServerResponse): void => {
        let report: HealthReport;
        try {
            report = health();
        } catch (error) {
            logger?.warn({ err: error }, "health check failed");
            const { code, message } = describeError(error);
            report = { status: "down", checks: { health: { ok: false, detail: `${code}: ${message}` } } };
        }
        const status = HEALTH_STATUS_CODES[report.status] ?? 503;
        send(req, res, status, JSON_TYPE, JSON.stringify(report));
    };

    const metricsRoute = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const { registry } = metrics;
        const body = await registry.metrics();
        send(req, res, 200, registry.contentType, body);
    };

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const path = new URL(req.url ?? "/", "http://localhost").pathname;
        if (path !== "/healthz" && path !== "/metrics") {
            send(req, res, 404, TEXT, "Not Found\n");
            return;
        }
        if (req.method !== "GET" && req.method !== "HEAD") {
            send(req, res, 405, TEXT, "Method Not Allowed\n", { Allow: ALLOWED_METHODS });
            return;
        }
        if (path === "/healthz") healthz(req, res);
        else await metricsRoute(req, res);
    };

    const server = createServer((req, res) => {
        handle(req, res).catch((error: unknown) => {
            logger?.error({ err: error, path: req.url }, "http request failed");
            if (res.headersSent) res.destroy();
            else send(req, res, 500, TEXT, "Internal Server Error\n");
        });
    });

    await new Promise<void>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException): void => {
            server.off("listening", onListening);
            reject(
                new PermanentError(
                    "HTTP_LISTEN_FAILED",
                    `Cannot listen on ${options.host}:${options.port} (${error.code ?? error.message})`,
                    { cause: error },
                ),
            );
        };
        const onListening = (): void => {
            server.off("error", onError);
            resolve();
        };
        server.once("error", onError);
        server.once("listening", onListening);
        server.listen(options.port, options.host);
    });
    server.on("error", (error) => logger?.error({ err: error }, "http server error"));

    const port = (server.address() as AddressInfo).port;
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    const url = `http://${host}:${port}`;
    logger?.info({ url }, "http server listening");

    let closing: Promise<void> | undefined;
    return {
        url,
        port,
        close(): Promise<void> {
            closing ??= new Promise<void>((resolve, reject) => {
                server.close((error) => (error ? reject(error) : resolve()));
                server.closeAllConnections();
            });
            return closing;
        },
    };
}
