import { subtask, type HardhatUserConfig } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";
import "./tasks/verity";

/**
 * The exact compiler version. It must equal the version of the npm `solc` package pinned in
 * package.json: this machine (and CI) cannot download compilers, so Hardhat compiles with solcjs.
 */
const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }) => {
    if (args.solcVersion !== SOLC_VERSION) {
        throw new Error(
            `Solidity ${args.solcVersion} requested, but only solc ${SOLC_VERSION} is available offline ` +
                `(the npm "solc" package pinned in package.json). Use pragma ${SOLC_VERSION}.`,
        );
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const solc = require("solc") as { version(): string };
    const longVersion = solc.version();
    if (!longVersion.startsWith(`${SOLC_VERSION}+`)) {
        throw new Error(`npm package "solc" is ${longVersion}, want ${SOLC_VERSION}: run npm ci.`);
    }
    return {
        compilerPath: require.resolve("solc/soljson.js"),
        isSolcJs: true,
        version: SOLC_VERSION,
        longVersion: longVersion.replace(/\.Emscripten\.clang$/, ""),
    };
});

/**
 * `--network env`: the chain at VERITY_RPC_URL, signing with VERITY_PRIVATE_KEY, the same variables the `verity`
 * command reads, so `npx hardhat verity:deploy --network env` deploys wherever `verity deploy` would. Defined only
 * when VERITY_RPC_URL is set (Hardhat checks network URLs when it loads this file).
 */
function envNetwork(): NonNullable<HardhatUserConfig["networks"]> {
    const url = process.env.VERITY_RPC_URL ?? "";
    // A malformed value must not break every Hardhat command (tests included): then there is no `env` network,
    // and `verity` itself reports the bad variable.
    if (!/^https?:\/\/\S+$/.test(url)) return {};
    const key = process.env.VERITY_PRIVATE_KEY ?? "";
    const accounts = /^(0x)?[0-9a-fA-F]{64}$/.test(key) ? [key.startsWith("0x") ? key : `0x${key}`] : [];
    return { env: { url, accounts } };
}

/** Where `npx hardhat node` serves its chain unless told `--port`, and so `--network localhost` by default. */
const LOCALHOST_URL = "http://127.0.0.1:8545";

/**
 * `--network localhost`: Hardhat's own (the chain `npx hardhat node` serves, signing with its unlocked accounts), at
 * VERITY_LOCALHOST_URL when set, so a node started with `--port 8546` (or on another host) is reachable:
 * `VERITY_LOCALHOST_URL=http://127.0.0.1:8546 npx hardhat verity:deploy --network localhost`.
 */
function localhostNetwork(): NonNullable<HardhatUserConfig["networks"]> {
    const url = process.env.VERITY_LOCALHOST_URL;
    if (url === undefined || url === "") return { localhost: { url: LOCALHOST_URL } };
    // As for `env`: a malformed value must not break every Hardhat command; say so, and keep the default.
    if (!/^https?:\/\/\S+$/.test(url)) {
        process.stderr.write(
            `warning: VERITY_LOCALHOST_URL is not an http(s) URL: --network localhost stays ${LOCALHOST_URL}\n`,
        );
        return { localhost: { url: LOCALHOST_URL } };
    }
    return { localhost: { url } };
}

const config: HardhatUserConfig = {
    solidity: {
        compilers: [
            {
                version: SOLC_VERSION,
                settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" },
            },
        ],
        overrides: {
            // The coordinator must keep 4 KB of headroom under the 24 KiB code-size limit (EIP-170) for the next
            // modes: 200 runs does (19.7 KB), at a cost of about 340 gas per lifecycle against 1,000 runs (21.5 KB);
            // measured with bench/gas.ts.
            "contracts/InferenceCoordinator.sol": {
                version: SOLC_VERSION,
                settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
            },
        },
    },
    networks: {
        hardhat: {
            hardfork: "cancun",
        },
        ...localhostNetwork(),
        ...envNetwork(),
    },
    typechain: {
        outDir: "typechain-types",
        target: "ethers-v6",
    },
    gasReporter: {
        enabled: process.env.REPORT_GAS === "true",
        offline: true,
    },
    mocha: {
        timeout: 120_000,
    },
};

export default config;
