/**
 * solidity-coverage settings for `npm run coverage`. That script runs only the contract-facing specs (test/contracts,
 * test/fuzz and test/deploy: the --testfiles glob in package.json) against instrumented contracts: the other suites
 * (oracle node, CLI, e2e, README walkthrough, demo, benchmarks, tasks) test TypeScript, and the chains their child
 * processes start would not be measured anyway.
 *
 * Instrumentation changes what the contracts cost: every statement, branch and function calls an empty function, and
 * solidity-coverage compiles without the optimizer. So this file
 * - skips the test-only contracts (contracts/test: harnesses, mocks, test consumers) from instrumentation and report;
 * - lets the compiler order literals, so that ReexecutionResolver compiles without the optimizer;
 * - leaves out the tests that instrumentation breaks or makes pathological (EXCLUDED_TESTS, each with its reason);
 * - keeps the memory of the in-process chain bounded (lightenStepTracing);
 * - runs the fast-check properties from a fixed seed (FUZZ_SEED).
 * test/coverage/solcover.spec.ts checks these settings against the tree, so that they cannot rot silently.
 */
const { setFlagsFromString } = require("node:v8");
const { runInNewContext } = require("node:vm");

const CODE_SIZE =
    "checks the contract's code size in its artifact (it runs no contract code), which instrumentation inflates " +
    "(a call per statement and branch, no optimizer) past the 20,480 bytes it allows";
const GAS =
    "compares gas used with IntegerExecutor.gasBound or a measured cost, which instrumentation inflates (a call per " +
    "statement and branch, no optimizer): the bound it checks no longer holds";
const FEE_CAP =
    "the challenger's reveal goes to the mempool with a 10 gwei fee cap and no gas limit, so the limit is the " +
    "network's, under coverage solidity-coverage's 0xffffffffff: its upfront cost (10,995 ETH) exceeds the " +
    "challenger's 10,000 ETH and Hardhat refuses it";
const GIANT =
    "eth_calls of millions of EVM steps (arithmetic bounds at large k): Hardhat hands every step of a call to " +
    "JavaScript at once for the coverage collector, about 2 KB a step, so these calls need 8 to 16 GB or more " +
    "(measured: 3.6M to 6.1M steps, 8 to 12 GB; k = 20,000 passed 16 GB); the calls kept stay under 1.7M steps";
const DIFFERENTIAL =
    "differential volume testing (2,000 inputs per op): instrumented, MatMulInteger and the integer MLPs outrun " +
    "the suite's 300 s timeout, and the other 12 properties pass in 80 to 190 s each (35 minutes for the suite, " +
    "near enough to the timeout that a busy machine fails them) without covering a line or branch that the kept " +
    "tests do not (measured): IntegerExecutor.spec.ts runs every op on its edge cases under coverage";
const IRIS =
    "2,000 inputs run in eth_calls of 250 (29M gas each): instrumented, Hardhat hands every step of such a call to " +
    "JavaScript at once, about 2 KB a step, and the run passed 12 GB within 90 s (measured)";

/**
 * Tests left out under coverage (mocha --grep --invert): [fragment, why]. Each fragment is part of the title of
 * exactly one test or one suite (then all its tests are left out), in one of the spec files the script runs.
 * The normal suite (`npm test`) runs all of them.
 */
const EXCLUDED_TESTS = [
    // test/contracts/codeSize.spec.ts (its other four contracts still fit, instrumented)
    ["InferenceCoordinator keeps at least 4 KB of headroom", CODE_SIZE],
    ["DisputeLogic keeps at least 4 KB of headroom", CODE_SIZE],
    ["IntegerExecutor keeps at least 4 KB of headroom", CODE_SIZE],
    // test/contracts/IntegerExecutor.gasBound.spec.ts (its malformed-program, strided-broadcast and early-stop
    // tests still run)
    ["bounds every ONNX specification example in the subset", GAS],
    ["bounds random integer MLPs on inputs at the edges of int8", GAS],
    ["bounds hand-built programs on each op's most expensive path", `${GAS}; and ${GIANT}`],
    ["stays within 3x of the measured cost of a shipped-size MLP", GAS],
    // test/contracts/InferenceCoordinator.attacks.spec.ts
    ["the operator it catches sending the honest reveal first", FEE_CAP],
    ["a bot watching the mempool sending the honest reveal first", FEE_CAP],
    // test/contracts/IntegerExecutor.spec.ts: MatMulInteger at sizes that only check arithmetic bounds
    ["one whole block (k = 8192) of uint8", GIANT],
    ["k = 3000, int8 with a_zero_point -128", GIANT],
    ["k > 8192: the row is summed block by block", GIANT],
    ["MatMulInteger whose int32 sum overflows (k = 33,100", GIANT],
    ["an integer MLP (MatMulInteger, Add, Relu, Div, Clip, Cast, ArgMax) with batch 3", GIANT],
    // test/fuzz (whole suites)
    ["IntegerExecutor (differential: reference == executor == onnxruntime)", DIFFERENTIAL],
    ["Iris example model (differential: onnxruntime == reference == executor)", IRIS],
];

/** A regular expression matching any title that contains one of `fragments`, literally. */
function anyOf(fragments) {
    return new RegExp(fragments.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"));
}

/**
 * Under coverage the fast-check properties run from a fixed seed, so that the numbers are reproducible and the run
 * does not spend half an hour shrinking a counterexample: finding new ones with fresh seeds is `npm test`'s job.
 * FUZZ_SEED is the invariants spec's own setting (it passes its seed explicitly); a FUZZ_SEED set by the caller stays.
 */
const FUZZ_SEED = 1;

function fixFuzzSeeds() {
    process.env.FUZZ_SEED ??= String(FUZZ_SEED);
    require("fast-check").configureGlobal({ seed: Number(process.env.FUZZ_SEED) });
}

/** A request that ran more EVM steps than this is followed by a full garbage collection. */
const GC_AFTER_STEPS = 100_000;

/**
 * The minimal VM through which Hardhat (2.29, EDR) reports execution traces, or undefined if this Hardhat has none.
 * solidity-coverage attaches its collector at the same place.
 */
function minimalVmOf(provider) {
    let p = provider;
    while (p !== undefined && p._wrapped !== undefined) p = p._wrapped;
    const vm = p?._node?._vm;
    return vm?.events !== undefined && vm.evm?.events !== undefined ? vm : undefined;
}

/**
 * Makes the collector's memory proportional to one request instead of a growing heap. For every request Hardhat takes
 * the whole trace into JavaScript (an object per EVM step) and emits each step through an AsyncEventEmitter, whose
 * listeners run on later microtasks: every step, and a pending promise for each, stays alive until the request's last
 * step is emitted. Here synchronous `step` listeners (the collector's) run at once, in order: half the peak memory
 * and about a third less time. And the traces are held by native objects that V8 does not weigh, so after a large
 * request a full collection frees them (as test/fuzz/executor.differential.spec.ts does per model).
 * Returns a function that undoes it (for test/coverage/solcover.spec.ts).
 */
function lightenStepTracing(vm) {
    const steps = vm.evm.events;
    const emitLater = steps.emit;
    let count = 0;
    steps.emit = function (event, ...args) {
        if (event !== "step") return emitLater.call(this, event, ...args);
        count++;
        const listeners = this.listeners("step");
        // A listener that takes a callback is asynchronous: leave it to the AsyncEventEmitter.
        if (listeners.some((listener) => listener.length >= 2)) return emitLater.call(this, event, ...args);
        for (const listener of listeners) listener.call(this, args[0]);
        return listeners.length > 0;
    };
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc");
    const afterTx = () => {
        if (count > GC_AFTER_STEPS) gc();
        count = 0;
    };
    vm.events.on("afterTx", afterTx);
    return () => {
        vm.events.off("afterTx", afterTx);
        if (steps.emit !== emitLater) delete steps.emit;
    };
}

module.exports = {
    skipFiles: ["test"],
    // Stack too deep in ReexecutionResolver.disputeGasBound without the optimizer. Ordering literals (a code
    // generation step) is the one optimizer setting that avoids it; the settings that remove or merge code
    // (peephole, cse, inliner, deduplicate, yul) stay off, so the instrumentation's calls survive.
    configureYulOptimizer: true,
    solcOptimizerDetails: { orderLiterals: true },
    istanbulReporter: ["html", "lcov", "text", "json", "json-summary"],
    mocha: { grep: anyOf(EXCLUDED_TESTS.map(([fragment]) => fragment)), invert: true },
    // After the chain starts and before mocha loads the specs (they read FUZZ_SEED when loaded). Requiring this file
    // has no side effect: test/coverage/solcover.spec.ts requires it in the normal suite.
    onServerReady: () => {
        const vm = minimalVmOf(require("hardhat").network.provider);
        // If Hardhat's internals move, coverage still runs, with the memory it had before (about twice as much).
        if (vm === undefined) console.warn(".solcover.js: Hardhat's minimal VM not found; step tracing stays heavy");
        else lightenStepTracing(vm);
        fixFuzzSeeds();
    },
    // Not solidity-coverage settings: for test/coverage/solcover.spec.ts.
    EXCLUDED_TESTS,
    minimalVmOf,
    lightenStepTracing,
};
