/**
 * `verity config init`: writes a node config for the deployment the RPC URL serves, so that an operator (or a
 * challenger) never copies addresses by hand: the chain id and RPC URL it connected with, the coordinator from
 * the deployment manifest, the manifest's first block as the start block, and the models, each checked to be
 * registered and active (default: every active model of the registry). The key is read from VERITY_PRIVATE_KEY
 * at run time and never written. The result is validated as `verity node` would validate it before it is
 * written, and an existing file is never overwritten without --force.
 */
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { isHexString, type JsonRpcApiProvider } from "ethers";
import { ModelRegistry__factory } from "../../../typechain-types";
import { parseConfig } from "../config/load";
import { getLogsInChunks } from "../chain/logs";
import { chainAutomines } from "../chain/rpc";
import { CliError, chainCall, connect, EXIT, loadDeployment, output, parseAmount, type ChainOptions } from "./context";

export interface ConfigInitOptions extends ChainOptions {
    out: string;
    model?: string[];
    challenger?: boolean;
    maxBond: string;
    force?: boolean;
}

export interface ConfigInitReport {
    path: string;
    chainId: number;
    coordinator: string;
    models: string[];
    roles: { operator: boolean; challenger: boolean; finalizer: boolean };
    /** Blocks the node waits on top of an event: 0 on a chain that mines only for transactions, else the default. */
    confirmations: number;
}

/** Writes the config and prints where, with the next command to run. */
export async function configInit(opts: ConfigInitOptions): Promise<ConfigInitReport> {
    const path = resolve(opts.out);
    const exists = () => new CliError(`${path} exists: pass --force to overwrite it, or choose another --out`);
    // Checked before connecting, and again by the exclusive create below.
    if (existsSync(path) && opts.force !== true) throw exists();
    const maxBondWei = opts.challenger === true ? parseAmount(opts.maxBond, "--max-bond") : undefined;
    const { provider, chainId } = await connect(opts);
    const rpcUrl = opts.rpcUrl ?? process.env.VERITY_RPC_URL ?? "";
    const deployment = loadDeployment(opts, chainId);
    const registry = ModelRegistry__factory.connect(deployment.address("registry"), provider);

    let models = opts.model ?? [];
    if (models.length === 0) {
        const topic = registry.interface.getEvent("ModelRegistered").topicHash;
        const logs = await chainCall(() =>
            getLogsInChunks(
                provider,
                { address: deployment.address("registry"), topics: [topic] },
                deployment.manifest.block,
            ),
        );
        // The model id is the first indexed argument.
        models = [...new Set(logs.map((log) => log.topics[1] as string))];
        if (models.length === 0) {
            throw new CliError(
                `no model is registered on ${deployment.address("registry")} yet: register one (\`verity model register\`) or pass --model <id>`,
            );
        }
    }
    const active: string[] = [];
    for (const modelId of models) {
        if (!isHexString(modelId, 32)) throw new CliError(`invalid model id "${modelId}": want 0x + 64 hex digits`);
        // An unknown id reverts (ModelRegistryUnknownModel); a retired model reads back inactive.
        const terms = await chainCall(() => registry.getModelTerms(modelId), "reading the model").catch(
            (error: unknown) => {
                if (error instanceof CliError && error.exitCode === EXIT.REFUSED) return undefined;
                throw error;
            },
        );
        if (terms?.active === true) active.push(modelId);
        else if (opts.model !== undefined && opts.model.length > 0) {
            throw new CliError(
                `model ${modelId} is not registered or not active on ${deployment.address("registry")}: check the id`,
                EXIT.REFUSED,
            );
        }
    }
    if (active.length === 0) throw new CliError("no active model to serve: register one or pass --model <id>");

    // A chain that mines only when a transaction arrives never buries an event under more blocks by itself: the node
    // would wait for unrelated transactions. Such a chain (Hardhat's, anvil's) does not reorganize either.
    // Providers without raw JSON-RPC (none the CLI makes) are taken for a chain that mines by itself.
    const send = (provider as Partial<Pick<JsonRpcApiProvider, "send">>).send?.bind(provider);
    const automine = send !== undefined && (await chainAutomines(send));
    const roles = { operator: opts.challenger !== true, challenger: opts.challenger === true, finalizer: true };
    const config = {
        chain: {
            rpcUrl,
            chainId,
            coordinator: deployment.address("coordinator"),
            startBlock: deployment.manifest.block,
            ...(automine ? { confirmations: 0 } : {}),
        },
        key: { source: "env", envVar: "VERITY_PRIVATE_KEY" },
        roles,
        ...(maxBondWei !== undefined ? { challenger: { maxBondWei: maxBondWei.toString() } } : {}),
        models: active.map((modelId) => ({ modelId })),
        // A challenger next to an operator node on one machine must not share its store or its /metrics port.
        storage: { dataDir: opts.challenger === true ? "./.verity-challenger" : "./.verity" },
        server: { port: opts.challenger === true ? 9465 : 9464 },
    };
    // Validated (without the environment's VERITY_* overrides: the file must stand on its own) before it is written.
    const confirmations = parseConfig(config, {}).chain.confirmations;
    try {
        // "wx": never replace a file that appeared since the check above, unless --force.
        writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { flag: opts.force === true ? "w" : "wx" });
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw code === "EEXIST" ? exists() : new CliError(`cannot write ${path}: ${code}`);
    }
    const report: ConfigInitReport = {
        path,
        chainId,
        coordinator: config.chain.coordinator,
        models: active,
        roles,
        confirmations,
    };
    const run = opts.challenger === true ? "verity challenger" : "verity node";
    output(
        opts.json,
        report,
        `wrote ${path} (chain ${chainId}, coordinator ${config.chain.coordinator}, ${active.length} model${active.length === 1 ? "" : "s"})\n` +
            (automine
                ? "the chain mines a block only when a transaction arrives (a development chain): chain.confirmations 0, so the node acts on each event at once\n"
                : `chain.confirmations ${confirmations}: the node acts on an event once ${confirmations} blocks are mined on top of it\n`) +
            `next: VERITY_PRIVATE_KEY=0x… npx ${run} --config ${opts.out}`,
    );
    return report;
}
