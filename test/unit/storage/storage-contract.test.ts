import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createStorage } from "../../../src/storage/create-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import { dropNamespace, redisAvailability, startRedis, uniqueName, type TestRedis } from "../../helpers/redis.js";

const redisReady = redisAvailability();
if (!redisReady.available) console.warn(redisReady.reason);
let redis: TestRedis | undefined;
beforeAll(async () => {
  if (redisReady.available) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

interface Harness {
  storage: Storage;
  /** Names of the files on disk (recursive), or undefined for memory. */
  files(): Promise<string[] | undefined>;
  cleanup(): Promise<void>;
}

const backends: { name: string; create: () => Promise<Harness> }[] = [
  {
    name: "memory",
    create: async () => ({ storage: createStorage({ type: "memory" }), files: async () => undefined, cleanup: async () => {} }),
  },
  {
    name: "filesystem",
    create: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "atomiton-storage-"));
      return {
        storage: createStorage({ type: "filesystem", dir }),
        files: async () => (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  ...(redisReady.available
    ? [
        {
          name: "redis",
          create: async (): Promise<Harness> => {
            const prefix = uniqueName("storage");
            const storage = createStorage({ type: "redis", url: redis!.url, prefix });
            return {
              storage,
              files: async () => undefined,
              cleanup: async () => {
                await storage.close();
                await dropNamespace(redis!.url, prefix);
              },
            };
          },
        },
      ]
    : []),
];

const circular: Record<string, unknown> = { name: "loop" };
circular.self = circular;

describe.each(backends)("storage contract ($name)", ({ create }) => {
  let h: Harness;
  let storage: Storage;
  beforeEach(async () => {
    h = await create();
    storage = h.storage;
  });
  afterEach(() => h.cleanup());

  test.each([
    ["a JSON object", "runs/r1.json", { status: "succeeded", counts: { failed: 0 }, list: [1, "two", null, true] }],
    ["a JSON array", "list.json", [1, 2, 3]],
    ["a JSON string", "deep/er/value.json", "hello"],
    ["a YAML object", "composites/hello.yaml", { id: "hello", nodes: [{ id: "a", type: "shell", parameters: { cmd: "echo hi" } }] }],
    ["a .yml object", "composites/short.yml", { shared: "value", n: 1.5 }],
    ["unicode", "notes/ünï.json", { text: "日本語 ✓" }],
  ])("save then load roundtrips %s", async (_label, key, value) => {
    await storage.save(key, value);
    expect(await storage.load(key)).toEqual(value);
  });

  test("JSON is pretty with a trailing newline; YAML is YAML", async () => {
    await storage.save("a.json", { a: 1, b: [true] });
    await storage.save("c.yaml", { name: "demo", tags: ["x"] });
    expect(await storage.loadText("a.json")).toBe('{\n  "a": 1,\n  "b": [\n    true\n  ]\n}\n');
    expect(await storage.loadText("c.yaml")).toBe("name: demo\ntags:\n  - x\n");
  });

  test("other keys keep strings and bytes as-is", async () => {
    await storage.save("notes/readme.txt", "line 1\nline 2");
    await storage.save("blob.bin", Buffer.from([0, 255, 10, 13]));
    expect(await storage.loadText("notes/readme.txt")).toBe("line 1\nline 2");
    expect(await storage.load("notes/readme.txt")).toEqual(Buffer.from("line 1\nline 2"));
    expect(await storage.load("blob.bin")).toEqual(Buffer.from([0, 255, 10, 13]));
  });

  test("saveText stores text verbatim and load still parses it", async () => {
    const yaml = "# kept comment\nid: flow\nnodes: []\n";
    await storage.saveText("composites/flow.yaml", yaml);
    expect(await storage.loadText("composites/flow.yaml")).toBe(yaml);
    expect(await storage.load("composites/flow.yaml")).toEqual({ id: "flow", nodes: [] });
  });

  test("missing keys: load/loadText undefined, exists and delete false", async () => {
    expect(await storage.load("nope.json")).toBeUndefined();
    expect(await storage.loadText("nope/deeper.txt")).toBeUndefined();
    expect(await storage.exists("nope.json")).toBe(false);
    expect(await storage.delete("nope.json")).toBe(false);
  });

  test("exists, overwrite and delete", async () => {
    await storage.save("runs/r1.json", { v: 1 });
    expect(await storage.exists("runs/r1.json")).toBe(true);
    expect(await storage.exists("runs")).toBe(false); // a folder is not a key
    await storage.save("runs/r1.json", { v: 2 });
    expect(await storage.load("runs/r1.json")).toEqual({ v: 2 });
    expect(await storage.delete("runs/r1.json")).toBe(true);
    expect(await storage.exists("runs/r1.json")).toBe(false);
    expect(await storage.delete("runs/r1.json")).toBe(false);
  });

  test("list is sorted, recursive and filters by a plain prefix", async () => {
    for (const key of ["runs/b.json", "top.txt", "runs/sub/c.json", "composites/x.yaml", "runs-old/z.txt", "runs/a.json"]) {
      await storage.save(key, key.endsWith(".txt") ? "t" : { key });
    }
    expect(await storage.list()).toEqual([
      "composites/x.yaml",
      "runs-old/z.txt",
      "runs/a.json",
      "runs/b.json",
      "runs/sub/c.json",
      "top.txt",
    ]);
    expect(await storage.list("runs/")).toEqual(["runs/a.json", "runs/b.json", "runs/sub/c.json"]);
    expect(await storage.list("runs")).toEqual(["runs-old/z.txt", "runs/a.json", "runs/b.json", "runs/sub/c.json"]);
    expect(await storage.list("runs/s")).toEqual(["runs/sub/c.json"]);
    expect(await storage.list("missing/")).toEqual([]);
  });

  test("stored values cannot be mutated through save or load", async () => {
    const value = { nested: { n: 1 } };
    await storage.save("v.json", value);
    value.nested.n = 99;
    const loaded = (await storage.load("v.json")) as typeof value;
    loaded.nested.n = 42;
    expect(await storage.load("v.json")).toEqual({ nested: { n: 1 } });
  });

  test.each(["../x", "a/../b", "/etc/passwd", "a\0b", "C:\\x", "C:x", "", "a//b", "./a", "a/", "a\\b", "a/\u001b[31m"])(
    "refuses the key %j in every operation",
    async (key) => {
      const ops = [
        () => storage.save(key, "x"),
        () => storage.load(key),
        () => storage.saveText(key, "x"),
        () => storage.loadText(key),
        () => storage.delete(key),
        () => storage.exists(key),
        () => storage.appendLines(key, ["x"]),
      ];
      for (const op of ops) {
        await expect(op()).rejects.toMatchObject({ code: "E_STORAGE_KEY", message: expect.stringContaining(JSON.stringify(key)) });
      }
      expect(await storage.list()).toEqual([]);
      const files = await h.files();
      if (files !== undefined) expect(files).toEqual([]);
    },
  );

  test.each(["../", "a/../", "/abs/", "a//"])("refuses the list prefix %j", async (prefix) => {
    await expect(storage.list(prefix)).rejects.toMatchObject({ code: "E_STORAGE_KEY" });
  });

  test.each([
    ["a BigInt in JSON", "v.json", { n: 1n }],
    ["a circular object in JSON", "v.json", circular],
    ["a circular object in YAML", "v.yaml", circular],
    ["undefined", "v.json", undefined],
    ["an object under a raw key", "v.txt", { a: 1 }],
  ])("a refused save (%s) keeps the previous content and leaves no temp file", async (_label, key, value) => {
    const previous = key.endsWith(".txt") ? "previous" : { previous: true };
    await storage.save(key, previous);
    await expect(storage.save(key, value)).rejects.toMatchObject({ code: "E_STORAGE", message: expect.stringContaining(key) });
    expect(await storage.load(key)).toEqual(key.endsWith(".txt") ? Buffer.from("previous") : previous);
    expect(await storage.list()).toEqual([key]);
    const files = await h.files();
    if (files !== undefined) expect(files).toEqual([key]);
  });

  test("a stored file that does not parse fails with E_STORAGE naming the key", async () => {
    await storage.saveText("broken.json", "{ nope");
    await expect(storage.load("broken.json")).rejects.toMatchObject({ code: "E_STORAGE", message: expect.stringContaining("broken.json") });
  });

  test("appendLines appends NDJSON lines and refuses line breaks and structured keys", async () => {
    await storage.appendLines("runs/r1.ndjson", ['{"type":"run:start"}']);
    await storage.appendLines("runs/r1.ndjson", ['{"type":"node:start"}', '{"type":"run:finish"}']);
    await storage.appendLines("runs/r1.ndjson", []);
    await storage.appendLines("runs/empty.ndjson", []);
    expect(await storage.loadText("runs/r1.ndjson")).toBe('{"type":"run:start"}\n{"type":"node:start"}\n{"type":"run:finish"}\n');
    expect(await storage.exists("runs/empty.ndjson")).toBe(false);
    await expect(storage.appendLines("runs/r1.ndjson", ["ok", "two\nlines"])).rejects.toMatchObject({ code: "E_STORAGE" });
    await expect(storage.appendLines("runs/r1.json", ["{}"])).rejects.toMatchObject({ code: "E_STORAGE" });
    expect(await storage.loadText("runs/r1.ndjson")).toBe('{"type":"run:start"}\n{"type":"node:start"}\n{"type":"run:finish"}\n');
  });

  test("loadBytesFrom: the bytes from an offset on, as a reader following a growing log sees them", async () => {
    const key = "runs/follow.ndjson";
    expect(await storage.loadBytesFrom(key, 0)).toBeUndefined();
    let all = "";
    let read = 0;
    let followed = "";
    for (let batch = 0; batch < 12; batch++) {
      const lines = Array.from({ length: 1 + (batch % 3) }, (_, i) => `{"batch":${batch},"i":${i},"text":"ünï €"}`);
      await storage.appendLines(key, lines);
      all += lines.map((l) => `${l}\n`).join("");
      // A follower reads from where it stopped (every other batch: sometimes two appends at once).
      if (batch % 2 === 1) {
        const tail = (await storage.loadBytesFrom(key, read))!;
        read += tail.length;
        followed += tail.toString("utf8");
        expect(followed).toBe(all);
      }
    }
    const bytes = Buffer.from(all, "utf8");
    // Any offset (inside a character too: these are bytes), at the end, past it.
    for (const start of [0, 1, 17, bytes.length - 1, bytes.length, bytes.length + 5]) {
      expect(await storage.loadBytesFrom(key, start)).toEqual(bytes.subarray(Math.min(start, bytes.length)));
    }
    // A fresh copy.
    (await storage.loadBytesFrom(key, 0))!.fill(0);
    expect(await storage.loadText(key)).toBe(all);
    // Replaced: the new value's bytes, whatever was read of the old one.
    await storage.saveText(key, "new\n");
    expect((await storage.loadBytesFrom(key, read))!.length).toBe(0);
    expect((await storage.loadBytesFrom(key, 0))!.toString("utf8")).toBe("new\n");
    await storage.appendLines(key, ["more"]);
    expect((await storage.loadBytesFrom(key, 4))!.toString("utf8")).toBe("more\n");
    expect((await storage.loadBytesFrom("notes/plain.txt", 0))).toBeUndefined();
    await storage.saveText("notes/plain.txt", "abcdef");
    expect((await storage.loadBytesFrom("notes/plain.txt", 2))!.toString()).toBe("cdef");
    await expect(storage.loadBytesFrom(key, -1)).rejects.toMatchObject({ code: "E_STORAGE" });
    await expect(storage.loadBytesFrom(key, 1.5)).rejects.toMatchObject({ code: "E_STORAGE" });
  });

  test("many appends, reads in between and a save after them: exact bytes, fresh copies, save replaces", async () => {
    const key = "runs/many.ndjson";
    const expected: string[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const lines = Array.from({ length: batch % 4 }, (_, i) => `{"batch":${batch},"i":${i},"text":"ünï ${"x".repeat(batch)}"}`);
      await storage.appendLines(key, lines);
      expected.push(...lines);
      if (batch % 10 === 9) expect(await storage.loadText(key)).toBe(expected.map((l) => `${l}\n`).join(""));
    }
    const loaded = (await storage.load(key)) as Buffer;
    expect(loaded.toString("utf8")).toBe(expected.map((l) => `${l}\n`).join(""));
    loaded.fill(0);
    await storage.appendLines(key, ["last"]);
    expect(await storage.loadText(key)).toBe(`${expected.map((l) => `${l}\n`).join("")}last\n`);
    await storage.saveText(key, "fresh\n");
    await storage.appendLines(key, ["after"]);
    expect(await storage.loadText(key)).toBe("fresh\nafter\n");
  });

  test("an append far above 512 KiB (fs.appendFile's chunk size) lands whole and in order", async () => {
    const key = "runs/big.ndjson";
    await storage.appendLines(key, ["first"]);
    const big = Array.from({ length: 3 }, (_, i) => `{"i":${i},"output":"${String(i).repeat(900_000)}"}`);
    await storage.appendLines(key, big);
    await storage.appendLines(key, ["last"]);
    expect(await storage.loadText(key)).toBe(`first\n${big.join("\n")}\nlast\n`);
  });

  test("concurrent saves of many keys and of one key all land whole", async () => {
    const big = (i: number) => ({ i, payload: "x".repeat(50_000 + i) });
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => storage.save(`many/k${String(i).padStart(2, "0")}.json`, { i })),
      ...Array.from({ length: 20 }, (_, i) => storage.save("same.json", big(i))),
    ]);
    for (let i = 0; i < 20; i++) expect(await storage.load(`many/k${String(i).padStart(2, "0")}.json`)).toEqual({ i });
    const same = (await storage.load("same.json")) as { i: number; payload: string };
    expect(same).toEqual(big(same.i));
    expect(await storage.list()).toHaveLength(21);
    const files = await h.files();
    if (files !== undefined) expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("assertWritable resolves for a usable store", async () => {
    await expect(storage.assertWritable()).resolves.toBeUndefined();
    expect(await storage.list()).toEqual([]);
  });
});
