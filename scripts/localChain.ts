/**
 * The in-process Hardhat chain as the off-chain code meets it, shared by the demo, the end-to-end tests and the
 * node benchmark: served over HTTP on a random local port (as `npx hardhat node` would serve it), and the private
 * keys of Hardhat's default accounts, which nodes and CLI processes need to sign, and node configs for such a
 * chain. Needs the Hardhat runtime, so
 * it lives outside oracle/ (which never depends on Hardhat).
 */
import hre from "hardhat";
import { HDNodeWallet, Wallet } from "ethers";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import type { EIP1193Provider } from "hardhat/types";
import { parseConfig } from "../oracle/src/config/load";
import type { Config } from "../oracle/src/config/schema";

/** Hardhat's default accounts come from this mnemonic (public: never use it on a real network). */
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** The private-key wallet of Hardhat account `index`. */
export function hardhatWallet(index: number): Wallet {
    const node = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
    return new Wallet(node.privateKey);
}

/** Serves the in-process Hardhat network (or a wrapper of its provider) on 127.0.0.1, on a random port. */
export async function startRpcServer(
    provider: EIP1193Provider = hre.network.provider,
): Promise<{ url: string; close(): Promise<void> }> {
    const server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider });
    const { address, port } = await server.listen();
    return { url: `http://${address}:${port}`, close: () => server.close() };
}

/** Where a local node config points: the chain served by `startRpcServer` and a deployment on it. */
export interface LocalNodeTarget {
    rpcUrl: string;
    coordinator: string;
    modelIds: readonly string[];
    dataDir: string;
}

/**
 * A validated node config for a local chain: no confirmations (a local chain does not reorg), fast polling, the
 * key from VERITY_PRIVATE_KEY, any free port for /metrics. `overrides` replace fields section by section
 * (`{ batching: { enabled: true } }` keeps the other batching defaults); `roles` and `challenger` are taken whole.
 */
export async function localNodeConfig(
    target: LocalNodeTarget,
    overrides: Record<string, Record<string, unknown>> = {},
    logLevel = "warn",
): Promise<Config> {
    const { chainId } = await hre.ethers.provider.getNetwork();
    const raw: Record<string, unknown> = {
        chain: {
            rpcUrl: target.rpcUrl,
            chainId: Number(chainId),
            coordinator: target.coordinator,
            confirmations: 0,
            pollIntervalMs: 100,
            ...overrides.chain,
        },
        key: { source: "env" },
        models: target.modelIds.map((modelId) => ({ modelId })),
        storage: { dataDir: target.dataDir, ...overrides.storage },
        inference: { concurrency: 2, ...overrides.inference },
        batching: { enabled: false, ...overrides.batching },
        transactions: { stuckAfterMs: 60_000, ...overrides.transactions },
        server: { port: 0, ...overrides.server },
        log: { level: logLevel, ...overrides.log },
        health: { ...overrides.health },
    };
    if (overrides.roles !== undefined) raw.roles = overrides.roles;
    if (overrides.challenger !== undefined) raw.challenger = overrides.challenger;
    // Validated without the environment's VERITY_* overrides: the config is what the caller asked for.
    return parseConfig(raw, {});
}
