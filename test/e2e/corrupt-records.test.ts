import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { atomiton, EXAMPLES, tempDir } from "../helpers/cli.js";

// A run record that is there but cannot be read (truncated by a full disk, edited by hand).
let dir: string;
let cleanup: () => Promise<void>;
let runId: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-corrupt-"));
  const r = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--reporter", "silent", "--data-dir", "data"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  runId = (await readdir(path.join(dir, "data", "runs"))).find((f) => f.endsWith(".json"))!.slice(0, -5);
  await writeFile(path.join(dir, "data", "runs", `${runId}.json`), '{"runId":"x","stat');
});

afterAll(async () => {
  await cleanup?.();
});

test.each([
  ["run --resume", () => ["run", path.join(EXAMPLES, "hello.yaml"), "--resume", runId]],
  ["replay --from", () => ["replay", runId, "--from", "join"]],
])("%s of a run whose record is truncated says it cannot be read, not 'no such run'", async (_name, args) => {
  const r = await atomiton([...args(), "--reporter", "plain", "--data-dir", "data"], { cwd: dir });
  expect(r.stderr).toContain(`the record of run "${runId}" cannot be read`);
  expect(r.stderr).not.toMatch(/no such run|did you mean/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.exitCode).toBe(1);
});

test("runs lists the readable runs and warns on stderr about the one it cannot read (stdout stays clean)", async () => {
  const ok = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--reporter", "silent", "--data-dir", "data"], { cwd: dir });
  expect(ok.exitCode).toBe(0);
  for (const json of [false, true]) {
    const r = await atomiton(["runs", "--data-dir", "data", ...(json ? ["--json"] : [])], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`warning: 1 run record could not be read and is not listed: ${runId}`);
    expect(r.stdout).not.toContain(runId);
    if (json) expect(JSON.parse(r.stdout)).toHaveLength(1);
  }
});

test("runs show of a record that cannot be read says why: the JSON error, or the first wrong field", async () => {
  const truncated = await atomiton(["runs", "show", runId, "--data-dir", "data"], { cwd: dir });
  expect(truncated.exitCode).toBe(1);
  expect(truncated.stderr).toMatch(new RegExp(`E_STORAGE the record of run "${runId}" cannot be read: stored "runs/${runId}\\.json" is not valid JSON \\(.+\\)`));
  await writeFile(path.join(dir, "data", "runs", `${runId}.json`), '{"runId":5,"status":["x"],"nodes":"no"}');
  const wrong = await atomiton(["runs", "show", runId, "--data-dir", "data"], { cwd: dir });
  expect(wrong.exitCode).toBe(1);
  expect(wrong.stderr).toContain(`the record of run "${runId}" cannot be read: runId: Invalid input: expected string, received number`);
  await writeFile(path.join(dir, "data", "runs", `${runId}.json`), '{"runId":"x","stat');
});
