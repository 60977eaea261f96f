/**
 * `verity` command line. `verity node --config verity.config.json` runs an operator node until SIGINT/SIGTERM;
 * `verity config check --config ...` validates a config file and prints the result with defaults applied;
 * `verity model build|check|compile` are the model publisher's toolkit (models/toolkit/commands.ts).
 */
import { Command } from "commander";

/** The toolkit, loaded only by `verity model ...`: it pulls in onnxruntime, which the node's main thread avoids. */
const toolkit = () => import("../../models/toolkit/commands");
import { loadConfig } from "./config/load";
import { describeError } from "./internal/errors";
import { startNode, SHUTDOWN_GRACE_MS } from "./node";

/** Exit codes: 0 clean stop, 1 bad config or start-up failure, 2 forced stop. */
export const EXIT_FAILURE = 1;
export const EXIT_FORCED = 2;
/** Time allowed for closing things after in-flight work is done. */
const SHUTDOWN_MARGIN_MS = 5_000;

function fail(error: unknown): never {
    process.stderr.write(`error: ${describeError(error).message}\n`);
    process.exit(EXIT_FAILURE);
}

export function buildProgram(): Command {
    const program = new Command("verity").description("Verity: verifiable AI inference for EVM chains");

    program
        .command("node")
        .description("run an operator node (serve requests, submit and finalize results)")
        .requiredOption("-c, --config <path>", "config file (JSON); VERITY_* environment variables override it")
        .action(async (opts: { config: string }) => {
            let config;
            try {
                config = loadConfig(opts.config);
            } catch (error) {
                fail(error);
            }
            let node;
            try {
                node = await startNode(config);
            } catch (error) {
                fail(error);
            }
            let signals = 0;
            const onSignal = (name: string): void => {
                signals++;
                if (signals > 1) {
                    node.logger.warn({ signal: name }, "second signal: exiting now");
                    process.exit(EXIT_FORCED);
                }
                node.logger.info({ signal: name }, "signal received; stopping");
                // Shutdown takes at most one RPC timeout (the call in flight is aborted) plus the inference grace;
                // the margin covers closing the store and the HTTP server.
                const force = setTimeout(
                    () => process.exit(EXIT_FORCED),
                    SHUTDOWN_GRACE_MS + node.rpcTimeoutMs + SHUTDOWN_MARGIN_MS,
                );
                force.unref();
                node.stop().then(
                    () => process.exit(0),
                    () => process.exit(EXIT_FAILURE),
                );
            };
            process.on("SIGINT", () => onSignal("SIGINT"));
            process.on("SIGTERM", () => onSignal("SIGTERM"));
            await node.stopped;
        });

    const configCommand = program.command("config").description("configuration tools");
    configCommand
        .command("check")
        .description("validate a config file and print it with defaults applied")
        .requiredOption("-c, --config <path>", "config file (JSON)")
        .action((opts: { config: string }) => {
            try {
                process.stdout.write(`${JSON.stringify(loadConfig(opts.config), null, 2)}\n`);
            } catch (error) {
                fail(error);
            }
        });

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
                const { compiled: _compiled, ...report } = compileModelFile(
                    file,
                    opts.out ?? `${file.replace(/\.onnx$/, "")}.program`,
                );
                print(opts.json, report, formatCompileReport(report));
            } catch (error) {
                fail(error);
            }
        });
    return program;
}

export async function main(argv: string[]): Promise<void> {
    await buildProgram().parseAsync(argv);
}
