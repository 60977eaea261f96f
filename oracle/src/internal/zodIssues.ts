/**
 * One line per zod issue, naming its field: `inputs[0].decimals: required when onnxType is float32`. The one
 * formatter of validation failures (the node's config, model manifests, the toolkit's float MLPs and samples); each
 * caller adds its own prefix (`Invalid config: `, `Invalid manifest: `) and joins the lines its own way.
 *
 * Type-only import of zod: this module adds nothing to what a caller loads.
 */
import type { z } from "zod";

/** A field's path as the messages write it: `inputs[0].shape[1]`; `(root)` for the value itself. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
    let out = "";
    for (const key of path) {
        if (typeof key === "number") out += `[${key}]`;
        else out += out.length === 0 ? String(key) : `.${String(key)}`;
    }
    return out.length === 0 ? "(root)" : out;
}

/**
 * One issue as `<path>: <why>`. An unknown field is named by its own path (`chain.confirmatons: unknown field`,
 * one per key). A missing field reads `<path>: is required` when the parse reported its input (`safeParse(value,
 * { reportInput: true })`): without the input a missing field cannot be told from a mistyped one, and zod's own
 * message (`Invalid input: expected number, received undefined`) is kept.
 */
export function formatZodIssue(issue: z.core.$ZodIssue): string {
    if (issue.code === "unrecognized_keys") {
        return issue.keys.map((key) => `${formatIssuePath([...issue.path, key])}: unknown field`).join("; ");
    }
    const missing = "input" in issue && issue.input === undefined;
    if ((issue.code === "invalid_type" || issue.code === "invalid_union") && missing) {
        return `${formatIssuePath(issue.path)}: is required`;
    }
    return `${formatIssuePath(issue.path)}: ${issue.message}`;
}

/** Every issue of a failed parse, one line each (see formatZodIssue). */
export function formatZodIssues(error: z.ZodError): string[] {
    return error.issues.map(formatZodIssue);
}
