import { expect } from "chai";
import { Writable } from "node:stream";
import { PermanentError, RetryableError } from "../../../oracle/src/internal/errors";
import {
    createLogger,
    LOG_SERVICE_NAME,
    REDACTED,
    REDACTED_FIELDS,
    REQUEST_ID_FIELDS,
    requestIdHex,
    silentLogger,
    type Logger,
} from "../../../oracle/src/internal/logger";

/** A logger writing to memory, and the JSON lines it has written so far. */
function memoryLogger(level = "debug", base?: Record<string, unknown>): { logger: Logger; lines: () => unknown[] } {
    const chunks: string[] = [];
    const destination = new Writable({
        write(chunk: Buffer | string, _encoding, callback) {
            chunks.push(chunk.toString());
            callback();
        },
    });
    const logger = createLogger({ level, destination, base });
    const lines = (): unknown[] =>
        chunks
            .join("")
            .split("\n")
            .filter((line) => line !== "")
            .map((line) => JSON.parse(line) as unknown);
    return { logger, lines };
}

function only(lines: unknown[]): Record<string, unknown> {
    expect(lines).to.have.length(1);
    return lines[0] as Record<string, unknown>;
}

describe("oracle/internal/logger", function () {
    it("writes one JSON line with the service, level label, ISO time and message", function () {
        const { logger, lines } = memoryLogger();
        logger.info({ chain_id: 31337, model_id: "0xabc" }, "request seen");
        const line = only(lines());
        expect(line.service).to.equal(LOG_SERVICE_NAME).and.to.equal("verity-node");
        expect(line.level).to.equal("info");
        expect(line.msg).to.equal("request seen");
        expect(line.chain_id).to.equal(31337);
        expect(line.model_id).to.equal("0xabc");
        expect(line.time).to.be.a("string");
        expect(new Date(line.time as string).toISOString()).to.equal(line.time);
    });

    it("adds the base fields to every line, children included", function () {
        const { logger, lines } = memoryLogger("info", { chain_id: 1 });
        logger.child({ model_id: "0xabc" }).warn("slow");
        const line = only(lines());
        expect(line).to.include({ service: "verity-node", chain_id: 1, model_id: "0xabc", level: "warn" });
    });

    it("drops lines below the level", function () {
        const { logger, lines } = memoryLogger("warn");
        logger.info("hidden");
        logger.debug("hidden");
        logger.error("shown");
        expect(lines().map((line) => (line as { msg: string }).msg)).to.deep.equal(["shown"]);
    });

    it("redacts every secret field name at the top level and up to two levels down", function () {
        const { logger, lines } = memoryLogger();
        for (const name of REDACTED_FIELDS) {
            logger.info({ [name]: "s0", nested: { [name]: "s1", deeper: { [name]: "s2" } } }, name);
        }
        const output = lines() as Record<string, { [k: string]: unknown; deeper: Record<string, unknown> }>[];
        expect(output).to.have.length(REDACTED_FIELDS.length);
        REDACTED_FIELDS.forEach((name, i) => {
            const line = output[i]!;
            expect(line[name]).to.equal(REDACTED);
            expect(line.nested![name]).to.equal(REDACTED);
            expect(line.nested!.deeper[name]).to.equal(REDACTED);
        });
        const text = JSON.stringify(output);
        expect(text).not.to.match(/"s[012]"/);
        expect(REDACTED).to.equal("[redacted]");
    });

    it("redacts secrets in child bindings and leaves other fields alone", function () {
        const { logger, lines } = memoryLogger();
        logger.child({ password: "hunter2" }).info({ tx_hash: "0x01", config: { mnemonic: "a b c" } }, "sent");
        const line = only(lines());
        expect(line.password).to.equal(REDACTED);
        expect(line.config).to.deep.equal({ mnemonic: REDACTED });
        expect(line.tx_hash).to.equal("0x01");
        expect(JSON.stringify(line)).not.to.include("hunter2").and.not.to.include("a b c");
    });

    it("serializes errors as { code, message } without stack, cause or extra properties", function () {
        const { logger, lines } = memoryLogger();
        const cause = new Error("inner detail");
        const error = Object.assign(new RetryableError("RPC_TIMEOUT", "rpc timed out", { cause }), {
            privateKey: "0xdeadbeef",
        });
        logger.error({ err: error, request_id: "9" }, "submit failed");
        logger.warn({ error: new PermanentError("KEY_MISSING", "variable X is not set") }, "start failed");
        logger.error(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
        const [first, second, third] = lines() as Record<string, unknown>[];
        expect(first!.err).to.deep.equal({ code: "RPC_TIMEOUT", message: "rpc timed out" });
        expect(first!.request_id).to.equal(`0x${"9".padStart(64, "0")}`);
        expect(second!.error).to.deep.equal({ code: "KEY_MISSING", message: "variable X is not set" });
        expect(third!.err).to.deep.equal({ code: "ECONNRESET", message: "socket hang up" });
        const text = JSON.stringify([first, second, third]);
        expect(text).not.to.include("stack").and.not.to.include("inner detail").and.not.to.include("deadbeef");
    });

    it("writes request ids as the verity command prints them (0x + 64 hex), whatever form the caller holds", function () {
        const { logger, lines } = memoryLogger();
        const hex = (n: bigint) => `0x${n.toString(16).padStart(64, "0")}`;
        const big = 2n ** 255n + 17n;
        // The store's decimal strings, a bigint, a short hex string, a number; lists too; child bindings too.
        logger.info({ request_id: big.toString() }, "seen");
        logger.info({ request_id: 255n, request_ids: ["1", 2n, "0xff"] }, "batch");
        logger.child({ request_id: "10" }).warn({ dropped_requests: ["3"] }, "child");
        // Malformed values are written as they are, not dropped or mangled.
        logger.info({ request_id: "not-an-id", request_ids: [-1, 1.5] }, "odd");
        const [seen, batch, child, odd] = lines() as Record<string, unknown>[];
        expect(seen!.request_id).to.equal(hex(big));
        expect(batch).to.deep.include({ request_id: hex(255n), request_ids: [hex(1n), hex(2n), hex(255n)] });
        expect(child).to.deep.include({ request_id: hex(10n), dropped_requests: [hex(3n)] });
        expect(odd).to.deep.include({ request_id: "not-an-id", request_ids: [-1, 1.5] });
        expect(REQUEST_ID_FIELDS).to.include.members(["request_id", "request_ids"]);
        expect(requestIdHex("7")).to.equal(hex(7n));
    });

    it("refuses an unknown level with LOG_LEVEL_INVALID", function () {
        expect(() => createLogger({ level: "verbose" }))
            .to.throw(PermanentError, /Unknown log level "verbose"/)
            .with.property("code", "LOG_LEVEL_INVALID");
    });

    it("silentLogger writes nothing and supports children", function () {
        const logger = silentLogger();
        expect(logger.level).to.equal("silent");
        expect(logger.isLevelEnabled("fatal")).to.equal(false);
        expect(logger.child({ model_id: "x" }).level).to.equal("silent");
    });
});
