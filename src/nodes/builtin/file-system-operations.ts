import { ensureDir } from "../../storage/ensure-dir.js";
import { cp, lstat, readFile, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { ErrorCode, NonRetryableError } from "../../errors.js";
import { toJsonSafe } from "../../events/json-safe.js";
import { readUserFile } from "../../read-file.js";
import type { NodeContext } from "../define-node.js";
import { throwIfAborted } from "./abort.js";
import { copyFileAtomic } from "./copy-file-atomic.js";
import type { FileSystemParameters } from "./file-system.js";
import { atomicWriteFile, errnoOf, fileError, fileNameFor, isBytes, isFileLike, resolvePath, statOrUndefined, toBufferEncoding } from "./file-utils.js";

type Ctx = NodeContext<FileSystemParameters>;

/** One entry of a `list` result. */
export interface FileEntry {
  name: string;
  /** Absolute path. */
  path: string;
  /** Path relative to the listed directory (`sub/a.txt` in recursive listings). */
  relativePath: string;
  isFile: boolean;
  isDirectory: boolean;
  size?: number;
  modified?: string;
}

export interface WriteResult {
  path: string;
  name: string;
  size: number;
}

export async function readTextFile(ctx: Ctx, p: string): Promise<string> {
  const file = resolvePath(ctx.workdir, p);
  const st = await statOrUndefined(file);
  if (!st) {
    throw new NonRetryableError(`cannot read ${file}: the file does not exist`, { code: ErrorCode.FILE, hint: "check the path; relative paths resolve against the working directory (--workdir)", details: { path: file } });
  }
  if (st.isDirectory()) {
    throw new NonRetryableError(`cannot read ${file}: it is a directory`, { code: ErrorCode.FILE, hint: "use `operation: list` to list a directory", details: { path: file } });
  }
  try {
    // A named pipe or a device is read on the event loop (readUserFile): `readFile` would wait for
    // the pipe's writer on a pool thread, which no timeout or Ctrl-C frees, and the process could
    // not exit until something wrote.
    if (!st.isFile()) return (await readUserFile(file, ctx.signal)).toString(toBufferEncoding(ctx.parameters.encoding));
    return await readFile(file, { encoding: toBufferEncoding(ctx.parameters.encoding), signal: ctx.signal });
  } catch (error) {
    throwIfAborted(ctx.signal, `reading ${file}`);
    throw fileError("read", file, error);
  }
}

/** Bytes or text to write for a content value (see the `content` parameter). */
function toWritable(value: unknown, encoding: BufferEncoding): string | Uint8Array {
  if (typeof value === "string") return encoding === "utf8" ? value : Buffer.from(value, encoding);
  if (isBytes(value)) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (isFileLike(value) && isBytes(value.data)) return value.data;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  // As the run's events and records write JSON: a BigInt as its digits, a Map as an object, a Set as a
  // list, a cycle as "[Circular]", bytes inside as base64 (JSON.stringify threw, or wrote `{}`).
  return `${JSON.stringify(toJsonSafe(value, { binary: "base64" }), null, 2)}\n`;
}

export async function writeContent(ctx: Ctx, p: string): Promise<WriteResult> {
  const content = ctx.parameters.content !== undefined ? ctx.parameters.content : ctx.input;
  if (content === undefined || content === null) {
    throw new NonRetryableError(`file-system write ${p}: nothing to write (no \`content\` and no input)`, {
      code: ErrorCode.NODE_INPUT,
      hint: "set `content`, or connect an upstream node whose output is the content",
    });
  }
  let file = resolvePath(ctx.workdir, p);
  const existing = await statOrUndefined(file);
  const item = isFileLike(content) ? content : ctx.input;
  const itemName = fileNameFor(item);
  // A path that does not exist yet and has no extension is taken for a directory only when what is
  // written is itself a named file item; explicit `content` (`out/LICENSE`) names the file.
  const intoDirectory = existing?.isDirectory() === true || /[\\/]$/.test(p) || (!existing && path.extname(file) === "" && isFileLike(content) && itemName !== undefined);
  if (intoDirectory) {
    if (!itemName) {
      throw new NonRetryableError(`cannot write into the directory ${file}: the content carries no file name`, {
        code: ErrorCode.NODE_INPUT,
        hint: "give `path` a file name, or pass an item with a `name` or `path`",
        details: { path: file },
      });
    }
    file = path.join(file, itemName);
  }
  throwIfAborted(ctx.signal, `writing ${file}`);
  const size = await atomicWriteFile(file, toWritable(content, toBufferEncoding(ctx.parameters.encoding)), {
    createDirectories: ctx.parameters.createDirectories,
    overwrite: ctx.parameters.overwrite,
    signal: ctx.signal,
  });
  return { path: file, name: path.basename(file), size };
}

export async function listDirectory(ctx: Ctx, p: string): Promise<FileEntry[]> {
  const dir = resolvePath(ctx.workdir, p);
  const st = await statOrUndefined(dir);
  if (!st?.isDirectory()) {
    throw new NonRetryableError(`cannot list ${dir}: ${st ? "it is a file, not a directory" : "the directory does not exist"}`, {
      code: ErrorCode.FILE,
      hint: st ? "use `operation: read` for a file, or point `path` at its directory and set `pattern`" : "check the path; relative paths resolve against the working directory (--workdir)",
      details: { path: dir },
    });
  }
  const { pattern, recursive, includeStats, includeHidden, caseSensitive } = ctx.parameters;
  const { glob } = await import("tinyglobby");
  const found = await glob(recursive && !pattern.includes("/") ? `**/${pattern}` : pattern, {
    cwd: dir,
    onlyFiles: false,
    dot: includeHidden,
    expandDirectories: false,
    caseSensitiveMatch: caseSensitive,
    // Cancel and the node's timeout stop the walk itself (it returns what it found so far), not only the wait for it.
    signal: ctx.signal,
  });
  throwIfAborted(ctx.signal, `listing ${dir}`);
  const entries = await Promise.all(
    found.map(async (relative): Promise<FileEntry | undefined> => {
      const rel = relative.replace(/[\\/]+$/, "");
      const full = path.join(dir, rel);
      let info;
      try {
        info = await stat(full);
      } catch (error) {
        if (errnoOf(error) === "ENOENT") return undefined; // removed while listing, or a dangling symlink
        throw fileError("stat", full, error);
      }
      const entry: FileEntry = { name: path.basename(full), path: full, relativePath: rel.split(path.sep).join("/"), isFile: info.isFile(), isDirectory: info.isDirectory() };
      if (includeStats) {
        entry.size = info.size;
        entry.modified = info.mtime.toISOString();
      }
      return entry;
    }),
  );
  const list = entries.filter((e): e is FileEntry => e !== undefined);
  list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  ctx.log("debug", `listed ${list.length} entr${list.length === 1 ? "y" : "ies"} matching ${pattern} in ${dir}`);
  return list;
}

export async function pathExists(ctx: Ctx, p: string): Promise<boolean> {
  return (await statOrUndefined(resolvePath(ctx.workdir, p))) !== undefined;
}

export async function createDirectory(ctx: Ctx, p: string): Promise<{ path: string; created: boolean }> {
  const dir = resolvePath(ctx.workdir, p);
  const st = await statOrUndefined(dir);
  if (st?.isDirectory()) return { path: dir, created: false };
  if (st) throw new NonRetryableError(`cannot create the directory ${dir}: a file with that name exists`, { code: ErrorCode.FILE, details: { path: dir } });
  try {
    await ensureDir(dir);
  } catch (error) {
    throw fileError("create the directory", dir, error);
  }
  return { path: dir, created: true };
}

/** Paths a delete must never remove: the filesystem root, the home directory, the working directory, or a directory holding one of them. */
function isProtected(target: string, workdir: string): boolean {
  const resolved = path.resolve(target);
  if (resolved === path.parse(resolved).root) return true;
  return [path.resolve(workdir), path.resolve(homedir())].some((kept) => kept === resolved || kept.startsWith(resolved + path.sep));
}

export async function deletePath(ctx: Ctx, p: string): Promise<{ path: string; deleted: boolean }> {
  const target = resolvePath(ctx.workdir, p);
  if (isProtected(target, ctx.workdir)) {
    throw new NonRetryableError(`refusing to delete ${target}: it is the filesystem root, or the home or the working directory, or holds one of them`, {
      code: ErrorCode.FILE,
      hint: "point `path` at something inside the working directory",
      details: { path: target },
    });
  }
  let st;
  try {
    st = await lstat(target);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return { path: target, deleted: false };
    throw fileError("delete", target, error);
  }
  try {
    if (!st.isDirectory()) await unlink(target);
    else if (ctx.parameters.recursive) await rm(target, { recursive: true, force: true });
    else await rmdir(target);
  } catch (error) {
    throw fileError("delete", target, error, errnoOf(error) === "ENOTEMPTY" || errnoOf(error) === "EEXIST" ? "set `recursive: true` to delete a directory with its content" : undefined);
  }
  return { path: target, deleted: true };
}

export async function copyOrMove(ctx: Ctx, p: string, operation: "copy" | "move"): Promise<{ path: string; sourcePath: string }> {
  const source = resolvePath(ctx.workdir, p);
  const rawDestination = ctx.parameters.destination ?? (typeof ctx.inputs.targetPath === "string" ? ctx.inputs.targetPath : undefined);
  if (!rawDestination) {
    throw new NonRetryableError(`file-system ${operation} ${source}: no destination`, { code: ErrorCode.NODE_INPUT, hint: "set `destination: <path>`" });
  }
  const sourceStat = await statOrUndefined(source);
  if (!sourceStat) {
    throw new NonRetryableError(`cannot ${operation} ${source}: it does not exist`, { code: ErrorCode.FILE, hint: "check the path; relative paths resolve against the working directory (--workdir)", details: { path: source } });
  }
  let destination = resolvePath(ctx.workdir, rawDestination);
  const destinationStat = await statOrUndefined(destination);
  if (destinationStat?.isDirectory() || /[\\/]$/.test(rawDestination)) destination = path.join(destination, path.basename(source));
  if (destination === source) return { path: destination, sourcePath: source };
  if (!ctx.parameters.overwrite && (await statOrUndefined(destination))) {
    throw new NonRetryableError(`cannot ${operation} ${source} to ${destination}: the target exists and overwrite is false`, { code: ErrorCode.FILE, hint: "set `overwrite: true`, or choose another destination", details: { path: destination } });
  }
  const parent = path.dirname(destination);
  if (ctx.parameters.createDirectories) await ensureDir(parent).catch((error: unknown) => Promise.reject(fileError("create the directory", parent, error)));
  throwIfAborted(ctx.signal, `${operation} ${source}`);
  const { overwrite } = ctx.parameters;
  // A regular file onto a regular file (or nothing) is copied atomically and can be stopped. Onto a
  // symlink or a special file (`/dev/null`, a pipe) it goes through the one writer, which writes
  // through them: `cp` replaced the link, or the device itself, with a regular file. Links and
  // directories as the source go through `cp`.
  const fileSource = (await lstat(source)).isFile();
  const target = await lstatOrUndefined(destination);
  const copy = async (force: boolean): Promise<void> => {
    if (!fileSource) return cp(source, destination, { recursive: true, force, errorOnExist: !force, preserveTimestamps: true });
    if (target === undefined || target.isFile()) return copyFileAtomic(source, destination, { overwrite: force, signal: ctx.signal });
    await atomicWriteFile(destination, await readFile(source, { signal: ctx.signal }), { createDirectories: false, overwrite: force, signal: ctx.signal });
  };
  try {
    if (operation === "copy") {
      await copy(overwrite);
    } else {
      try {
        await rename(source, destination);
      } catch (error) {
        if (errnoOf(error) !== "EXDEV") throw error;
        // Across filesystems a rename is impossible: copy, then remove the source.
        await copy(true);
        await rm(source, { recursive: true, force: true });
      }
    }
  } catch (error) {
    throwIfAborted(ctx.signal, `${operation} ${source}`);
    throw fileError(operation, `${source} to ${destination}`, error);
  }
  return { path: destination, sourcePath: source };
}

async function lstatOrUndefined(p: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(p);
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return undefined;
    throw error;
  }
}
