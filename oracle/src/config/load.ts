/**
 * Loads the node's configuration from a JSON file plus environment overrides, and validates it once.
 * Every failure is a ConfigError whose message names the field: `Invalid config: chain.rpcUrl: must be ...`.
 */
import { readFileSync } from "node:fs";
import { PermanentError } from "../internal/errors";
import { formatZodIssues } from "../internal/zodIssues";
import { ConfigSchema, type Config } from "./schema";

/** Environment variables that override a field of the file, and how to read them. */
export const ENV_OVERRIDES: readonly { env: string; path: readonly string[]; kind: "string" | "int" | "bool" }[] = [
    { env: "VERITY_RPC_URL", path: ["chain", "rpcUrl"], kind: "string" },
    { env: "VERITY_CHAIN_ID", path: ["chain", "chainId"], kind: "int" },
    { env: "VERITY_COORDINATOR", path: ["chain", "coordinator"], kind: "string" },
    { env: "VERITY_CONFIRMATIONS", path: ["chain", "confirmations"], kind: "int" },
    { env: "VERITY_DATA_DIR", path: ["storage", "dataDir"], kind: "string" },
    { env: "VERITY_SERVER_PORT", path: ["server", "port"], kind: "int" },
    { env: "VERITY_LOG_LEVEL", path: ["log", "level"], kind: "string" },
    { env: "VERITY_BATCHING", path: ["batching", "enabled"], kind: "bool" },
];

/** Field names that would put a secret in the file; refused with a pointer to the right way. */
const SECRET_FIELDS = ["privateKey", "mnemonic", "password"];

/** An invalid configuration. `issues` holds one line per problem, each naming its field. */
export class ConfigError extends PermanentError {
    readonly issues: readonly string[];

    constructor(issues: readonly string[], options?: { cause?: unknown }) {
        super("INVALID_CONFIG", issues.map((issue) => `Invalid config: ${issue}`).join("\n"), options);
        this.issues = issues;
    }
}

function findSecrets(value: unknown, path: string[] = []): string[] {
    if (typeof value !== "object" || value === null) return [];
    const found: string[] = [];
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        if (SECRET_FIELDS.includes(key)) {
            found.push(
                `${[...path, key].join(".")}: secrets never go in the config file; use key.source "env" ` +
                    `(a variable holding the private key) or "keystore" (an encrypted JSON keystore)`,
            );
        }
        found.push(...findSecrets(child, [...path, key]));
    }
    return found;
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, issues: string[]): void {
    for (const { env: name, path, kind } of ENV_OVERRIDES) {
        const text = env[name];
        if (text === undefined || text === "") continue;
        let value: unknown = text;
        if (kind === "int") {
            value = /^-?\d+$/.test(text) ? Number(text) : NaN;
            if (Number.isNaN(value)) {
                issues.push(`${path.join(".")} (from ${name}): must be an integer, got "${text}"`);
                continue;
            }
        } else if (kind === "bool") {
            if (text !== "true" && text !== "false") {
                issues.push(`${path.join(".")} (from ${name}): must be true or false, got "${text}"`);
                continue;
            }
            value = text === "true";
        }
        let node = raw;
        for (const key of path.slice(0, -1)) {
            const next = node[key];
            if (typeof next !== "object" || next === null) node[key] = {};
            node = node[key] as Record<string, unknown>;
        }
        node[path[path.length - 1]!] = value;
    }
}

/** Validates an already-parsed configuration object, after environment overrides. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): Config {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new ConfigError(["(root): must be a JSON object"]);
    }
    const copy = structuredClone(raw) as Record<string, unknown>;
    const issues = findSecrets(copy);
    applyEnv(copy, env, issues);
    if (issues.length > 0) throw new ConfigError(issues);
    const result = ConfigSchema.safeParse(copy, { reportInput: true });
    if (!result.success) throw new ConfigError(formatZodIssues(result.error), { cause: result.error });
    return result.data;
}

/** Reads `path` (JSON), applies environment overrides and validates. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "read failed";
        throw new ConfigError([`${path}: cannot read the file (${code})`], { cause: error });
    }
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (error) {
        throw new ConfigError([`${path}: not valid JSON (${(error as Error).message})`], { cause: error });
    }
    return parseConfig(raw, env);
}
