/**
 * Arguments of `verity` commands that several suites run the same way, so that a renamed option changes one place.
 */

/**
 * `verity model register` as the README's walkthrough runs it: a REEXECUTION model served from its own path, a fee
 * of 0.01 tokens and 10 tokens of collateral per result, and the given challenge window.
 */
export function registerModelArgs(path: string, windowSeconds: number): string[] {
    return [
        "model",
        "register",
        path,
        "--uri",
        path,
        "--mode",
        "reexecution",
        "--fee",
        "0.01",
        "--collateral",
        "10",
        "--window",
        String(windowSeconds),
    ];
}
