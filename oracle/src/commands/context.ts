/**
 * What every chain-facing `verity` command shares: the RPC connection (with a clear error when it is missing or
 * unreachable), the signing key, the deployment manifest, amounts, transaction sending with decoded reverts, and
 * output (text or --json). Each failure is a CliError: one line saying what went wrong and what to do next, and an
 * exit code from EXIT (documented in docs/cli.md).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
    formatUnits,
    isError,
    JsonRpcProvider,
    parseUnits,
    Wallet,
    type ContractTransactionResponse,
    type Provider,
    type Signer,
    type TransactionReceipt,
    type TransactionRequest,
    type TransactionResponse,
} from "ethers";
import { decodeRevert, type DecodedRevert } from "../chain/coordinator";
import { createProgress, type Progress } from "../internal/progress";
import { revertData, rpcMessage } from "../internal/errors";
import { CliError, EXIT } from "./exit";

export { CliError, EXIT } from "./exit";

/** A signer that knows its address: the CLI's Wallet, or a Hardhat signer. */
export type Account = Signer & { readonly address: string };

/** Options shared by every chain-facing command. */
export interface ChainOptions {
    rpcUrl?: string;
    deployment?: string;
    json?: boolean;
    /**
     * A connection the caller already holds (the Hardhat tasks pass hre.ethers' provider and signer): used instead
     * of --rpc-url / VERITY_RPC_URL and VERITY_PRIVATE_KEY.
     */
    connection?: { provider: Provider; signer?: Account; name?: string };
}

export interface Connection {
    provider: Provider;
    chainId: number;
    /** Scheme, host and port of the RPC URL: what messages show (provider URLs often carry an API key). */
    origin: string;
}

/** Time one JSON-RPC call may take before the chain counts as unreachable. */
const RPC_TIMEOUT_MS = 10_000;
/** How often waits poll the chain. */
export const POLL_INTERVAL_MS = 250;

function originOf(url: string): string {
    try {
        const u = new URL(url);
        return `${u.protocol}//${u.host}`;
    } catch {
        throw new CliError(`invalid RPC URL "${url}": give an http(s):// URL with --rpc-url or VERITY_RPC_URL`);
    }
}

/** Connects to `--rpc-url` or VERITY_RPC_URL; one eth_chainId call proves the chain is there. */
export async function connect(opts: ChainOptions): Promise<Connection> {
    if (opts.connection !== undefined) {
        const { provider, name = "the given provider" } = opts.connection;
        const network = await chainCall(() => provider.getNetwork(), "reading the chain id");
        return { provider, chainId: Number(network.chainId), origin: name };
    }
    const url = opts.rpcUrl ?? process.env.VERITY_RPC_URL;
    if (url === undefined || url === "") {
        throw new CliError("no RPC URL: pass --rpc-url <url> or set VERITY_RPC_URL (e.g. http://127.0.0.1:8545)");
    }
    const origin = originOf(url);
    let chainId: number;
    try {
        const response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
            signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
        });
        const body = (await response.json()) as { result?: string };
        if (typeof body.result !== "string") throw new Error(`HTTP ${response.status}, no chain id in the answer`);
        chainId = Number(BigInt(body.result));
    } catch (error) {
        const why = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : "";
        throw new CliError(
            `cannot reach the chain at ${origin} (${why}): check --rpc-url / VERITY_RPC_URL and that the node is running`,
            EXIT.CHAIN,
        );
    }
    // cacheTimeout -1: ethers otherwise answers an identical read within 250 ms from cache, so a history read right
    // after a transaction could miss its events.
    const provider = new JsonRpcProvider(url, chainId, {
        staticNetwork: true,
        pollingInterval: POLL_INTERVAL_MS,
        cacheTimeout: -1,
    });
    return { provider, chainId, origin };
}

/**
 * A Wallet that numbers its own transactions: ethers' provider briefly caches identical reads, so back-to-back
 * sends asking for the "pending" nonce can get the same one. The first send reads it; later ones count on.
 */
class CliWallet extends Wallet {
    #nonce: number | undefined;

    override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
        if (tx.nonce !== undefined && tx.nonce !== null) return super.sendTransaction(tx);
        this.#nonce ??= await this.getNonce("pending");
        const response = await super.sendTransaction({ ...tx, nonce: this.#nonce });
        this.#nonce++;
        return response;
    }
}

/**
 * The signer to use: `injected` when the caller holds one (ChainOptions.connection.signer), else the key from
 * VERITY_PRIVATE_KEY connected to `provider`. Never echoes the key.
 */
export function signer(provider: Provider, injected?: Account): Account {
    if (injected !== undefined) return injected;
    const key = process.env.VERITY_PRIVATE_KEY;
    if (key === undefined || key === "") {
        throw new CliError(
            "no signing key: set VERITY_PRIVATE_KEY to the 0x-prefixed private key of the account to use",
        );
    }
    try {
        return new CliWallet(key.startsWith("0x") ? key : `0x${key}`, provider);
    } catch {
        throw new CliError("VERITY_PRIVATE_KEY is not a valid private key (want 32 bytes of hex, 0x-prefixed)");
    }
}

/** Refuses early, with the address to fund, when the key has no native balance to pay gas with. */
export async function requireGas(wallet: Account): Promise<void> {
    const provider = wallet.provider;
    if (provider === null) throw new CliError("the signer has no provider: connect it to the chain");
    const balance = await chainCall(() => provider.getBalance(wallet.address));
    if (balance === 0n) {
        throw new CliError(
            `the key's account ${wallet.address} has no native balance to pay gas: fund it and retry`,
            EXIT.REFUSED,
        );
    }
}

/** What `verity deploy` writes to deployments/<chainId>.json. */
export interface DeploymentManifest {
    chainId: number;
    networkName: string;
    deployer: string;
    /** First block of the deployment: event scans start here. */
    block: number;
    complete: boolean;
    verified: boolean;
    contracts: Record<string, { address: string; block: number; transactionHash: string }>;
    parameters: Record<string, string | number>;
    /** The test stake token was deployed by `verity deploy` (local chains only). */
    testStakeToken: boolean;
}

export const CONTRACT_NAMES = [
    "stakeToken",
    "programStore",
    "registry",
    "staking",
    "disputeLogic",
    "coordinator",
    "executor",
    "reexecutionResolver",
] as const;

export function defaultDeploymentPath(chainId: number): string {
    return resolve("deployments", `${chainId}.json`);
}

export function readManifest(path: string): DeploymentManifest | undefined {
    if (!existsSync(path)) return undefined;
    try {
        return JSON.parse(readFileSync(path, "utf8")) as DeploymentManifest;
    } catch (error) {
        throw new CliError(`${path} is not a deployment manifest (${(error as Error).message}): fix or remove it`);
    }
}

export function writeManifest(path: string, manifest: DeploymentManifest): void {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(tmp, path); // never a half-written manifest
}

/** The deployment the command works against: --deployment, else deployments/<chainId>.json. */
export interface Deployment {
    path: string;
    manifest: DeploymentManifest;
    address(name: (typeof CONTRACT_NAMES)[number]): string;
}

export function loadDeployment(opts: ChainOptions, chainId: number): Deployment {
    const path = resolve(opts.deployment ?? defaultDeploymentPath(chainId));
    const manifest = readManifest(path);
    if (manifest === undefined) {
        throw new CliError(
            `no deployment manifest at ${path}: run \`verity deploy\` first or pass --deployment <file>`,
        );
    }
    if (manifest.chainId !== chainId) {
        throw new CliError(
            `${path} is for chain ${manifest.chainId} but the RPC URL serves chain ${chainId}: use the matching --deployment or --rpc-url`,
        );
    }
    if (!manifest.complete) {
        throw new CliError(`the deployment in ${path} is incomplete: re-run \`verity deploy\` to finish it`);
    }
    return {
        path,
        manifest,
        address(name) {
            const entry = manifest.contracts[name];
            if (entry === undefined) throw new CliError(`${path} has no ${name} address: re-run \`verity deploy\``);
            return entry.address;
        },
    };
}

/** Stake-token amounts: "10" or "0.5" are whole tokens (18 decimals); "123wei" is an exact amount in wei. */
export function parseAmount(text: string, what = "amount"): bigint {
    const wei = /^(\d+)wei$/.exec(text.trim());
    try {
        const value = wei?.[1] !== undefined ? BigInt(wei[1]) : parseUnits(text.trim(), 18);
        if (value < 0n) throw new Error("negative");
        return value;
    } catch {
        throw new CliError(`invalid ${what} "${text}": give tokens (e.g. 10 or 0.5) or wei (e.g. 1000wei)`);
    }
}

export function formatAmount(wei: bigint): string {
    return `${formatUnits(wei, 18)} tokens`;
}

/** A human hint for a decoded custom error: what to do next. */
function hintFor(name: string, args: readonly unknown[]): string {
    const amount = (v: unknown): string => (typeof v === "bigint" ? formatAmount(v) : String(v));
    switch (name) {
        case "StakingStakeBelowCollateral":
            return `stake ${amount(args[0])} is below the model's collateral ${amount(args[1])}: stake more with \`verity operator stake\``;
        case "StakingInsufficientFreeStake":
            return `free stake ${amount(args[0])} is less than ${amount(args[1])}: stake more or wait for locked collateral to settle`;
        case "StakingUnbondingNotReady":
            return `unbonding is ready at ${new Date(Number(args[1]) * 1000).toISOString()}: withdraw after that`;
        case "StakingNothingToWithdraw":
            return "nothing is unbonded: run `verity operator unstake <amount>` first, then withdraw after the delay";
        case "StakingAlreadyRegistered":
            return "this operator is already registered for the model";
        case "ModelRegistryAlreadyRegistered":
            return `model ${String(args[0])} is already registered: pass a different --salt`;
        case "ModelRegistryUnknownModel":
            return `no model ${String(args[0])} is registered: check the id (\`verity model register\` prints it)`;
        case "ModelRegistryCollateralTooLow":
            return `collateral ${amount(args[0])} is below the registry minimum ${amount(args[1])}: raise --collateral`;
        case "ModelRegistryInvalidChallengeWindow":
            return `challenge window ${String(args[0])}s is outside [${String(args[1])}, ${String(args[2])}]: change --window`;
        case "CoordinatorInvalidInputLength":
            return `the input is ${String(args[0])} bytes; this coordinator takes 1 to ${String(args[1])} (maxInputBytes): the model's manifest gives the shapes its inputs must have`;
        case "CoordinatorCallbackGasTooHigh":
            return `a callback of ${String(args[0])} gas is above this coordinator's maximum ${String(args[1])}: lower --callback-gas`;
        case "CoordinatorInvalidDeadline":
            return `the deadline ${String(args[0])} is outside [${String(args[1])}, ${String(args[2])}] (unix seconds, the coordinator's minimum and maximum): change --deadline`;
        case "CoordinatorFeeAboveMax":
            return `the fee is ${amount(args[0])}, above the ${amount(args[1])} the request allowed (the fee changed since it was quoted): request again`;
        case "StakingNotRegistered":
            return `operator ${String(args[0])} is not registered for model ${String(args[1])}: register it (\`verity operator register-model\`) or prefer another operator`;
        case "CoordinatorInsufficientBalance":
            return `coordinator balance ${amount(args[0])} is below the fee ${amount(args[1])}: deposit more`;
        case "CoordinatorNoResolver":
            return "the model's verification mode has no resolver on this deployment: use a model of another mode";
        case "CoordinatorModelInactive":
        case "StakingModelInactive":
            return "the model is deactivated";
        case "CoordinatorNoChallengeCommitment":
            return "this account has no commitment of that challenge on chain: commit it first (`verity dispute` without --salt)";
        case "CoordinatorChallengeCommitmentTooRecent":
            return `the commitment was made in block ${String(args[0])}: reveal it from the next block on`;
        case "ERC20InsufficientBalance":
            return `token balance ${amount(args[1])} is below ${amount(args[2])}: get more stake tokens first`;
        case "ERC20InsufficientAllowance":
            return `allowance ${amount(args[1])} is below ${amount(args[2])}`;
        default:
            return "";
    }
}

/** The custom error a failed call or transaction reverted with, when the error carries revert data. */
export function revertOf(error: unknown): DecodedRevert | undefined {
    const data = revertData(error);
    return data === undefined ? undefined : decodeRevert(data);
}

/** Turns a failed chain interaction into a CliError: decoded custom error with a hint, funds, or transport. */
export function chainError(error: unknown, action: string): CliError {
    if (error instanceof CliError) return error;
    if (isError(error, "INSUFFICIENT_FUNDS") || /insufficient funds|enough funds/i.test(String(error))) {
        return new CliError(`${action}: the key's account cannot pay for gas: fund it and retry`, EXIT.REFUSED, {
            cause: error,
        });
    }
    const data = revertData(error);
    if (isError(error, "CALL_EXCEPTION") || data !== undefined) {
        const decoded = decodeRevert(data ?? "0x");
        if (decoded.name === "EmptyRevert") {
            // No revert data to decode: what the node itself said (an invalid opcode, out of gas) is the news.
            const said = rpcMessage(error);
            return new CliError(
                `${action} reverted without revert data${said === undefined ? "" : `; the RPC said: ${said}`}`,
                EXIT.REFUSED,
                { cause: error },
            );
        }
        const args = decoded.args.map((a) => String(a)).join(", ");
        const hint = hintFor(decoded.name, decoded.args);
        return new CliError(`${action} reverted: ${decoded.name}(${args})${hint ? `: ${hint}` : ""}`, EXIT.REFUSED, {
            cause: error,
        });
    }
    const message = (error as { shortMessage?: string; message?: string }).shortMessage ?? String(error);
    return new CliError(`${action} failed: ${message}`, EXIT.CHAIN, { cause: error });
}

/** A view call; transport faults and reverts become CliErrors. */
export async function chainCall<T>(fn: () => Promise<T>, action = "reading the chain"): Promise<T> {
    try {
        return await fn();
    } catch (error) {
        throw chainError(error, action);
    }
}

/** Sends a transaction and waits for its receipt; a revert (at estimation or mining) becomes a decoded CliError. */
export async function sendTx(
    action: string,
    send: () => Promise<ContractTransactionResponse>,
    shown?: Progress,
): Promise<TransactionReceipt> {
    const spinner = shown?.spinner(action);
    try {
        const tx = await send();
        spinner?.update(`${action}: waiting for ${tx.hash.slice(0, 10)}… to be mined`);
        const receipt = await tx.wait();
        if (receipt === null) throw new CliError(`${action}: the transaction was dropped`, EXIT.CHAIN);
        spinner?.succeed(action);
        return receipt;
    } catch (error) {
        spinner?.fail(action);
        throw chainError(error, action);
    }
}

/** JSON with bigints as decimal strings and Uint8Arrays as hex. */
export function toJson(value: unknown): string {
    return JSON.stringify(
        value,
        (_key, v: unknown) => {
            if (typeof v === "bigint") return String(v);
            if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString("hex")}`;
            return v;
        },
        2,
    );
}

/** Prints the report as JSON with --json, else the text. */
export function output(json: boolean | undefined, report: unknown, text: string): void {
    process.stdout.write(json ? `${toJson(report)}\n` : text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * Progress for slow steps (spinners, bars, step lines) on stderr: drawn only when stderr is a terminal and the
 * output is not JSON, so pipes, CI and --json see nothing of it (oracle/src/internal/progress.ts).
 */
export function progress(json: boolean | undefined): Progress {
    return createProgress({ enabled: json !== true });
}

/** Bytes from a file, or a CliError naming it. */
export function readFileOrFail(path: string, what: string): Buffer {
    try {
        return readFileSync(path);
    } catch (error) {
        throw new CliError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
}
