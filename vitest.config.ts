import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // e2e tests spawn the built CLI (npm test builds first); unit tests import src directly.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default"],
    // `*.types.test.ts` files hold type assertions (expectTypeOf, @ts-expect-error): vitest also runs
    // them through tsc, so a type that drifts fails `vitest run`, not only `tsc --noEmit`.
    typecheck: { enabled: true, include: ["test/**/*.types.test.ts"], tsconfig: "./tsconfig.json" },
  },
});
