// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import globals from "globals";

export default tseslint.config(
    { ignores: ["node_modules/", "artifacts/", "cache/", "typechain-types/", "coverage/", "dist/"] },
    eslint.configs.recommended,
    ...tseslint.configs.recommended,
    prettier,
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/no-explicit-any": "error",
            "no-console": "off",
        },
    },
    {
        // The CLI entry point and its build script are plain CommonJS run by node.
        files: ["bin/**/*.js", "scripts/**/*.js"],
        languageOptions: { sourceType: "commonjs", globals: globals.node },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // solidity-coverage's settings: plain CommonJS, required by the coverage task.
        files: [".solcover.js"],
        languageOptions: { sourceType: "commonjs", globals: globals.node },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    // The layers of oracle/src (docs/architecture.md): each imports only the ones below it.
    ...[
        ["internal", ["../*"]],
        ["protocol", ["runtime", "verify", "toolkit", "chain", "store", "roles", "node", "commands", "sdk", "config"]],
        ["verify", ["runtime", "toolkit", "chain", "store", "roles", "node", "commands", "sdk", "config"]],
        ["runtime", ["toolkit", "chain", "store", "roles", "node", "commands", "sdk", "config"]],
        ["toolkit", ["runtime", "chain", "store", "roles", "node", "commands", "sdk", "config"]],
        ["store", ["runtime", "verify", "toolkit", "chain", "roles", "node", "commands", "sdk", "config"]],
        ["chain", ["runtime", "toolkit", "roles", "node", "commands", "sdk", "config"]],
    ].map(([layer, above]) => ({
        files: [`oracle/src/${layer}/**/*.ts`],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            group: above.flatMap((folder) =>
                                folder.startsWith("../") ? [folder] : [`../${folder}`, `../${folder}/*`],
                            ),
                            message: `oracle/src/${layer}/ may not import a layer above it (docs/architecture.md)`,
                        },
                    ],
                },
            ],
        },
    })),
    {
        files: ["test/**/*.ts"],
        rules: {
            // chai's `expect(x).to.be.true` style is an expression statement.
            "@typescript-eslint/no-unused-expressions": "off",
        },
    },
);
