#!/usr/bin/env node
// The `verity` command: runs the CLI compiled to dist/ (`npm run build`, which npm ci and npm install run as the
// "postprepare" script), so start-up loads JavaScript only, no TypeScript compiler. It refuses, in one line, to run
// a dist/ that is missing or older than the sources it was built from (scripts/buildCli.js): an edit never runs as
// the old code.
const { distProblem, ENTRY } = require("../scripts/buildCli.js");

const problem = distProblem();
if (problem !== null) {
    process.stderr.write(`error: ${problem}: run \`npm run build\`\n`);
    process.exit(1);
}
require(ENTRY)
    .main(process.argv)
    .catch((error) => {
        process.stderr.write(`error: ${error && error.message ? error.message : String(error)}\n`);
        process.exit(1);
    });
