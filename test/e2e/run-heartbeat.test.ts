// A run recorded to shared storage whose process died (kill -9) on another host was shown as
// `running` for ever: only a record of this host had its pid checked. The running recorder now
// refreshes a heartbeat (`runs/<id>.heartbeat`, or the record's `refreshedAt` at a checkpoint), and
// readers show a record from another host whose heartbeat is over 6 heartbeats old as `abandoned`,
// without changing it. "Another host": the record of a real run rewritten to name one, as the
// readers key on `host`.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";
import { dropNamespace, redisAvailability, startRedis, uniqueName, type TestRedis } from "../helpers/redis.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-heartbeat-");

const ready = redisAvailability();
if (!ready.available) console.warn(ready.reason);
let redis: TestRedis | undefined;
beforeAll(async () => {
  if (ready.available) redis = await startRedis();
});
afterAll(async () => redis?.stop());

const WAITS = "name: waits\nnodes:\n  - { id: wait, type: delay, parameters: { duration: 5m } }\n";

/** Where a run's record and heartbeat are, read and written as another process would. */
interface Store {
  args: string[];
  read(key: string): Promise<string | undefined>;
  write(key: string, text: string): Promise<void>;
  close(): Promise<void>;
}

function filesystemStore(): Store {
  const file = (key: string) => path.join(dir, "data", key);
  return {
    args: ["--data-dir", "data"],
    read: (key) => readFile(file(key), "utf8").catch(() => undefined),
    write: (key, text) => writeFile(file(key), text),
    close: async () => undefined,
  };
}

async function redisStore(): Promise<Store> {
  const namespace = uniqueName("heartbeat");
  const { Redis } = await import("ioredis");
  const client = new Redis(redis!.url);
  return {
    args: ["--storage", "redis", "--redis", redis!.url, "--queue-name", namespace],
    read: async (key) => (await client.get(`${namespace}:v:${key}`)) ?? undefined,
    write: async (key, text) => void (await client.set(`${namespace}:v:${key}`, text)),
    async close() {
      client.disconnect();
      await dropNamespace(redis!.url, namespace);
    },
  };
}

/** Polls `check` until it gives a value (each look is a real read: no clock is asserted on). */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, withinMs = 30_000): Promise<T> {
  const until = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const backends = [
  { name: "filesystem", open: async () => filesystemStore(), skip: false },
  { name: "Redis", open: redisStore, skip: !ready.available },
];

describe.each(backends)("a run on another host, $name storage", ({ open, skip }) => {
  test.skipIf(skip)("is running while its heartbeat goes on, abandoned once it stopped (kill -9); the stored record is left as it was", async () => {
    await writeFile(path.join(dir, "waits.yaml"), WAITS);
    const store = await open();
    try {
      // A short heartbeat (200 ms: stale after 1.2 s) keeps the test short; the default is 10 s.
      const child = execa("node", [BIN, "run", "waits.yaml", "--reporter", "json", ...store.args], { cwd: dir, reject: false, env: { NO_COLOR: "1", CI: "true", ATOMITON_HEARTBEAT: "200ms" }, stdin: "ignore", timeout: 120_000 });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      const runId = await eventually("run:start on stdout", async () => /"type":"run:start","runId":"([^"]+)"/.exec(out)?.[1]);
      const recordKey = `runs/${runId}.json`;
      const beatKey = `runs/${runId}.heartbeat`;
      // The node's start is checkpointed; from then on only the heartbeat says the run is alive.
      const nodeStarted = async () => (JSON.parse((await store.read(recordKey)) ?? "{}") as { nodes?: { wait?: { startedAt?: string } } }).nodes?.wait?.startedAt !== undefined;
      await eventually("the node's start in the record, then a heartbeat", async () => ((await nodeStarted()) && (await store.read(beatKey)) !== undefined ? true : undefined));
      // Make it another host's record, last saved long ago.
      const record = JSON.parse((await store.read(recordKey))!) as Record<string, unknown>;
      expect(record).toMatchObject({ status: "running", heartbeatMs: 200 });
      Object.assign(record, { host: "another-host.example", refreshedAt: "2020-01-01T00:00:00.000Z", startedAt: "2020-01-01T00:00:00.000Z" });
      const rewritten = `${JSON.stringify(record, null, 2)}\n`;
      await store.write(recordKey, rewritten);
      // A heartbeat written after that: the run is alive, whatever its record's age.
      const before = await store.read(beatKey);
      await eventually("a fresh heartbeat", async () => ((await store.read(beatKey)) !== before ? true : undefined));
      const alive = await atomiton(["runs", "--json", ...store.args], { cwd: dir });
      expect(alive.exitCode, alive.stderr).toBe(0);
      expect(JSON.parse(alive.stdout)).toMatchObject([{ runId, status: "running" }]);
      // --resume refuses a run that is still going, on another host too.
      const resume = await atomiton(["run", "waits.yaml", "--resume", runId, "--reporter", "plain", ...store.args], { cwd: dir });
      expect(resume.exitCode, resume.stderr).toBe(2);
      expect(resume.stderr).toContain(`run ${runId} is still running (pid ${String(record.pid)} on another-host.example)`);

      child.kill("SIGKILL");
      await child;
      const listed = await eventually("runs lists it as abandoned", async () => {
        const r = await atomiton(["runs", "--json", ...store.args], { cwd: dir });
        const runs = JSON.parse(r.stdout) as { runId: string; status: string }[];
        return runs[0]?.status === "abandoned" ? runs : undefined;
      });
      expect(listed).toMatchObject([{ runId, status: "abandoned" }]);
      const byStatus = await atomiton(["runs", "--status", "abandoned", "--json", ...store.args], { cwd: dir });
      expect(JSON.parse(byStatus.stdout)).toMatchObject([{ runId }]);
      const shown = await atomiton(["runs", "show", runId, ...store.args], { cwd: dir });
      expect(shown.exitCode, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/abandoned/);
      const replayed = await atomiton(["replay", runId, "--reporter", "plain", ...store.args], { cwd: dir });
      expect(replayed.exitCode).toBe(1);
      expect(replayed.stderr).toContain(`run ${runId} was abandoned: its process died before the run finished`);
      // Readers judge; they do not write: the record is as the test left it.
      expect(await store.read(recordKey)).toBe(rewritten);
    } finally {
      await store.close();
    }
  }, 120_000);
});

test("a run that ends removes its heartbeat; a record without heartbeatMs (an older version) from another host stays running", async () => {
  await writeFile(path.join(dir, "short.yaml"), "name: short\nnodes:\n  - { id: wait, type: delay, parameters: { duration: 1500ms } }\n");
  const r = await atomiton(["run", "short.yaml", "--reporter", "json", "--data-dir", "data"], { cwd: dir, env: { ATOMITON_HEARTBEAT: "200ms" } });
  expect(r.exitCode, r.stderr).toBe(0);
  const runId = (JSON.parse(r.stdout.split("\n")[0]!) as { runId: string }).runId;
  expect(await readFile(path.join(dir, "data/runs", `${runId}.heartbeat`), "utf8").catch(() => "gone")).toBe("gone");
  // An old record: no heartbeat promised, so nothing says its run is dead.
  const file = path.join(dir, "data/runs", `${runId}.json`);
  const record = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  delete record.heartbeatMs;
  Object.assign(record, { status: "running", host: "another-host.example", startedAt: "2020-01-01T00:00:00.000Z", refreshedAt: "2020-01-01T00:00:00.000Z" });
  await writeFile(file, JSON.stringify(record));
  const listed = await atomiton(["runs", "--json", "--data-dir", "data"], { cwd: dir });
  expect(JSON.parse(listed.stdout)).toMatchObject([{ runId, status: "running" }]);
}, 60_000);

test("ATOMITON_HEARTBEAT that is no duration is a usage error, without a stack", async () => {
  await writeFile(path.join(dir, "short.yaml"), "name: short\nnodes:\n  - { id: a, type: code, parameters: { code: 'return 1' } }\n");
  const r = await atomiton(["run", "short.yaml", "--data-dir", "data"], { cwd: dir, env: { ATOMITON_HEARTBEAT: "often" } });
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('E_USAGE ATOMITON_HEARTBEAT: expected a duration of at least 100ms (such as 10s), got "often"');
  expect(r.stderr).not.toMatch(/\n\s+at /);
}, 60_000);
