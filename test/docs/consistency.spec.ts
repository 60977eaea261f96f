/**
 * The documentation agrees with itself and with the code where a reader would notice: no heading twice in one
 * document (a second `## Models` once split docs/node.md), every manifest field the parser accepts has a row in
 * docs/model-manifest.md (`range` was once missing), docs/protocol.md's result-code table says what `verity
 * inspect` says of each code, and what `verity deploy` writes stays out of git.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { MANIFEST_FIELDS } from "../../oracle/src/protocol/manifest";
import { describeResultCode, RESULT_CODE_MEANINGS } from "../../oracle/src/protocol/resultCodes";

const ROOT = path.join(__dirname, "..", "..");
const DOCS = [
    "README.md",
    ...readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => path.join("docs", f)),
];

/** The Markdown headings of `text`, outside fenced code blocks. */
function headings(text: string): string[] {
    const out: string[] = [];
    let fenced = false;
    for (const line of text.split("\n")) {
        if (line.startsWith("```")) fenced = !fenced;
        else if (!fenced && /^#{1,6} /.test(line)) out.push(line.trim());
    }
    return out;
}

describe("documentation consistency", function () {
    for (const doc of DOCS) {
        it(`${doc} has no heading twice`, function () {
            const all = headings(readFileSync(path.join(ROOT, doc), "utf8"));
            const twice = all.filter((h, i) => all.indexOf(h) !== i);
            expect(twice, `${doc} repeats ${twice.join(", ")}`).to.deep.equal([]);
        });
    }

    it("docs/model-manifest.md has a row for every field the manifest parser accepts", function () {
        const doc = readFileSync(path.join(ROOT, "docs", "model-manifest.md"), "utf8");
        const rows = new Set([...doc.matchAll(/^\| `([A-Za-z]+)` +\|/gm)].map((m) => m[1]));
        expect(MANIFEST_FIELDS.length).to.be.greaterThan(3);
        const missing = MANIFEST_FIELDS.filter((f) => !rows.has(f));
        expect(missing, `undocumented manifest fields: ${missing.join(", ")}`).to.deep.equal([]);
    });

    it("docs/protocol.md's result-code table gives each code the name and meaning describeResultCode gives it", function () {
        const doc = readFileSync(path.join(ROOT, "docs", "protocol.md"), "utf8");
        const rows = [...doc.matchAll(/^\| `(\d+)`(?:–`(\d+)`)? +\| `([A-Z_]+)` +\| (.+?) +\|$/gm)];
        for (const [, first, last, name, meaning] of rows) {
            for (const code of [first, last ?? first]) {
                expect(describeResultCode(Number(code)), `code ${code}`).to.deep.equal({ name, meaning });
            }
        }
        expect(rows.map((r) => r[3])).to.deep.equal([
            "OK",
            "INVALID_INPUT",
            "MODEL_ERROR",
            "UNDEFINED",
            "RESERVED",
            "VOIDED",
        ]);
        expect(Object.keys(RESULT_CODE_MEANINGS)).to.deep.equal(["OK", "INVALID_INPUT", "MODEL_ERROR", "VOIDED"]);
    });

    it("keeps what `verity deploy` writes (deployments/<chainId>.json) out of git", function () {
        // git check-ignore exits 0 when the path is ignored and 1 when it is not.
        const check = () =>
            execFileSync("git", ["check-ignore", "-q", "deployments/31337.json"], { cwd: ROOT, stdio: "ignore" });
        expect(check).to.not.throw();
    });
});
