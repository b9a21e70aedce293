import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, EXAMPLES, ROOT, useTempDir } from "../helpers/cli.js";

// `atomiton --help`, `--version` and `validate` start fast because heavy modules are imported
// only where they are used (STYLE "Terminal output"). The CLI runs with a preload that records
// every module it resolves (test/fixtures/trace/register.mjs).
const HEAVY = ["listr2", "ora", "chokidar", "execa", "sharp"] as const;
const PRELOAD = path.join(ROOT, "test/fixtures/trace/register.mjs");

let dir: string;
useTempDir((d) => (dir = d));

async function traced(args: readonly string[]): Promise<{ exitCode: number | undefined; modules: string[] }> {
  const trace = path.join(dir, "modules.txt");
  await writeFile(trace, "");
  const r = await atomiton(args, { cwd: dir, env: { ATOMITON_TRACE_MODULES: trace, NODE_OPTIONS: `--import ${JSON.stringify(PRELOAD)}` } });
  const modules = (await readFile(trace, "utf8")).split("\n").filter(Boolean);
  return { exitCode: r.exitCode, modules };
}

const loaded = (modules: readonly string[], name: string) => modules.filter((m) => m.includes(`/node_modules/${name}/`));

describe("heavy modules load lazily", () => {
  test.each([[["--help"]], [["--version"]], [["validate", path.join(EXAMPLES, "hello.yaml")]], [["nodes"]], [["graph", path.join(EXAMPLES, "hello.yaml")]]])(
    "atomiton %j loads none of listr2, ora, chokidar, execa, sharp",
    async (args) => {
      const { exitCode, modules } = await traced(args);
      expect(exitCode).toBe(0);
      // The trace works: the CLI's own entry was recorded (commander, zod, yaml and chalk are bundled into dist).
      expect(modules.some((m) => m.endsWith("/dist/cli.js"))).toBe(true);
      for (const name of HEAVY) expect(loaded(modules, name), name).toEqual([]);
    },
  );

  test("run --reporter plain of examples/hello.yaml works without any of them", async () => {
    const { exitCode, modules } = await traced(["run", path.join(EXAMPLES, "hello.yaml"), "--reporter", "plain", "--storage", "memory"]);
    expect(exitCode).toBe(0);
    for (const name of HEAVY) expect(loaded(modules, name), name).toEqual([]);
  });

  test("a node that needs one loads it (the trace sees heavy modules)", async () => {
    await writeFile(path.join(dir, "sh.yaml"), `nodes:\n  - id: sh\n    type: shell-command\n    parameters: { program: ${JSON.stringify(process.execPath)}, args: ["-e", "0"] }\n`);
    const { exitCode, modules } = await traced(["run", "sh.yaml", "--reporter", "plain", "--storage", "memory"]);
    expect(exitCode).toBe(0);
    expect(loaded(modules, "execa").length).toBeGreaterThan(0);
    expect(loaded(modules, "listr2")).toEqual([]);
  });
});
