import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { formatIssuePath, formatZodIssues } from "../../../oracle/src/internal/zodIssues";
import { parseConfig } from "../../../oracle/src/config/load";
import { parseManifest } from "../../../oracle/src/protocol/manifest";
import { checkFloatMlp } from "../../../models/toolkit/quantize";
import { buildModelFile } from "../../../models/toolkit/commands";

const schema = z.strictObject({
    name: z.string(),
    layers: z.array(z.strictObject({ rows: z.array(z.number().int()) })),
});

/** The issue lines of parsing `value` with `schema`. */
function linesOf(value: unknown, reportInput = false): string[] {
    const result = schema.safeParse(value, { reportInput });
    expect(result.success, "expected the parse to fail").to.equal(false);
    return formatZodIssues(result.error!);
}

describe("oracle/internal/zodIssues", function () {
    describe("formatIssuePath", function () {
        it("writes indices in brackets and keys after dots; (root) for the value itself", function () {
            expect(formatIssuePath(["inputs", 0, "decimals"])).to.equal("inputs[0].decimals");
            expect(formatIssuePath(["layers", 0, "weights", 1, 2])).to.equal("layers[0].weights[1][2]");
            expect(formatIssuePath([3, "x"])).to.equal("[3].x");
            expect(formatIssuePath([])).to.equal("(root)");
        });
    });

    describe("formatZodIssues", function () {
        it("names each bad field with zod's reason", function () {
            expect(linesOf({ name: 1, layers: [{ rows: [1, 2.5] }] })).to.deep.equal([
                "name: Invalid input: expected string, received number",
                "layers[0].rows[1]: Invalid input: expected int, received number",
            ]);
        });

        it("names each unknown field by its own path", function () {
            expect(linesOf({ name: "a", layers: [{ rows: [], cols: 1, depth: 2 }], extra: true })).to.deep.equal([
                "layers[0].cols: unknown field; layers[0].depth: unknown field",
                "extra: unknown field",
            ]);
        });

        it("labels the value itself (root)", function () {
            expect(linesOf([])).to.deep.equal(["(root): Invalid input: expected object, received array"]);
        });

        it("says a field is required when the parse reported its input, and keeps zod's reason when not", function () {
            expect(linesOf({ layers: [] }, true)).to.deep.equal(["name: is required"]);
            expect(linesOf({ name: 5, layers: [] }, true)).to.deep.equal([
                "name: Invalid input: expected string, received number",
            ]);
            expect(linesOf({ layers: [] })).to.deep.equal(["name: Invalid input: expected string, received undefined"]);
        });
    });

    describe("its four callers", function () {
        it("config: `Invalid config: <field>: <why>`, one line per issue", function () {
            let message = "";
            try {
                parseConfig({ chain: { rpcUrl: "http://x", confirmatons: 3 } }, {});
            } catch (error) {
                message = (error as Error).message;
            }
            const lines = message.split("\n");
            expect(lines).to.include("Invalid config: chain.confirmatons: unknown field");
            expect(lines).to.include("Invalid config: chain.chainId: is required");
        });

        it("manifest and float MLP: `Invalid <what>: <field>: <why>; ...`", function () {
            const manifest = { version: 1, inputs: [], outputs: [{ name: "y", dtype: "int8", shape: [1] }], x: 1 };
            expect(() => parseManifest(JSON.stringify(manifest))).to.throw(/^Invalid manifest: x: unknown field$/);
            expect(() => checkFloatMlp({ version: 1, inputs: 2, layers: [], bias: 0 })).to.throw(
                /^Invalid float MLP: layers: at least one layer is required; bias: unknown field$/,
            );
        });

        it("model build samples: `<file>: <field>: <why>` of the first issue", function () {
            const dir = mkdtempSync(join(tmpdir(), "verity-zod-"));
            try {
                const mlp = join(dir, "mlp.json");
                const data = join(dir, "data.json");
                writeFileSync(
                    mlp,
                    JSON.stringify({
                        version: 1,
                        inputs: 2,
                        layers: [{ weights: [[1], [-1]], bias: [0], activation: "none" }],
                    }),
                );
                writeFileSync(
                    data,
                    JSON.stringify([
                        { x: [1, 2], label: 0 },
                        { x: [1, "2"], label: 0, y: 1 },
                    ]),
                );
                expect(() => buildModelFile(mlp, join(dir, "m.onnx"), data)).to.throw(
                    `${data}: [1].x[1]: Invalid input: expected number, received string`,
                );
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});
