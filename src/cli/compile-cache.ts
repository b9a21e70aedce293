import { readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { crc32 } from "node:zlib";
import { isProcessAlive } from "../storage/process-alive.js";

/**
 * A CommonJS file compiled with a V8 code cache: what `module.enableCompileCache()` does from
 * Node 22.1 on, for the Node 20 this package supports. Compiling the CLI's source was most of a cold
 * start; with the cache, `atomiton run hello` takes about 2× `node -e 0` instead of 3.3×
 * (`npm run bench`, "cold start"; docs/performance.md).
 *
 * The cache lives in `$ATOMITON_COMPILE_CACHE` (an absolute path, made with its parents; a relative
 * one is ignored) or, by default, a directory of the user's own in the system temp dir
 * (`atomiton-compile-cache-<uid>`, mode 0700; one owned by someone else is not used; no cache when the
 * temp dir is missing or relative). `ATOMITON_DISABLE_COMPILE_CACHE=1` (or Node's
 * `NODE_DISABLE_COMPILE_CACHE=1`) turns it off. A file is keyed by the bundle's path, size, mtime and
 * inode, Node's version and the V8 flags, and carries a CRC-32 of its payload, checked before V8 sees
 * it; V8 checks it again, and a rejected one is rewritten. Any failure to read or write it only costs
 * the speed-up.
 */
export interface Compiled<T> {
  readonly exports: T;
  /** `used`: compiled from the cache; `none`: there was none yet; `rejected`: damaged or refused by V8 (rewritten on save); `off`: no cache. */
  readonly cache: "used" | "none" | "rejected" | "off";
  /** Write the cache when there was none or it was rejected (once the command ran, so it holds the functions it compiled). Never rejects. */
  saveCache(): Promise<void>;
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
  const location = cacheLocation(file, env);
  const cached = location === undefined ? undefined : readCache(location);
  const cachedData = cached === "damaged" ? undefined : cached;
  const script = new vm.Script(`${HEADER}${source}\n})`, {
    filename: file,
    lineOffset: -1, // the header has a line of its own: stack frames keep the file's own lines
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const module = { exports: {} as T, id: file, filename: file, loaded: false };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file), importModule);
  module.loaded = true;
  const cache = location === undefined ? "off" : cached === undefined ? "none" : cached === "damaged" || script.cachedDataRejected === true ? "rejected" : "used";
  return {
    exports: module.exports,
    cache,
    async saveCache() {
      if (location === undefined || cache === "used") return;
      try {
        await writeCache(location, script.createCachedData());
      } catch {
        // a read-only or full temp dir: the next start compiles again
      }
    },
  };
}

/** The cache file of a bundle (a chosen directory is made with its parents; the default one sits in a temp dir `defaultDir` checked exists). */
function cacheLocation(file: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.ATOMITON_DISABLE_COMPILE_CACHE === "1" || env.NODE_DISABLE_COMPILE_CACHE === "1") return undefined;
  const chosen = env.ATOMITON_COMPILE_CACHE || undefined;
  // A relative directory would put a cache into whatever project the command runs in.
  if (chosen !== undefined && !path.isAbsolute(chosen)) return undefined;
  let dir, bundle;
  try {
    dir = chosen !== undefined ? path.resolve(chosen) : defaultDir();
    bundle = statSync(file);
  } catch {
    return undefined;
  }
  if (dir === undefined) return undefined;
  const flags = hex32(`${process.execArgv.join(" ")}\0${env.NODE_OPTIONS ?? ""}`);
  // The prefix names what the cache is for (this install's bundle under this Node and these flags:
  // two installs keep a cache each); the rest, which build of the bundle.
  const name = `${path.basename(file)}-${hex32(file)}-${process.version}-${process.arch}-${flags}--${bundle.size}-${Math.trunc(bundle.mtimeMs)}-${bundle.ino}.bin`;
  return path.join(dir, name);
}

/**
 * `atomiton-compile-cache-<uid>` in the system temp dir, if that is an existing absolute directory:
 * a `TMPDIR` that is missing (`/nonexistent/x`) or relative (the current project) means no cache,
 * not directories made at `/` or in the project. A directory someone else owns or may write to is
 * not used either: the temp dir is shared.
 */
function defaultDir(): string | undefined {
  const tmp = tmpdir();
  if (!path.isAbsolute(tmp) || statSync(tmp, { throwIfNoEntry: false })?.isDirectory() !== true) return undefined;
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(tmp, `atomiton-compile-cache-${uid}`);
  const d = statSync(dir, { throwIfNoEntry: false });
  if (d !== undefined && (!d.isDirectory() || (process.getuid !== undefined && d.uid !== uid) || (d.mode & 0o022) !== 0)) return undefined;
  return dir;
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

/**
 * The one atomic writer (storage/write-file-atomic.ts: a temp file, fsynced, renamed over the old one,
 * removed if anything fails), into a directory made 0700. The fsync keeps a power loss from leaving a
 * renamed but empty or torn file: the checksum would reject one anyway; this spares that start a
 * recompile, for about 0.2 ms of a write (docs/performance.md). Then stale caches of the same bundle
 * are removed, and temp files other starts left. Loaded only when a cache is written, so a start that
 * uses one loads none of it.
 */
async function writeCache(file: string, data: Buffer): Promise<void> {
  const [{ ensureDir }, atomic] = await Promise.all([import("../storage/ensure-dir.js"), import("../storage/write-file-atomic.js")]);
  const dir = path.dirname(file);
  await ensureDir(dir, { mode: 0o700 });
  const header = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(header);
  header.writeUInt32LE(crc32(data), MAGIC.length);
  try {
    await atomic.writeFileAtomic(file, Buffer.concat([header, data]), { fsync: true, createDirectories: false });
  } finally {
    removeStale(dir, path.basename(file), atomic);
  }
}

// A write takes milliseconds: a temp file a minute old was left by a start that died (or whose pid
// was reused since).
const ABANDONED_AFTER_MS = 60_000;

/** Remove the other caches of this bundle (earlier builds) and the temp files (the writer's names) of writers that are gone. */
function removeStale(dir: string, current: string, { tempFileOwner }: { tempFileOwner: (name: string) => number | undefined }): void {
  const prefix = current.slice(0, current.indexOf("--") + 2);
  for (const name of readdirSync(dir)) {
    if (name === current) continue;
    const owner = name.startsWith(`.${prefix}`) ? tempFileOwner(name) : undefined;
    const stale = name.startsWith(prefix) ? name.endsWith(".bin") : owner !== undefined && isAbandoned(path.join(dir, name), owner);
    if (stale) removeFile(path.join(dir, name));
  }
}

function isAbandoned(temp: string, pid: number): boolean {
  if (pid !== process.pid && !isProcessAlive(pid)) return true;
  const stat = statSync(temp, { throwIfNoEntry: false });
  return stat !== undefined && Date.now() - stat.mtimeMs > ABANDONED_AFTER_MS;
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // never made, or another process removed it
  }
}

/** A short, stable name for a text (the bundle's path, the V8 flags a cache was made under). */
function hex32(text: string): string {
  return crc32(text).toString(16).padStart(8, "0");
}
