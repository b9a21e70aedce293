import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { atomiton, tempDir } from "../helpers/cli.js";

// A data dir of months of runs whose records hold outputs of a few MiB each. `runs` and `runs stats`
// read every record at once and kept each whole: the heap filled, and the CLI died with V8's fatal
// out-of-memory report. Here the CLI gets a 256 MiB heap and 40 records of ~8 MiB.
let dir: string;
let cleanup: () => Promise<void>;
const RECORDS = 40;
const SMALL_HEAP = { NODE_OPTIONS: "--max-old-space-size=256" };

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-many-runs-"));
  await writeFile(
    path.join(dir, "fat.yaml"),
    ["name: fat", "nodes:", "  - id: rows", "    type: code", "    parameters: { code: \"return Array.from({ length: 60000 }, (_, i) => ({ i, line: 'a line of a build log, number ' + i }))\" }", ""].join("\n"),
  );
  const r = await atomiton(["run", "fat.yaml", "--reporter", "silent", "--data-dir", "data"], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(0);
  const runs = path.join(dir, "data", "runs");
  const file = (await readdir(runs)).find((f) => f.endsWith(".json"))!;
  const runId = file.slice(0, -5);
  const text = await readFile(path.join(runs, file), "utf8");
  expect(text.length).toBeGreaterThan(4 * 1024 * 1024);
  for (let k = 0; k < RECORDS - 1; k++) {
    const copy = `${runId.slice(0, -6)}${k.toString(16).padStart(6, "0")}`;
    await writeFile(path.join(runs, `${copy}.json`), text.replace(runId, copy));
  }
}, 120_000);

afterAll(async () => {
  await cleanup?.();
});

test.each([
  ["runs --limit 3", ["runs", "--limit", "3"], /1 succeeded/],
  ["runs stats", ["runs", "stats", "fat"], new RegExp(`fat: ${RECORDS} runs`)],
])(`%s over ${RECORDS} records of ~8 MiB with a 256 MiB heap: a listing, not a heap out of memory`, async (_name, args, shown) => {
  const r = await atomiton([...args, "--data-dir", "data"], { cwd: dir, env: SMALL_HEAP, timeout: 120_000 });
  expect(r.stderr).not.toContain("heap out of memory");
  expect(r.exitCode, r.stderr.slice(0, 500)).toBe(0);
  expect(r.stdout).toMatch(shown);
}, 120_000);
