import { expect } from "chai";
import { keccak256 } from "ethers";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { PermanentError, RetryableError, VerityError, shouldRetry } from "../../../oracle/src/internal/errors";
import { ModelFetcher, ModelHashMismatchError } from "../../../oracle/src/runtime/fetcher";
import { tinyIntegerModel } from "../../../models/examples";

/** The error the promise rejects with, asserted to be a VerityError of `type` with `code`. */
async function rejection<T extends VerityError>(
    promise: Promise<unknown>,
    type: abstract new (...args: never[]) => T,
    code: string,
): Promise<T> {
    try {
        await promise;
    } catch (err) {
        expect(err).to.be.instanceOf(type);
        expect((err as VerityError).code).to.equal(code);
        return err as T;
    }
    throw new Error(`expected a ${type.name} ${code}`);
}

/** A fetch that fails the test if the fetcher ever goes to the network. */
const noNetwork: typeof fetch = async () => {
    throw new Error("the fetcher must not touch the network here");
};

describe("oracle/runtime/fetcher", function () {
    const model = tinyIntegerModel().onnx;
    const hash = keccak256(model);
    const otherBytes = Uint8Array.from([1, 2, 3, 4, 5]);
    let dir: string;
    let cacheDir: string;
    let modelPath: string;

    beforeEach(function () {
        dir = mkdtempSync(join(tmpdir(), "verity-fetcher-"));
        cacheDir = join(dir, "cache");
        modelPath = join(dir, "model.onnx");
        writeFileSync(modelPath, model);
    });
    afterEach(function () {
        rmSync(dir, { recursive: true, force: true });
    });

    const cacheFile = (): string => join(cacheDir, `${hash.slice(2)}.onnx`);
    const expectCached = (): void => {
        expect(Buffer.from(readFileSync(cacheFile())).equals(Buffer.from(model))).to.be.true;
        expect(readdirSync(cacheDir)).to.deep.equal([`${hash.slice(2)}.onnx`]); // no temp files left behind
    };

    describe("local files", function () {
        it("reads an absolute path, verifies it and caches it under its hash", async function () {
            const fetcher = new ModelFetcher({ cacheDir, fetchImpl: noNetwork });
            expect(fetcher.cachePath(hash)).to.equal(cacheFile());
            const bytes = await fetcher.fetch(modelPath, hash);
            expect(Buffer.from(bytes).equals(Buffer.from(model))).to.be.true;
            expectCached();
        });

        it("reads a path relative to the working directory", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const bytes = await fetcher.fetch(relative(process.cwd(), modelPath), hash);
            expect(keccak256(bytes)).to.equal(hash);
        });

        it("reads a file:// URI", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const bytes = await fetcher.fetch(pathToFileURL(modelPath).href, hash);
            expect(keccak256(bytes)).to.equal(hash);
            expectCached();
        });

        it("accepts the expected hash in upper case", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const bytes = await fetcher.fetch(modelPath, `0x${hash.slice(2).toUpperCase()}`);
            expect(keccak256(bytes)).to.equal(hash);
            expectCached();
        });

        it("refuses a missing file (PermanentError MODEL_FETCH_FAILED)", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const err = await rejection(
                fetcher.fetch(join(dir, "absent.onnx"), hash),
                PermanentError,
                "MODEL_FETCH_FAILED",
            );
            expect(err.message).to.contain("absent.onnx");
            expect(shouldRetry(err)).to.be.false;
        });

        it("refuses a file over maxBytes (MODEL_TOO_LARGE)", async function () {
            const fetcher = new ModelFetcher({ cacheDir, maxBytes: model.length - 1 });
            await rejection(fetcher.fetch(modelPath, hash), PermanentError, "MODEL_TOO_LARGE");
            expect(existsSync(cacheDir)).to.be.false;
        });
    });

    describe("the cache", function () {
        it("serves a pre-seeded model by hash alone, without touching its URI", async function () {
            const fetcher = new ModelFetcher({ cacheDir, fetchImpl: noNetwork });
            await fetcher.fetch(modelPath, hash);
            rmSync(modelPath); // the source is gone...
            const again = new ModelFetcher({ cacheDir, fetchImpl: noNetwork });
            const bytes = await again.fetch("https://models.invalid/unreachable.onnx", hash); // ...and unreachable
            expect(Buffer.from(bytes).equals(Buffer.from(model))).to.be.true;

            // An operator can also copy the file in by hand.
            const seededDir = join(dir, "seeded");
            const seeded = new ModelFetcher({ cacheDir: seededDir, fetchImpl: noNetwork });
            mkdirSync(seededDir);
            writeFileSync(seeded.cachePath(hash), model);
            expect(keccak256(await seeded.fetch("ipfs://not-even-a-supported-scheme", hash))).to.equal(hash);
        });

        it("deletes a corrupt cache file and fetches the model again", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            await fetcher.fetch(modelPath, hash);
            writeFileSync(cacheFile(), otherBytes); // bit rot, or someone else's file under this name
            const bytes = await fetcher.fetch(modelPath, hash);
            expect(keccak256(bytes)).to.equal(hash);
            expectCached();
        });

        it("drops a corrupt cache file even when the source is gone, then fails loudly", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            await fetcher.fetch(modelPath, hash);
            writeFileSync(cacheFile(), otherBytes);
            rmSync(modelPath);
            await rejection(fetcher.fetch(modelPath, hash), PermanentError, "MODEL_FETCH_FAILED");
            expect(existsSync(cacheFile())).to.be.false;
        });
    });

    describe("verification", function () {
        it("refuses bytes that do not hash to the registered onnxHash, naming uri and both hashes, and caches nothing", async function () {
            const wrongPath = join(dir, "wrong.onnx");
            writeFileSync(wrongPath, otherBytes);
            const fetcher = new ModelFetcher({ cacheDir });
            const err = await rejection(fetcher.fetch(wrongPath, hash), ModelHashMismatchError, "MODEL_HASH_MISMATCH");
            expect(err).to.be.instanceOf(PermanentError);
            expect(shouldRetry(err)).to.be.false;
            expect(err.uri).to.equal(wrongPath);
            expect(err.expected).to.equal(hash);
            expect(err.actual).to.equal(keccak256(otherBytes));
            expect(err.message).to.contain(wrongPath).and.contain(hash).and.contain(keccak256(otherBytes));
            expect(existsSync(cacheFile())).to.be.false;
            expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).to.deep.equal([]);
        });

        it("refuses a malformed expected hash (INVALID_HASH)", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            await rejection(fetcher.fetch(modelPath, "0x1234"), PermanentError, "INVALID_HASH");
            await rejection(fetcher.fetch(modelPath, hash.slice(2)), PermanentError, "INVALID_HASH");
        });

        it("refuses an unknown URI scheme, naming the URI (UNSUPPORTED_MODEL_URI)", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const err = await rejection(fetcher.fetch("ipfs://QmModel", hash), PermanentError, "UNSUPPORTED_MODEL_URI");
            expect(err.message).to.contain("ipfs://QmModel");
        });
    });

    describe("http(s)", function () {
        let server: Server;
        let base: string;
        let hits: Record<string, number>;
        const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
            "/model.onnx": (_req, res) => {
                res.writeHead(200, { "content-type": "application/octet-stream" });
                res.end(model);
            },
            "/slow.onnx": (_req, res) => {
                res.writeHead(200);
                setTimeout(() => res.end(model), 300);
            },
            "/wrong.onnx": (_req, res) => res.end(otherBytes),
            "/chunked-big.onnx": (_req, res) => {
                res.writeHead(200); // no content-length: the limit applies while streaming
                res.write(new Uint8Array(600));
                res.end(new Uint8Array(600));
            },
            "/private.onnx": (req, res) => {
                if (req.headers.authorization !== `Basic ${Buffer.from("user:s3cret").toString("base64")}`) {
                    res.writeHead(401, "Unauthorized");
                    res.end();
                    return;
                }
                res.end(model);
            },
            "/missing.onnx": (_req, res) => {
                res.writeHead(404, "Not Found");
                res.end("no such model");
            },
            "/broken.onnx": (_req, res) => {
                res.writeHead(500, "Internal Server Error");
                res.end();
            },
            "/busy.onnx": (_req, res) => {
                res.writeHead(429, "Too Many Requests");
                res.end();
            },
        };

        before(async function () {
            server = createServer((req, res) => {
                const path = req.url ?? "/";
                hits[path] = (hits[path] ?? 0) + 1;
                const route = routes[path];
                if (route === undefined) {
                    res.writeHead(404);
                    res.end();
                } else {
                    route(req, res);
                }
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });
        after(async function () {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        });
        beforeEach(function () {
            hits = {};
        });

        it("downloads, verifies and caches a model; the next fetch is served from the cache", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const bytes = await fetcher.fetch(`${base}/model.onnx`, hash);
            expect(Buffer.from(bytes).equals(Buffer.from(model))).to.be.true;
            expectCached();
            await fetcher.fetch(`${base}/model.onnx`, hash);
            expect(hits["/model.onnx"]).to.equal(1);
        });

        it("shares one download between concurrent fetches of the same model", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const all = await Promise.all([1, 2, 3].map(() => fetcher.fetch(`${base}/slow.onnx`, hash)));
            for (const bytes of all) expect(keccak256(bytes)).to.equal(hash);
            expect(hits["/slow.onnx"]).to.equal(1);
        });

        it("refuses a download with the wrong hash and caches nothing", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const err = await rejection(
                fetcher.fetch(`${base}/wrong.onnx`, hash),
                ModelHashMismatchError,
                "MODEL_HASH_MISMATCH",
            );
            expect(err.message).to.contain(`${base}/wrong.onnx`);
            expect(existsSync(cacheFile())).to.be.false;
        });

        it("treats HTTP 500 and 429 as retryable (RetryableError), naming the status", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const err500 = await rejection(
                fetcher.fetch(`${base}/broken.onnx`, hash),
                RetryableError,
                "MODEL_FETCH_FAILED",
            );
            expect(err500.message).to.contain("HTTP 500");
            expect(shouldRetry(err500)).to.be.true;
            const err429 = await rejection(
                fetcher.fetch(`${base}/busy.onnx`, hash),
                RetryableError,
                "MODEL_FETCH_FAILED",
            );
            expect(err429.message).to.contain("HTTP 429");
        });

        it("treats HTTP 404 as permanent (PermanentError), naming the status", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const err = await rejection(
                fetcher.fetch(`${base}/missing.onnx`, hash),
                PermanentError,
                "MODEL_FETCH_FAILED",
            );
            expect(err).to.not.be.instanceOf(RetryableError);
            expect(err.message).to.contain("HTTP 404").and.contain(`${base}/missing.onnx`);
            expect(shouldRetry(err)).to.be.false;
        });

        it("treats a refused connection and a timeout as retryable", async function () {
            // A port that was just free: nothing listens there.
            const closed = createServer();
            await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
            const port = (closed.address() as AddressInfo).port;
            await new Promise((resolve) => closed.close(resolve));
            const fetcher = new ModelFetcher({ cacheDir });
            const refused = await rejection(
                fetcher.fetch(`http://127.0.0.1:${port}/model.onnx`, hash),
                RetryableError,
                "MODEL_FETCH_FAILED",
            );
            expect(refused.message).to.contain("ECONNREFUSED");

            const impatient = new ModelFetcher({ cacheDir, httpTimeoutMs: 50 });
            const timedOut = await rejection(
                impatient.fetch(`${base}/slow.onnx`, hash),
                RetryableError,
                "MODEL_FETCH_FAILED",
            );
            expect(timedOut.message).to.contain("time limit");
        });

        it("stops a download over maxBytes, declared or streamed (MODEL_TOO_LARGE)", async function () {
            const small = new ModelFetcher({ cacheDir, maxBytes: 100 });
            await rejection(small.fetch(`${base}/model.onnx`, hash), PermanentError, "MODEL_TOO_LARGE");
            await rejection(small.fetch(`${base}/chunked-big.onnx`, hash), PermanentError, "MODEL_TOO_LARGE");
        });

        it("sends credentials in the URI as basic auth and keeps them out of error messages", async function () {
            const fetcher = new ModelFetcher({ cacheDir });
            const withCredentials = (path: string): string =>
                `http://user:s3cret@127.0.0.1:${new URL(base).port}${path}`;
            const err = await rejection(
                fetcher.fetch(withCredentials("/missing.onnx"), hash),
                PermanentError,
                "MODEL_FETCH_FAILED",
            );
            expect(err.message).to.contain("/missing.onnx").and.not.contain("s3cret");
            // (Fetched after the failure: a cached model would be served without asking the server.)
            expect(keccak256(await fetcher.fetch(withCredentials("/private.onnx"), hash))).to.equal(hash);
            const unauthorized = await rejection(
                new ModelFetcher({ cacheDir: join(dir, "other") }).fetch(`${base}/private.onnx`, hash),
                PermanentError,
                "MODEL_FETCH_FAILED",
            );
            expect(unauthorized.message).to.contain("HTTP 401");
        });
    });
});
