import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { loadCompiled } from "../../../src/cli/compile-cache.js";
import { ROOT, useTempDir } from "../../helpers/cli.js";

// A CommonJS file as tsup writes dist/cli-bundle.cjs: exports, a dynamic import of an ES module
// (through the loader's import function), and a throw whose stack must name the file's own line.
const BUNDLE = `"use strict";
exports.answer = 40 + 2;
exports.fail = () => { throw new Error("boom"); };
exports.dirname = async () => (await __atomitonImport("node:path")).basename(__dirname);
exports.square = (n) => n * n;
`;

interface Bundle {
  answer: number;
  fail: () => never;
  dirname: () => Promise<string>;
  square: (n: number) => number;
}

const importModule = (specifier: string): Promise<unknown> => import(specifier);

let dir: string;
useTempDir((d) => (dir = d));

const CHILD = path.join(ROOT, "test/fixtures/compile-cache-child.mjs");

/** One start in a new process (V8's in-memory compilation cache would hide whether the disk cache was used). */
async function start(url: URL, env: NodeJS.ProcessEnv, save?: "save"): Promise<unknown> {
  const r = await execa(process.execPath, [CHILD, fileURLToPath(url), ...(save ? [save] : [])], { env, cwd: ROOT });
  return JSON.parse(r.stdout) as unknown;
}

/** Run `fn` with the system temp dir (`os.tmpdir()`, from `TMPDIR`) set to `tmp`. */
async function withTmpdir<T>(tmp: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

const bins = (cacheDir: string): string[] => readdirSync(cacheDir).filter((n) => n.endsWith(".bin"));

function setup(source = BUNDLE): { url: URL; env: NodeJS.ProcessEnv; cacheDir: string } {
  const file = path.join(dir, "lib", "bundle.cjs");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, source);
  const cacheDir = path.join(dir, "cache");
  return { url: pathToFileURL(file), env: { ATOMITON_COMPILE_CACHE: cacheDir }, cacheDir };
}

describe("loadCompiled", () => {
  test("runs the file as CommonJS: exports, __dirname, import() of an ES module, its own line numbers in stacks", async () => {
    const { url, env } = setup();
    const { exports } = loadCompiled<Bundle>(url, importModule, env);
    expect(exports.answer).toBe(42);
    expect(await exports.dirname()).toBe("lib");
    let stack = "";
    try {
      exports.fail();
    } catch (error) {
      stack = (error as Error).stack ?? "";
    }
    expect(stack).toContain(`${path.join(dir, "lib", "bundle.cjs")}:3:`);
  });

  test("the first start writes the cache, the next one compiles from it (each start a process of its own)", async () => {
    const { url, env, cacheDir } = setup();
    expect(await start(url, env, "save")).toEqual({ cache: "none", answer: 42 });
    expect(bins(cacheDir)).toHaveLength(1);
    const before = readFileSync(path.join(cacheDir, bins(cacheDir)[0] ?? ""));
    expect(await start(url, env, "save")).toEqual({ cache: "used", answer: 42 });
    // a cache that was used is not rewritten
    expect(readFileSync(path.join(cacheDir, bins(cacheDir)[0] ?? ""))).toEqual(before);
  });

  test("a corrupt cache is rejected, the file still runs, and saving replaces it", async () => {
    const { url, env, cacheDir } = setup();
    await start(url, env, "save");
    const [name] = bins(cacheDir);
    writeFileSync(path.join(cacheDir, name ?? ""), Buffer.from("not a code cache, just bytes".repeat(40)));
    expect(await start(url, env, "save")).toEqual({ cache: "rejected", answer: 42 });
    expect(await start(url, env)).toEqual({ cache: "used", answer: 42 });
  });

  // V8 does not checksum a code cache's payload: the file's own CRC-32 must catch every flipped bit.
  test.each([
    ["its first byte", () => 0],
    ["its checksum", () => 5],
    ["the middle of the payload", (length: number) => length >> 1],
    ["its last byte", (length: number) => length - 1],
  ])("one bit flipped in %s: rejected, then rewritten and used", async (_, offsetIn) => {
    const { url, env, cacheDir } = setup();
    await start(url, env, "save");
    const file = path.join(cacheDir, bins(cacheDir)[0] ?? "");
    const bytes = readFileSync(file);
    const offset = offsetIn(bytes.length);
    bytes[offset] = (bytes[offset] ?? 0) ^ 0x10;
    writeFileSync(file, bytes);
    expect(await start(url, env, "save")).toEqual({ cache: "rejected", answer: 42 });
    expect(await start(url, env)).toEqual({ cache: "used", answer: 42 });
  });

  test("a rebuilt file gets a new cache and the stale one is removed", async () => {
    const { url, env, cacheDir } = setup();
    await start(url, env, "save");
    const [old] = bins(cacheDir);
    setup(BUNDLE.replace("40 + 2", "40 + 3 "));
    expect(await start(url, env, "save")).toEqual({ cache: "none", answer: 43 });
    expect(bins(cacheDir)).toHaveLength(1);
    expect(bins(cacheDir)).not.toContain(old);
    expect(await start(url, env)).toEqual({ cache: "used", answer: 43 });
  });

  test("two installs of the bundle keep a cache each", async () => {
    const { url, env, cacheDir } = setup();
    const other = path.join(dir, "other", "bundle.cjs");
    mkdirSync(path.dirname(other), { recursive: true });
    writeFileSync(other, BUNDLE);
    await start(url, env, "save");
    await start(pathToFileURL(other), env, "save");
    expect(bins(cacheDir)).toHaveLength(2);
    expect(await start(url, env)).toEqual({ cache: "used", answer: 42 });
    expect(await start(pathToFileURL(other), env)).toEqual({ cache: "used", answer: 42 });
  });

  test.each([["ATOMITON_DISABLE_COMPILE_CACHE"], ["NODE_DISABLE_COMPILE_CACHE"]])("%s=1 turns it off", async (name) => {
    const { url, env, cacheDir } = setup();
    const off = loadCompiled<Bundle>(url, importModule, { ...env, [name]: "1" });
    expect(off.cache).toBe("off");
    await off.saveCache();
    expect(() => readdirSync(cacheDir)).toThrow();
  });

  test.runIf(process.platform === "linux")("a cache directory that cannot be made (/proc/…) costs only the speed-up, and the start ends", async () => {
    const { url } = setup();
    const compiled = loadCompiled<Bundle>(url, importModule, { ATOMITON_COMPILE_CACHE: "/proc/atomiton-nope/cache" });
    expect(compiled.exports.answer).toBe(42);
    await compiled.saveCache(); // Node 20's recursive mkdirSync spins forever here
  });

  test("a missing cache directory is made, parents too, mode 0700", async () => {
    const { url, cacheDir } = setup();
    const deep = path.join(cacheDir, "a", "b");
    await start(url, { ATOMITON_COMPILE_CACHE: deep }, "save");
    expect(bins(deep)).toHaveLength(1);
    if (process.platform !== "win32") expect(statSync(deep).mode & 0o777).toBe(0o700);
  });

  test.runIf(process.platform !== "win32")("the default directory in the temp dir is not used when others can write to it", async () => {
    const { url } = setup();
    await withTmpdir(dir, async () => {
      const shared = path.join(dir, `atomiton-compile-cache-${process.getuid?.() ?? 0}`);
      mkdirSync(shared);
      chmodSync(shared, 0o777);
      const open = loadCompiled<Bundle>(url, importModule, {});
      expect(open.cache).toBe("off");
      await open.saveCache();
      expect(bins(shared)).toEqual([]);
      chmodSync(shared, 0o700);
      const own = loadCompiled<Bundle>(url, importModule, {});
      expect(own.cache).toBe("none");
      await own.saveCache();
      expect(bins(shared)).toHaveLength(1);
    });
  });

  test("the default directory is made only inside a temp dir that exists: a missing TMPDIR means no cache, not a tree of directories", async () => {
    const { url } = setup();
    await withTmpdir(path.join(dir, "missing", "tmp"), async () => {
      const compiled = loadCompiled<Bundle>(url, importModule, {});
      expect(compiled.cache).toBe("off");
      await compiled.saveCache();
    });
    expect(existsSync(path.join(dir, "missing"))).toBe(false);
  });

  // Each relative path points into the test's own directory, so a regression cannot write into the repository.
  test("a relative TMPDIR means no cache (not one in the current directory)", async () => {
    const { url } = setup();
    const tmp = path.join(dir, "tmp");
    mkdirSync(tmp);
    await withTmpdir(path.relative(process.cwd(), tmp), async () => {
      const compiled = loadCompiled<Bundle>(url, importModule, {});
      expect(compiled.cache).toBe("off");
      await compiled.saveCache();
    });
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("a relative ATOMITON_COMPILE_CACHE is ignored: no cache", async () => {
    const { url, cacheDir } = setup();
    const compiled = loadCompiled<Bundle>(url, importModule, { ATOMITON_COMPILE_CACHE: path.relative(process.cwd(), cacheDir) });
    expect(compiled.cache).toBe("off");
    await compiled.saveCache();
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe("what a write leaves behind", () => {
  test("a directory where the cache file goes: the write fails and its temp file is removed", async () => {
    const { url, env, cacheDir } = setup();
    await start(url, env, "save");
    const [name = ""] = bins(cacheDir);
    rmSync(path.join(cacheDir, name));
    mkdirSync(path.join(cacheDir, name));
    expect(await start(url, env, "save")).toEqual({ cache: "none", answer: 42 });
    expect(readdirSync(cacheDir)).toEqual([name]);
  });

  // A file size limit fails the write part-way, as a full disk does (EFBIG instead of ENOSPC).
  test.runIf(process.platform !== "win32")("a write that fails part-way (a full disk) removes its partial temp file", async () => {
    const { url, cacheDir } = setup(`${BUNDLE}exports.text = "${"abc".repeat(40_000)}";\n`);
    const r = await execa("sh", ["-c", 'ulimit -f 64 && exec "$0" "$@"', process.execPath, CHILD, fileURLToPath(url), "save"], { env: { ATOMITON_COMPILE_CACHE: cacheDir }, cwd: ROOT });
    expect(JSON.parse(r.stdout)).toEqual({ cache: "none", answer: 42 });
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  test("a write collects the temp files of this cache that starts left behind: of dead processes, or older than a minute", async () => {
    const { url, env, cacheDir } = setup();
    await start(url, env, "save");
    const [name = ""] = bins(cacheDir);
    const exited = execa(process.execPath, ["-e", "0"]);
    await exited;
    const dead = exited.pid ?? 0;
    expect(dead).toBeGreaterThan(0);
    // The names storage/write-file-atomic.ts gives its temp files: `.<target>.<pid>.<12 hex>.tmp`.
    const temp = (pid: number): string => `.${name}.${pid}.0123456789ab.tmp`;
    const leftovers = {
      deadWriter: temp(dead),
      oldWriter: temp(process.pid),
      liveWriter: temp(process.ppid), // still writing, as far as anyone can tell
      otherBundle: `.other.cjs${name.slice(name.indexOf("-"))}.${dead}.0123456789ab.tmp`,
      notATemp: `${name}.notes`,
    };
    for (const file of Object.values(leftovers)) writeFileSync(path.join(cacheDir, file), "partial");
    const aMinuteAgo = new Date(Date.now() - 61_000);
    utimesSync(path.join(cacheDir, leftovers.oldWriter), aMinuteAgo, aMinuteAgo);
    writeFileSync(path.join(cacheDir, name), "damaged"); // rejected: the next start writes
    expect(await start(url, env, "save")).toEqual({ cache: "rejected", answer: 42 });
    expect(readdirSync(cacheDir).sort()).toEqual([name, leftovers.liveWriter, leftovers.otherBundle, leftovers.notATemp].sort());
  });
});
