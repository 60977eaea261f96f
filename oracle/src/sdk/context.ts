/**
 * What every SDK function shares: the provider, the optional signer, the coordinator (TypeChain-typed) and
 * per-client caches. Built once by `createVerityClient`; the attestation helpers take it too.
 */
import { getAddress, type Provider, type Signer, type TypedDataDomain } from "ethers";
import {
    IERC20__factory,
    IReexecutionResolver__factory,
    InferenceCoordinator__factory,
    ModelRegistry__factory,
    Staking__factory,
    type IERC20,
    type IReexecutionResolver,
    type InferenceCoordinator,
    type ModelRegistry,
    type Staking,
} from "../../../typechain-types";
import { VeritySdkError, wrapReverts } from "./errors";

export interface SdkContext {
    readonly provider: Provider;
    readonly signer: Signer | undefined;
    readonly coordinatorAddress: string;
    /** The coordinator connected to the provider (views). */
    readonly coordinator: InferenceCoordinator;
    readonly pollIntervalMs: number;
    readonly confirmations: number;
    readonly logChunkBlocks: number;
    /** Blocks requests made through this client were mined in (a lower bound for log searches). */
    readonly requestBlocks: Map<bigint, number>;
    /** The client's transactions (see transactions.ts): the last one sent, and the queue sends wait in. */
    readonly transactions: { last: { nonce: number; hash: string } | undefined; queue: Promise<unknown> };
    cache: {
        domain?: TypedDataDomain;
        registry?: ModelRegistry;
        staking?: Staking;
        token?: string;
        resolvers: Map<number, string>;
    };
}

export interface ContextOptions {
    /** The InferenceCoordinator's address. */
    coordinator: string;
    /** A signer (with a provider) for transactions, or a provider alone for a read-only client. */
    runner: Signer | Provider;
    /** How often waitForResult polls for new logs (ms). Default 1,000. */
    pollIntervalMs?: number;
    /** Blocks a log must be buried under before waitForResult counts it. Default 0 (the latest block). */
    confirmations?: number;
    /** Largest block range of one eth_getLogs call. Default 10,000. */
    logChunkBlocks?: number;
}

function isSigner(runner: Signer | Provider): runner is Signer {
    return (
        typeof (runner as Signer).getAddress === "function" && typeof (runner as Signer).signTypedData === "function"
    );
}

export function createContext(options: ContextOptions): SdkContext {
    let coordinatorAddress: string;
    try {
        coordinatorAddress = getAddress(options.coordinator);
    } catch (err) {
        throw new VeritySdkError("INVALID_ARGUMENT", `coordinator is not an address: ${options.coordinator}`, {
            cause: err,
        });
    }
    const signer = isSigner(options.runner) ? options.runner : undefined;
    const provider = signer !== undefined ? signer.provider : (options.runner as Provider);
    if (provider === null || provider === undefined) {
        throw new VeritySdkError("INVALID_ARGUMENT", "the signer has no provider: connect it to one first");
    }
    return {
        provider,
        signer,
        coordinatorAddress,
        coordinator: InferenceCoordinator__factory.connect(coordinatorAddress, provider),
        pollIntervalMs: options.pollIntervalMs ?? 1_000,
        confirmations: options.confirmations ?? 0,
        logChunkBlocks: options.logChunkBlocks ?? 10_000,
        requestBlocks: new Map(),
        transactions: { last: undefined, queue: Promise.resolve() },
        cache: { resolvers: new Map() },
    };
}

export function requireSigner(ctx: SdkContext, action: string): Signer {
    if (ctx.signer === undefined) {
        throw new VeritySdkError("NO_SIGNER", `${action} sends a transaction: create the client with a signer`);
    }
    return ctx.signer;
}

export async function registryOf(ctx: SdkContext): Promise<ModelRegistry> {
    ctx.cache.registry ??= ModelRegistry__factory.connect(await ctx.coordinator.registry(), ctx.provider);
    return ctx.cache.registry;
}

export async function stakingOf(ctx: SdkContext): Promise<Staking> {
    ctx.cache.staking ??= Staking__factory.connect(await ctx.coordinator.staking(), ctx.provider);
    return ctx.cache.staking;
}

/** The fee / stake token, connected to the signer when there is one. */
export async function tokenOf(ctx: SdkContext): Promise<IERC20> {
    ctx.cache.token ??= await ctx.coordinator.token();
    return IERC20__factory.connect(ctx.cache.token, ctx.signer ?? ctx.provider);
}

/** The resolver of `mode`, or null while none is set (only set addresses are cached: they never change). */
export async function resolverOf(ctx: SdkContext, mode: number): Promise<string | null> {
    const cached = ctx.cache.resolvers.get(mode);
    if (cached !== undefined) return cached;
    const address = await ctx.coordinator.getResolver(mode);
    if (/^0x0{40}$/i.test(address)) return null;
    ctx.cache.resolvers.set(mode, address);
    return address;
}

export function reexecutionResolverAt(ctx: SdkContext, address: string): IReexecutionResolver {
    return IReexecutionResolver__factory.connect(address, ctx.provider);
}

/**
 * The coordinator's EIP-712 domain, read from the chain (`eip712Domain()`, ERC-5267) and checked: name "Verity",
 * version "1", the provider's chain id and the coordinator's own address. Anything else is DOMAIN_MISMATCH (a
 * wrong address, or a provider on another chain).
 */
export async function attestationDomain(ctx: SdkContext): Promise<TypedDataDomain> {
    if (ctx.cache.domain !== undefined) return ctx.cache.domain;
    const [d, network] = await Promise.all([
        wrapReverts("eip712Domain", () => ctx.coordinator.eip712Domain()),
        ctx.provider.getNetwork(),
    ]);
    const problems: string[] = [];
    if (d.name !== "Verity") problems.push(`name ${JSON.stringify(d.name)} (want "Verity")`);
    if (d.version !== "1") problems.push(`version ${JSON.stringify(d.version)} (want "1")`);
    if (d.chainId !== network.chainId) problems.push(`chainId ${d.chainId} (provider is on ${network.chainId})`);
    if (getAddress(d.verifyingContract) !== ctx.coordinatorAddress) {
        problems.push(`verifyingContract ${d.verifyingContract} (want ${ctx.coordinatorAddress})`);
    }
    if (problems.length > 0) {
        throw new VeritySdkError("DOMAIN_MISMATCH", `coordinator EIP-712 domain mismatch: ${problems.join("; ")}`);
    }
    ctx.cache.domain = { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract };
    return ctx.cache.domain;
}
