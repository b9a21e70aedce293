import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { QueueClient } from "../../src/queue/client.js";
import { createStorage } from "../../src/storage/create-storage.js";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";
import { eventually, outcomes, startWorker, submitInBackground, submitMany, tenNodes, type WorkerProcess } from "../helpers/queue.js";
import { dropNamespace, hasRedisServer, redisAvailability, startOwnRedis, startRedis, uniqueName, type TestRedis } from "../helpers/redis.js";
import { startServe, TestClient, type ServeProcess } from "../helpers/serve.js";

const ready = redisAvailability();
if (!ready.available) console.warn(ready.reason);
else if (!hasRedisServer) console.warn("Redis restart tests skipped: they start their own redis-server; install it with `apt-get install redis-server` (Debian/Ubuntu)");

interface RecordLike {
  status: string;
  pid: number;
  nodes?: Record<string, { status: string }>;
}

/** A run of `n` edit-fields nodes in a chain around one `delay` node in the middle. */
function slowChain(delay: string): string {
  return `id: slow\nname: Slow\nnodes:\n  - { id: a, type: edit-fields, parameters: { values: { a: 1 } } }\n  - { id: b, type: edit-fields, parameters: { values: { b: 2 } } }\n  - { id: wait, type: delay, parameters: { duration: ${delay} } }\n  - { id: c, type: edit-fields, parameters: { values: { c: 3 } } }\nedges: [a -> b, b -> wait, wait -> c]\n`;
}

describe.skipIf(!ready.available)("queue mode faults: real workers, real redis-server", () => {
  let redis: TestRedis;
  let dir = "";
  useTempDir((d) => (dir = d), "atomiton-queue-faults-");
  const namespaces: string[] = [];
  const workers: WorkerProcess[] = [];
  const servers: TestRedis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop("SIGKILL")));
    for (const ns of namespaces) await dropNamespace(redis.url, ns);
    await redis.stop();
    for (const s of servers) await s.stop();
  });
  const namespace = (label: string) => {
    const ns = uniqueName(label);
    namespaces.push(ns);
    return ns;
  };
  const worker = async (url: string, ns: string, args: string[] = []) => {
    const w = await startWorker(url, ns, args);
    workers.push(w);
    return w;
  };

  test("2 workers, 500 runs, one worker SIGKILLed halfway: all 500 succeed, one final record each; the interrupted run resumes", { timeout: 240_000 }, async () => {
    const ns = namespace("kill");
    // A short lock: a dead worker's runs are found stalled within about a second.
    const opts = ["--concurrency", "8", "--lock-duration", "2s", "--heartbeat", "500ms"];
    const a = await worker(redis.url, ns, opts);
    const b = await worker(redis.url, ns, opts);
    const client = new QueueClient({ url: redis.url, namespace: ns, timeoutMs: 10_000 });
    await client.connect();
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    try {
      // Five 100 ms delays in each run: a run lasts long enough to be caught mid-way, with a checkpoint.
      const ids = await submitMany(client, tenNodes("100ms"), 500);
      await eventually(async () => (((await client.jobCounts()).completed ?? 0) >= 250 ? true : undefined), 200_000, "250 completed jobs");
      // Kill A while it is mid-way through a run whose checkpoint already holds succeeded nodes.
      const interrupted = await eventually(
        async () => {
          for (const id of ids) {
            const r = (await storage.load(`runs/${id}.json`)) as RecordLike | undefined;
            if (r?.status === "running" && r.pid === a.pid && Object.values(r.nodes ?? {}).filter((n) => n.status === "succeeded").length >= 2) return id;
          }
          return undefined;
        },
        60_000,
        "a run of worker A with a checkpoint mid-way",
      );
      await a.stop("SIGKILL");

      await eventually(async () => ((await client.jobCounts()).completed === 500 ? true : undefined), 200_000, "500 completed jobs");
      const all = await outcomes(storage, ids);
      // None lost, none recorded twice: each run has a final record `succeeded` and one run:finish.
      expect([...all.values()].filter((o) => o.status !== "succeeded" || o.finishes !== 1)).toEqual([]);
      // The interrupted run resumed on B: its log (replaced by the new attempt) shows reused nodes.
      expect(all.get(interrupted)!.reused).toBeGreaterThanOrEqual(2);
      expect(b.log()).toMatch(new RegExp(`run ${interrupted} succeeded \\(resumed: \\d+ node\\(s\\) reused`));
      expect(((await storage.load(`runs/${interrupted}.json`)) as RecordLike).pid).toBe(b.pid);
    } finally {
      await storage.close();
      await client.close();
    }
  });

  test("SIGTERM while node code blocks the engine thread: the thread is stopped after the grace, the run goes back and resumes elsewhere; exit 0, no entry left", { timeout: 120_000 }, async () => {
    const ns = namespace("term-busy");
    // b busy-loops for 20 s (its timeout lifts the sandbox's 5 s limit): the engine thread hears nothing meanwhile,
    // and the submitter sees no event either (they are written after the loop), so the worker's entry says when it runs.
    await writeFile(path.join(dir, "busy.yaml"), 'id: busy\nname: Busy\nnodes:\n  - { id: a, type: edit-fields, parameters: { values: { a: 1 } } }\n  - { id: b, type: code, timeout: 60s, parameters: { code: "if ($env.BUSY === \'1\') { const end = Date.now() + 20000; while (Date.now() < end) {} } return 2" } }\nedges: [a -> b]\n');
    const busy = await startWorker(redis.url, ns, ["--grace", "1s"], { env: { BUSY: "1" } });
    workers.push(busy);
    const submitter = submitInBackground(redis.url, ns, "busy.yaml", dir);
    const inFlight = async () => {
      const listed = await atomiton(["workers", "--redis", redis.url, "--queue", ns, "--json"], { cwd: dir });
      return (JSON.parse(listed.stdout || "[]") as { inFlight: number }[])[0]?.inFlight === 1 ? true : undefined;
    };
    await eventually(inFlight, 30_000, "the run in flight");
    process.kill(busy.pid, "SIGTERM"); // not execa's kill, which SIGKILLs after 5 s
    expect((await busy.proc).exitCode, busy.log()).toBe(0);
    expect(busy.log()).toMatch(/the engine thread did not stop its runs within 2 s \(node code blocking it\); stopping the thread/);
    expect(busy.log()).not.toMatch(/does not answer/);
    const listed = await atomiton(["workers", "--redis", redis.url, "--queue", ns, "--json"], { cwd: dir });
    expect(JSON.parse(listed.stdout)).toEqual([]);
    // Handed back, not stalled: the next worker takes it at once (a runs again: the blocked thread
    // never got to write its checkpoint; node side effects are at-least-once, docs/queue.md).
    await worker(redis.url, ns, []);
    expect((await submitter.child).exitCode, submitter.stderr()).toBe(0);
    expect(submitter.stderr()).toMatch(/its worker was lost or handed it back; another worker resumes it from the last checkpoint[\s\S]*run succeeded in/);
  });

  test("SIGTERM: no new jobs; a run that fits in --grace finishes, one that does not goes back and another worker resumes it; exit 0", { timeout: 120_000 }, async () => {
    const ns = namespace("term");
    await writeFile(path.join(dir, "short.yaml"), slowChain("1500ms"));
    await writeFile(path.join(dir, "long.yaml"), slowChain("6s"));
    const run = (file: string) => submitInBackground(redis.url, ns, file, dir);

    // Finishes within the grace period.
    const a = await worker(redis.url, ns, ["--grace", "30s"]);
    const short = run("short.yaml");
    await eventually(async () => (/wait\s+started/.test(short.stderr()) ? true : undefined), 30_000, "the short run's delay started");
    process.kill(a.pid, "SIGTERM"); // not execa's kill, which SIGKILLs after 5 s
    await a.waitFor(/draining: 1 run\(s\) in flight/);
    // Takes no new job while draining: this one waits for the next worker.
    const queued = run("short.yaml");
    expect((await a.proc).exitCode).toBe(0);
    expect((await short.child).exitCode).toBe(0);
    const queuedId = await eventually(async () => /run (\S+) queued/.exec(queued.stderr())?.[1], 30_000, "second run queued");
    expect(a.log()).not.toContain(queuedId);

    // Does not fit in the grace period: handed back, resumed by the next worker from its checkpoint.
    const b = await worker(redis.url, ns, ["--grace", "1s"]);
    expect((await queued.child).exitCode).toBe(0);
    const long = run("long.yaml");
    await eventually(async () => (/wait\s+started/.test(long.stderr()) ? true : undefined), 30_000, "the long run's delay started");
    process.kill(b.pid, "SIGTERM"); // not execa's kill, which SIGKILLs after 5 s
    expect((await b.proc).exitCode).toBe(0);
    expect(b.log()).toMatch(/grace period over, handing it back to the queue/);
    const longId = /run (\S+) queued/.exec(long.stderr())![1]!;
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    try {
      expect(((await storage.load(`runs/${longId}.json`)) as RecordLike).status).toBe("running");
      await worker(redis.url, ns, []);
      // The submitter follows the run through the hand-back to its end on the next worker.
      expect((await long.child).exitCode).toBe(0);
      expect(long.stderr()).toMatch(/its worker was lost or handed it back; another worker resumes it from the last checkpoint/);
      expect(long.stderr()).toMatch(/run succeeded in/);
      const log = (await storage.loadText(`runs/${longId}.ndjson`)) ?? "";
      expect((log.match(/"reused":true/g) ?? []).length).toBe(2); // a and b, not run again
      expect((log.match(/"type":"run:finish"/g) ?? []).length).toBe(1);
      // The first attempt's events stay, before the second's (a reader that followed them finds them
      // again, in the order it saw them): two run:start, a and b run by the first attempt.
      const types = log.trim().split("\n").map((l) => JSON.parse(l) as { type: string; nodeId?: string; reused?: boolean });
      const starts = types.flatMap((e, i) => (e.type === "run:start" ? [i] : []));
      expect(starts).toHaveLength(2);
      expect(starts[0]).toBe(0);
      expect(types.slice(0, starts[1]).filter((e) => e.type === "node:finish" && !e.reused).map((e) => e.nodeId)).toEqual(["a", "b"]);
      expect(((await storage.load(`runs/${longId}.json`)) as RecordLike).status).toBe("succeeded");
    } finally {
      await storage.close();
    }
  });

  test("a run its worker handed back, with no live worker left: off the queue after --queue-timeout (exit 1, record failed) or at once on Ctrl-C (exit 130, record cancelled); no later worker runs it", { timeout: 120_000 }, async () => {
    const ns = namespace("handback");
    await writeFile(path.join(dir, "long.yaml"), slowChain("20s"));
    const client = new QueueClient({ url: redis.url, namespace: ns, timeoutMs: 10_000 });
    await client.connect();
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    /** Starts a run on a worker of its own, then SIGTERMs that worker: the run goes back to the queue. */
    const handedBack = async (args: string[]) => {
      const w = await worker(redis.url, ns, ["--grace", "1s"]);
      const sub = submitInBackground(redis.url, ns, "long.yaml", dir, args);
      await eventually(async () => (/wait\s+started/.test(sub.stderr()) ? true : undefined), 30_000, "the run's delay started");
      process.kill(w.pid, "SIGTERM"); // not execa's kill, which SIGKILLs after 5 s
      expect((await w.proc).exitCode).toBe(0);
      expect(w.log()).toMatch(/grace period over, handing it back to the queue/);
      const id = /run (\S+) queued/.exec(sub.stderr())![1]!;
      return { sub, id };
    };
    try {
      // No worker takes it within --queue-timeout: the submitter takes it off the queue and ends its record.
      const timedOut = await handedBack(["--queue-timeout", "3s"]);
      const r1 = await timedOut.sub.child;
      expect(r1.exitCode).toBe(1);
      expect(timedOut.sub.stderr()).toMatch(/E_QUEUE_UNAVAILABLE/);
      expect(timedOut.sub.stderr()).toMatch(/the run was taken off the queue: it will not run later/);
      const failed = (await storage.load(`runs/${timedOut.id}.json`)) as RecordLike;
      expect(failed.status).toBe("failed");
      // What its worker did before the hand-back is kept.
      expect(failed.nodes?.a?.status).toBe("succeeded");
      expect(((await storage.loadText(`runs/${timedOut.id}.ndjson`)) ?? "").match(/"type":"run:finish"/g) ?? []).toHaveLength(1);

      // Ctrl-C while it waits for another worker: off the queue at once, exit 130.
      const interrupted = await handedBack([]);
      await eventually(async () => ((await client.jobState(interrupted.id)).state === "waiting" ? true : undefined), 10_000, "the run back in the queue");
      interrupted.sub.child.kill("SIGINT");
      const r2 = await interrupted.sub.child;
      expect(r2.exitCode).toBe(130);
      expect(interrupted.sub.stderr()).toMatch(/taken off the queue while it waited for another worker/);
      expect(((await storage.load(`runs/${interrupted.id}.json`)) as RecordLike).status).toBe("cancelled");

      // Neither runs later: a new worker finds nothing to take.
      const later = await worker(redis.url, ns, []);
      await new Promise((r) => setTimeout(r, 1500));
      expect(later.log()).not.toContain(timedOut.id);
      expect(later.log()).not.toContain(interrupted.id);
      expect((await client.jobCounts()).waiting ?? 0).toBe(0);
    } finally {
      await storage.close();
      await client.close();
    }
  });

  test("a run whose worker dies three times fails, with a final record and one run:finish; its submitter exits 1", { timeout: 120_000 }, async () => {
    const ns = namespace("deaths");
    const opts = ["--lock-duration", "2s", "--heartbeat", "500ms"];
    await writeFile(path.join(dir, "doomed.yaml"), slowChain("60s"));
    let current = await worker(redis.url, ns, opts);
    const submitter = submitInBackground(redis.url, ns, "doomed.yaml", dir, ["--queue-timeout", "60s"]);
    const child = submitter.child;
    for (let death = 1; death <= 3; death++) {
      await eventually(async () => ((submitter.stderr().match(/wait\s+started/g) ?? []).length >= death ? true : undefined), 60_000, `attempt ${death} started`);
      await current.stop("SIGKILL");
      current = await worker(redis.url, ns, opts); // its stalled-job check finds the dead worker's run
    }
    const result = await child;
    expect(result.exitCode, submitter.stderr()).toBe(1);
    expect(submitter.stderr()).toMatch(/failed in the queue: job stalled more than allowable limit/);
    const runId = /run (\S+) queued/.exec(submitter.stderr())![1]!;
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    try {
      expect(await storage.load(`runs/${runId}.json`)).toMatchObject({ status: "failed", error: { code: "E_QUEUE_UNAVAILABLE", message: expect.stringMatching(/stalled more than allowable limit/) } });
      const [outcome] = (await outcomes(storage, [runId])).values();
      expect(outcome).toMatchObject({ status: "failed", finishes: 1 });
    } finally {
      await storage.close();
    }
  });

  describe("the only worker dies mid-run (kill -9): its job stays active under an expired lock, and nothing moves it on", () => {
    test("the submitter does not wait forever: E_QUEUE_UNAVAILABLE after --queue-timeout, the run taken off the queue with a failed record", { timeout: 120_000 }, async () => {
      const ns = namespace("orphan");
      await writeFile(path.join(dir, "orphan.yaml"), slowChain("60s"));
      const w = await worker(redis.url, ns, ["--lock-duration", "2s"]);
      const submitter = submitInBackground(redis.url, ns, "orphan.yaml", dir, ["--queue-timeout", "3s"]);
      await eventually(async () => (/wait\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "the delay started");
      await w.stop("SIGKILL");
      const result = await submitter.child;
      expect(result.exitCode, submitter.stderr()).toBe(1);
      expect(submitter.stderr()).toMatch(/E_QUEUE_UNAVAILABLE .*the worker of run \S+ stopped \(its lock expired\) and no live worker took the run over within 3 s/);
      expect(submitter.stderr()).toMatch(/the run was taken off the queue: it will not run later/);
      const runId = /run (\S+) queued/.exec(submitter.stderr())![1]!;
      const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
      const client = new QueueClient({ url: redis.url, namespace: ns, timeoutMs: 5_000 });
      await client.connect();
      try {
        expect(await storage.load(`runs/${runId}.json`)).toMatchObject({ status: "failed", error: { code: "E_QUEUE_UNAVAILABLE" } });
        const [outcome] = (await outcomes(storage, [runId])).values();
        expect(outcome).toMatchObject({ status: "failed", finishes: 1 });
        expect((await client.jobState(runId)).state).toBe("unknown");
      } finally {
        await client.close();
        await storage.close();
      }
    });

    test("Ctrl-C on the submitter ends it at once (130): nobody would hear the cancel, so the run comes off the queue, cancelled", { timeout: 120_000 }, async () => {
      const ns = namespace("orphan-int");
      await writeFile(path.join(dir, "orphan.yaml"), slowChain("60s"));
      const w = await worker(redis.url, ns, ["--lock-duration", "2s"]);
      const submitter = submitInBackground(redis.url, ns, "orphan.yaml", dir, ["--queue-timeout", "60s"]);
      await eventually(async () => (/wait\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "the delay started");
      await w.stop("SIGKILL");
      await new Promise((r) => setTimeout(r, 2_500)); // the lock expires
      submitter.child.kill("SIGINT");
      const result = await submitter.child;
      expect(result.exitCode, submitter.stderr()).toBe(130);
      expect(submitter.stderr()).toMatch(/cancelled: taken off the queue after its worker stopped \(its lock expired\)/);
      const runId = /run (\S+) queued/.exec(submitter.stderr())![1]!;
      const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
      try {
        const [outcome] = (await outcomes(storage, [runId])).values();
        expect(outcome).toMatchObject({ status: "cancelled", finishes: 1 });
      } finally {
        await storage.close();
      }
    });

    test("serve --redis: SIGTERM ends the server within seconds (130), not waiting for the dead worker", { timeout: 120_000 }, async () => {
      const ns = namespace("orphan-serve");
      await writeFile(path.join(dir, "orphan.yaml"), slowChain("60s"));
      const w = await worker(redis.url, ns, ["--lock-duration", "2s"]);
      const serve = await startServe(["--redis", redis.url, "--queue", ns], { cwd: dir });
      const client = await TestClient.open(serve.url, { token: serve.token });
      try {
        const { runId } = (await client.request("run.start", { path: "orphan.yaml" })) as { runId: string };
        await eventually(async () => (client.events(runId).some((e) => e.event.type === "node:start" && e.event.nodeId === "wait") ? true : undefined), 30_000, "the delay started");
        await w.stop("SIGKILL");
        const stoppedAt = Date.now();
        expect(await serve.stop(), serve.stderr()).toBe(130);
        // The cancel waits 3 s for a worker's answer; it hung for good before.
        expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      } finally {
        client.close();
      }
    });
  });

  describe.skipIf(!hasRedisServer)("redis-server killed and restarted (an own server, never the shared one)", () => {
    test("mid-run restart of a persistent Redis: worker and submitter reconnect, the run succeeds", { timeout: 120_000 }, async () => {
      const own = await startOwnRedis({ persist: true });
      servers.push(own);
      const ns = uniqueName("restart");
      await writeFile(path.join(dir, "mid.yaml"), slowChain("4s"));
      const w = await worker(own.url, ns, ["--lock-duration", "10s"]);
      const submitter = submitInBackground(own.url, ns, "mid.yaml", dir, ["--queue-timeout", "20s"]);
      const child = submitter.child;
      await eventually(async () => (/wait\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "the delay started");
      await own.kill!();
      await new Promise((r) => setTimeout(r, 1_500));
      await own.restart!();
      const result = await child;
      expect(submitter.stderr()).toMatch(/run succeeded in/);
      expect(result.exitCode).toBe(0);
      // The worker saw Redis go and come back, and still takes runs.
      expect(w.log()).toMatch(/reconnecting/);
      const again = await execa("node", [BIN, "run", "mid.yaml", "--set", "wait.duration=10ms", "--reporter", "silent", "--queue", own.url, "--queue-name", ns, "--queue-timeout", "20s"], { cwd: dir, reject: false, env: { NO_COLOR: "1", CI: "true" } });
      expect(again.exitCode).toBe(0);
    });

    test("a paused Redis (SIGSTOP: connected, never answering): the submitter gives up after --queue-timeout instead of waiting for the pause", { timeout: 120_000 }, async () => {
      const own = await startOwnRedis();
      servers.push(own);
      const ns = uniqueName("paused");
      await writeFile(path.join(dir, "paused.yaml"), slowChain("3s"));
      await worker(own.url, ns, ["--lock-duration", "10s"]);
      const submitter = submitInBackground(own.url, ns, "paused.yaml", dir, ["--queue-timeout", "3s"]);
      await eventually(async () => (/wait\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "the delay started");
      own.process!.kill("SIGSTOP");
      const pausedAt = Date.now();
      try {
        const result = await submitter.child;
        expect(result.exitCode, submitter.stderr()).toBe(1);
        expect(submitter.stderr()).toMatch(/E_QUEUE_UNAVAILABLE .*lost Redis for \d+ s while following run \S+ \(no answer within 5 s\)/);
        // It hung for the whole pause before (for good, with a Redis that never comes back).
        expect(Date.now() - pausedAt).toBeLessThan(20_000);
      } finally {
        own.process!.kill("SIGCONT");
      }
    });

    test("Redis away for longer than the lock: the attempt that lost its lock stops before another takes the run; no step runs twice at once, one run:finish, last", { timeout: 120_000 }, async () => {
      const own = await startOwnRedis({ persist: true });
      servers.push(own);
      const ns = uniqueName("locklost");
      const side = path.join(dir, "side.log");
      const step = (id: string) => `  - { id: ${id}, type: shell-command, parameters: { command: "echo ${id}-begin >> '${side}'; sleep 4; echo ${id}-end >> '${side}'" } }`;
      await writeFile(path.join(dir, "steps.yaml"), ["name: steps", "nodes:", step("s1"), step("s2"), step("s3"), "edges: [s1 -> s2, s2 -> s3]", ""].join("\n"));
      // 3 s: a 2 s lock was renewed too late under CI's full load, and the next attempt stalled too.
      const w = await worker(own.url, ns, ["--lock-duration", "3s"]);
      const submitter = submitInBackground(own.url, ns, "steps.yaml", dir, ["--queue-timeout", "30s"]);
      await eventually(async () => (/s2\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "s2 started");
      // Away for longer than the 3 s lock, from the middle of s2 to after s3 began: the attempt's lock
      // expires meanwhile, and it goes on into s3 while the run is taken again from its checkpoint.
      await new Promise((r) => setTimeout(r, 2_000));
      await own.kill!();
      await new Promise((r) => setTimeout(r, 4_500));
      await own.restart!();
      const result = await submitter.child;
      expect(result.exitCode, submitter.stderr()).toBe(0);
      expect(w.log()).toMatch(/its lock expired; this attempt stops and the queue hands the run on/);
      // Steps ran one after another: a step that ended began right before (one stopped with its attempt
      // never ends); two attempts side by side interleave ("s3-begin s2-begin s3-end") or end a step twice.
      // Longer than a step, so that an attempt still going on (the defect) would have written its end.
      await new Promise((r) => setTimeout(r, 5_000));
      const lines = (await readFile(side, "utf8")).trim().split("\n");
      lines.forEach((line, i) => {
        if (line.endsWith("-end")) expect(lines[i - 1], lines.join(" ")).toBe(line.replace("-end", "-begin"));
      });
      // s1's checkpoint was written (every 250 ms on Redis) before Redis went away: it never runs again.
      // s2 ended while Redis was away: whether its checkpoint got through before the lock loss shut the
      // attempt's writes off is a race, so it ends once or twice (at-least-once). s3 ends once: only the
      // new attempt may finish it.
      const ends = (id: string) => lines.filter((l) => l === `${id}-end`).length;
      expect(ends("s1"), lines.join(" ")).toBe(1);
      expect([1, 2], lines.join(" ")).toContain(ends("s2"));
      expect(ends("s3"), lines.join(" ")).toBe(1);
      const runId = /run (\S+) queued/.exec(submitter.stderr())![1]!;
      const storage = createStorage({ type: "redis", url: own.url, prefix: ns });
      try {
        const log = ((await storage.loadText(`runs/${runId}.ndjson`)) ?? "").trim().split("\n");
        expect(log.filter((l) => l.includes('"type":"run:finish"'))).toHaveLength(1);
        expect(log.at(-1)).toContain('"type":"run:finish"');
        expect(((await storage.load(`runs/${runId}.json`)) as RecordLike).status).toBe("succeeded");
      } finally {
        await storage.close();
      }
    });

    test("Redis restarted without its append-only file: the run is gone from the queue, and its submitter says so (exit 1) instead of waiting forever", { timeout: 120_000 }, async () => {
      const own = await startOwnRedis();
      servers.push(own);
      const ns = uniqueName("amnesia");
      await writeFile(path.join(dir, "gone.yaml"), slowChain("60s"));
      await worker(own.url, ns, ["--lock-duration", "2s"]);
      const submitter = submitInBackground(own.url, ns, "gone.yaml", dir, ["--queue-timeout", "20s"]);
      await eventually(async () => (/wait\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "the delay started");
      await own.kill!();
      await own.restart!(); // empty: no append-only file
      const result = await submitter.child;
      expect(result.exitCode, submitter.stderr()).toBe(1);
      expect(submitter.stderr()).toMatch(/E_QUEUE_UNAVAILABLE .*run \S+ is gone from the queue and has no final record \(did Redis restart without its append-only file\?/);
    });

    test("Ctrl-C on the submitter while Redis is gone: 130 once the cancel cannot be sent, not after --queue-timeout", { timeout: 120_000 }, async () => {
      const own = await startOwnRedis();
      servers.push(own);
      const ns = uniqueName("gone-int");
      await writeFile(path.join(dir, "gone.yaml"), slowChain("30s"));
      await worker(own.url, ns, []);
      const submitter = submitInBackground(own.url, ns, "gone.yaml", dir, ["--queue-timeout", "60s"]);
      await eventually(async () => (/wait\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "the delay started");
      await own.kill!();
      const interruptedAt = Date.now();
      submitter.child.kill("SIGINT");
      const result = await submitter.child;
      expect(result.exitCode, submitter.stderr()).toBe(130);
      expect(submitter.stderr()).toMatch(/cannot send the cancel: .*; run \S+ may go on on its worker \(atomiton runs show/);
      // The failing commands' reconnects (about 6 s each), not the 60 s --queue-timeout.
      expect(Date.now() - interruptedAt).toBeLessThan(40_000);
    });

    test("Redis gone for good: the submitter fails with E_QUEUE_UNAVAILABLE after --queue-timeout; a SIGTERMed worker exits 1 after its grace, without hanging", { timeout: 120_000 }, async () => {
      const own = await startOwnRedis();
      servers.push(own);
      const ns = uniqueName("gone");
      await writeFile(path.join(dir, "gone.yaml"), slowChain("30s"));
      const w = await worker(own.url, ns, ["--grace", "2s"]);
      const submitter = submitInBackground(own.url, ns, "gone.yaml", dir, ["--queue-timeout", "3s"]);
      const child = submitter.child;
      await eventually(async () => (/wait\s+started/.test(submitter.stderr()) ? true : undefined), 30_000, "the delay started");
      await own.kill!();
      const killedAt = Date.now();
      const result = await child;
      // Documented: --queue-timeout, plus at most the ~6 s of reconnects of the failing read. It took
      // 16.5 s when the submitter then tried to take the run off the queue and to close through
      // further rounds of reconnects.
      expect(Date.now() - killedAt, submitter.stderr()).toBeLessThan(3_000 + 6_000 + 3_000);
      expect(result.exitCode).toBe(1);
      expect(submitter.stderr()).toMatch(/E_QUEUE_UNAVAILABLE/);
      expect(submitter.stderr()).toMatch(/lost Redis for \d+ s while following run \S+ \(connect ECONNREFUSED [\d.:]+ \((gave up after its reconnects|still reconnecting)\)\)/);
      expect(submitter.stderr()).not.toMatch(/maxRetriesPerRequest/);
      expect(submitter.stderr()).not.toMatch(/\n\s+at /);
      // The worker keeps trying; SIGTERM with Redis gone: exit 1 (documented) after its grace and a
      // bounded wait for Redis, not a hang; its run goes back to the queue once Redis is back.
      process.kill(w.pid, "SIGTERM"); // not execa's kill, which SIGKILLs after 5 s
      expect((await w.proc).exitCode).toBe(1);
      expect(w.log()).toMatch(/cannot close cleanly: Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer; run\(s\) \S+ go back to the queue/);
      expect(w.log()).toMatch(/stopped without reaching Redis/);
    });
  });

  test("serve --redis: a run started over WebSocket is executed by a worker and its events reach the client", { timeout: 60_000 }, async () => {
    const ns = namespace("serve");
    const w = await worker(redis.url, ns);
    await writeFile(path.join(dir, "hello.yaml"), "id: hello\nname: Hello\nnodes:\n  - { id: greet, type: edit-fields, parameters: { values: { hello: '{{ $input.name }}' } } }\n");
    let serve: ServeProcess | undefined;
    let client: TestClient | undefined;
    try {
      serve = await startServe(["--redis", redis.url, "--queue", ns], { cwd: dir });
      client = await TestClient.open(serve.url, { token: serve.token });
      const { runId } = (await client.request("run.start", { path: "hello.yaml", input: { name: "ws" } })) as { runId: string };
      const finish = await client.finished(runId);
      expect(finish.params.event).toMatchObject({ type: "run:finish", status: "succeeded", output: { name: "ws", hello: "ws" } });
      const types = client.events(runId).map((e) => e.event.type as string);
      expect(types[0]).toBe("run:start");
      expect(types).toContain("node:finish");
      expect(client.events(runId).map((e) => e.seq)).toEqual(types.map((_, i) => i));
      // The worker ran it (not the server): its log names the run.
      await w.waitFor(new RegExp(`run ${runId} succeeded`));
    } finally {
      client?.close();
      await serve?.stop();
    }
  });
});
