import { ensureDir } from "../../storage/ensure-dir.js";
import { writeFileAtomic } from "../../storage/write-file-atomic.js";
import { homedir } from "node:os";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { AtomitonError, ErrorCode, NonRetryableError } from "../../errors.js";
import { readUserFile } from "../../read-file.js";
import { throwIfAborted } from "./abort.js";

/** Text encodings the file nodes accept, in the spellings editors use. */
export const ENCODINGS = ["utf8", "utf-8", "ascii", "base64", "base64url", "hex", "binary", "latin1", "iso-8859-1", "utf16le", "utf-16le", "utf-16", "ucs2"] as const;
export type EncodingName = (typeof ENCODINGS)[number];

/** Map an accepted spelling to the Node.js encoding name. */
export function toBufferEncoding(name: EncodingName): BufferEncoding {
  switch (name) {
    case "utf-8":
      return "utf8";
    case "binary":
    case "iso-8859-1":
      return "latin1";
    case "utf-16le":
    case "utf-16":
    case "ucs2":
      return "utf16le";
    default:
      return name;
  }
}

/** Resolve a user path against the node's working directory (`~/` is the home directory). */
export function resolvePath(workdir: string, p: string): string {
  // Node refuses such paths with an error that names no file and is not an E_FILE.
  if (p.includes("\0")) throw new NonRetryableError(`the path ${JSON.stringify(p)} contains a NUL character`, { code: ErrorCode.PARAM, hint: "check how the path was built (a template that inserted binary data?)" });
  // resolve, not join: `~/` is the home directory itself, without a trailing slash that would make
  // it look like another path (the delete guard compares paths).
  if (p === "~" || p.startsWith("~/")) return path.resolve(homedir(), `.${p.slice(1)}`);
  return path.resolve(workdir, p);
}

/** The errno code of a Node.js system error (`ENOENT`…), if any. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export async function statOrUndefined(p: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(p);
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return undefined;
    throw error;
  }
}

/**
 * The bytes of a file a node reads (`what`: "the spreadsheet", "the image"…): a regular file whole,
 * a named pipe (`mkfifo`, `<(cmd)`) or a device on the event loop (`readUserFile`: a timeout or
 * Ctrl-C ends the wait for a writer; 256 MiB at most). A missing file or a directory is E_FILE.
 */
export async function readInputFile(file: string, signal: AbortSignal, what: string): Promise<Buffer> {
  const st = await statOrUndefined(file);
  if (!st || st.isDirectory()) {
    throw new NonRetryableError(`cannot read ${what} ${file}: ${st ? "it is a directory" : "the file does not exist"}`, {
      code: ErrorCode.FILE,
      hint: "check the path; relative paths resolve against the working directory (--workdir)",
      details: { path: file },
    });
  }
  try {
    return st.isFile() ? await readFile(file, { signal }) : await readUserFile(file, signal);
  } catch (error) {
    throwIfAborted(signal, `reading ${file}`);
    throw fileError("read", file, error);
  }
}

/** Wrap a file-system failure as E_FILE: missing paths and permission problems cannot be fixed by retrying. */
export function fileError(action: string, target: string, error: unknown, hint?: string): AtomitonError {
  if (error instanceof AtomitonError) return error;
  const code = errnoOf(error);
  const reason = code === "ENOENT" ? "no such file or directory" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "is a directory" : code === "ENOTDIR" ? "a parent is not a directory" : code === "ENOTEMPTY" ? "directory not empty" : code === "EEXIST" ? "already exists" : error instanceof Error ? error.message : String(error);
  const transient = code === "EBUSY" || code === "EMFILE" || code === "ENFILE" || code === "EAGAIN";
  return new AtomitonError(ErrorCode.FILE, `cannot ${action} ${target}: ${reason}${code && !reason.includes(code) ? ` (${code})` : ""}`, {
    cause: error,
    retryable: transient,
    ...(hint ? { hint } : {}),
    details: { path: target, ...(code ? { errno: code } : {}) },
  });
}

export interface AtomicWriteOptions {
  /** Create missing parent directories (default true). */
  createDirectories?: boolean;
  /** Replace an existing file (default true). */
  overwrite?: boolean;
  /** The node's signal: aborted during the write, the target is left as it was. */
  signal?: AbortSignal;
}

/**
 * Write `data` to `file` atomically with the one writer (`writeFileAtomic`: readers never see a
 * half-written file, symlinks and special files are written through), as a node's E_FILE errors.
 * `overwrite: false` is an exclusive create. Returns the number of bytes written.
 */
export async function atomicWriteFile(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<number> {
  const dir = path.dirname(file);
  if (options.createDirectories ?? true) {
    try {
      await ensureDir(dir);
    } catch (error) {
      throw fileError("create the directory", dir, error);
    }
  } else if (!(await statOrUndefined(dir))?.isDirectory()) {
    throw new NonRetryableError(`cannot write ${file}: the directory ${dir} does not exist`, {
      code: ErrorCode.FILE,
      hint: "create it first, or set `createDirectories: true`",
      details: { path: file },
    });
  }
  try {
    return await writeFileAtomic(file, data, { createDirectories: false, exclusive: options.overwrite === false, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (options.signal?.aborted && error === options.signal.reason) throw error;
    if (options.overwrite === false && errnoOf(error) === "EEXIST") {
      throw new NonRetryableError(`cannot write ${file}: the file already exists and overwrite is false`, {
        code: ErrorCode.FILE,
        hint: "set `overwrite: true`, or choose another path",
        details: { path: file },
      });
    }
    throw fileError("write", file, error);
  }
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isBytes(value);
}

/**
 * A "file-like" item: an image node output `{ data, name, format }`, a file-list entry
 * `{ name, path }`, or anything else carrying a file name, path or bytes.
 */
export function isFileLike(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  return isBytes(value.data) || typeof value.name === "string" || typeof value.path === "string" || typeof value.sourcePath === "string";
}

const FORMAT_EXTENSIONS: Record<string, string> = { jpeg: "jpg", jpg: "jpg", png: "png", webp: "webp", avif: "avif", heif: "heif", gif: "gif", tiff: "tiff", tif: "tiff", svg: "svg" };

/** The file extension for an image format name (`jpeg` → `jpg`). */
export function extensionFor(format: string): string {
  return FORMAT_EXTENSIONS[format.toLowerCase()] ?? format.toLowerCase();
}

/**
 * The file name an item should be written as: its `name` (or the basename of its `path` /
 * `sourcePath`), with the extension replaced when it carries a `format` (`photo.png` + jpeg → `photo.jpg`).
 */
export function fileNameFor(item: unknown): string | undefined {
  if (!isRecord(item)) return undefined;
  const source = typeof item.name === "string" && item.name ? item.name : typeof item.path === "string" && item.path ? item.path : typeof item.sourcePath === "string" && item.sourcePath ? item.sourcePath : undefined;
  if (!source) return undefined;
  const base = path.basename(source);
  if (typeof item.format !== "string" || !item.format) return base;
  const ext = path.extname(base);
  const wanted = extensionFor(item.format);
  const currentFormat = ext.slice(1).toLowerCase();
  if (currentFormat && extensionFor(currentFormat) === wanted) return base;
  return `${ext ? base.slice(0, -ext.length) : base}.${wanted}`;
}
