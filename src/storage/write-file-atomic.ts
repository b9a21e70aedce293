import { randomBytes } from "node:crypto";
import { constants, openSync } from "node:fs";
import { Socket } from "node:net";
import { type FileHandle, link, lstat, open, readlink, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { ensureDir } from "./ensure-dir.js";

// `.<name>.<pid>.<12 hex>.tmp`: in-flight atomic writes, or the leftovers of a process that died.
const TEMP_FILE = /^\..*\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** True for the temp files `writeFileAtomic` creates beside its target. */
/** The temp file beside `target` that an atomic write (or copy) of this process goes through first. */
export function tempFileFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

export function isTempFileName(name: string): boolean {
  return TEMP_FILE.test(name);
}

/** The pid that wrote a temp file (from its name), or undefined for any other name. */
export function tempFileOwner(name: string): number | undefined {
  const m = TEMP_FILE.exec(name);
  return m ? Number(m[1]) : undefined;
}

export interface WriteFileAtomicOptions {
  /** Create missing parent directories (default true). */
  createDirectories?: boolean;
  /** fsync the temp file before the rename, so a power loss keeps the old or the new content (default false). */
  fsync?: boolean;
  /**
   * Create only: fail with EEXIST when the target exists. The check and the create are one step
   * (a hard link of the finished temp file), so of several processes racing, exactly one wins.
   */
  exclusive?: boolean;
  /**
   * Checked once the data is written, before the target is replaced: an abort meanwhile (Ctrl-C, a
   * timeout during a large write) leaves the target as it was and rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/**
 * The one atomic file writer: a temp file beside the target, then a rename over it, so readers
 * never see a torn file and a crash leaves the old content. A file written over keeps its mode.
 * Returns the bytes written.
 *
 * It writes THROUGH what is not a regular file: a symlink is followed and its target replaced (the
 * link stays a link), and a special file (`/dev/null`, a FIFO, a character device, a socket) is
 * opened and written directly — renaming a regular file over `/dev/null` would replace the device
 * for the whole machine.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<number> {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const target = await followLinks(path.resolve(file));
  const existing = await stat(target).catch(() => undefined);
  if (existing && options.exclusive) throw Object.assign(new Error(`EEXIST: file already exists, open '${target}'`), { code: "EEXIST", path: target });
  // A directory is never replaced (the rename would fail with a temp file's name beside its parent).
  if (existing?.isDirectory()) throw Object.assign(new Error(`EISDIR: '${target}' is a directory, not a file`), { code: "EISDIR", path: target });
  if (existing && !existing.isFile() && !existing.isDirectory()) {
    await writeDirect(target, bytes, existing.isFIFO() || existing.isSocket(), options.signal);
    return bytes.byteLength;
  }
  const dir = path.dirname(target);
  if (options.createDirectories ?? true) await ensureDir(dir);
  const temp = tempFileFor(target);
  try {
    // A file written over keeps its permissions (a 0600 `.env` must not become world-readable, a
    // script must stay executable); the umask is not applied to them, hence the chmod.
    const mode = existing ? existing.mode & 0o7777 : undefined;
    const handle = await open(temp, "wx", mode);
    try {
      if (mode !== undefined) await handle.chmod(mode);
      await writeAll(handle, bytes);
      if (options.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    options.signal?.throwIfAborted();
    if (options.exclusive) {
      await link(temp, target);
      await unlink(temp);
    } else {
      await rename(temp, target);
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return bytes.byteLength;
}

/** The path a write to `file` lands on: symlinks followed (a dangling link to its missing target). */
async function followLinks(file: string): Promise<string> {
  let current = file;
  for (let hops = 0; hops < 40; hops++) {
    const info = await lstat(current).catch(() => undefined);
    if (!info?.isSymbolicLink()) return current;
    current = path.resolve(path.dirname(current), await readlink(current));
  }
  throw Object.assign(new Error(`ELOOP: too many symbolic links, open '${file}'`), { code: "ELOOP", path: file });
}

async function writeDirect(file: string, bytes: Uint8Array, pipe: boolean, signal?: AbortSignal): Promise<void> {
  if (pipe) return writePipe(file, bytes, signal);
  const handle = await open(file, "w");
  try {
    await writeAll(handle, bytes);
  } finally {
    await handle.close();
  }
}

/**
 * A named pipe or a socket, written on the event loop. `open` of a pipe waits on one of libuv's
 * pool threads until a reader comes, and no timeout, Ctrl-C or SIGTERM frees that thread: the
 * process could not exit. Opened without waiting (O_NONBLOCK), a pipe with no reader is ENXIO at
 * once; one with a reader is written as a socket, which waits for it to read without a thread.
 */
async function writePipe(file: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw error;
    throw Object.assign(new Error(`ENXIO: no process is reading the named pipe '${file}'`), { code: "ENXIO", path: file });
  }
  const socket = new Socket({ fd, readable: false, writable: true });
  const onAbort = (): void => void socket.destroy(signal!.reason instanceof Error ? signal!.reason : new Error("aborted"));
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.end(bytes, resolve);
    });
  } finally {
    signal?.removeEventListener("abort", onAbort);
    socket.destroy();
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) done += (await handle.write(bytes, done, bytes.byteLength - done)).bytesWritten;
}
