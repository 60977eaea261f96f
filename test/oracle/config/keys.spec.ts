import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { encryptKeystoreJson, Wallet } from "ethers";
import { KeyError, loadSigner } from "../../../oracle/src/config/keys";
import { PermanentError } from "../../../oracle/src/internal/errors";

/** Hardhat's first default account: a well-known test key, never used for anything real. */
const PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const PASSWORD = "correct horse battery staple";

/** Fields of the error and its whole cause chain, as one string. */
function everything(error: unknown): string {
    return [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error), String(error)].join("\n");
}

/** Runs `load`, expects a KeyError with `code`, and checks no secret appears anywhere in it. */
async function expectKeyError(load: () => Promise<unknown>, code: string, secrets: string[]): Promise<KeyError> {
    let failure: unknown;
    try {
        await load();
    } catch (error) {
        failure = error;
    }
    expect(failure).to.be.instanceOf(KeyError);
    expect(failure).to.be.instanceOf(PermanentError);
    const error = failure as KeyError;
    expect(error.code).to.equal(code);
    const text = everything(error).toLowerCase();
    for (const secret of secrets) {
        expect(text).not.to.include(secret.toLowerCase());
        // Hex keys: not even a fragment (JSON.parse errors, for one, quote the first few characters of the input).
        const hex = secret.toLowerCase().replace(/^0x/, "");
        if (/^[0-9a-f]{16,}$/.test(hex)) {
            for (let i = 0; i + 8 <= hex.length; i++) expect(text).not.to.include(hex.slice(i, i + 8));
        }
    }
    return error;
}

describe("oracle/config/keys", function () {
    describe("source env", function () {
        const key = { source: "env", envVar: "TEST_SIGNER_KEY" } as const;

        it("loads the key, with or without 0x, into an unconnected Wallet", async function () {
            for (const value of [PRIVATE_KEY, PRIVATE_KEY.slice(2), ` ${PRIVATE_KEY}\n`]) {
                const wallet = await loadSigner(key, { TEST_SIGNER_KEY: value });
                expect(wallet).to.be.instanceOf(Wallet);
                expect(wallet.address).to.equal(ADDRESS);
                expect(wallet.provider).to.equal(null);
            }
        });

        it("fails with KEY_MISSING naming the variable when it is unset or empty", async function () {
            for (const env of [{}, { TEST_SIGNER_KEY: "" }, { TEST_SIGNER_KEY: "  " }]) {
                const error = await expectKeyError(() => loadSigner(key, env), "KEY_MISSING", []);
                expect(error.message).to.include("TEST_SIGNER_KEY");
            }
        });

        it("fails with KEY_INVALID naming the variable, never the value", async function () {
            const invalid = [
                PRIVATE_KEY.slice(0, -1), // 63 digits
                PRIVATE_KEY + "00", // 66 digits
                PRIVATE_KEY.slice(0, -1) + "g", // not hex
                "0x" + "00".repeat(32), // zero key
                "0x" + "ff".repeat(32), // above the curve order
                "test test test test test test test test test test test junk", // a mnemonic
            ];
            for (const value of invalid) {
                const error = await expectKeyError(() => loadSigner(key, { TEST_SIGNER_KEY: value }), "KEY_INVALID", [
                    value,
                ]);
                expect(error.message).to.include("TEST_SIGNER_KEY");
                expect(error.cause).to.equal(undefined);
            }
        });
    });

    describe("source keystore", function () {
        let dir: string;
        let keystorePath: string;
        const env = { TEST_KEYSTORE_PASSWORD: PASSWORD };
        const keystoreKey = (path: string) =>
            ({ source: "keystore", path, passwordEnvVar: "TEST_KEYSTORE_PASSWORD" }) as const;

        before(async function () {
            dir = mkdtempSync(join(tmpdir(), "verity-keys-"));
            keystorePath = join(dir, "operator.json");
            const json = await encryptKeystoreJson({ address: ADDRESS, privateKey: PRIVATE_KEY }, PASSWORD, {
                scrypt: { N: 1024 },
            });
            writeFileSync(keystorePath, json);
        });

        after(function () {
            rmSync(dir, { recursive: true, force: true });
        });

        it("decrypts the keystore with the password from the environment", async function () {
            const wallet = await loadSigner(keystoreKey(keystorePath), env);
            expect(wallet).to.be.instanceOf(Wallet);
            expect(wallet.address).to.equal(ADDRESS);
            expect(wallet.privateKey).to.equal(PRIVATE_KEY);
            expect(wallet.provider).to.equal(null);
        });

        it("reads the file through options.readFile when given", async function () {
            const reads: string[] = [];
            const json = await encryptKeystoreJson({ address: ADDRESS, privateKey: PRIVATE_KEY }, PASSWORD, {
                scrypt: { N: 1024 },
            });
            const wallet = await loadSigner(keystoreKey("/virtual/key.json"), env, {
                readFile: async (path) => {
                    reads.push(path);
                    return json;
                },
            });
            expect(reads).to.deep.equal(["/virtual/key.json"]);
            expect(wallet.address).to.equal(ADDRESS);
        });

        it("fails with KEY_WRONG_PASSWORD naming the path, never the password", async function () {
            const wrong = "not the password";
            const error = await expectKeyError(
                () => loadSigner(keystoreKey(keystorePath), { TEST_KEYSTORE_PASSWORD: wrong }),
                "KEY_WRONG_PASSWORD",
                [wrong, PASSWORD, PRIVATE_KEY],
            );
            expect(error.message).to.include(keystorePath);
        });

        it("fails with KEY_MISSING naming the password variable when it is unset or empty", async function () {
            for (const passwordEnv of [{}, { TEST_KEYSTORE_PASSWORD: "" }]) {
                const error = await expectKeyError(
                    () => loadSigner(keystoreKey(keystorePath), passwordEnv),
                    "KEY_MISSING",
                    [PRIVATE_KEY],
                );
                expect(error.message).to.include("TEST_KEYSTORE_PASSWORD");
            }
        });

        it("fails with KEY_KEYSTORE_UNREADABLE naming the path when the file is missing", async function () {
            const missing = join(dir, "missing.json");
            const error = await expectKeyError(() => loadSigner(keystoreKey(missing), env), "KEY_KEYSTORE_UNREADABLE", [
                PASSWORD,
            ]);
            expect(error.message).to.include(missing).and.to.include("ENOENT");
        });

        it("fails with KEY_KEYSTORE_UNREADABLE when the path is a directory", async function () {
            const error = await expectKeyError(() => loadSigner(keystoreKey(dir), env), "KEY_KEYSTORE_UNREADABLE", [
                PASSWORD,
            ]);
            expect(error.message).to.include(dir);
        });

        it("fails with KEY_KEYSTORE_INVALID for garbage, non-keystore JSON and a raw key in the file", async function () {
            const cases: [string, string][] = [
                ["garbage.json", "{ this is not json"],
                ["array.json", "[1, 2, 3]"],
                ["other.json", JSON.stringify({ version: 1, hello: "world" })],
                ["raw-key.json", PRIVATE_KEY],
                ["raw-key.txt", PRIVATE_KEY.slice(2)], // JSON.parse quotes its first characters: must not leak
                ["raw-key-quoted.json", JSON.stringify(PRIVATE_KEY)],
            ];
            for (const [name, contents] of cases) {
                const path = join(dir, name);
                writeFileSync(path, contents);
                const error = await expectKeyError(() => loadSigner(keystoreKey(path), env), "KEY_KEYSTORE_INVALID", [
                    PRIVATE_KEY,
                    PASSWORD,
                ]);
                expect(error.message, name).to.include(path);
                expect(error.cause, name).to.equal(undefined);
            }
        });

        it("fails with KEY_KEYSTORE_INVALID for a corrupt version 3 keystore", async function () {
            const path = join(dir, "corrupt.json");
            writeFileSync(path, JSON.stringify({ version: 3, address: ADDRESS.slice(2), crypto: { kdf: "bogus" } }));
            const error = await expectKeyError(() => loadSigner(keystoreKey(path), env), "KEY_KEYSTORE_INVALID", [
                PASSWORD,
            ]);
            expect(error.message).to.include(path);
        });
    });
});
