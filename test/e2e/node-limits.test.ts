import { readdir, readFile, readlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { bombPng } from "../helpers/png.js";
import { survivors } from "../helpers/processes.js";
import { startCli, type StartedCli } from "../helpers/started-cli.js";

// Limits of built-in nodes as a user meets them: the built CLI on a temp dir.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-node-limits-");

describe("image node pixel limit", () => {
  test("a 16000×16000 PNG bomb (31 KB) fails the node with E_IMAGE naming its size and maxInputPixels, exit 1, no stack", async () => {
    await writeFile(path.join(dir, "bomb.png"), bombPng(16000, 16000));
    await writeFile(path.join(dir, "flow.yaml"), "name: bomb\nnodes:\n  - id: thumb\n    type: image\n    parameters: { path: bomb.png, width: 100 }\n");
    const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr + r.stdout).toContain("thumb E_IMAGE: image: the image " + path.join(dir, "bomb.png") + " is 16000×16000 (256 megapixels), over the limit of 100 megapixels (maxInputPixels: 100000000); it was not decoded");
    expect(r.stderr + r.stdout).toContain("hint: if you trust this image, raise the node's `maxInputPixels` to at least 256000000, or set it to false");
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /);
  }, 60_000);

  test("`atomiton nodes image` documents maxInputPixels and its default", async () => {
    const r = await atomiton(["nodes", "image"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/maxInputPixels\s+integer \| false, default 100000000/);
  });
});

const ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
const started: StartedCli["child"][] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
});

/** SQLite host processes (dist/sqlite-host.js) whose working directory is `cwd`: the ones a CLI run in `cwd` started. */
async function sqliteHostsIn(cwd: string): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("sqlite-host.js") && (await readlink(`/proc/${pid}/cwd`).catch(() => "")) === cwd) pids.push(Number(pid));
  }
  return pids;
}

describe.runIf(process.platform === "linux")("an endless SQLite statement under the built CLI", () => {
  // `make` opens the database, so `endless` sends its statement as it starts: once its start is
  // printed, the statement runs (before the fix it held the CLI's only thread from then on).
  const flow = (timeout: string) => `name: sqlite-stop
nodes:
  - { id: make, type: sql, parameters: { connection: shop.db, mode: exec, query: "CREATE TABLE t (x)" } }
  - { id: endless, type: sql, ${timeout} parameters: { connection: shop.db, mode: value, query: "${ENDLESS}" } }
edges: [make -> endless]
`;

  test("Ctrl-C (SIGINT) cancels the run: exit 130, the node cancelled, the SQLite process gone", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow(""));
    const run = startCli(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, timeout: 60_000 });
    started.push(run.child);
    await run.waitFor(/endless\s+started/);
    const hosts = await sqliteHostsIn(dir);
    run.child.kill("SIGINT");
    const r = await run.child;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toMatch(/endless\s+cancelled: interrupted by SIGINT/);
    expect(hosts).toHaveLength(1);
    expect(await survivors(hosts)).toEqual([]);
  }, 90_000);

  test("the node's timeout ends it: E_TIMEOUT, exit 1, the SQLite process is gone", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow("timeout: 1s,"));
    const run = startCli(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, timeout: 60_000 });
    started.push(run.child);
    await run.waitFor(/endless\s+started/);
    const hosts = await sqliteHostsIn(dir);
    const r = await run.child;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('endless E_TIMEOUT: node "endless" timed out after 1s');
    expect(hosts).toHaveLength(1);
    expect(await survivors(hosts)).toEqual([]);
  }, 90_000);

  test("kill -9 of the CLI mid-statement: the reaper ends the SQLite process too", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow(""));
    const run = startCli(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, timeout: 60_000 });
    started.push(run.child);
    await run.waitFor(/endless\s+started/);
    const hosts = await sqliteHostsIn(dir);
    expect(hosts).toHaveLength(1);
    run.child.kill("SIGKILL");
    await run.child;
    expect(await survivors(hosts, 10_000)).toEqual([]);
  }, 90_000);
});
