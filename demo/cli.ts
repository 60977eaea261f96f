/**
 * `npm run demo [-- --requests N] [--lie-rate R] [--interval-ms MS] [--no-challenger]`: reads the flags into the environment and
 * runs demo/demo.ts with `hardhat run` (which compiles the contracts first if needed). Exits with its exit code.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";

const USAGE = `Usage: npm run demo -- [--requests N] [--lie-rate R] [--interval-ms MS] [--no-challenger]

  --requests N       requests to send (default 24; env VERITY_DEMO_REQUESTS)
  --lie-rate R       fraction of its requests the liar lies on, in (0, 1] (default 0.5; env VERITY_DEMO_LIE_RATE)
  --interval-ms MS   pause between two requests (default 1000; env VERITY_DEMO_INTERVAL_MS)
  --no-challenger    run without the challenger node: the lies go through and the demo fails (exit 1)

Exit code 0: every request settled with the correct result and the liar was slashed; 1 otherwise.`;

const FLAGS: Record<string, string> = {
    "--requests": "VERITY_DEMO_REQUESTS",
    "--lie-rate": "VERITY_DEMO_LIE_RATE",
    "--interval-ms": "VERITY_DEMO_INTERVAL_MS",
};

function parse(args: string[]): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg === "--help" || arg === "-h") {
            console.log(USAGE);
            process.exit(0);
        }
        if (arg === "--no-challenger") {
            env.VERITY_DEMO_CHALLENGER = "off";
            continue;
        }
        const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
        const name = FLAGS[flag];
        const value = inline ?? args[++i];
        if (name === undefined || value === undefined) {
            console.error(`Unknown or incomplete option "${arg}".\n\n${USAGE}`);
            process.exit(2);
        }
        env[name] = value;
    }
    return env;
}

const root = resolve(__dirname, "..");
const child = spawn(
    process.execPath,
    [require.resolve("hardhat/internal/cli/cli", { paths: [root] }), "run", "demo/demo.ts"],
    { cwd: root, stdio: "inherit", env: { ...process.env, ...parse(process.argv.slice(2)) } },
);
child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
