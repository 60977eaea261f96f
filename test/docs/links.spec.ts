/**
 * Every relative link in the README and docs/ leads somewhere: the file or folder exists, and a `#fragment` into a
 * markdown file names one of its headings (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens,
 * repeats numbered). docs/architecture.md links the code it describes, so a file moved or renamed without the map
 * fails here.
 */
import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(__dirname, "..", "..");
const DOCS = [join(ROOT, "README.md"), ...readdirSync(join(ROOT, "docs")).map((f) => join(ROOT, "docs", f))].filter(
    (f) => f.endsWith(".md"),
);

/** GitHub's anchor for a heading's text. */
export function slug(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/<[^>]*>/g, "")
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
}

/** The anchors of a markdown file's headings (outside fenced blocks), repeats numbered as GitHub does. */
export function anchorsOf(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    let fenced = false;
    for (const line of markdown.split("\n")) {
        if (line.startsWith("```")) fenced = !fenced;
        const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
        if (heading === null) continue;
        const base = slug(heading[1]!);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    return anchors;
}

/** Relative link targets of a markdown file (inline links and images, outside fenced blocks and code spans). */
export function linksOf(markdown: string): string[] {
    const links: string[] = [];
    let fenced = false;
    for (const line of markdown.split("\n")) {
        if (line.startsWith("```")) fenced = !fenced;
        if (fenced) continue;
        const prose = line.replace(/`[^`]*`/g, "");
        for (const [, target] of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
            if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // http:, mailto:...
            links.push(target!);
        }
    }
    return links;
}

describe("documentation links", function () {
    it("the checker is not a rubber stamp: it finds links and anchors, and GitHub's heading anchors", function () {
        expect(linksOf("see [a](docs/x.md#y) and `[b](c)` and [d](https://e)\n```\n[f](g)\n```")).to.deep.equal([
            "docs/x.md#y",
        ]);
        expect([...anchorsOf("# The `verity` CLI: start-up\n## Models\n## Models\n```\n# not\n```")]).to.deep.equal([
            "the-verity-cli-start-up",
            "models",
            "models-1",
        ]);
    });

    for (const doc of DOCS) {
        it(`${relative(ROOT, doc)}: every relative link leads to a file and, with a #fragment, a heading`, function () {
            const problems: string[] = [];
            for (const link of linksOf(readFileSync(doc, "utf8"))) {
                const [path, fragment] = link.split("#") as [string, string | undefined];
                const target = path === "" ? doc : resolve(dirname(doc), decodeURIComponent(path));
                if (!existsSync(target)) {
                    problems.push(`${link}: no such file`);
                    continue;
                }
                if (fragment !== undefined && target.endsWith(".md")) {
                    if (!anchorsOf(readFileSync(target, "utf8")).has(fragment)) {
                        problems.push(`${link}: no heading with that anchor in ${relative(ROOT, target)}`);
                    }
                }
            }
            expect(problems).to.deep.equal([]);
        });
    }
});
