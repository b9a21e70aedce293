import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, type CliResult, ROOT, useTempDir } from "../helpers/cli.js";

// The CLI is dist/cli-bundle.cjs, compiled with a V8 code cache (src/cli/compile-cache.ts). A start
// from the cache must behave exactly like one without, also where the CLI imports a package
// (execa for shell-command): V8 drops a cached script's import() callback.
let dir: string;
useTempDir((d) => (dir = d));

const FLOW = `nodes:
  - id: sh
    type: shell-command
    parameters: { program: ${JSON.stringify(process.execPath)}, args: ["-e", "process.stdout.write('from a child')"] }
  - id: shout
    type: transform
    parameters: { operation: map, transformFunction: "r => r.stdout.toUpperCase()" }
edges: [sh -> shout]
`;

/** FLOW run once with a cache dir of the test's own; `again` runs it the same way. */
async function firstRun(): Promise<{ cache: string; first: CliResult; again: () => Promise<CliResult> }> {
  const cache = path.join(dir, "cache");
  writeFileSync(path.join(dir, "flow.yaml"), FLOW);
  const again = (): Promise<CliResult> => atomiton(["run", "flow.yaml", "--reporter", "silent", "--storage", "memory"], { cwd: dir, env: { ATOMITON_COMPILE_CACHE: cache } });
  return { cache, first: await again(), again };
}

describe("the CLI's compile cache", () => {
  test("the bundle calls no import() of its own: each goes through the loader's import function", () => {
    const bundle = readFileSync(path.join(ROOT, "dist/cli-bundle.cjs"), "utf8");
    // Left: `x.import(…)` method calls (jiti) and the sandbox's message text "import() is not available".
    const calls = [...bundle.matchAll(/(?<![.\w$])import\((?!\))/g)].map((m) => bundle.slice(m.index, m.index + 40));
    expect(calls).toEqual([]);
    expect(bundle).toContain('__atomitonImport("execa")');
  });

  test("a first start writes the cache; a start from it runs a flow that imports packages the same way", async () => {
    const { cache, first, again } = await firstRun();
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain("FROM A CHILD");
    expect(readdirSync(cache).filter((n) => n.endsWith(".bin"))).toHaveLength(1);
    const second = await again();
    expect(second).toEqual(first);
    expect(second.stderr).toBe("");
  });

  test("a damaged cache file costs only the speed-up", async () => {
    const { cache, first, again } = await firstRun();
    const [name] = readdirSync(cache).filter((n) => n.endsWith(".bin"));
    writeFileSync(path.join(cache, name ?? ""), "garbage");
    expect(await again()).toEqual(first);
    expect(await again()).toEqual(first);
  });
});
