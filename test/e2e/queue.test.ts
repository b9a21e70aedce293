import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRunId } from "../../src/conductor/create-conductor.js";
import { QueueClient } from "../../src/queue/client.js";
import { createStorage } from "../../src/storage/create-storage.js";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { eventually, outcomes, startWorker, submitInBackground, submitMany, tenNodes, type WorkerProcess } from "../helpers/queue.js";
import { dropNamespace, freePort, redisAvailability, startRedis, uniqueName, type TestRedis } from "../helpers/redis.js";

const ready = redisAvailability();
if (!ready.available) console.warn(ready.reason);

describe.skipIf(!ready.available)("queue mode: run --queue, worker, workers", () => {
  let redis: TestRedis;
  let dir = "";
  useTempDir((d) => (dir = d), "atomiton-queue-");
  const namespaces: string[] = [];
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop("SIGKILL")));
    for (const ns of namespaces) await dropNamespace(redis.url, ns);
    await redis.stop();
  });
  const namespace = (label: string) => {
    const ns = uniqueName(label);
    namespaces.push(ns);
    return ns;
  };
  const worker = async (ns: string, args: string[] = [], cwd?: string) => {
    const w = await startWorker(redis.url, ns, args, cwd ? { cwd } : {});
    workers.push(w);
    return w;
  };
  const run = (ns: string, args: string[]) => atomiton(["run", ...args, "--queue", redis.url, "--queue-name", ns], { cwd: dir, env: { ATOMITON_QUEUE: ns } });

  test("run --queue: a worker runs it; the submitter renders its events, prints its output and exits with its code", async () => {
    const ns = namespace("e2e");
    await worker(ns);
    await writeFile(path.join(dir, "ok.yaml"), "id: ok\nname: Ok\nnodes:\n  - { id: greet, type: edit-fields, parameters: { values: { hello: '{{ $input.name }}' } } }\n");
    const ok = await run(ns, ["ok.yaml", "--reporter", "plain", "--input", "name=queue"]);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ name: "queue", hello: "queue" });
    expect(ok.stderr).toMatch(/run Ok started · 1 node/);
    expect(ok.stderr).toMatch(/greet\s+succeeded/);
    expect(ok.stderr).toMatch(/run \S+ queued on redis:\/\/127\.0\.0\.1:\d+ \(queue /);

    await writeFile(path.join(dir, "bad.yaml"), "id: bad\nname: Bad\nnodes:\n  - { id: boom, type: code, parameters: { code: 'throw new Error(\"nope\")' } }\n");
    const failed = await run(ns, ["bad.yaml", "--reporter", "json"]);
    expect(failed.exitCode).toBe(1);
    const events = failed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; status?: string });
    expect(events[0]!.type).toBe("run:start");
    expect(events.at(-1)).toMatchObject({ type: "run:finish", status: "failed" });

    // The records live in Redis: `runs --storage redis` lists both.
    const listed = await atomiton(["runs", "--storage", "redis", "--redis", redis.url, "--json"], { cwd: dir, env: { ATOMITON_QUEUE: ns } });
    expect(listed.exitCode).toBe(0);
    expect((JSON.parse(listed.stdout) as { status: string }[]).map((r) => r.status).sort()).toEqual(["failed", "succeeded"]);
  });

  test("a worker reuses a composite it has loaded only for the same text and overrides", async () => {
    // The engine thread keeps loaded composites by request; a changed file or --set must not get
    // the earlier one, and runs of the same one must not leak into each other.
    const ns = namespace("reuse");
    await worker(ns);
    const file = path.join(dir, "same.yaml");
    const text = (v: string) => `id: same\nname: Same\nnodes:\n  - { id: pick, type: edit-fields, parameters: { values: { v: ${v}, seen: "{{ $input.n }}" } } }\n`;
    await writeFile(file, text("one"));
    const outputs = async (args: string[]) => {
      const r = await run(ns, ["same.yaml", "--reporter", "silent", ...args]);
      expect(r.exitCode, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    expect(await outputs(["--input", "n=1"])).toMatchObject({ v: "one", seen: 1 });
    expect(await outputs(["--input", "n=2"])).toMatchObject({ v: "one", seen: 2 });
    expect(await outputs(["--input", "n=3", "--set", "pick.values.v=three"])).toMatchObject({ v: "three", seen: 3 });
    expect(await outputs(["--input", "n=4"])).toMatchObject({ v: "one", seen: 4 });
    await writeFile(file, text("two"));
    expect(await outputs(["--input", "n=5"])).toMatchObject({ v: "two", seen: 5 });

    // Text sent without its ref: files (as a protocol client may): the ref resolves in the worker's
    // workdir, and a change to that file is seen by the next run.
    const refWorkerDir = path.join(dir, "ref-worker");
    await mkdir(refWorkerDir);
    const refNs = namespace("reuse-ref");
    await worker(refNs, [], refWorkerDir);
    const part = (v: string) => `name: part\nnodes:\n  - { id: set, type: edit-fields, parameters: { values: { v: ${v} } } }\n`;
    const client = new QueueClient({ url: redis.url, namespace: refNs, timeoutMs: 10_000 });
    await client.connect();
    const storage = createStorage({ type: "redis", url: redis.url, prefix: refNs });
    try {
      const runOnce = async () => {
        const runId = createRunId();
        const request = { text: "id: whole\nname: Whole\nnodes:\n  - { id: inner, type: group, ref: part.yaml }\n", file: "whole.yaml" };
        await client.submit({ runId, request, nodeTypes: ["edit-fields", "group"], composite: { id: "whole", name: "Whole" }, submittedAt: Date.now(), submitter: "test" });
        const record = await eventually(async () => {
          const r = (await storage.load(`runs/${runId}.json`)) as { status: string; output?: unknown } | undefined;
          return r && r.status !== "running" ? r : undefined;
        }, 20_000, `run ${runId} finished`);
        expect(record.status).toBe("succeeded");
        return record.output;
      };
      await writeFile(path.join(refWorkerDir, "part.yaml"), part("first"));
      expect(await runOnce()).toMatchObject({ v: "first" });
      await writeFile(path.join(refWorkerDir, "part.yaml"), part("second"));
      expect(await runOnce()).toMatchObject({ v: "second" });
    } finally {
      await storage.close();
      await client.close();
    }
  });

  test("an invalid composite is exit 2 and nothing is queued", async () => {
    const ns = namespace("invalid");
    await writeFile(path.join(dir, "broken.yaml"), "id: broken\nnodes:\n  - { id: a, type: nope }\n");
    const r = await run(ns, ["broken.yaml", "--reporter", "plain"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/E_UNKNOWN_TYPE/);
    expect(r.stderr).toMatch(/nothing was queued/);
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    expect(await storage.list()).toEqual([]);
    await storage.close();
  });

  test("Ctrl-C cancels the run on its worker: exit 130, the record says cancelled", async () => {
    const ns = namespace("cancel");
    await worker(ns);
    await writeFile(path.join(dir, "slow.yaml"), "id: slow\nname: Slow\nnodes:\n  - { id: wait, type: delay, parameters: { duration: 60s } }\n");
    const submitter = submitInBackground(redis.url, ns, "slow.yaml", dir);
    const child = submitter.child;
    await eventually(async () => (/wait\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "the node started");
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(submitter.stderr()).toMatch(/SIGINT received: cancelling run \S+ \(/);
    expect(submitter.stderr()).toMatch(/run cancelled/);
    const runId = /run (\S+) queued/.exec(submitter.stderr())![1]!;
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    expect(await storage.load(`runs/${runId}.json`)).toMatchObject({ status: "cancelled" });
    await storage.close();
  });

  test("a job naming a node type the worker lacks fails with E_UNKNOWN_TYPE; the worker stays up", async () => {
    const ns = namespace("unknown");
    const w = await worker(ns);
    await writeFile(
      path.join(dir, "shout.ts"),
      `import { z } from "zod";
import { defineNode } from "atomiton";
export default defineNode({
  type: "shout", title: "Shout", description: "Upper case", category: "test",
  parameters: z.object({}), inputs: [{ id: "input" }], outputs: [{ id: "output" }],
  execute: ({ input }) => String(input).toUpperCase(),
});
`,
    );
    await writeFile(path.join(dir, "custom.yaml"), "id: custom\nname: Custom\nnodes:\n  - { id: s, type: shout }\n");
    const r = await atomiton(["run", "custom.yaml", "--nodes", "./shout.ts", "--reporter", "plain", "--queue", redis.url, "--queue-name", ns], { cwd: dir });
    expect(r.stderr).toMatch(/E_UNKNOWN_TYPE/);
    expect(r.stderr).toMatch(/has no node type "shout"/);
    expect(r.exitCode).toBe(1);
    await w.waitFor(/refused: E_UNKNOWN_TYPE/);
    expect(w.proc.exitCode).toBeNull();
    await writeFile(path.join(dir, "ok.yaml"), "id: ok\nname: Ok\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { after: true } } }\n");
    const next = await run(ns, ["ok.yaml", "--reporter", "plain"]);
    expect(next.exitCode).toBe(0);
    expect(JSON.parse(next.stdout)).toEqual({ after: true });
  });

  test("no Redis, or no live worker: E_QUEUE_UNAVAILABLE after --queue-timeout, saying why", async () => {
    await writeFile(path.join(dir, "ok.yaml"), "id: ok\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { a: 1 } } }\n");
    const port = await freePort();
    const noRedis = await atomiton(["run", "ok.yaml", "--queue", `redis://127.0.0.1:${port}`, "--queue-timeout", "2s"], { cwd: dir });
    expect(noRedis.exitCode).toBe(1);
    expect(noRedis.stderr).toMatch(/E_QUEUE_UNAVAILABLE/);
    expect(noRedis.stderr).toMatch(new RegExp(`queue unavailable at redis://127\\.0\\.0\\.1:${port}: cannot reach Redis`));
    expect(noRedis.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // Given time for its reconnects, the reason is the connection's (not ioredis' "max retries" option).
    for (const argv of [["run", "ok.yaml", "--queue", `redis://127.0.0.1:${port}`, "--queue-timeout", "20s"], ["workers", "--redis", `redis://127.0.0.1:${port}`]]) {
      const refused = await atomiton(argv, { cwd: dir });
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/cannot reach Redis \(connect ECONNREFUSED 127\.0\.0\.1:\d+ \(gave up after its reconnects\)\)/);
      expect(refused.stderr).not.toMatch(/maxRetriesPerRequest/);
    }

    const ns = namespace("noworker");
    const noWorker = await run(ns, ["ok.yaml", "--queue-timeout", "2s"]);
    expect(noWorker.exitCode).toBe(1);
    expect(noWorker.stderr).toMatch(/E_QUEUE_UNAVAILABLE/);
    expect(noWorker.stderr).toMatch(/no live worker took run \S+ within 2 s/);
    // Taken off the queue with a record saying why: a worker started later does not run it unseen.
    expect(noWorker.stderr).toMatch(/the run was taken off the queue: it will not run later/);
    const runId = /run (\S+) queued/.exec(noWorker.stderr)![1]!;
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    expect(await storage.load(`runs/${runId}.json`)).toMatchObject({ status: "failed", error: { code: "E_QUEUE_UNAVAILABLE" } });
    await storage.close();
    await worker(ns);
    const later = await run(ns, ["ok.yaml", "--reporter", "silent"]);
    expect(later.exitCode).toBe(0);
    const shown = await atomiton(["runs", "show", runId, "--storage", "redis", "--redis", redis.url, "--json"], { cwd: dir, env: { ATOMITON_QUEUE: ns } });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ runId, status: "failed", counts: { succeeded: 0 } });
  });

  test("a run taken off the queue before any worker ran it keeps its secrets out of its record", async () => {
    const ns = namespace("noworker-secret");
    await writeFile(path.join(dir, "sec.yaml"), 'name: sec\nsecrets: [MY_QUEUE_TOKEN]\nvariables: { tok: { type: string, default: none } }\nnodes:\n  - { id: a, type: edit-fields, parameters: { values: { v: "{{ $vars.tok }}" } } }\n');
    const secret = "queue-Secret-8642";
    const r = await atomiton(["run", "sec.yaml", "--queue", redis.url, "--queue-name", ns, "--queue-timeout", "2s", "--var", `tok=${secret}`, "--input", JSON.stringify({ k: secret, plain: "kept" })], { cwd: dir, env: { MY_QUEUE_TOKEN: secret } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/the run was taken off the queue/);
    const runId = /run (\S+) queued/.exec(r.stderr)![1]!;
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    try {
      const text = (await storage.loadText(`runs/${runId}.json`))!;
      expect(text).not.toContain(secret);
      expect(JSON.parse(text)).toMatchObject({ status: "failed", vars: { tok: "***" }, input: { k: "***", plain: "kept" }, redacted: ["input", "vars"] });
      expect(await storage.loadText(`runs/${runId}.ndjson`)).not.toContain(secret);
    } finally {
      await storage.close();
    }
  });

  test("Ctrl-C before any worker took the run: taken off the queue at once, exit 130, the record says cancelled", async () => {
    const ns = namespace("withdraw");
    await writeFile(path.join(dir, "ok.yaml"), "id: ok\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { a: 1 } } }\n");
    const submitter = submitInBackground(redis.url, ns, "ok.yaml", dir);
    const child = submitter.child;
    const runId = await eventually(async () => /run (\S+) queued on/.exec(submitter.stderr())?.[1], 20_000, "the run queued");
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(submitter.stderr()).toMatch(/taken off the queue before any worker started it/);
    // No worker had it: the first line does not say it is cancelled "on its worker".
    expect(submitter.stderr()).toContain(`SIGINT received: cancelling run ${runId} (press Ctrl-C again to exit at once)\n`);
    // `runs show` with the storage flags after the subcommand reads Redis (they used to fall back to the filesystem).
    const shown = await atomiton(["runs", "show", runId, "--storage", "redis", "--redis", redis.url, "--json"], { cwd: dir, env: { ATOMITON_QUEUE: ns } });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ runId, status: "cancelled", error: { code: "E_CANCELLED" } });
    // A worker started now finds nothing to run.
    const w = await worker(ns);
    await new Promise((r) => setTimeout(r, 500));
    expect(w.log()).not.toContain(runId);
  });

  test("flags a worker would ignore (--dry-run, --pin, …) are a usage error with --queue: nothing is queued; --var is checked first", async () => {
    const ns = namespace("flags");
    await writeFile(path.join(dir, "typed.yaml"), "id: typed\nvariables:\n  n: { type: number, default: 1 }\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { n: '{{ $vars.n }}' } } }\n");
    for (const [args, pattern] of [
      [["--dry-run"], /--dry-run does not work with --queue/],
      [["--pin", "v=1", "--storage", "memory"], /--pin, --storage do not work with --queue/],
      [["--var", "n=abc"], /variable "n" is declared as number/],
      [["--var", "nn=3"], /did you mean "n"/],
    ] as const) {
      const r = await run(ns, ["typed.yaml", ...args, "--queue-timeout", "2s"]);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/queued on/);
    }
    const client = new QueueClient({ url: redis.url, namespace: ns, timeoutMs: 10_000 });
    await client.connect();
    expect(Object.values(await client.jobCounts()).reduce((a, b) => a + b, 0)).toBe(0);
    await client.close();
  });

  test("workers lists live workers with heartbeat, runs in flight, last run and health", async () => {
    const ns = namespace("workers");
    const w = await worker(ns, ["--concurrency", "3"]);
    await writeFile(path.join(dir, "ok.yaml"), "id: ok\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { a: 1 } } }\n");
    const r = await run(ns, ["ok.yaml", "--reporter", "silent"]);
    expect(r.exitCode).toBe(0);
    const listed = await atomiton(["workers", "--redis", redis.url, "--queue", ns, "--json"]);
    expect(listed.exitCode).toBe(0);
    const [info] = JSON.parse(listed.stdout) as { id: string; pid: number; concurrency: number; inFlight: number; lastJob: string; healthy: boolean }[];
    expect(info).toMatchObject({ pid: w.pid, concurrency: 3, inFlight: 0, healthy: true });
    expect(info!.lastJob).toMatch(/^\d{8}T\d{6}-[0-9a-f]{6}$/);
    const table = await atomiton(["workers", "--redis", redis.url, "--queue", ns]);
    expect(table.stdout).toMatch(/WORKER\s+HEALTH\s+RUNS/);
    expect(table.stdout).toContain(info!.id);
    expect(table.stdout).toMatch(/healthy\s+0\/3/);

    // A stopped worker leaves the list; no worker at all is exit 1.
    expect(await w.stop()).toBe(0);
    const none = await atomiton(["workers", "--redis", redis.url, "--queue", ns]);
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toMatch(/no live workers/);
  });

  test("a cancel requested while the run waits: it ends cancelled before starting, and its cancel key goes; other runs leave none", async () => {
    const ns = namespace("cancel-waiting");
    const client = new QueueClient({ url: redis.url, namespace: ns, timeoutMs: 10_000 });
    await client.connect();
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    const { Redis } = await import("ioredis");
    const raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      // No worker yet: the publish reaches nobody, the key waits for the worker that takes the job.
      const [cancelled] = await submitMany(client, tenNodes(), 1);
      await client.cancel(cancelled!);
      expect(await raw.exists(`${ns}:cancel:${cancelled}`)).toBe(1);
      await worker(ns);
      const record = await eventually(async () => {
        const r = (await storage.load(`runs/${cancelled}.json`)) as { status: string; error?: { message: string } } | undefined;
        return r && r.status !== "running" ? r : undefined;
      }, 30_000, "the cancelled run's final record");
      expect(record).toMatchObject({ status: "cancelled", error: { message: expect.stringMatching(/before it started/) } });
      await eventually(async () => ((await raw.exists(`${ns}:cancel:${cancelled}`)) === 0 ? true : undefined), 10_000, "the cancel key removed");
      // Runs nobody cancelled leave no cancel key behind.
      const ids = await submitMany(client, tenNodes(), 5);
      await eventually(async () => (((await client.jobCounts()).completed ?? 0) >= 6 ? true : undefined), 30_000, "6 completed jobs");
      expect([...(await outcomes(storage, ids)).values()].map((o) => o.status)).toEqual(Array(5).fill("succeeded"));
      expect(await raw.keys(`${ns}:cancel:*`)).toEqual([]);
    } finally {
      raw.disconnect();
      await storage.close();
      await client.close();
    }
  });

  test("a run done on its worker whose run:finish never reached the stream: the submitter ends with the record's outcome, not a hang", async () => {
    // Lines lost from the stream (the worker's writes gave up while Redis was away) are made here by
    // deleting the entry that holds run:finish while the submitter is stopped, then letting it go on.
    const ns = namespace("lost-finish");
    await worker(ns);
    // The wait keeps run:finish for after the SIGSTOP below: a 5 ms run could be read whole before it,
    // and under CI's load the test saw the "queued" line over a second late (a 1 s wait lost that race).
    await writeFile(path.join(dir, "lost.yaml"), "id: lost\nname: Lost\nnodes:\n  - { id: wait, type: delay, parameters: { duration: 4s } }\n  - { id: a, type: edit-fields, parameters: { values: { x: 1 } } }\nedges: [wait -> a]\n");
    const submitter = submitInBackground(redis.url, ns, "lost.yaml", dir);
    const child = submitter.child;
    const runId = await eventually(async () => /run (\S+) queued on/.exec(submitter.stderr())?.[1], 20_000, "the run queued");
    process.kill(child.pid!, "SIGSTOP");
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    const { Redis } = await import("ioredis");
    const raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await eventually(async () => (((await storage.load(`runs/${runId}.json`)) as { status: string } | undefined)?.status === "succeeded" ? true : undefined), 20_000, "the run's final record");
      const stream = `${ns}:s:runs/${runId}.ndjson`;
      const entries = (await raw.xrange(stream, "-", "+")) as [string, string[]][];
      const withFinish = entries.filter(([, fields]) => fields.some((f) => f.includes('"type":"run:finish"')));
      expect(withFinish).toHaveLength(1);
      await raw.xdel(stream, withFinish[0]![0]);
    } finally {
      process.kill(child.pid!, "SIGCONT");
      raw.disconnect();
      await storage.close();
    }
    const result = await child;
    expect(result.exitCode, submitter.stderr()).toBe(0);
    expect(submitter.stderr()).toMatch(/events were lost from its stream/);
    expect(submitter.stderr()).toMatch(/run succeeded/);
    expect(JSON.parse(submitter.stdout())).toEqual({ x: 1 });
  });

  test("2 workers, 500 runs of a 10-node composite: every run succeeds, with exactly one final record each", { timeout: 240_000 }, async () => {
    const ns = namespace("load");
    const [a, b] = [await worker(ns, ["--concurrency", "8"]), await worker(ns, ["--concurrency", "8"])];
    const client = new QueueClient({ url: redis.url, namespace: ns, timeoutMs: 10_000 });
    await client.connect();
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    try {
      const ids = await submitMany(client, tenNodes(), 500);
      await eventually(async () => ((await client.jobCounts()).completed === 500 ? true : undefined), 200_000, "500 completed jobs");
      const all = await outcomes(storage, ids);
      expect([...all.values()].filter((o) => o.status !== "succeeded" || o.finishes !== 1)).toEqual([]);
      // Both workers took runs, and no run was executed by both.
      const ranOn = (w: WorkerProcess) => new Set([...w.log().matchAll(/run (\S+) succeeded/g)].map((m) => m[1]));
      const [onA, onB] = [ranOn(a!), ranOn(b!)];
      expect(onA.size).toBeGreaterThan(0);
      expect(onB.size).toBeGreaterThan(0);
      expect(onA.size + onB.size).toBe(500);
      expect([...onA].filter((id) => onB.has(id))).toEqual([]);
    } finally {
      await storage.close();
      await client.close();
    }
  });
});
