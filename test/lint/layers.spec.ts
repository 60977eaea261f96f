/**
 * The layers of oracle/src (docs/architecture.md) import only downwards, which eslint.config.mjs enforces with
 * no-restricted-imports per folder; `npm test` runs the lint first. This spec checks the rule itself: an upward import
 * is an error in each layer, a downward one is not.
 */
import { expect } from "chai";
import { ESLint } from "eslint";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

async function layerErrors(file: string, code: string): Promise<string[]> {
    const eslint = new ESLint({ cwd: ROOT });
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
    return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("lint: the layers of oracle/src", function () {
    this.timeout(60_000);

    for (const [file, upward, downward] of [
        ["oracle/src/protocol/x.ts", "../runtime/executor", "../internal/errors"],
        ["oracle/src/verify/x.ts", "../chain/programStore", "../protocol/tensorCodec"],
        ["oracle/src/runtime/x.ts", "../store/store", "../verify/execute"],
        ["oracle/src/store/x.ts", "../roles/operator", "../internal/errors"],
        ["oracle/src/chain/x.ts", "../node", "../store/store"],
        ["oracle/src/internal/x.ts", "../protocol/resultCodes", "./errors"],
    ] as const) {
        it(`${file}: importing ${upward} is an error, ${downward} is not`, async function () {
            const up = await layerErrors(file, `export * from "${upward}";\n`);
            expect(up).to.have.length(1);
            expect(up[0]).to.contain("may not import a layer above it");
            expect(await layerErrors(file, `export * from "${downward}";\n`)).to.deep.equal([]);
        });
    }
});
