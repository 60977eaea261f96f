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

const config: HardhatUserConfig = {
    solidity: {
        compilers: [
            {
                version: SOLC_VERSION,
                settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" },
            },
        ],
        overrides: {
            // The coordinator is close to the 24 KiB code-size limit (EIP-170) at 10,000 runs; fewer runs keep
            // headroom at a cost of a few hundred gas per call (measured in bench/results/gas.json).
            "contracts/InferenceCoordinator.sol": {
                version: SOLC_VERSION,
                settings: { optimizer: { enabled: true, runs: 1_000 }, evmVersion: "cancun" },
            },
        },
    },
    networks: {
        hardhat: {
            hardfork: "cancun",
        },
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
