import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, ROOT, useTempDir } from "../helpers/cli.js";

// Several CLI processes share one data dir without corrupting each other's records, and a data
// dir that cannot be written is refused before any node starts.

const FIXTURES = path.join(ROOT, "test/fixtures/failures");

let dir: string;
useTempDir((d) => (dir = d), "atomiton-storage-");

describe("concurrent runs on one data dir", () => {
  test("four processes at once: every record parses, every event log is complete", async () => {
    const dataDir = path.join(dir, "shared");
    const jobs = [
      { fixture: "concurrent-a.yaml", iterations: 250, output: { a: 250 } },
      { fixture: "concurrent-b.yaml", iterations: 220, output: { b: 220 } },
      { fixture: "concurrent-a.yaml", iterations: 250, output: { a: 250 } },
      { fixture: "concurrent-b.yaml", iterations: 220, output: { b: 220 } },
    ];
    const results = await Promise.all(jobs.map((job) => atomiton(["run", path.join(FIXTURES, job.fixture), "--reporter", "json", "--data-dir", dataDir], { cwd: dir })));

    const files = await readdir(path.join(dataDir, "runs"));
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".json"))).toHaveLength(jobs.length);
    for (const [i, r] of results.entries()) {
      const job = jobs[i]!;
      expect(r.exitCode, r.stderr).toBe(0);
      const runId = (JSON.parse(r.stdout.split("\n")[0]!) as { runId: string }).runId;
      const record = JSON.parse(await readFile(path.join(dataDir, "runs", `${runId}.json`), "utf8"));
      expect(record).toMatchObject({ runId, status: "succeeded", composite: { name: path.basename(job.fixture, ".yaml") }, output: job.output });
      expect(record.nodes.say.iterations).toEqual({ succeeded: job.iterations });

      // The stored log is exactly the NDJSON this process printed: nothing lost, nothing from the others.
      const log = await readFile(path.join(dataDir, "runs", `${runId}.ndjson`), "utf8");
      expect(log).toBe(r.stdout.endsWith("\n") ? r.stdout : `${r.stdout}\n`);
      const events = log.trim().split("\n").map((l) => JSON.parse(l) as { type: string; runId: string });
      expect(new Set(events.map((e) => e.runId))).toEqual(new Set([runId]));
      expect(events[0]?.type).toBe("run:start");
      expect(events.at(-1)?.type).toBe("run:finish");
      expect(events.filter((e) => e.type === "node:finish")).toHaveLength(2 * job.iterations + 2);
    }

    const listed = await atomiton(["runs", "--json", "--data-dir", dataDir], { cwd: dir });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(jobs.length);
  }, 60_000);
});

describe("an unusable data dir", () => {
  const isRoot = process.getuid?.() === 0;
  const cases: { name: string; prepare: (dir: string) => Promise<string>; errno: string; viaEnv?: boolean }[] = [
    { name: "a path that is an existing file", prepare: async (d) => writeAndReturn(path.join(d, "not-a-dir")), errno: "ENOTDIR" },
    { name: "a path below a file", prepare: async (d) => path.join(await writeAndReturn(path.join(d, "file")), "sub"), errno: "ENOTDIR" },
    { name: "ATOMITON_DATA_DIR naming a file", prepare: async (d) => writeAndReturn(path.join(d, "env-file")), errno: "ENOTDIR", viaEnv: true },
  ];
  // procfs refuses new entries with ENOENT, which made Node's recursive mkdir spin forever.
  if (existsSync("/proc/self")) cases.push({ name: "a path under /proc", prepare: async () => "/proc/atomiton-test-data", errno: "ENOENT" });
  // root writes through file permissions, so a read-only directory is only unusable for other users.
  if (!isRoot) {
    cases.push({
      name: "a read-only directory",
      prepare: async (d) => {
        const ro = path.join(d, "read-only");
        await mkdir(ro);
        await chmod(ro, 0o500);
        return ro;
      },
      errno: "EACCES",
    });
  }

  test.each(cases)("$name: exit 1 with E_STORAGE before any node starts", async ({ prepare, errno, viaEnv }) => {
    const dataDir = await prepare(dir);
    await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - { id: touch, type: shell-command, parameters: { command: 'echo ran > ran.txt' } }\n");
    const args = ["run", "flow.yaml", "--reporter", "json", ...(viaEnv ? [] : ["--data-dir", dataDir])];
    const r = await atomiton(args, { cwd: dir, timeout: 15_000, ...(viaEnv ? { env: { ATOMITON_DATA_DIR: dataDir } } : {}) });
    expect(r.exitCode, r.stderr).toBe(1); // a storage failure, not a usage mistake (exit codes by error code)
    expect(r.stdout).toBe(""); // not even run:start
    // A file at the path or on it is said before anything is opened; other errors come from the first write.
    expect(r.stderr).toContain(errno === "ENOTDIR" ? `E_STORAGE the data directory ${dataDir} is not a directory: a file stands there or on its path` : `E_STORAGE storage directory ${dataDir} is not writable (${errno}`);
    expect(r.stderr).toMatch(/hint: .*--data-dir/);
    if (errno === "ENOTDIR") {
      // `runs` says the same (it listed "no runs" and exited 0).
      const listed = await atomiton(["runs", ...(viaEnv ? [] : ["--data-dir", dataDir])], { cwd: dir, ...(viaEnv ? { env: { ATOMITON_DATA_DIR: dataDir } } : {}) });
      expect(listed.exitCode).toBe(1);
      expect(listed.stderr).toContain(`E_STORAGE the data directory ${dataDir} is not a directory`);
    }
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(dir, "ran.txt"))).toBe(false);
  });
});

async function writeAndReturn(file: string): Promise<string> {
  await writeFile(file, "not a directory\n");
  return file;
}
