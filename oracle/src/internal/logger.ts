/**
 * The node's structured logger: pino JSON lines with ISO timestamps, a `service` field on every line, errors
 * reduced to `{ code, message }`, request ids in the `verity` command's hex form and secret-looking fields
 * redacted. Fields are snake_case by convention (`chain_id`, `request_id`, `model_id`, `tx_hash`); pass context
 * with `logger.child({ ... })`.
 */
import pino from "pino";
import { toBeHex } from "ethers";
import { describeError, PermanentError } from "./errors";

/** The logger every service receives through its context. */
export type Logger = pino.Logger;

/** Value of the `service` field on every line. */
export const LOG_SERVICE_NAME = "verity-node";

/** Replaces the value of every redacted field. */
export const REDACTED = "[redacted]";

/** Field names whose values never reach the output, wherever they appear in the first three levels. */
export const REDACTED_FIELDS: readonly string[] = [
    "privateKey",
    "private_key",
    "password",
    "secret",
    "mnemonic",
    "key_material",
];

/**
 * pino redact paths for REDACTED_FIELDS at the top level and up to two levels below (`*.x`, `*.*.x`).
 * Deeper fields are not matched: do not log objects that nest secrets further down.
 */
const REDACT_PATHS: readonly string[] = REDACTED_FIELDS.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);

/**
 * Fields holding a request id, or a list of them. The store keeps ids as decimal strings; people meet them as the
 * `verity` command prints them (`verity inspect <requestId>`, docs, explorers' topics), so logs write them that way.
 */
export const REQUEST_ID_FIELDS: readonly string[] = ["request_id", "request_ids", "dropped_requests"];

const UINT256_LIMIT = 1n << 256n;

/**
 * A request id as people see it everywhere: 0x + 64 hex digits (the `verity` command's form). Takes the stored
 * decimal string, a bigint, or a hex string.
 */
export function requestIdHex(id: bigint | string): string {
    return toBeHex(BigInt(id), 32);
}

/** `requestIdHex` for a logged value that is an id; anything else (a malformed value) is written as it is. */
function serializeRequestId(value: unknown): unknown {
    if (typeof value !== "bigint" && typeof value !== "string" && typeof value !== "number") return value;
    if (typeof value === "string" && !/^(\d+|0x[0-9a-fA-F]+)$/.test(value)) return value;
    try {
        const id = BigInt(value);
        return id >= 0n && id < UINT256_LIMIT ? requestIdHex(id) : value;
    } catch {
        return value; // a number that is not an integer
    }
}

function serializeRequestIds(value: unknown): unknown {
    return Array.isArray(value) ? value.map(serializeRequestId) : serializeRequestId(value);
}

/** Levels `createLogger` accepts: pino's standard levels plus "silent". */
const LEVELS: ReadonlySet<string> = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Options of `createLogger`. */
export interface LoggerOptions {
    /** Lowest level written: fatal, error, warn, info, debug, trace or silent. */
    level: string;
    /** Where JSON lines go; stdout when omitted. */
    destination?: pino.DestinationStream | NodeJS.WritableStream;
    /** Extra fields on every line, e.g. `{ chain_id: 1 }`. `service` may be overridden here. */
    base?: Record<string, unknown>;
}

/**
 * Reduces an error to `{ code, message }` (see `describeError`): no stack, no cause chain, no extra
 * properties that might carry request payloads or key material.
 */
function serializeError(err: unknown): { code: string; message: string } {
    return describeError(err);
}

/**
 * Creates the node's root logger. Lines look like
 * `{"level":"info","time":"2024-01-01T00:00:00.000Z","service":"verity-node","chain_id":1,"msg":"..."}`.
 *
 * - `level` is the label, `time` an ISO-8601 timestamp.
 * - Errors logged as `logger.error(err)` or under the `err` / `error` keys become `{ code, message }`.
 * - Request ids under REQUEST_ID_FIELDS (in a line's fields or a child's bindings) are 0x + 64 hex digits.
 * - Fields named in REDACTED_FIELDS, at the top level or up to two levels down, read "[redacted]".
 *
 * @throws PermanentError `LOG_LEVEL_INVALID` for an unknown level.
 */
export function createLogger(options: LoggerOptions): Logger {
    if (!LEVELS.has(options.level)) {
        throw new PermanentError(
            "LOG_LEVEL_INVALID",
            `Unknown log level "${options.level}": want one of ${[...LEVELS].join(", ")}`,
        );
    }
    const config: pino.LoggerOptions = {
        level: options.level,
        base: { service: LOG_SERVICE_NAME, ...options.base },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        serializers: {
            err: serializeError,
            error: serializeError,
            ...Object.fromEntries(REQUEST_ID_FIELDS.map((field) => [field, serializeRequestIds])),
        },
        redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    };
    return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

/** A logger that writes nothing, for tests and tools that do not want output. */
export function silentLogger(): Logger {
    return createLogger({ level: "silent" });
}
