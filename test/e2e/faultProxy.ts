/**
 * A JSON-RPC proxy that misbehaves on purpose: between the node and the chain it drops connections, delays
 * answers and returns HTTP and JSON-RPC errors for a fraction of calls, with a seeded random source so a failing
 * run can be replayed. Only ever listens on 127.0.0.1 and forwards to a loopback URL.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { seededRandom } from "../../models/examples";

export interface FaultRates {
    /** Connection destroyed before forwarding (the call never reached the chain). */
    dropBefore: number;
    /** Forwarded, then the connection destroyed (the call took effect; the answer is lost). */
    dropAfter: number;
    /** HTTP 503 without forwarding. */
    httpError: number;
    /** JSON-RPC error -32005 ("limit exceeded") without forwarding. */
    rpcError: number;
    /** Answer delayed by up to `maxDelayMs`. */
    delay: number;
    maxDelayMs: number;
}

export interface FaultProxy {
    url: string;
    /** Calls seen and faults injected, by kind. */
    stats: Record<"calls" | keyof Omit<FaultRates, "maxDelayMs">, number>;
    close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
}

export async function startFaultProxy(target: string, rates: FaultRates, seed = 1): Promise<FaultProxy> {
    const url = new URL(target);
    if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
        throw new Error(`fault proxy forwards to loopback only, not ${url.hostname}`);
    }
    const random = seededRandom(seed);
    const stats: FaultProxy["stats"] = { calls: 0, dropBefore: 0, dropAfter: 0, httpError: 0, rpcError: 0, delay: 0 };

    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        void (async () => {
            const body = await readBody(req);
            stats.calls++;
            let id: unknown = null;
            try {
                id = (JSON.parse(body) as { id?: unknown }).id ?? null;
            } catch {
                // forwarded as is
            }
            const roll = random();
            let edge = rates.dropBefore;
            if (roll < edge) {
                stats.dropBefore++;
                req.socket.destroy();
                return;
            }
            edge += rates.httpError;
            if (roll < edge) {
                stats.httpError++;
                res.writeHead(503).end("unavailable");
                return;
            }
            edge += rates.rpcError;
            if (roll < edge) {
                stats.rpcError++;
                res.writeHead(200, { "content-type": "application/json" }).end(
                    JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32005, message: "limit exceeded" } }),
                );
                return;
            }
            const answer = await fetch(target, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body,
            });
            const text = await answer.text();
            edge += rates.dropAfter;
            if (roll < edge) {
                stats.dropAfter++;
                req.socket.destroy();
                return;
            }
            if (random() < rates.delay) {
                stats.delay++;
                await new Promise((r) => setTimeout(r, random() * rates.maxDelayMs));
            }
            res.writeHead(answer.status, { "content-type": "application/json" }).end(text);
        })().catch(() => req.socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        stats,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
