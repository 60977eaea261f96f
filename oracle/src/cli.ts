/**
 * `verity` command line. `verity node --config verity.config.json` runs an operator node until SIGINT/SIGTERM;
 * `verity config check --config ...` validates a config file and prints the result with defaults applied;
 * `verity model build|check|compile` are the model publisher's toolkit (models/toolkit/commands.ts);
 * `verity deploy`, `verity model hash|register`, `verity operator ...`, `verity request`, `verity inspect`,
 * `verity dispute`, `verity finalize`, `verity cancel` and `verity accept-ownership` talk to a deployment
 * (oracle/src/commands/; reference and exit codes in docs/cli.md).
 */
import { Command } from "commander";

/** The toolkit, loaded only by `verity model ...`: it pulls in onnxruntime, which the node's main thread avoids. */
const toolkit = () => import("../../models/toolkit/commands");
import { describeError } from "./internal/errors";
import type { ChainOptions } from "./commands/context";
import { CliError } from "./commands/exit";
import { createProgress, type Progress } from "./internal/progress";

/** The node and its config, loaded by the commands that use them (the node pulls in nearly everything). */
const node = () => import("./node");
const config = () => import("./config/load");

/** The chain-facing commands, loaded on use (they pull in the TypeChain factories). */
const commands = {
    deploy: () => import("./commands/deploy"),
    model: () => import("./commands/model"),
    operator: () => import("./commands/operator"),
    request: () => import("./commands/request"),
    history: () => import("./commands/history"),
    settle: () => import("./commands/settle"),
    configInit: () => import("./commands/configInit"),
    dispute: () => import("./commands/dispute"),
};

/**
 * Exit codes: 0 success / clean stop, 1 bad input, config or start-up failure, 2 forced stop (node); the
 * chain-facing commands add 3 chain unreachable, 4 refused by the chain, 5 timed out, 6 deployment does not verify
 * (EXIT in commands/exit.ts).
 */
export const EXIT_FAILURE = 1;
export const EXIT_FORCED = 2;

/** commands/context.ts's `progress`, without loading that module (ethers, the contract bindings). */
function progress(json: boolean | undefined): Progress {
    return createProgress({ enabled: json !== true });
}

/** Time allowed for closing things after in-flight work is done. */
const SHUTDOWN_MARGIN_MS = 5_000;

function fail(error: unknown): never {
    process.stderr.write(`error: ${describeError(error).message}\n`);
    process.exit(error instanceof CliError ? error.exitCode : EXIT_FAILURE);
}

/** Adds the options every chain-facing command shares. */
function chainCommand(cmd: Command): Command {
    return cmd
        .option("--rpc-url <url>", "JSON-RPC endpoint (default: $VERITY_RPC_URL)")
        .option("--deployment <file>", "deployment manifest (default: deployments/<chainId>.json)")
        .option("--json", "print the result as JSON");
}

/** Runs a command's action; every failure is one line on stderr and its exit code. */
function run<A extends unknown[]>(action: (...args: A) => Promise<unknown>): (...args: A) => Promise<void> {
    return async (...args: A) => {
        try {
            await action(...args);
        } catch (error) {
            fail(error);
        }
    };
}

/**
 * Runs a node from a config file until SIGINT/SIGTERM. `roles` overrides the config's roles (the `challenger`
 * command runs the challenger role alone).
 */
async function runNode(configPath: string, roles?: { operator: boolean; challenger: boolean; finalizer: boolean }) {
    let loaded;
    try {
        loaded = (await config()).loadConfig(configPath);
        if (roles !== undefined) {
            if (roles.challenger && loaded.challenger.maxBondWei === undefined) {
                throw new Error(
                    "Invalid config: challenger.maxBondWei: required when the challenger role is on (the most the " +
                        "node may have in open challenge bonds, in stake-token base units)",
                );
            }
            loaded = { ...loaded, roles };
        }
    } catch (error) {
        fail(error);
    }
    const { startNode, SHUTDOWN_GRACE_MS } = await node();
    let running;
    try {
        running = await startNode(loaded);
    } catch (error) {
        fail(error);
    }
    let signals = 0;
    const onSignal = (name: string): void => {
        signals++;
        if (signals > 1) {
            running.logger.warn({ signal: name }, "second signal: exiting now");
            process.exit(EXIT_FORCED);
        }
        running.logger.info({ signal: name }, "signal received; stopping");
        // Shutdown takes at most one RPC timeout (the call in flight is aborted) plus the inference grace;
        // the margin covers closing the store and the HTTP server.
        const force = setTimeout(
            () => process.exit(EXIT_FORCED),
            SHUTDOWN_GRACE_MS + running.rpcTimeoutMs + SHUTDOWN_MARGIN_MS,
        );
        force.unref();
        running.stop().then(
            () => process.exit(0),
            () => process.exit(EXIT_FAILURE),
        );
    };
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    await running.stopped;
}

export function buildProgram(): Command {
    const program = new Command("verity").description("Verity: verifiable AI inference for EVM chains");

    program
        .command("node")
        .description("run an operator node (serve requests, submit and finalize results; roles from the config)")
        .requiredOption("-c, --config <path>", "config file (JSON); VERITY_* environment variables override it")
        .action((opts: { config: string }) => runNode(opts.config));

    program
        .command("challenger")
        .description(
            "run the challenger alone: re-execute other operators' results of the configured REEXECUTION models, " +
                "dispute wrong ones, collect the rewards (docs/node.md)",
        )
        .requiredOption("-c, --config <path>", "config file (JSON; needs challenger.maxBondWei)")
        .action((opts: { config: string }) =>
            runNode(opts.config, { operator: false, challenger: true, finalizer: false }),
        );

    const configCommand = program.command("config").description("configuration tools");
    configCommand
        .command("check")
        .description("validate a config file and print it with defaults applied")
        .requiredOption("-c, --config <path>", "config file (JSON)")
        .action(async (opts: { config: string }) => {
            try {
                process.stdout.write(`${JSON.stringify((await config()).loadConfig(opts.config), null, 2)}\n`);
            } catch (error) {
                fail(error);
            }
        });

    chainCommand(
        configCommand
            .command("init")
            .description("write a node config for this deployment: chain id, coordinator, start block, models")
            .option("-o, --out <path>", "where to write it", "verity.config.json")
            .option("--model <id...>", "models to serve (or watch); repeatable")
            .option("--challenger", "run the challenger role too (re-execute and dispute others' results)")
            .option("--max-bond <amount>", "challenger: most bond at risk at once, in tokens or wei", "10")
            .option("--force", "overwrite an existing file"),
    ).action(
        run(async (opts: import("./commands/configInit").ConfigInitOptions) =>
            (await commands.configInit()).configInit(opts),
        ),
    );

    const modelCommand = program.command("model").description("model publisher's toolkit (verifiable integer models)");
    const print = (json: boolean | undefined, report: object, text: string): void => {
        const replacer = (_key: string, v: unknown) => (typeof v === "bigint" ? String(v) : v);
        process.stdout.write(json ? `${JSON.stringify(report, replacer, 2)}\n` : text);
    };
    modelCommand
        .command("build")
        .description("quantize a float MLP (JSON) into an integer ONNX model of the verifiable subset")
        .requiredOption("--mlp <path>", "float MLP JSON (models/toolkit/quantize.ts documents the format)")
        .requiredOption("-o, --out <path>", "where to write the .onnx file (the manifest goes next to it)")
        .option("--data <path>", "labelled samples [{ x: number[], label: int }] to calibrate and measure accuracy")
        .option("--json", "print the report as JSON")
        .action(async (opts: { mlp: string; out: string; data?: string; json?: boolean }) => {
            try {
                const { buildModelFile, formatBuildReport } = await toolkit();
                const report = buildModelFile(opts.mlp, opts.out, opts.data);
                print(opts.json, report, formatBuildReport(report));
            } catch (error) {
                fail(error);
            }
        });
    modelCommand
        .command("check")
        .description("check an ONNX file against the verifiable subset and the overflow bound; op counts and gas")
        .argument("<onnx>", "the model file (manifest embedded)")
        .option("--json", "print the report as JSON")
        .action(async (file: string, opts: { json?: boolean }) => {
            try {
                const { checkModelFile, formatCheckReport } = await toolkit();
                progress(opts.json).step(`checking ${file}`);
                const report = checkModelFile(file);
                print(opts.json, report, formatCheckReport(report));
            } catch (error) {
                fail(error);
            }
        });
    modelCommand
        .command("compile")
        .description("compile an ONNX file into its on-chain program and print the hashes to register")
        .argument("<onnx>", "the model file (manifest embedded)")
        .option("-o, --out <path>", "where to write the program bytes (default: <onnx without .onnx>.program)")
        .option("--json", "print the report as JSON")
        .action(async (file: string, opts: { out?: string; json?: boolean }) => {
            try {
                const { compileModelFile, formatCompileReport } = await toolkit();
                progress(opts.json).step(`compiling ${file}`);
                const { compiled: _compiled, ...report } = compileModelFile(
                    file,
                    opts.out ?? `${file.replace(/\.onnx$/, "")}.program`,
                );
                print(opts.json, report, formatCompileReport(report));
            } catch (error) {
                fail(error);
            }
        });
    modelCommand
        .command("hash")
        .description("the hashes a registration commits to: onnxHash, manifestHash, programHash")
        .argument("<onnx>", "the model file (manifest embedded)")
        .option("--json", "print the report as JSON")
        .action(run(async (file: string, opts: { json?: boolean }) => (await commands.model()).modelHash(file, opts)));
    chainCommand(
        modelCommand
            .command("register")
            .description("store the model's program (REEXECUTION) and register the model; prints its id")
            .argument("<onnx>", "the model file (manifest embedded)")
            .requiredOption("--uri <uri>", "where operators fetch the model (path, file://, http(s)://)")
            .requiredOption("--mode <mode>", "verification mode: reexecution or quorum")
            .requiredOption("--fee <amount>", "fee per request, in tokens (e.g. 0.01) or wei (e.g. 1000wei)")
            .requiredOption("--collateral <amount>", "collateral locked per request, in tokens or wei")
            .requiredOption("--window <seconds>", "challenge window in seconds")
            .option("--salt <salt>", "0x bytes32 or any text (hashed); default: the onnxHash"),
    ).action(
        run(async (file: string, opts: import("./commands/model").RegisterOptions) =>
            (await commands.model()).modelRegister(file, opts),
        ),
    );

    chainCommand(
        program
            .command("deploy")
            .description("deploy (or resume deploying) the protocol, verify it, and write deployments/<chainId>.json")
            .option("--network-name <name>", "name recorded in the manifest")
            .option("--stake-token <address>", "ERC-20 stake token (required unless the chain id is 31337)")
            .option("--params <file>", "JSON of deployment parameters (names as in deploy/modules/Verity.ts)")
            .option(
                "--owner <address>",
                "hand the deployment over: the coordinator to this owner (it accepts), the staking admin renounced",
            ),
    ).action(run(async (opts: import("./commands/deploy").DeployOptions) => (await commands.deploy()).deploy(opts)));

    chainCommand(
        program
            .command("accept-ownership")
            .description("take the coordinator over as the owner a hand-over named (Ownable2Step acceptOwnership)"),
    ).action(run(async (opts: ChainOptions) => (await commands.deploy()).acceptOwnership(opts)));

    const operatorCommand = program
        .command("operator")
        .description("an operator's stake and models (key: $VERITY_PRIVATE_KEY)");
    chainCommand(
        operatorCommand.command("stake").description("approve and stake tokens").argument("<amount>", "tokens or wei"),
    ).action(
        run(async (amount: string, opts: ChainOptions) => (await commands.operator()).operatorStake(amount, opts)),
    );
    chainCommand(
        operatorCommand
            .command("unstake")
            .description("start unbonding stake (withdraw after the unbonding delay)")
            .argument("<amount>", "tokens or wei"),
    ).action(
        run(async (amount: string, opts: ChainOptions) => (await commands.operator()).operatorUnstake(amount, opts)),
    );
    chainCommand(
        operatorCommand.command("withdraw").description("withdraw unbonded stake to the key's account"),
    ).action(run(async (opts: ChainOptions) => (await commands.operator()).operatorWithdraw(opts)));
    chainCommand(
        operatorCommand
            .command("register-model")
            .description("serve a model (needs stake of at least its collateral)")
            .argument("<modelId>", "the model id (0x + 64 hex)"),
    ).action(
        run(async (modelId: string, opts: ChainOptions) =>
            (await commands.operator()).operatorRegisterModel(modelId, opts),
        ),
    );
    chainCommand(
        operatorCommand
            .command("evict")
            .description("remove an operator whose stake fell below a model's collateral from its set (anyone may)")
            .argument("<modelId>", "the model id (0x + 64 hex)")
            .argument("<operator>", "the operator's address"),
    ).action(
        run(async (modelId: string, operator: string, opts: ChainOptions) =>
            (await commands.operator()).operatorEvict(modelId, operator, opts),
        ),
    );
    chainCommand(
        operatorCommand
            .command("status")
            .description("stake, unbonding, balances and models of an operator")
            .argument("[address]", "operator address (default: the key's)"),
    ).action(
        run(async (address: string | undefined, opts: ChainOptions) =>
            (await commands.operator()).operatorStatus(address, opts),
        ),
    );

    chainCommand(
        program
            .command("request")
            .description("request an inference from the key's account (deposits the fee); --wait prints the result")
            .requiredOption("--model <id>", "model id")
            .option("--input <file>", "input: a tensors .json file, or canonical tensor-list bytes")
            .option("--tensors <json>", 'input inline: [{"dtype":"int8","shape":[1,4],"data":[1,2,3,4]}]')
            .option("--wait", "wait until the request settles and print the result")
            .option("--finalize", "with --wait: finalize the result yourself once its challenge window closes")
            .option("--timeout <seconds>", "how long --wait waits", "600")
            .option("--deadline <seconds>", "seconds from now until the request may be cancelled", "3600")
            .option("--callback-gas <gas>", "callback gas limit (an account without code gets no callback)", "0"),
    ).action(
        run(async (opts: import("./commands/request").RequestOptions) => (await commands.request()).request(opts)),
    );
    chainCommand(
        program
            .command("inspect")
            .description("a request's full history: requested, served, output, disputes, callback")
            .argument("<requestId>", "the request id"),
    ).action(run(async (id: string, opts: ChainOptions) => (await commands.history()).inspect(id, opts)));
    chainCommand(
        program
            .command("finalize")
            .description("settle a submitted result after its challenge window (anyone may; pays the operator)")
            .argument("<requestId>", "the request id"),
    ).action(run(async (id: string, opts: ChainOptions) => (await commands.settle()).finalize(id, opts)));
    chainCommand(
        program
            .command("cancel")
            .description("take back the fee of your request that nobody served before its deadline")
            .argument("<requestId>", "the request id"),
    ).action(run(async (id: string, opts: ChainOptions) => (await commands.settle()).cancel(id, opts)));
    chainCommand(
        program
            .command("dispute")
            .description(
                "challenge a submitted result with a bond, by commit then reveal (REEXECUTION: only when the chain's re-execution disagrees)",
            )
            .argument("<requestId>", "the request id")
            .option("--force", "dispute even when the chain's re-execution says the result is correct")
            .option("--salt <hex>", "reveal the commitment an interrupted run made with this salt (it printed it)"),
    ).action(
        run(async (id: string, opts: import("./commands/dispute").DisputeOptions) =>
            (await commands.dispute()).dispute(id, opts),
        ),
    );
    return program;
}

export async function main(argv: string[]): Promise<void> {
    await buildProgram().parseAsync(argv);
}
