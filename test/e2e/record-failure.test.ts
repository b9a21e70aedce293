// `atomiton run` when the run record cannot be saved (issue 11, defect 2): one run:finish, carrying
// the storage error; exit 1 with a located message, no stack trace.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, EXAMPLES, useTempDir } from "../helpers/cli.js";

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
