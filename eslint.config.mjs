// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

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
        files: ["test/**/*.ts"],
        rules: {
            // chai's `expect(x).to.be.true` style is an expression statement.
            "@typescript-eslint/no-unused-expressions": "off",
        },
    },
);
