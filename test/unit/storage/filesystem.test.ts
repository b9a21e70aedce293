import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createStorage } from "../../../src/storage/create-storage.js";
import type { StorageOptions } from "../../../src/storage/types.js";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const isRoot = process.getuid?.() === 0;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "atomiton-fs-"));
});
afterEach(async () => {
  await chmod(dir, 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function allFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

describe("createStorage options", () => {
  test.each([
    ["an unknown type", { type: "s3" }, /unknown storage type "s3"; valid types: memory, filesystem/],
    ["no options type", {}, /unknown storage type undefined; valid types: memory, filesystem/],
    ["filesystem without dir", { type: "filesystem" }, /needs a "dir"/],
    ["filesystem with an empty dir", { type: "filesystem", dir: " " }, /needs a "dir"/],
    ["redis without url", { type: "redis" }, /redis storage needs a "url"/],
    ["redis with an http url", { type: "redis", url: "http://127.0.0.1:6379" }, /redis storage needs a "url"/],
    ["redis with a prefix holding spaces", { type: "redis", url: "redis://127.0.0.1:1", prefix: "a b" }, /prefix "a b" is not a name/],
  ])("%s → E_STORAGE", (_label, options, message) => {
    expect(() => createStorage(options as StorageOptions)).toThrow(expect.objectContaining({ code: "E_STORAGE", message: expect.stringMatching(message) }));
  });
});

describe("filesystem storage", () => {
  test("keys map to files under dir, created lazily with their folders", async () => {
    const storage = createStorage({ type: "filesystem", dir: path.join(dir, "store") });
    expect(await storage.list()).toEqual([]);
    await storage.save("runs/r1.json", { ok: true });
    await storage.save("composites/c.yaml", { id: "c" });
    expect(await readFile(path.join(dir, "store", "runs", "r1.json"), "utf8")).toBe('{\n  "ok": true\n}\n');
    expect((await allFiles(path.join(dir, "store"))).sort()).toEqual([path.join("composites", "c.yaml"), path.join("runs", "r1.json")]);
    expect(storage.location).toBe(path.join(dir, "store"));
  });

  test("a write that fails after the temp file exists removes the temp file", async () => {
    const storage = createStorage({ type: "filesystem", dir });
    await mkdir(path.join(dir, "runs", "r1.json"), { recursive: true }); // rename onto a folder fails
    await expect(storage.save("runs/r1.json", { v: 1 })).rejects.toMatchObject({
      code: "E_STORAGE",
      message: expect.stringContaining('"runs/r1.json"'),
    });
    expect(await allFiles(dir)).toEqual([]);
    expect(await storage.load("runs/r1.json")).toBeUndefined();
    expect(await storage.delete("runs/r1.json")).toBe(false);
  });

  test("list ignores temp files left by a crash and names that are not valid keys", async () => {
    const storage = createStorage({ type: "filesystem", dir });
    await storage.save("runs/r1.json", { v: 1 });
    await writeFile(path.join(dir, "runs", ".r1.json.4242.0123456789ab.tmp"), '{"v":');
    if (process.platform !== "win32") await writeFile(path.join(dir, "runs", "back\\slash.json"), "{}"); // not creatable on Windows
    expect(await storage.list()).toEqual(["runs/r1.json"]);
    expect(await storage.load("runs/r1.json")).toEqual({ v: 1 });
  });

  test("two storages on one dir see each other's writes", async () => {
    const a = createStorage({ type: "filesystem", dir });
    const b = createStorage({ type: "filesystem", dir });
    await a.save("shared.json", { from: "a" });
    expect(await b.load("shared.json")).toEqual({ from: "a" });
  });

  test("two processes writing concurrently never corrupt each other", { timeout: 60_000 }, async () => {
    const script = path.join(dir, "writer.mjs");
    await writeFile(
      script,
      `const m = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, "src/storage/create-storage.ts")).href)});
const { createStorage } = m.createStorage ? m : m.default;
const [, , storeDir, who] = process.argv;
const storage = createStorage({ type: "filesystem", dir: storeDir });
for (let i = 0; i < 100; i++) {
  await storage.save(\`\${who}/k\${i}.json\`, { who, i });
  await storage.save("shared.json", { who, i, pad: "x".repeat(20000) });
}
`,
    );
    const store = path.join(dir, "store");
    const spawnWriter = (who: string) => run(process.execPath, ["--import", "jiti/register", script, store, who], { cwd: repoRoot });
    await Promise.all([spawnWriter("p1"), spawnWriter("p2")]);
    const storage = createStorage({ type: "filesystem", dir: store });
    expect(await storage.list()).toHaveLength(201);
    for (const who of ["p1", "p2"]) {
      for (let i = 0; i < 100; i++) expect(await storage.load(`${who}/k${i}.json`)).toEqual({ who, i });
    }
    const shared = (await storage.load("shared.json")) as { who: string; i: number };
    expect(shared).toEqual({ who: shared.who, i: 99, pad: "x".repeat(20000) });
    expect((await allFiles(store)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("assertWritable creates the dir and leaves no probe behind", async () => {
    const storage = createStorage({ type: "filesystem", dir: path.join(dir, "new", "store") });
    await storage.assertWritable();
    expect(await readdir(path.join(dir, "new", "store"))).toEqual([]);
  });

  test("assertWritable names the dir when a file stands in its way", async () => {
    await writeFile(path.join(dir, "file"), "");
    const target = path.join(dir, "file", "store");
    const storage = createStorage({ type: "filesystem", dir: target });
    await expect(storage.assertWritable()).rejects.toMatchObject({
      code: "E_STORAGE",
      message: expect.stringContaining(`storage directory ${target} is not writable`),
    });
  });

  // Root bypasses permission bits, so a read-only dir is only read-only for other users.
  test.skipIf(isRoot || process.platform === "win32")("assertWritable and save name a read-only dir", async () => {
    await chmod(dir, 0o555);
    const storage = createStorage({ type: "filesystem", dir });
    await expect(storage.assertWritable()).rejects.toMatchObject({ code: "E_STORAGE", message: expect.stringContaining(dir) });
    await expect(storage.save("a.json", {})).rejects.toMatchObject({ code: "E_STORAGE", hint: expect.stringContaining(dir) });
  });
});
