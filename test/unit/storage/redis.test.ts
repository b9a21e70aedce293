import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createConductor } from "../../../src/conductor/create-conductor.js";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createStorage } from "../../../src/storage/create-storage.js";
import { redisKeys } from "../../../src/storage/redis.js";
import { dropNamespace, freePort, redisAvailability, startRedis, uniqueName, type TestRedis } from "../../helpers/redis.js";

const ready = redisAvailability();
if (!ready.available) console.warn(ready.reason);

describe.skipIf(!ready.available)("redis storage", () => {
  let redis: TestRedis;
  let raw: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    for (const p of prefixes) await dropNamespace(redis.url, p);
    raw.disconnect();
    await redis.stop();
  });
  const fresh = () => {
    const prefix = uniqueName("redis");
    prefixes.push(prefix);
    return { prefix, storage: createStorage({ type: "redis", url: redis.url, prefix }) };
  };

  test("records are strings, event logs are streams (one entry per append, the replacing write marked)", async () => {
    const { prefix, storage } = fresh();
    await storage.save("runs/r1.json", { status: "running" });
    await storage.saveText("runs/r1.ndjson", '{"type":"run:start"}\n');
    await storage.appendLines("runs/r1.ndjson", ['{"type":"node:start"}', '{"type":"node:finish"}']);
    const keys = redisKeys(prefix);
    expect(await raw.type(keys.value("runs/r1.json"))).toBe("string");
    expect(await raw.type(keys.stream("runs/r1.ndjson"))).toBe("stream");
    const entries = await raw.xrange(keys.stream("runs/r1.ndjson"), "-", "+");
    expect(entries.map(([, fields]) => fields)).toEqual([
      ["r", "1", "d", '{"type":"run:start"}\n'],
      ["d", '{"type":"node:start"}\n{"type":"node:finish"}\n'],
    ]);
    expect(await storage.list("runs/")).toEqual(["runs/r1.json", "runs/r1.ndjson"]);
    expect(storage.followable).toBe(true);
    expect(storage.location).toContain(prefix);
    await storage.close();
  });

  test("writes issued without waiting land in the order issued (the storage says it is ordered)", async () => {
    const { prefix, storage } = fresh();
    expect(storage.ordered).toBe(true);
    const writes: Promise<unknown>[] = [storage.saveText("runs/o.ndjson", "line 0\n")];
    for (let i = 1; i <= 50; i++) writes.push(storage.appendLines("runs/o.ndjson", [`line ${i}`]), storage.save("runs/o.json", { last: i }));
    writes.push(storage.saveText("runs/o.ndjson", "replaced\n"), storage.appendLines("runs/o.ndjson", ["after"]), storage.delete("runs/gone.json"));
    await Promise.all(writes);
    expect(await storage.loadText("runs/o.ndjson")).toBe("replaced\nafter\n");
    expect(await storage.load("runs/o.json")).toEqual({ last: 50 });
    const entries = await raw.xrange(redisKeys(prefix).stream("runs/o.ndjson"), "-", "+");
    expect(entries.map(([, fields]) => fields)).toEqual([["r", "1", "d", "replaced\n"], ["d", "after\n"]]);
    await storage.close();
  });

  test("writes issued at once each succeed or fail on their own; a read sees the writes issued before it", async () => {
    const { prefix, storage } = fresh();
    const keys = redisKeys(prefix);
    await storage.saveText("runs/w.txt", "warm\n");
    // A key of another type under a value's name: APPEND to it fails with Redis' WRONGTYPE.
    await raw.hset(keys.value("runs/bad.txt"), "f", "v");
    const results = await Promise.allSettled([
      storage.saveText("runs/a.ndjson", "a\n"),
      storage.appendLines("runs/bad.txt", ["x"]),
      storage.save("runs/a.json", { ok: true }),
      storage.createText("runs/w.txt", "not written"),
      storage.delete("runs/w.txt"),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason.message)).toMatch(/WRONGTYPE/);
    expect((results[3] as PromiseFulfilledResult<boolean>).value).toBe(false);
    expect((results[4] as PromiseFulfilledResult<boolean>).value).toBe(true);
    expect(await storage.loadText("runs/a.ndjson")).toBe("a\n");
    expect(await storage.load("runs/a.json")).toEqual({ ok: true });
    expect(await storage.exists("runs/w.txt")).toBe(false);
    // Not awaited: the read still comes after the write.
    const written = storage.save("runs/b.json", { n: 1 });
    expect(await storage.load("runs/b.json")).toEqual({ n: 1 });
    await written;
    await storage.close();
  });

  test("a Redis that refuses connections: the error says why (ECONNREFUSED), not ioredis' retry limit", { timeout: 30_000 }, async () => {
    const storage = createStorage({ type: "redis", url: `redis://127.0.0.1:${await freePort()}`, prefix: "nobody" });
    const error = await storage.list("runs/").then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/cannot list "runs\/" in Redis at redis:\/\/127\.0\.0\.1:\d+ \(prefix nobody\): connect ECONNREFUSED 127\.0\.0\.1:\d+ \(gave up after its reconnects\)/);
    expect(error?.message).not.toMatch(/maxRetriesPerRequest/);
    await storage.close();
  });

  test("two storages on one prefix share everything; another prefix sees nothing", async () => {
    const a = fresh();
    const b = createStorage({ type: "redis", url: redis.url, prefix: a.prefix });
    const other = fresh();
    await a.storage.save("composites/x.yaml", { id: "x" });
    expect(await b.load("composites/x.yaml")).toEqual({ id: "x" });
    expect(await other.storage.list()).toEqual([]);
    await Promise.all([a.storage.close(), b.close(), other.storage.close()]);
  });

  test("a run recorded in Redis: record and a live event log, written while the run goes", async () => {
    const { storage } = fresh();
    const loaded = loadCompositeFromText("id: s\nnodes:\n  - { id: a, type: delay, parameters: { duration: 300ms } }\n  - { id: b, type: edit-fields, parameters: { values: { x: 1 } } }\nedges: [a -> b]\n", { file: "s.yaml" });
    const conductor = createConductor({ storage });
    const seenWhileRunning: string[] = [];
    conductor.events.on("node:start", (e) => {
      if (e.nodeId !== "a") return;
      // The run:start line is in the stream before the first node is done (no 2 s batch).
      setTimeout(() => void storage.loadText(`runs/${e.runId}.ndjson`).then((t) => seenWhileRunning.push(t ?? "")), 150);
    });
    const result = await conductor.execute({ composite: loaded.composite! });
    expect(result.status).toBe("succeeded");
    expect(seenWhileRunning[0]).toContain('"type":"run:start"');
    expect(seenWhileRunning[0]).not.toContain('"type":"run:finish"');
    const record = (await storage.load(`runs/${result.runId}.json`)) as { status: string; nodes: Record<string, { status: string }> };
    expect(record.status).toBe("succeeded");
    expect(record.nodes.b!.status).toBe("succeeded");
    const lines = (await storage.loadText(`runs/${result.runId}.ndjson`))!.trim().split("\n").map((l) => JSON.parse(l).type);
    expect(lines[0]).toBe("run:start");
    expect(lines.at(-1)).toBe("run:finish");
    await storage.close();
  });

  test("an unreachable Redis fails with E_STORAGE naming it, and does not hang", async () => {
    const port = await freePort();
    const storage = createStorage({ type: "redis", url: `redis://user:secret@127.0.0.1:${port}`, prefix: "nowhere" });
    await expect(storage.assertWritable()).rejects.toMatchObject({ code: "E_STORAGE", message: expect.stringContaining(`redis://user:***@127.0.0.1:${port}`) });
    await expect(storage.load("runs/x.json")).rejects.toMatchObject({ code: "E_STORAGE", retryable: true, message: expect.not.stringContaining("secret") });
    await storage.close();
  }, 60_000);
});
