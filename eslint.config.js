// Lint: typescript-eslint's `recommended` rules (flat config, ESLint 9). They run without type
// information, so `npx eslint .` stays a few seconds; `tsc --noEmit` does the type checking.
// Each departure from `recommended` below says why.
import eslint from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "**/*.d.ts"] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    languageOptions: { globals: globals.node },
    rules: {
      // A leading `_` marks a value that is deliberately unused (a skipped tuple slot, a rest sibling
      // dropped from a copy, an ignored callback argument).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      // Terminal text is sanitised on purpose: stripping ANSI escapes and C0 controls needs them in
      // the pattern, which is all this rule forbids.
      "no-control-regex": "off",
      // A closure that reads a variable assigned later (a lazy schema, a key listener) needs `let`.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // TypeScript resolves every name already (typescript-eslint's advice for TS files).
    files: ["**/*.ts"],
    rules: { "no-undef": "off" },
  },
  {
    // Test clients read untyped JSON-RPC and event payloads off the wire.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
