import { randomBytes } from "node:crypto";
import { open, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { ensureDir } from "./ensure-dir.js";
import { AtomitonError, ErrorCode } from "../errors.js";
import { assertValidKey, isValidKey } from "./keys.js";
import type { StorageBackend } from "./types.js";
import { isProcessAlive } from "./process-alive.js";
import { isTempFileName, tempFileOwner, writeFileAtomic } from "./write-file-atomic.js";

export { isTempFileName };

function tempNameFor(base: string): string {
  return `.${base}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
}

/**
 * Creates a backend that keeps each key as a file under `dir` (`runs/r1.json` → `<dir>/runs/r1.json`).
 * `write` is atomic: it writes a temp file in the same directory, fsyncs it and renames it over the
 * target, so readers and crashes only ever see the old or the new content, and processes writing
 * concurrently cannot tear each other's files. `append` opens with O_APPEND and hands the whole batch to
 * one write(2): a process that dies (even by SIGKILL) has written all of it or none of it, so a
 * crash never leaves a torn line either (see `Storage.appendLines`).
 *
 * @example
 * const storage = createStorage({ type: "filesystem", dir: ".atomiton" }); // wraps this backend
 */
export function createFilesystemBackend(dir: string): StorageBackend {
  const root = path.resolve(dir);

  function fileOf(key: string): string {
    assertValidKey(key);
    const file = path.join(root, ...key.split("/"));
    // Valid keys cannot escape the root; this guards the invariant, not user input.
    if (!file.startsWith(root + path.sep)) throw ioError(root, "resolve", key, file, new Error("path escapes the storage root"));
    return file;
  }

  async function walk(dirPath: string, keyPrefix: string, prefix: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dirPath, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw ioError(root, "list", prefix, dirPath, error);
    }
    for (const entry of entries) {
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        const dirKey = `${key}/`;
        if (dirKey.startsWith(prefix) || prefix.startsWith(dirKey)) await walk(path.join(dirPath, entry.name), dirKey, prefix, out);
      } else if (entry.isFile() && !isTempFileName(entry.name) && isValidKey(key)) {
        out.push(key);
      }
    }
  }

  return {
    type: "filesystem",
    location: root,
    async read(key) {
      const file = fileOf(key);
      try {
        return await readFile(file);
      } catch (error) {
        if (isMissing(error) || errnoOf(error) === "EISDIR") return undefined;
        throw ioError(root, "load", key, file, error);
      }
    },
    async readFrom(key, start) {
      const file = fileOf(key);
      try {
        const handle = await open(file, "r");
        try {
          const { size } = await handle.stat();
          const out = Buffer.allocUnsafe(Math.max(0, size - start));
          let done = 0;
          while (done < out.length) {
            const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
            if (bytesRead === 0) break;
            done += bytesRead;
          }
          return out.subarray(0, done);
        } finally {
          await handle.close();
        }
      } catch (error) {
        if (isMissing(error) || errnoOf(error) === "EISDIR") return undefined;
        throw ioError(root, "load", key, file, error);
      }
    },
    async write(key, data) {
      const file = fileOf(key);
      try {
        await writeFileAtomic(file, data, { fsync: true });
      } catch (error) {
        throw ioError(root, "save", key, file, error);
      }
    },
    async create(key, data) {
      const file = fileOf(key);
      try {
        await writeFileAtomic(file, data, { fsync: true, exclusive: true });
        return true;
      } catch (error) {
        if (errnoOf(error) === "EEXIST") return false;
        throw ioError(root, "save", key, file, error);
      }
    },
    async append(key, data) {
      const file = fileOf(key);
      try {
        await ensureDir(path.dirname(file));
        const handle = await open(file, "a");
        let size: number | undefined;
        try {
          size = (await handle.stat()).size;
          // One write for the whole batch (fs.appendFile splits anything above 512 KiB into several).
          // A regular file takes it in one go; the loop only guards the short write POSIX allows.
          let done = 0;
          while (done < data.byteLength) done += (await handle.write(data, done, data.byteLength - done)).bytesWritten;
        } catch (error) {
          // A full disk (ENOSPC) or a file size limit (EFBIG) cuts a write short: take the torn part
          // back, so the batch is all or nothing and the space it took is free for the record.
          if (size !== undefined) await handle.truncate(size).catch(() => undefined);
          throw error;
        } finally {
          await handle.close();
        }
      } catch (error) {
        throw ioError(root, "append to", key, file, error);
      }
    },
    async remove(key) {
      const file = fileOf(key);
      try {
        await unlink(file);
        return true;
      } catch (error) {
        if (isMissing(error)) return false;
        // unlink on a directory fails with EISDIR (Linux) or EPERM (macOS); a folder is not a key.
        if (await isDirectory(file)) return false;
        throw ioError(root, "delete", key, file, error);
      }
    },
    async keys(prefix) {
      const base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
      const start = base === "" ? root : path.join(root, ...base.slice(0, -1).split("/"));
      const out: string[] = [];
      await walk(start, base, prefix, out);
      return out.filter((key) => key.startsWith(prefix));
    },
    async has(key) {
      const file = fileOf(key);
      try {
        return (await stat(file)).isFile();
      } catch (error) {
        if (isMissing(error)) return false;
        throw ioError(root, "check", key, file, error);
      }
    },
    async removeStaleTempFiles(prefix) {
      const folder = prefix.slice(0, prefix.lastIndexOf("/") + 1);
      const dirPath = folder === "" ? root : path.join(root, ...folder.slice(0, -1).split("/"));
      let names: string[];
      try {
        names = await readdir(dirPath);
      } catch (error) {
        if (isMissing(error)) return 0;
        throw ioError(root, "list", prefix, dirPath, error);
      }
      let removed = 0;
      for (const name of names) {
        const owner = tempFileOwner(name);
        if (owner === undefined || owner === process.pid || isProcessAlive(owner)) continue;
        // Another process may sweep the same file: a missing one is not an error.
        if (await unlink(path.join(dirPath, name)).then(() => true, () => false)) removed++;
      }
      return removed;
    },
    async assertWritable() {
      const probe = path.join(root, tempNameFor("atomiton-probe"));
      try {
        await ensureDir(root);
        await writeFile(probe, "", { flag: "wx" });
        await rm(probe, { force: true });
      } catch (error) {
        throw new AtomitonError(ErrorCode.STORAGE, `storage directory ${root} is not writable (${describe(error)})`, {
          cause: error,
          retryable: false,
          hint: "fix its permissions or choose another directory with --data-dir / ATOMITON_DATA_DIR",
          details: { dir: root, errno: errnoOf(error) },
        });
      }
    },
  };
}

function ioError(root: string, action: string, key: string, file: string, error: unknown): AtomitonError {
  const errno = errnoOf(error);
  return new AtomitonError(ErrorCode.STORAGE, `cannot ${action} "${key}" at ${file} (${describe(error)})`, {
    cause: error,
    // Busy or out of handles may pass; a missing permission or a full disk will not.
    retryable: errno === "EBUSY" || errno === "EAGAIN" || errno === "EMFILE" || errno === "ENFILE",
    hint: hintFor(errno, root),
    details: { dir: root, key, errno },
  });
}

function hintFor(errno: string | undefined, root: string): string | undefined {
  switch (errno) {
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return `check that ${root} is writable, or choose another directory with --data-dir`;
    case "ENOTDIR":
    case "EEXIST":
    case "EISDIR":
      return "a file stands where a folder is expected (or the reverse); pick a different key";
    case "ENOSPC":
      return "the disk is full";
    default:
      return undefined;
  }
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isMissing(error: unknown): boolean {
  const errno = errnoOf(error);
  return errno === "ENOENT" || errno === "ENOTDIR";
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}
