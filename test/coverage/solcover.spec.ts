/**
 * The coverage configuration (.solcover.js and the "coverage" script) cannot rot silently: it runs every spec of
 * test/contracts and none of the off-chain suites, it leaves uninstrumented only test-only contracts that exist, each
 * test it leaves out is still there and named by exactly one test or suite title (loaded with mocha, as the run sees
 * them), and the Hardhat internals its memory fix patches are where it looks for them and behave as it expects.
 * `npm run coverage` itself is not run here (about 8 minutes instrumented).
 */
import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import hre from "hardhat";

const ROOT = path.join(__dirname, "..", "..");

interface Emitter {
    emit(event: string, ...args: unknown[]): boolean;
    on(event: string, listener: (...args: never[]) => void): unknown;
    off(event: string, listener: (...args: never[]) => void): unknown;
    eventNames(): (string | symbol)[];
}
interface MinimalVm {
    events: Emitter;
    evm: { events: Emitter };
}
interface Solcover {
    skipFiles: string[];
    mocha: { grep: RegExp; invert: boolean };
    EXCLUDED_TESTS: [string, string][];
    minimalVmOf(provider: unknown): MinimalVm | undefined;
    lightenStepTracing(vm: MinimalVm): () => void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const solcover = require(path.join(ROOT, ".solcover.js")) as Solcover;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getTestFilePaths } = require("solidity-coverage/plugins/resources/nomiclabs.utils") as {
    getTestFilePaths(glob: string): string[];
};

const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
};

/** The spec files `npm run coverage` runs, absolute, as solidity-coverage expands its --testfiles. */
function coveredSpecs(): string[] {
    const glob = /^hardhat coverage --testfiles "([^"]+)"$/.exec(PACKAGE.scripts["coverage"] ?? "")?.[1];
    if (glob === undefined) throw new Error(`unexpected coverage script: ${PACKAGE.scripts["coverage"]}`);
    return getTestFilePaths(path.join(ROOT, glob))
        .map((f) => path.resolve(f))
        .sort();
}

function specsUnder(dir: string): string[] {
    return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".spec.ts"))
        .map((f) => path.join(ROOT, dir, f))
        .sort();
}

interface Titled {
    title: string;
    fullTitle(): string;
    file?: string;
}
interface SuiteLike extends Titled {
    suites: SuiteLike[];
    tests: Titled[];
}
interface MochaLike {
    files: string[];
    suite: SuiteLike;
    loadFiles(): void;
}

/** The globals mocha's BDD interface sets while it loads a file. */
const MOCHA_GLOBALS = ["describe", "context", "it", "specify", "xdescribe", "xcontext", "xit", "xspecify"];
const MOCHA_GLOBALS_TOO = ["before", "after", "beforeEach", "afterEach", "run", "suite", "test", "setup", "teardown"];

/**
 * The suites and tests that `files` declare, loaded into a mocha instance of their own (Hardhat's mocha), without
 * running them. The files are required afresh (the normal suite has loaded them already); the globals and the
 * module cache are restored afterwards.
 */
function declaredTests(files: string[]): { suites: SuiteLike[]; tests: Titled[] } {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Mocha = require(require.resolve("mocha", { paths: [require.resolve("hardhat")] })) as new () => MochaLike;
    const mocha = new Mocha();
    const g = globalThis as Record<string, unknown>;
    const names = [...MOCHA_GLOBALS, ...MOCHA_GLOBALS_TOO];
    const savedGlobals = names.map((n) => [n, n in g, g[n]] as const);
    const savedModules = files.map((f) => [f, require.cache[f]] as const);
    try {
        for (const f of files) delete require.cache[f];
        mocha.files = files;
        mocha.loadFiles();
    } finally {
        for (const [n, had, value] of savedGlobals) {
            if (had) g[n] = value;
            else delete g[n];
        }
        for (const [f, module] of savedModules) {
            if (module === undefined) delete require.cache[f];
            else require.cache[f] = module;
        }
    }
    const suites: SuiteLike[] = [];
    const tests: Titled[] = [];
    const walk = (s: SuiteLike): void => {
        tests.push(...s.tests);
        for (const child of s.suites) {
            suites.push(child);
            walk(child);
        }
    };
    walk(mocha.suite);
    return { suites, tests };
}

function testsUnder(suite: SuiteLike): Titled[] {
    return [...suite.tests, ...suite.suites.flatMap(testsUnder)];
}

describe("coverage configuration (.solcover.js, npm run coverage)", function () {
    it("runs every spec of test/contracts, test/fuzz and test/deploy, and no spec of the off-chain suites", function () {
        const specs = coveredSpecs();
        expect(specs).to.include.members([
            ...specsUnder("test/contracts"),
            ...specsUnder("test/fuzz"),
            ...specsUnder("test/deploy"),
        ]);
        for (const dir of ["oracle", "cli", "e2e", "docs", "demo", "bench", "tasks", "install", "coverage"]) {
            const under = path.join(ROOT, "test", dir) + path.sep;
            expect(
                specs.filter((f) => f.startsWith(under)),
                `test/${dir}`,
            ).to.deep.equal([]);
        }
    });

    it("skips only test-only contracts (contracts/test), and only ones that exist", function () {
        expect(solcover.skipFiles.length).to.be.greaterThan(0);
        for (const entry of solcover.skipFiles) {
            expect(entry === "test" || entry.startsWith("test/"), entry).to.equal(true);
            expect(existsSync(path.join(ROOT, "contracts", entry)), `contracts/${entry}`).to.equal(true);
        }
    });

    it("leaves out, for each entry, exactly one test or one suite, in one spec file it runs, with a reason", function () {
        this.timeout(60_000);
        const { suites, tests } = declaredTests(coveredSpecs());
        expect(tests.length, "tests declared by the covered specs").to.be.greaterThan(300);
        const titles = (list: Iterable<Titled>): string[] => [...list].map((t) => t.fullTitle()).sort();
        const left = new Set<Titled>();
        for (const [fragment, why] of solcover.EXCLUDED_TESTS) {
            expect(why.length, fragment).to.be.greaterThan(40);
            // A fragment names one thing: one suite's own title or one test's own title contains it.
            const namedSuites = suites.filter((s) => s.title.includes(fragment));
            const namedTests = tests.filter((t) => t.title.includes(fragment));
            expect(
                [...namedSuites, ...namedTests].map((t) => t.fullTitle()),
                fragment,
            ).to.have.length(1);
            const named = namedSuites.length === 1 ? testsUnder(namedSuites[0]!) : namedTests;
            expect(named.length, fragment).to.be.greaterThan(0);
            expect(new Set(named.map((t) => t.file)).size, `${fragment}: spec files`).to.equal(1);
            // Mocha's grep sees full titles: the fragment must not reach any test beyond the one it names.
            const reached = tests.filter((t) => t.fullTitle().includes(fragment));
            expect(titles(reached), fragment).to.deep.equal(titles(named));
            for (const t of named) left.add(t);
        }
        // The grep mocha gets leaves out exactly those tests (the fragments' parentheses, dots and = are literal).
        expect(solcover.mocha.invert).to.equal(true);
        expect(titles(tests.filter((t) => solcover.mocha.grep.test(t.fullTitle())))).to.deep.equal(titles(left));
        // Most of the contract tests run under coverage.
        expect(left.size, "tests left out").to.be.lessThan(tests.length / 10);
    });

    describe("the step-tracing fix (lightenStepTracing)", function () {
        let vm: MinimalVm;

        before(async function () {
            await hre.network.provider.send("eth_chainId");
            const found = solcover.minimalVmOf(hre.network.provider);
            expect(found, "Hardhat's minimal VM (provider._node._vm), where solidity-coverage attaches").to.not.equal(
                undefined,
            );
            vm = found!;
        });

        it("runs synchronous step listeners at once and in order, for the steps Hardhat reports; undoes cleanly", async function () {
            const before = [vm.events.eventNames(), vm.evm.events.eventNames()];
            const undo = solcover.lightenStepTracing(vm);
            const pcs: number[] = [];
            let ends = 0;
            const onStep = (step: { pc: number }): void => void pcs.push(step.pc);
            const onAfterTx = (): void => void ends++;
            vm.evm.events.on("step", onStep);
            vm.events.on("afterTx", onAfterTx);
            try {
                // At once: an AsyncEventEmitter would call the listener on a later microtask.
                vm.evm.events.emit("step", { pc: 7 });
                expect(pcs).to.deep.equal([7]);
                pcs.length = 0;
                // Hardhat emits the steps of a request through the patched emitter: PUSH1 1, PUSH1 2, ADD,
                // PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN (code run by an eth_call without `to`).
                await hre.network.provider.send("eth_call", [{ data: "0x600160020160005260206000f3" }, "latest"]);
                expect(pcs).to.deep.equal([0, 2, 4, 5, 7, 8, 10, 12]);
                await new Promise((resolve) => setImmediate(resolve));
                expect(ends, "afterTx events").to.equal(1);
            } finally {
                vm.evm.events.off("step", onStep);
                vm.events.off("afterTx", onAfterTx);
                undo();
            }
            // Undone: no listener is left, so the rest of the suite runs without traces.
            expect([vm.events.eventNames(), vm.evm.events.eventNames()]).to.deep.equal(before);
            expect(Object.prototype.hasOwnProperty.call(vm.evm.events, "emit")).to.equal(false);
        });
    });
});
