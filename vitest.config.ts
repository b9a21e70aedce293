import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // e2e tests spawn the built CLI (npm test builds first); unit tests import src directly.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Two test files at a time (vitest's default is one on a 2-core machine: cores - 1). Most e2e
    // files wait on the processes, servers and timers they start rather than compute, and one at a
    // time the suite took 12 minutes on a slow 2-core CI machine.
    maxWorkers: 2,
    reporters: ["default"],
    // `*.types.test.ts` files hold type assertions (expectTypeOf, @ts-expect-error): vitest also runs
    // them through tsc, so a type that drifts fails `vitest run`, not only `tsc --noEmit`.
    typecheck: { enabled: true, include: ["test/**/*.types.test.ts"], tsconfig: "./tsconfig.json" },
  },
});
