// `atomiton run` when the run record cannot be saved (issue 11, defect 2): one run:finish, carrying
// the storage error; exit 1 with a located message, no stack trace.
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { expect, test } from "vitest";
import { atomiton, BIN, EXAMPLES, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-record-");

test("a data dir whose runs/ is a file: run:finish once with recordError, exit 1", async () => {
  await mkdir(path.join(dir, "data"));
  await writeFile(path.join(dir, "data/runs"), "not a folder");
  const r = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--data-dir", "data", "--reporter", "json"], { cwd: dir });
  const finishes = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; status?: string; recordError?: { code: string } })
    .filter((e) => e.type === "run:finish");
  expect(finishes).toHaveLength(1);
  expect(finishes[0]).toMatchObject({ status: "succeeded", recordError: { code: "E_STORAGE" } });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/E_STORAGE run \S+ succeeded, but its record was not saved: cannot save/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

test("no space for the outputs (a file size limit, as a full disk): the record still lands with its status, the log keeps whole lines", async () => {
  // Three 60 KB outputs against a 100 KB limit per file (`ulimit -f`: writes past it fail with EFBIG
  // once cut short, as they do with ENOSPC on a full disk). Before, the record stayed `running`
  // and the log ended in half a line.
  await writeFile(
    path.join(dir, "big.yaml"),
    `name: big
nodes:
  - { id: a, type: code, parameters: { code: "return 'x'.repeat(60000)" } }
  - { id: b, type: code, parameters: { code: "return 'y'.repeat(60000)" } }
  - { id: c, type: code, parameters: { code: "return 'z'.repeat(60000)" } }
edges: [a -> b, b -> c]
`,
  );
  const r = await execa("bash", ["-c", `ulimit -f 100 && exec node ${JSON.stringify(BIN)} run big.yaml --reporter plain --data-dir data`], { cwd: dir, reject: false, stdin: "ignore", env: { NO_COLOR: "1", CI: "true" } });
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/E_STORAGE run (\S+) succeeded, but its node outputs and event log were not saved \(.*EFBIG.*\); its record keeps the status without them/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const runs = await readdir(path.join(dir, "data/runs"));
  const recordFile = runs.find((f) => f.endsWith(".json"))!;
  const record = JSON.parse(await readFile(path.join(dir, "data/runs", recordFile), "utf8")) as { status: string; nodes: Record<string, { status: string; output: unknown; reusable?: boolean }> };
  expect(record.status).toBe("succeeded");
  expect(record.nodes.c).toMatchObject({ status: "succeeded", output: { $omitted: expect.stringContaining("no space") }, reusable: false });
  const log = await readFile(path.join(dir, "data/runs", recordFile.replace(/\.json$/, ".ndjson")), "utf8");
  expect(log.endsWith("\n")).toBe(true);
  for (const line of log.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
  const list = await atomiton(["runs", "--data-dir", "data"], { cwd: dir });
  expect(list.stdout).toMatch(/succeeded/);
});
