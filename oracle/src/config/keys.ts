/**
 * Loads the operator's signing key from where the config says: an environment variable holding the private key,
 * or an encrypted JSON keystore whose password is in an environment variable.
 *
 * SECURITY: no error raised here carries the private key, the password or the keystore contents, in its message
 * or its `cause`. Errors from ethers and JSON.parse can echo their input, so they are never copied or attached;
 * messages name the variable or file instead.
 */
import { readFile as fsReadFile } from "node:fs/promises";
import { isError, isKeystoreJson, Wallet } from "ethers";
import { PermanentError } from "../internal/errors";
import type { Config } from "./schema";

/** A signing key that cannot be loaded. `code` is one of the KEY_* codes; the message never holds secrets. */
export class KeyError extends PermanentError {}

/** Options of `loadSigner`, for tests. */
export interface LoadSignerOptions {
    /** Reads a keystore file as UTF-8 text. Default: node:fs/promises readFile. */
    readFile?: (path: string) => Promise<string>;
}

/** A private key: 32 bytes as 64 hex digits, with or without 0x. */
const PRIVATE_KEY_PATTERN = /^(0x)?[0-9a-fA-F]{64}$/;

function fromEnv(envVar: string, env: NodeJS.ProcessEnv): Wallet {
    const value = env[envVar]?.trim();
    if (value === undefined || value === "") {
        throw new KeyError("KEY_MISSING", `Signing key: environment variable ${envVar} is not set`);
    }
    const invalid = (): KeyError =>
        new KeyError(
            "KEY_INVALID",
            `Signing key: environment variable ${envVar} does not hold a private key ` +
                `(want 32 bytes as 64 hex digits, with or without 0x)`,
        );
    if (!PRIVATE_KEY_PATTERN.test(value)) throw invalid();
    try {
        return new Wallet(value.startsWith("0x") ? value : `0x${value}`);
    } catch {
        // Zero or not below the curve order. The ethers error is dropped: it may echo the value.
        throw invalid();
    }
}

async function fromKeystore(
    path: string,
    passwordEnvVar: string,
    env: NodeJS.ProcessEnv,
    readFile: (path: string) => Promise<string>,
): Promise<Wallet> {
    let json: string;
    try {
        json = await readFile(path);
    } catch (error) {
        // fs errors name the path and errno only, never the contents: safe to attach.
        const code = (error as NodeJS.ErrnoException).code ?? "read failed";
        throw new KeyError("KEY_KEYSTORE_UNREADABLE", `Signing key: cannot read keystore ${path} (${code})`, {
            cause: error,
        });
    }
    // JSON.parse errors quote the input, which might be a raw key put in the wrong file: no cause attached.
    let parsed: unknown;
    try {
        parsed = JSON.parse(json);
    } catch {
        parsed = undefined;
    }
    if (typeof parsed !== "object" || parsed === null || !isKeystoreJson(json)) {
        throw new KeyError(
            "KEY_KEYSTORE_INVALID",
            `Signing key: ${path} is not an encrypted JSON keystore (want a version 3 keystore)`,
        );
    }
    const password = env[passwordEnvVar];
    if (password === undefined || password === "") {
        throw new KeyError("KEY_MISSING", `Signing key: environment variable ${passwordEnvVar} is not set`);
    }
    let decrypted: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
    try {
        decrypted = await Wallet.fromEncryptedJson(json, password);
    } catch (error) {
        if (isError(error, "INVALID_ARGUMENT") && error.argument === "password") {
            throw new KeyError(
                "KEY_WRONG_PASSWORD",
                `Signing key: wrong password for keystore ${path} (from ${passwordEnvVar})`,
            );
        }
        throw new KeyError(
            "KEY_KEYSTORE_INVALID",
            `Signing key: cannot decrypt keystore ${path} (corrupt or unsupported keystore)`,
        );
    }
    // Keystores written with a mnemonic decrypt to an HDNodeWallet; the node only needs the plain key.
    return decrypted instanceof Wallet ? decrypted : new Wallet(decrypted.privateKey);
}

/**
 * The signing wallet described by `key`, not connected to a provider.
 *
 * - `env`: `env[key.envVar]` holds the private key (hex, 0x optional, surrounding whitespace ignored).
 * - `keystore`: `key.path` is an encrypted JSON keystore (geth/ethers, version 3); `env[key.passwordEnvVar]`
 *   holds its password. An empty password counts as unset.
 *
 * @throws KeyError `KEY_MISSING` (variable unset or empty), `KEY_INVALID` (not a private key),
 *   `KEY_KEYSTORE_UNREADABLE`, `KEY_KEYSTORE_INVALID` or `KEY_WRONG_PASSWORD`. Messages name the variable or
 *   the file, never a value.
 */
export async function loadSigner(
    key: Config["key"],
    env: NodeJS.ProcessEnv = process.env,
    options: LoadSignerOptions = {},
): Promise<Wallet> {
    if (key.source === "env") return fromEnv(key.envVar, env);
    return fromKeystore(key.path, key.passwordEnvVar, env, options.readFile ?? ((path) => fsReadFile(path, "utf8")));
}
