import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { crc32 } from "node:zlib";

/**
 * A CommonJS file compiled with a V8 code cache: what `module.enableCompileCache()` does from
 * Node 22.1 on, for the Node 20 this package supports. Compiling the CLI's source was most of a cold
 * start; with the cache, `atomiton run hello` takes about 2× `node -e 0` instead of 3.3×
 * (`npm run bench`, "cold start"; docs/performance.md).
 *
 * The cache lives in `$ATOMITON_COMPILE_CACHE` or, by default, a directory of the user's own in the
 * system temp dir (`atomiton-compile-cache-<uid>`, mode 0700; one owned by someone else is not used).
 * `ATOMITON_DISABLE_COMPILE_CACHE=1` (or Node's `NODE_DISABLE_COMPILE_CACHE=1`) turns it off. A file
 * is keyed by the bundle's path, size, mtime and inode, Node's version and the V8 flags, and carries a
 * CRC-32 of its payload, checked before V8 sees it; V8 checks it again, and a rejected one is rewritten.
 * Any failure to read or write it only costs the speed-up.
 */
export interface Compiled<T> {
  readonly exports: T;
  /** `used`: compiled from the cache; `none`: there was none yet; `rejected`: damaged or refused by V8 (rewritten on save); `off`: no cache. */
  readonly cache: "used" | "none" | "rejected" | "off";
  /** Write the cache when there was none or it was rejected (once the command ran, so it holds the functions it compiled). */
  saveCache(): void;
}

const HEADER = "(function (exports, require, module, __filename, __dirname, __atomitonImport) {\n";

/**
 * Run `url` (a CommonJS file) with a code cache. V8 drops a script's import() callback when the
 * script comes from a cache, so the file calls `__atomitonImport(specifier)` instead of import()
 * (tsup.config.ts rewrites the CLI's sources so), and `importModule` does the import.
 */
export function loadCompiled<T>(url: URL, importModule: (specifier: string) => Promise<unknown>, env: NodeJS.ProcessEnv = process.env): Compiled<T> {
  const file = fileURLToPath(url);
  const source = readFileSync(file, "utf8");
  const cacheFile = cachePath(file, env);
  const cached = cacheFile === undefined ? undefined : readCache(cacheFile);
  const cachedData = cached === "damaged" ? undefined : cached;
  const script = new vm.Script(`${HEADER}${source}\n})`, {
    filename: file,
    lineOffset: -1, // the header has a line of its own: stack frames keep the file's own lines
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const module = { exports: {} as T, id: file, filename: file, loaded: false };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file), importModule);
  module.loaded = true;
  const cache = cacheFile === undefined ? "off" : cached === undefined ? "none" : cached === "damaged" || script.cachedDataRejected === true ? "rejected" : "used";
  return {
    exports: module.exports,
    cache,
    saveCache() {
      if (cacheFile === undefined || cache === "used") return;
      try {
        writeCache(cacheFile, script.createCachedData());
      } catch {
        // a read-only or full temp dir: the next start compiles again
      }
    },
  };
}

function cachePath(file: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.ATOMITON_DISABLE_COMPILE_CACHE === "1" || env.NODE_DISABLE_COMPILE_CACHE === "1") return undefined;
  const chosen = env.ATOMITON_COMPILE_CACHE || undefined;
  const uid = process.getuid?.() ?? 0;
  const dir = chosen !== undefined ? path.resolve(chosen) : path.join(tmpdir(), `atomiton-compile-cache-${uid}`);
  let bundle;
  try {
    bundle = statSync(file);
    if (chosen === undefined) {
      // Shared temp dir: use only a directory this user owns and nobody else can write to.
      const d = statSync(dir, { throwIfNoEntry: false });
      if (d !== undefined && (!d.isDirectory() || (process.getuid !== undefined && d.uid !== uid) || (d.mode & 0o022) !== 0)) return undefined;
    }
  } catch {
    return undefined;
  }
  const flags = fnv1a(`${process.execArgv.join(" ")}\0${env.NODE_OPTIONS ?? ""}`);
  // The prefix names what the cache is for (this install's bundle under this Node and these flags:
  // two installs keep a cache each); the rest, which build of the bundle.
  return path.join(dir, `${path.basename(file)}-${fnv1a(file)}-${process.version}-${process.arch}-${flags}--${bundle.size}-${Math.trunc(bundle.mtimeMs)}-${bundle.ino}.bin`);
}

// The cache file: a magic, the CRC-32 of the payload (uint32 LE), then the payload, V8's code cache.
// V8 release builds do not checksum a code cache's payload: one flipped bit on disk made every start
// crash ("Fatal error … unreachable code", SIGSEGV) until the file was deleted. The CRC costs about
// 0.3 ms per start for the 0.9 MB cache (docs/performance.md).
const MAGIC = Buffer.from("atc1");
const HEADER_SIZE = MAGIC.length + 4;

/** The cache file's payload, `damaged` when it does not match its checksum, undefined when there is none. */
function readCache(cacheFile: string): Buffer | "damaged" | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  return parseCacheFile(bytes) ?? "damaged";
}

function parseCacheFile(bytes: Buffer): Buffer | undefined {
  if (bytes.length < HEADER_SIZE || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const payload = bytes.subarray(HEADER_SIZE);
  return crc32(payload) === bytes.readUInt32LE(MAGIC.length) ? payload : undefined;
}

/** Atomic: a temp file renamed over the old one; stale caches of the same bundle are removed. */
function writeCache(cacheFile: string, data: Buffer): void {
  const dir = path.dirname(cacheFile);
  makeDir(dir);
  const header = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(header);
  header.writeUInt32LE(crc32(data), MAGIC.length);
  const temp = `${cacheFile}.${process.pid}.tmp`;
  const fd = openSync(temp, "w", 0o600);
  try {
    writeFileSync(fd, header);
    writeFileSync(fd, data);
    // On disk before the rename, so a power loss cannot leave a renamed but empty or torn file. The
    // checksum would reject one anyway; this spares that start a recompile, for about 0.2 ms of a
    // write (docs/performance.md).
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, cacheFile);
  const current = path.basename(cacheFile);
  const prefix = current.slice(0, current.indexOf("--") + 2);
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix) && name.endsWith(".bin") && name !== current) {
      try {
        unlinkSync(path.join(dir, name));
      } catch {
        // another process removed it
      }
    }
  }
}

/**
 * `mkdir -p` one level at a time. Not `mkdirSync(…, { recursive: true })`: on Node 20 that spins
 * forever where a parent exists but refuses children (`/proc/x`).
 */
function makeDir(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.push(d);
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** 32-bit FNV-1a, hex: a short, stable name for the flags a cache was made under. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}
