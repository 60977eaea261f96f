#!/usr/bin/env node
// Runs the TypeScript sources directly (transpile-only: type checking is the build's job, not start-up's).
const path = require("node:path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
require("../oracle/src/cli")
    .main(process.argv)
    .catch((error) => {
        process.stderr.write(`error: ${error && error.message ? error.message : String(error)}\n`);
        process.exit(1);
    });
