import { access, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { dropNamespace, freePort, redisAvailability, startRedis, uniqueName, type TestRedis } from "../helpers/redis.js";

const ready = redisAvailability();
if (!ready.available) console.warn(ready.reason);

/** A user error: its code, one message line and a hint, never the "bug" text or a stack. */
function expectUserError(stderr: string, code: string): void {
  expect(stderr).toMatch(new RegExp(`✖ ${code} `));
  expect(stderr).not.toMatch(/internal error|TypeError/);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe("queue mode: Redis URLs are checked before anything starts", () => {
  let dir = "";
  useTempDir((d) => (dir = d), "atomiton-queue-urls-");
  const flow = async () => {
    await writeFile(path.join(dir, "ok.yaml"), "id: ok\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { a: 1 } } }\n");
    return "ok.yaml";
  };
  // Each way a command takes a Redis URL: --redis, run's --queue, ATOMITON_REDIS_URL.
  const commands = [
    { name: "worker --redis", args: (url: string) => ["worker", "--redis", url, "--queue", uniqueName("url")], env: {} },
    { name: "worker with ATOMITON_REDIS_URL", args: () => ["worker", "--queue", uniqueName("url")], env: (url: string) => ({ ATOMITON_REDIS_URL: url }) },
    { name: "workers --redis", args: (url: string) => ["workers", "--redis", url], env: {} },
    { name: "run --queue", args: (url: string) => ["run", "ok.yaml", "--queue", url, "--queue-timeout", "5s"], env: {} },
    { name: "runs --storage redis --redis", args: (url: string) => ["runs", "--storage", "redis", "--redis", url], env: {} },
  ];
  const envOf = (c: (typeof commands)[number], url: string) => (typeof c.env === "function" ? c.env(url) : c.env);

  const invalid = [
    { url: "redis://127.0.0.1:99999", says: /port 99999 is not from 1 to 65535/ },
    { url: "redis://[::1:6390", says: /not a valid URL/ },
    { url: "redis://127.0.0.1:6379/db1", says: /the path must be a database number/ },
  ];
  test.each(commands.flatMap((c) => invalid.map((i) => ({ ...i, command: c, label: `${c.name} ${i.url}` }))))("$label: E_USAGE naming the URL, exit 2, and the process ends", async ({ url, says, command }) => {
    await flow();
    const r = await atomiton(command.args(url), { cwd: dir, env: envOf(command, url), timeout: 20_000 });
    expect(r.exitCode, r.stderr).toBe(2);
    expectUserError(r.stderr, "E_USAGE");
    expect(r.stderr).toContain(url);
    expect(r.stderr).toMatch(says);
  });

  test("run --queue given a queue name (worker's --queue takes one) says where the name goes", async () => {
    await flow();
    const r = await atomiton(["run", "ok.yaml", "--queue", "nightly"], { cwd: dir, timeout: 20_000 });
    expect(r.exitCode, r.stderr).toBe(2);
    expectUserError(r.stderr, "E_USAGE");
    expect(r.stderr).toMatch(/hint: for example --queue redis:\/\/127\.0\.0\.1:6379; the queue's name goes in --queue-name nightly/);
  });

  test("a queue name that is not one is a usage error naming where it came from, on every command, before Redis is asked (worker took it, run --queue queued its run first)", async () => {
    await flow();
    const url = "redis://127.0.0.1:1"; // nothing listens there: a command that went to Redis would fail otherwise
    // `--queue-name`, the spelling of run, runs and replay, works on workers and worker too.
    const cases = [
      { argv: ["workers", "--redis", url, "--queue", "bad name"], source: "--queue" },
      { argv: ["workers", "--redis", url, "--queue-name", "bad name"], source: "--queue-name" },
      { argv: ["worker", "--redis", url, "--queue", "bad name"], source: "--queue" },
      { argv: ["serve", "--port", "0", "--redis", url, "--queue", "bad name"], source: "--queue" },
      { argv: ["run", "ok.yaml", "--queue", url, "--queue-name", "bad name"], source: "--queue-name" },
      { argv: ["runs", "--storage", "redis", "--redis", url, "--queue-name", "bad name"], source: "--queue-name" },
      { argv: ["worker", "--redis", url], env: { ATOMITON_QUEUE: "bad name" }, source: "ATOMITON_QUEUE" },
      { argv: ["run", "ok.yaml", "--queue", url], env: { ATOMITON_QUEUE: "bad name" }, source: "ATOMITON_QUEUE" },
    ];
    for (const { argv, env, source } of cases) {
      const r = await atomiton(argv, { cwd: dir, env: env ?? {}, timeout: 20_000 });
      expect(r.exitCode, `${argv.join(" ")}\n${r.stderr}`).toBe(2);
      expectUserError(r.stderr, "E_USAGE");
      expect(r.stderr).toContain(`E_USAGE ${source}: "bad name" is not a queue name`);
      expect(r.stderr).toContain('hint: use letters, digits, "_", "." and "-", with ":" between parts');
    }
  });

  test("a worker whose Redis does not answer gives up within seconds: E_QUEUE_UNAVAILABLE with the URL (password hidden), exit 1, nothing left running", async () => {
    const port = await freePort(); // nobody listens there
    const started = Date.now();
    const r = await atomiton(["worker", "--redis", `redis://:s3cret@127.0.0.1:${port}`, "--queue", uniqueName("dead")], { cwd: dir, timeout: 25_000 });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expectUserError(r.stderr, "E_QUEUE_UNAVAILABLE");
    expect(r.stderr).toContain(`cannot reach Redis at redis://:***@127.0.0.1:${port}: connect ECONNREFUSED`);
    expect(r.stderr).not.toContain("s3cret");
    expect(r.stderr).toMatch(/hint: start redis-server, or check --redis/);
    expect(r.stderr).not.toMatch(/taking runs/);
  });
});

describe.skipIf(!ready.available)("queue mode: a database the server lacks, and where things are", () => {
  let redis: TestRedis;
  let missingDb = 0;
  let dir = "";
  useTempDir((d) => (dir = d), "atomiton-queue-urls-");
  const namespaces: string[] = [];
  const namespace = (label: string) => {
    const ns = uniqueName(label);
    namespaces.push(ns);
    return ns;
  };
  beforeAll(async () => {
    redis = await startRedis();
    const { Redis } = await import("ioredis");
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    // The first index past the server's `databases` setting (16 by default).
    const [, count] = (await client.config("GET", "databases")) as [string, string];
    missingDb = Number(count);
    client.disconnect();
  });
  afterAll(async () => {
    for (const ns of namespaces) await dropNamespace(redis.url, ns);
    await redis?.stop();
  });

  test.each([
    { name: "worker", code: "E_QUEUE_UNAVAILABLE", args: (url: string, ns: string) => ["worker", "--redis", url, "--queue", ns] },
    { name: "workers", code: "E_QUEUE_UNAVAILABLE", args: (url: string, ns: string) => ["workers", "--redis", url, "--queue", ns] },
    { name: "run --queue", code: "E_QUEUE_UNAVAILABLE", args: (url: string, ns: string) => ["run", "ok.yaml", "--queue", url, "--queue-name", ns, "--queue-timeout", "5s"] },
    { name: "runs --storage redis", code: "E_STORAGE", args: (url: string, ns: string) => ["runs", "--storage", "redis", "--redis", url, "--queue-name", ns] },
    { name: "composites add --storage redis", code: "E_STORAGE", args: (url: string, ns: string) => ["composites", "add", "ok.yaml", "--storage", "redis", "--redis", url, "--queue-name", ns] },
  ])("$name on a database the server lacks: $code with Redis' reason, exit 1, nothing written to database 0", async ({ code, args }) => {
    await writeFile(path.join(dir, "ok.yaml"), "id: ok\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { a: 1 } } }\n");
    const ns = namespace("db");
    const url = `${redis.url}/${missingDb}`;
    const r = await atomiton(args(url, ns), { cwd: dir, timeout: 25_000 });
    expect(r.exitCode, r.stderr).toBe(1);
    expectUserError(r.stderr, code);
    expect(r.stderr).toContain(`database ${missingDb} of the URL cannot be selected (ERR DB index is out of range`);
    const { Redis } = await import("ioredis");
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await client.keys(`${ns}:*`)).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  test("run --storage redis on a database the server lacks: E_STORAGE before any node runs (no side effect)", async () => {
    await writeFile(path.join(dir, "touch.yaml"), "id: touch\nnodes:\n  - { id: t, type: shell-command, parameters: { command: 'echo hit > touched.txt' } }\n");
    const r = await atomiton(["run", "touch.yaml", "--storage", "redis", "--redis", `${redis.url}/${missingDb}`, "--queue-name", namespace("db-run")], { cwd: dir, timeout: 25_000 });
    expect(r.exitCode, r.stderr).toBe(1);
    expectUserError(r.stderr, "E_STORAGE");
    expect(r.stderr).toContain(`database ${missingDb} of the URL cannot be selected`);
    await expect(access(path.join(dir, "touched.txt"))).rejects.toThrow();
    // The same run on a database that exists saves its record there and says where.
    const ok = await atomiton(["run", "touch.yaml", "--storage", "redis", "--redis", redis.url, "--queue-name", namespace("db-run-ok")], { cwd: dir, timeout: 25_000 });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/saved to key "runs\/\S+\.json" in redis:\/\/127\.0\.0\.1:\d+ \(prefix /);
  });

  test("messages print a Redis location intact; --queue-name picks the namespace of runs and composites", async () => {
    await writeFile(path.join(dir, "ok.yaml"), "id: ok\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { a: 1 } } }\n");
    const ns = namespace("where");
    const store = ["--storage", "redis", "--redis", redis.url];
    const none = await atomiton(["runs", ...store, "--queue-name", ns, "--status", "running"], { cwd: dir });
    expect(none.exitCode, none.stderr).toBe(0);
    expect(none.stdout).toBe(`no running runs in ${redis.url} (prefix ${ns})`);

    const added = await atomiton(["composites", "add", "ok.yaml", ...store, "--queue-name", ns], { cwd: dir });
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain(`stored ok (key "composites/ok.yaml" in ${redis.url} (prefix ${ns}))`);
    // The same namespace by flag or by ATOMITON_QUEUE; another one does not see it.
    const byFlag = await atomiton(["composites", "list", ...store, "--queue-name", ns], { cwd: dir });
    const byEnv = await atomiton(["composites", "list", ...store], { cwd: dir, env: { ATOMITON_QUEUE: ns } });
    const other = await atomiton(["composites", "list", ...store, "--queue-name", namespace("other")], { cwd: dir, env: { ATOMITON_QUEUE: ns } });
    expect(byFlag.stdout).toMatch(/^ok\s+1$/m);
    expect(byEnv.stdout).toMatch(/^ok\s+1$/m);
    expect(other.stdout).toMatch(/^no stored composites/);

    const missing = await atomiton(["runs", "show", "nosuchrun", ...store, "--queue-name", ns], { cwd: dir });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`no run "nosuchrun" in ${redis.url} (prefix ${ns})`);
    const stats = await atomiton(["runs", "stats", "nosuch", ...store, "--queue-name", ns], { cwd: dir });
    expect(stats.stderr).toContain(`no ended runs of "nosuch" in ${redis.url} (prefix ${ns})`);
  });
});
