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
    {
        files: ["test/**/*.ts"],
        rules: {
            // chai's `expect(x).to.be.true` style is an expression statement.
            "@typescript-eslint/no-unused-expressions": "off",
        },
    },
);
