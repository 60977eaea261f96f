/**
 * Hardhat tasks for Verity's contract actions, for users who live inside Hardhat:
 * `npx hardhat verity:deploy | verity:accept-ownership | verity:model-register | verity:stake |
 * verity:operator-register-model | verity:operator-status | verity:config-init | verity:request | verity:inspect |
 * verity:dispute | verity:finalize | verity:cancel --network <name>`. Each is a thin wrapper over the `verity` CLI's
 * implementation (oracle/src/commands/*) with hre.ethers' provider and signer in place of --rpc-url and
 * VERITY_PRIVATE_KEY; `--from <address>` picks the signer (default: the network's first account). Each prints what
 * the CLI prints and returns the report (for `hre.run`). Reference: docs/cli.md.
 *
 * The config loads this file before compilation, when typechain-types may not exist yet: the commands (which
 * import the TypeChain factories) are imported lazily inside each action, and only types at the top.
 */
import { task, types } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { ChainOptions } from "../oracle/src/commands/context";

const PLUGIN = "verity";

interface Common {
    deployment?: string;
    json: boolean;
    from?: string;
}

/**
 * ChainOptions for the commands: the network's provider and the chosen signer instead of env and flags. A command
 * that only reads (`signs: false`) gets no signer, so a network without accounts serves it.
 */
async function chainOptions(
    hre: HardhatRuntimeEnvironment,
    args: Common,
    { signs = true }: { signs?: boolean } = {},
): Promise<ChainOptions> {
    const name = `hardhat network "${hre.network.name}"`;
    const common = { deployment: args.deployment, json: args.json };
    if (!signs && args.from === undefined) return { ...common, connection: { provider: hre.ethers.provider, name } };
    const signer = args.from !== undefined ? await hre.ethers.getSigner(args.from) : (await hre.ethers.getSigners())[0];
    if (signer === undefined) {
        throw new HardhatPluginError(
            PLUGIN,
            `network "${hre.network.name}" has no accounts: configure one or pass --from`,
        );
    }
    return { ...common, connection: { provider: hre.ethers.provider, signer, name } };
}

/**
 * The JSON-RPC URL of the network, for what other processes must reach (the node config `verity:config-init`
 * writes). The in-process `hardhat` network has none: nothing outside this process can connect to it.
 */
function networkUrl(hre: HardhatRuntimeEnvironment): string {
    const config = hre.network.config;
    if (!("url" in config)) {
        throw new HardhatPluginError(
            PLUGIN,
            `network "${hre.network.name}" is Hardhat's in-process chain, which a node cannot connect to: run ` +
                "`npx hardhat node` and pass --network localhost (or another network with a url)",
        );
    }
    return config.url;
}

/** Runs a command; its one-line CliError becomes a HardhatPluginError (Hardhat prints it without a stack). */
async function run<T>(action: () => Promise<T>): Promise<T> {
    const { CliError } = await import("../oracle/src/commands/context");
    try {
        return await action();
    } catch (error) {
        if (error instanceof CliError) throw new HardhatPluginError(PLUGIN, error.message, error);
        throw error;
    }
}

/** Declares the options every Verity task shares. */
function verityTask(name: string, description: string) {
    return task(name, description)
        .addOptionalParam("deployment", "deployment manifest (default: deployments/<chainId>.json)")
        .addOptionalParam("from", "address of the signer (default: the network's first account)")
        .addFlag("json", "print the result as JSON");
}

verityTask("verity:deploy", "deploy (or resume deploying) Verity, verify it, and write deployments/<chainId>.json")
    .addOptionalParam("networkName", "name recorded in the manifest")
    .addOptionalParam("stakeToken", "ERC-20 stake token (required unless the chain id is 31337)")
    .addOptionalParam("params", "JSON file of deployment parameters (names as in deploy/modules/Verity.ts)")
    .addOptionalParam("owner", "hand over: the coordinator to this owner (it accepts), the staking admin renounced")
    .setAction(
        async (args: Common & { networkName?: string; stakeToken?: string; params?: string; owner?: string }, hre) => {
            const { deploy } = await import("../oracle/src/commands/deploy");
            const opts = await chainOptions(hre, args);
            const { networkName, stakeToken, params, owner } = args;
            return run(() => deploy({ ...opts, networkName, stakeToken, params, owner }));
        },
    );

verityTask("verity:accept-ownership", "take the coordinator over as the owner a hand-over named").setAction(
    async (args: Common, hre) => {
        const { acceptOwnership } = await import("../oracle/src/commands/deploy");
        const opts = await chainOptions(hre, args);
        return run(() => acceptOwnership(opts));
    },
);

verityTask("verity:model-register", "store a model's program (REEXECUTION) and register it; returns its id")
    .addPositionalParam("onnx", "the model file (manifest embedded)")
    .addParam("uri", "where operators fetch the model (path, file://, http(s)://)")
    .addParam("mode", "verification mode: reexecution or quorum")
    .addParam("fee", "fee per request, in tokens (e.g. 0.01) or wei (e.g. 1000wei)")
    .addParam("collateral", "collateral locked per request, in tokens or wei")
    .addParam("window", "challenge window in seconds", undefined, types.string)
    .addOptionalParam("salt", "0x bytes32 or any text (hashed); default: the onnxHash")
    .setAction(
        async (
            args: Common & {
                onnx: string;
                uri: string;
                mode: string;
                fee: string;
                collateral: string;
                window: string;
                salt?: string;
            },
            hre,
        ) => {
            const { modelRegister } = await import("../oracle/src/commands/model");
            const opts = await chainOptions(hre, args);
            const { onnx, uri, mode, fee, collateral, window, salt } = args;
            return run(() => modelRegister(onnx, { ...opts, uri, mode, fee, collateral, window, salt }));
        },
    );

verityTask("verity:stake", "approve and stake tokens as an operator")
    .addPositionalParam("amount", "tokens (e.g. 10) or wei (e.g. 1000wei)")
    .setAction(async (args: Common & { amount: string }, hre) => {
        const { operatorStake } = await import("../oracle/src/commands/operator");
        const opts = await chainOptions(hre, args);
        return run(() => operatorStake(args.amount, opts));
    });

verityTask("verity:operator-register-model", "serve a model (needs stake of at least its collateral)")
    .addPositionalParam("modelId", "the model id (0x + 64 hex)")
    .setAction(async (args: Common & { modelId: string }, hre) => {
        const { operatorRegisterModel } = await import("../oracle/src/commands/operator");
        const opts = await chainOptions(hre, args);
        return run(() => operatorRegisterModel(args.modelId, opts));
    });

verityTask("verity:operator-status", "stake, unbonding, balances and models of an operator")
    .addOptionalPositionalParam("address", "operator address (default: --from, else the network's first account)")
    .setAction(async (args: Common & { address?: string }, hre) => {
        const { operatorStatus } = await import("../oracle/src/commands/operator");
        const opts = await chainOptions(hre, args, { signs: args.address === undefined });
        return run(() => operatorStatus(args.address, opts));
    });

verityTask(
    "verity:config-init",
    "write a node config for this deployment: the network's URL, chain id, coordinator, start block, models",
)
    .addOptionalParam("out", "where to write it", "verity.config.json")
    .addOptionalParam("model", "models to serve (or watch), comma-separated (default: every active model)")
    .addFlag("challenger", "write the challenger role instead of the operator's")
    .addOptionalParam("maxBond", "challenger: most bond at risk at once, in tokens or wei", "10")
    .addFlag("force", "overwrite an existing file")
    .setAction(
        async (
            args: Common & { out: string; model?: string; challenger: boolean; maxBond: string; force: boolean },
            hre,
        ) => {
            const { configInit } = await import("../oracle/src/commands/configInit");
            const rpcUrl = networkUrl(hre);
            const opts = await chainOptions(hre, args, { signs: false });
            const { out, challenger, maxBond, force } = args;
            const model = args.model
                ?.split(",")
                .map((id) => id.trim())
                .filter((id) => id !== "");
            return run(() => configInit({ ...opts, rpcUrl, out, model, challenger, maxBond, force }));
        },
    );

verityTask("verity:request", "request an inference (deposits the fee); --wait returns the settled result")
    .addParam("model", "model id")
    .addOptionalParam("input", "input: a tensors .json file, or canonical tensor-list bytes")
    .addOptionalParam("tensors", 'input inline: [{"dtype":"int8","shape":[1,4],"data":[1,2,3,4]}]')
    .addFlag("wait", "wait until the request settles and return the result")
    .addFlag("finalize", "with --wait: finalize the result yourself once its challenge window closes")
    .addOptionalParam("timeout", "how long --wait waits, in seconds", "600")
    .addOptionalParam("deadline", "seconds from now until the request may be cancelled", "3600")
    .addOptionalParam("callbackGas", "callback gas limit (an account without code gets no callback)", "0")
    .setAction(
        async (
            args: Common & {
                model: string;
                input?: string;
                tensors?: string;
                wait: boolean;
                finalize: boolean;
                timeout: string;
                deadline: string;
                callbackGas: string;
            },
            hre,
        ) => {
            const { request } = await import("../oracle/src/commands/request");
            const opts = await chainOptions(hre, args);
            const { model, input, tensors, wait, finalize, timeout, deadline, callbackGas } = args;
            return run(() =>
                request({ ...opts, model, input, tensors, wait, finalize, timeout, deadline, callbackGas }),
            );
        },
    );

verityTask("verity:inspect", "a request's full history: requested, served, output, disputes, callback")
    .addPositionalParam("requestId", "the request id")
    .setAction(async (args: Common & { requestId: string }, hre) => {
        const { inspect } = await import("../oracle/src/commands/history");
        const opts = await chainOptions(hre, args);
        return run(() => inspect(args.requestId, opts));
    });

verityTask(
    "verity:dispute",
    "challenge a submitted result, commit then reveal (REEXECUTION: only when the chain's re-execution disagrees)",
)
    .addPositionalParam("requestId", "the request id")
    .addFlag("force", "dispute even when the chain's re-execution says the result is correct")
    .addOptionalParam("salt", "reveal the commitment an interrupted run made with this salt", undefined, types.string)
    .setAction(async (args: Common & { requestId: string; force: boolean; salt?: string }, hre) => {
        const { dispute } = await import("../oracle/src/commands/dispute");
        const opts = await chainOptions(hre, args);
        return run(() =>
            dispute(args.requestId, {
                ...opts,
                force: args.force,
                ...(args.salt === undefined ? {} : { salt: args.salt }),
            }),
        );
    });

verityTask("verity:finalize", "settle a submitted result after its challenge window (anyone may)")
    .addPositionalParam("requestId", "the request id")
    .setAction(async (args: Common & { requestId: string }, hre) => {
        const { finalize } = await import("../oracle/src/commands/settle");
        const opts = await chainOptions(hre, args);
        return run(() => finalize(args.requestId, opts));
    });

verityTask("verity:cancel", "take back the fee of your request that nobody served before its deadline")
    .addPositionalParam("requestId", "the request id")
    .setAction(async (args: Common & { requestId: string }, hre) => {
        const { cancel } = await import("../oracle/src/commands/settle");
        const opts = await chainOptions(hre, args);
        return run(() => cancel(args.requestId, opts));
    });
