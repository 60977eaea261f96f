#!/usr/bin/env node
// @ts-check
/**
 * Builds the `verity` command into dist/, and tells whether dist/ still matches the sources.
 *
 *   node scripts/buildCli.js             compile oracle/src and what it imports (models/toolkit, models/examples.ts,
 *                                        typechain-types) to dist/ with tsconfig.build.json, then write dist/build.json
 *   node scripts/buildCli.js --if-stale  the same, only when distProblem() finds dist/ missing or stale (the tests run
 *                                        this before they start `verity`)
 *
 * `npm run build` is `hardhat compile` (which generates typechain-types) followed by this script, and npm runs
 * `npm run build` after `npm ci` / `npm install` (the "postprepare" script: see docs/cli.md for why not "prepare").
 * Plain JavaScript, so that it runs without ts-node, and bin/verity.js can share distProblem without loading
 * TypeScript.
 *
 * dist/build.json (the stamp) lists every file the build read, repository-relative: the TypeScript program's files,
 * the two tsconfigs, and the Solidity sources and Hardhat config typechain-types was generated from; and the time the
 * build started. dist/ is stale when any of them changed after that time (mtime, as make and `tsc -b` decide). A
 * listed file that does not exist is skipped, so a copy holding dist/ without the sources runs as it is. A failed
 * build leaves no stamp: dist/ then counts as missing, never as up to date.
 */
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const DIST = path.join(ROOT, "dist");
/** What the build read and when it started (see the header). */
const STAMP = path.join(DIST, "build.json");
/** The compiled CLI; bin/verity.js runs its `main`. */
const ENTRY = path.join(DIST, "oracle", "src", "cli.js");
const TSCONFIG = "tsconfig.build.json";
/**
 * Read by the build besides the TypeScript program: its configs (tsconfig.build.json extends tsconfig.json) and
 * what `hardhat compile` turned into typechain-types (with SOLIDITY_DIR).
 */
const CONFIG_FILES = [TSCONFIG, "tsconfig.json", "hardhat.config.ts"];
const SOLIDITY_DIR = "contracts";

/**
 * Why dist/ cannot run as the current sources (one line, to be followed by what to do); null when it can. A few
 * milliseconds (one small JSON read and a stat per listed file, about 250): bin/verity.js calls it at every start.
 * @returns {string | null}
 */
function distProblem() {
    /** @type {{ startedAtMs: number, sources: string[] }} */
    let stamp;
    try {
        stamp = JSON.parse(fs.readFileSync(STAMP, "utf8"));
    } catch {
        return "verity is not built (no dist/build.json)";
    }
    if (!fs.existsSync(ENTRY)) return `verity is not built (no ${path.relative(ROOT, ENTRY)})`;
    for (const source of stamp.sources) {
        const stat = fs.statSync(path.join(ROOT, source), { throwIfNoEntry: false });
        if (stat !== undefined && stat.mtimeMs > stamp.startedAtMs) {
            return `dist/ is older than ${source} (changed since the last build)`;
        }
    }
    return null;
}

/**
 * Every file under `dir` (repository-relative) whose name ends with `ext`.
 * @param {string} dir
 * @param {string} ext
 * @returns {string[]}
 */
function filesUnder(dir, ext) {
    return fs
        .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
        .filter((name) => name.endsWith(ext))
        .map((name) => path.join(dir, name));
}

/**
 * Compiles tsconfig.build.json to dist/ and writes the stamp. Type errors are printed and fail the build, which
 * then emits nothing (noEmitOnError). Incremental (dist/tsconfig.build.tsbuildinfo): a rebuild after an edit
 * re-checks what the edit affects.
 * @returns {boolean} whether it succeeded
 */
function build() {
    const ts = require("typescript");
    const startedAtMs = Date.now();
    fs.rmSync(STAMP, { force: true });
    /** @type {import("typescript").Diagnostic[]} */
    const configErrors = [];
    const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, TSCONFIG), undefined, {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => configErrors.push(d),
    });
    /** @type {import("typescript").FormatDiagnosticsHost} */
    const formatHost = {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => ROOT,
        getNewLine: () => "\n",
    };
    const format = process.stderr.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
    const report = (/** @type {readonly import("typescript").Diagnostic[]} */ diagnostics) =>
        process.stderr.write(format(diagnostics, formatHost));
    if (parsed === undefined || configErrors.length > 0 || parsed.errors.length > 0) {
        report([...configErrors, ...(parsed?.errors ?? [])]);
        return false;
    }
    // Output deleted by hand (dist/ without its entry point) is rebuilt whole: the incremental state would skip
    // emitting the files it believes unchanged.
    if (!fs.existsSync(ENTRY) && parsed.options.tsBuildInfoFile !== undefined) {
        fs.rmSync(parsed.options.tsBuildInfoFile, { force: true });
    }
    const builder = ts.createIncrementalProgram({ rootNames: parsed.fileNames, options: parsed.options });
    // The builder's own diagnostics, so that files the last build checked and nothing changed are not checked again.
    const diagnostics = [
        ...builder.getOptionsDiagnostics(),
        ...builder.getGlobalDiagnostics(),
        ...builder.getSyntacticDiagnostics(),
        ...builder.getSemanticDiagnostics(),
    ];
    if (diagnostics.length === 0) diagnostics.push(...builder.emit().diagnostics);
    if (diagnostics.length > 0) {
        report(diagnostics);
        process.stderr.write(`${TSCONFIG}: ${diagnostics.length} error(s); dist/ not built\n`);
        return false;
    }
    const program = builder.getProgram();
    const sources = program
        .getSourceFiles()
        .filter((f) => !program.isSourceFileFromExternalLibrary(f) && !program.isSourceFileDefaultLibrary(f))
        .map((f) => path.relative(ROOT, f.fileName))
        .filter((f) => !f.startsWith(`node_modules${path.sep}`) && !f.startsWith(".."));
    sources.push(...CONFIG_FILES, ...filesUnder(SOLIDITY_DIR, ".sol"));
    fs.writeFileSync(STAMP, `${JSON.stringify({ startedAtMs, sources }, null, 2)}\n`);
    return true;
}

module.exports = { distProblem, ENTRY };

if (require.main === module) {
    const ifStale = process.argv.includes("--if-stale");
    const problem = ifStale ? distProblem() : "";
    if (problem === null) process.exit(0);
    if (ifStale) process.stderr.write(`scripts/buildCli.js: ${problem}; building\n`);
    const started = Date.now();
    if (!build()) process.exit(1);
    process.stderr.write(`scripts/buildCli.js: dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
