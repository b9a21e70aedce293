import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
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

  // V8 release builds do not checksum a code cache's payload: before the cache file had a checksum of
  // its own, about 3 in 10 single flipped bits crashed every start ("Fatal error … unreachable code",
  // SIGSEGV) until the file was deleted. The file is rewritten (a new inode) only when it was rejected.
  test("one bit flipped anywhere in the cache file (40 offsets, a start each): the CLI runs as before, rejects the file, rewrites it, then uses it", async () => {
    const cache = path.join(dir, "cache");
    const validate = (): Promise<CliResult> => atomiton(["validate", "examples/hello.yaml"], { cwd: ROOT, env: { ATOMITON_COMPILE_CACHE: cache } });
    const first = await validate();
    expect(first.exitCode, first.stderr).toBe(0);
    const file = path.join(cache, readdirSync(cache).find((n) => n.endsWith(".bin")) ?? "");
    const good = readFileSync(file);
    const flips = 40;
    for (let i = 0; i < flips; i++) {
      const offset = Math.round((i * (good.length - 1)) / (flips - 1));
      const bad = Buffer.from(good);
      bad[offset] = (bad[offset] ?? 0) ^ (1 << i % 8);
      writeFileSync(file, bad);
      const where = `bit ${i % 8} of byte ${offset}`;
      const damaged = statSync(file).ino;
      expect(await validate(), where).toEqual(first);
      const rewritten = statSync(file).ino;
      expect(rewritten, `${where}: rejected and rewritten`).not.toBe(damaged);
      expect(await validate(), where).toEqual(first);
      expect(statSync(file).ino, `${where}: the rewritten cache is used`).toBe(rewritten);
    }
  }, 180_000);

  test.each([
    ["missing", () => path.join(dir, "missing", "tmp")],
    ["relative", () => "tmp"],
  ])("a %s TMPDIR: the CLI runs without a cache and makes no directory", async (_, tmpdir) => {
    mkdirSync(path.join(dir, "tmp"));
    writeFileSync(path.join(dir, "flow.yaml"), FLOW);
    const r = await atomiton(["validate", "flow.yaml"], { cwd: dir, env: { TMPDIR: tmpdir(), ATOMITON_COMPILE_CACHE: undefined } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["flow.yaml", "tmp"]);
    expect(readdirSync(path.join(dir, "tmp"))).toEqual([]);
  });
});
