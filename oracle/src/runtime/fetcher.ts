/**
 * Fetches a model's ONNX bytes by URI and verifies them against the registered `onnxHash` before anyone uses
 * them. Integrity comes from the hash, never from the source: a file path, `file://`, `http://` and `https://`
 * are all untrusted.
 *
 * Verified bytes are kept in a content-addressed cache, `<cacheDir>/<onnxHash without 0x>.onnx`, which is
 * consulted first. An operator can therefore pre-seed a model by copying the file in under its hash, with no
 * reachable URI at all. A cached file whose hash does not match is deleted and fetched again.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PermanentError, RetryableError } from "../internal/errors";
import { keccak256 } from "../internal/keccak";

/** Default limit for one HTTP download, connection to last byte. */
export const DEFAULT_HTTP_TIMEOUT_MS = 120_000;
/** Default largest model accepted (1 GiB). */
export const DEFAULT_MAX_MODEL_BYTES = 1024 * 1024 * 1024;

/** HTTP statuses after which the same request may well succeed later. */
const RETRYABLE_HTTP_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/** ModelFetcher settings. */
export interface ModelFetcherOptions {
    /** Directory of the content-addressed cache; created when first written. */
    cacheDir: string;
    /** Limit for one HTTP download; DEFAULT_HTTP_TIMEOUT_MS if omitted. */
    httpTimeoutMs?: number;
    /** Largest model accepted from any source; DEFAULT_MAX_MODEL_BYTES if omitted. */
    maxBytes?: number;
    /** The fetch implementation (tests); the global fetch if omitted. */
    fetchImpl?: typeof fetch;
}

/** The fetched bytes are not the registered model. Never retried: the source serves something else. */
export class ModelHashMismatchError extends PermanentError {
    readonly uri: string;
    readonly expected: string;
    readonly actual: string;

    constructor(uri: string, expected: string, actual: string) {
        super("MODEL_HASH_MISMATCH", `model from ${uri} has hash ${actual}, the registered onnxHash is ${expected}`);
        this.uri = uri;
        this.expected = expected;
        this.actual = actual;
    }
}

/** `uri` with any user:password removed, for error messages. */
function redact(uri: string): string {
    return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

/** Fetches and verifies model bytes; see the file comment. */
export class ModelFetcher {
    readonly #cacheDir: string;
    readonly #httpTimeoutMs: number;
    readonly #maxBytes: number;
    readonly #fetch: typeof fetch;
    /** Fetches under way by hash, so concurrent callers for one model share one download. */
    readonly #pending = new Map<string, Promise<Uint8Array>>();

    constructor(options: ModelFetcherOptions) {
        this.#cacheDir = options.cacheDir;
        this.#httpTimeoutMs = options.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
        this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
        this.#fetch = options.fetchImpl ?? globalThis.fetch;
    }

    /** Where the verified bytes of the model with this hash are cached. */
    cachePath(onnxHash: string): string {
        return join(this.#cacheDir, `${normalizeHash(onnxHash).slice(2)}.onnx`);
    }

    /**
     * The bytes of the model whose keccak256 is `expectedOnnxHash`: from the cache, else from `uri` (verified,
     * then cached atomically). Throws ModelHashMismatchError when the source serves other bytes (nothing is
     * cached then), RetryableError for transient faults (network, HTTP 5xx/429/408, timeout) and PermanentError
     * for the rest (missing file, HTTP 4xx, unknown URI scheme, a model over `maxBytes`).
     */
    async fetch(uri: string, expectedOnnxHash: string): Promise<Uint8Array> {
        const expected = normalizeHash(expectedOnnxHash);
        const pending = this.#pending.get(expected);
        if (pending !== undefined) return pending;
        const fetching = this.#fetchVerified(uri, expected);
        this.#pending.set(expected, fetching);
        try {
            return await fetching;
        } finally {
            this.#pending.delete(expected);
        }
    }

    async #fetchVerified(uri: string, expected: string): Promise<Uint8Array> {
        const cached = await this.#readCache(expected);
        if (cached !== undefined) return cached;
        const bytes = await this.#fetchUri(uri);
        const actual = keccak256(bytes);
        if (actual !== expected) throw new ModelHashMismatchError(redact(uri), expected, actual);
        await this.#writeCache(expected, bytes);
        return bytes;
    }

    /** The cached bytes if present and intact; a corrupt cache file is deleted. */
    async #readCache(hash: string): Promise<Uint8Array | undefined> {
        const path = this.cachePath(hash);
        let bytes: Uint8Array;
        try {
            bytes = asBytes(await readFile(path));
        } catch (err) {
            if (errnoCode(err) === "ENOENT") return undefined;
            throw new PermanentError("MODEL_CACHE_READ_FAILED", `cannot read cached model ${path}: ${messageOf(err)}`, {
                cause: err,
            });
        }
        if (keccak256(bytes) === hash) return bytes;
        await rm(path, { force: true });
        return undefined;
    }

    /** Writes verified bytes to the cache: a temp file in the same directory, then an atomic rename. */
    async #writeCache(hash: string, bytes: Uint8Array): Promise<void> {
        const path = this.cachePath(hash);
        const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
        try {
            await mkdir(this.#cacheDir, { recursive: true });
            await writeFile(temp, bytes, { flag: "wx" });
            await rename(temp, path);
        } catch (err) {
            await rm(temp, { force: true });
            throw new PermanentError("MODEL_CACHE_WRITE_FAILED", `cannot cache model at ${path}: ${messageOf(err)}`, {
                cause: err,
            });
        }
    }

    async #fetchUri(uri: string): Promise<Uint8Array> {
        const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
        if (scheme === undefined) return this.#readFileUri(resolve(uri), uri);
        if (scheme === "file") {
            let path: string;
            try {
                path = fileURLToPath(uri);
            } catch (err) {
                throw new PermanentError("INVALID_MODEL_URI", `invalid file URI ${uri}: ${messageOf(err)}`, {
                    cause: err,
                });
            }
            return this.#readFileUri(path, uri);
        }
        if (scheme === "http" || scheme === "https") return this.#download(uri);
        throw new PermanentError(
            "UNSUPPORTED_MODEL_URI",
            `cannot fetch model URI ${redact(uri)}: scheme "${scheme}" is not supported (file path, file://, http://, https://)`,
        );
    }

    async #readFileUri(path: string, uri: string): Promise<Uint8Array> {
        try {
            const { size } = await stat(path);
            if (size > this.#maxBytes) throw tooLarge(uri, size, this.#maxBytes);
            return asBytes(await readFile(path));
        } catch (err) {
            if (err instanceof PermanentError) throw err;
            throw new PermanentError("MODEL_FETCH_FAILED", `cannot read model file ${uri}: ${messageOf(err)}`, {
                cause: err,
            });
        }
    }

    async #download(uri: string): Promise<Uint8Array> {
        const shown = redact(uri);
        let url: URL;
        try {
            url = new URL(uri);
        } catch (err) {
            throw new PermanentError("INVALID_MODEL_URI", `invalid model URI ${shown}: ${messageOf(err)}`, {
                cause: err,
            });
        }
        // fetch refuses credentials in the URL; send them as HTTP basic auth instead.
        const headers: Record<string, string> = {};
        if (url.username !== "" || url.password !== "") {
            const user = decodeURIComponent(url.username);
            const password = decodeURIComponent(url.password);
            headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
            url.username = "";
            url.password = "";
        }
        const signal = AbortSignal.timeout(this.#httpTimeoutMs);
        let response: Response;
        try {
            response = await this.#fetch(url, { signal, redirect: "follow", headers });
        } catch (err) {
            throw new RetryableError("MODEL_FETCH_FAILED", `GET ${shown} failed: ${describeFetchError(err, signal)}`, {
                cause: err,
            });
        }
        if (!response.ok) {
            await response.body?.cancel().catch(() => undefined);
            const message = `GET ${shown} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
            if (RETRYABLE_HTTP_STATUSES.has(response.status) || response.status >= 500) {
                throw new RetryableError("MODEL_FETCH_FAILED", message);
            }
            throw new PermanentError("MODEL_FETCH_FAILED", message);
        }
        const declared = Number(response.headers.get("content-length") ?? NaN);
        if (declared > this.#maxBytes) {
            await response.body?.cancel().catch(() => undefined);
            throw tooLarge(shown, declared, this.#maxBytes);
        }
        const chunks: Uint8Array[] = [];
        let length = 0;
        try {
            if (response.body !== null) {
                for await (const chunk of response.body) {
                    length += chunk.length;
                    if (length > this.#maxBytes) {
                        await response.body.cancel().catch(() => undefined);
                        throw tooLarge(shown, length, this.#maxBytes);
                    }
                    chunks.push(chunk);
                }
            }
        } catch (err) {
            if (err instanceof PermanentError) throw err;
            throw new RetryableError(
                "MODEL_FETCH_FAILED",
                `GET ${shown}: reading the body failed: ${describeFetchError(err, signal)}`,
                { cause: err },
            );
        }
        const bytes = new Uint8Array(length);
        let offset = 0;
        for (const chunk of chunks) {
            bytes.set(chunk, offset);
            offset += chunk.length;
        }
        return bytes;
    }
}

/** Lower-case 0x-prefixed 32-byte hex; throws PermanentError `INVALID_HASH` otherwise. */
function normalizeHash(hash: string): string {
    if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) {
        throw new PermanentError("INVALID_HASH", `onnxHash must be a 0x-prefixed 32-byte hex string, got "${hash}"`);
    }
    return hash.toLowerCase();
}

function tooLarge(uri: string, size: number, max: number): PermanentError {
    return new PermanentError("MODEL_TOO_LARGE", `model at ${uri} is at least ${size} bytes, the limit is ${max}`);
}

/** A Buffer as a plain Uint8Array view (no copy: models can be large). */
function asBytes(buffer: Buffer): Uint8Array {
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function errnoCode(err: unknown): unknown {
    return typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
}

function messageOf(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

/** A fetch failure in words, with the underlying socket error (undici hides it in `cause`). */
function describeFetchError(err: unknown, signal: AbortSignal): string {
    if (signal.aborted) return `no complete answer within the time limit (${messageOf(signal.reason)})`;
    const cause = err instanceof Error ? err.cause : undefined;
    return cause === undefined ? messageOf(err) : `${messageOf(err)} (${messageOf(cause)})`;
}
