/**
 * `verity` command line. `verity node --config verity.config.json` runs an operator node until SIGINT/SIGTERM;
 * `verity config check --config ...` validates a config file and prints the result with defaults applied.
 */
import { Command } from "commander";
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
    return program;
}

export async function main(argv: string[]): Promise<void> {
    await buildProgram().parseAsync(argv);
}
