import { statSync } from "node:fs";
import path from "node:path";
import { AtomitonError, ErrorCode } from "../errors.js";
import { createStorage } from "../storage/create-storage.js";
import type { Storage } from "../storage/types.js";
import type { CliIO } from "./io.js";
import { parseRedisUrl, queueNameFrom } from "./parse-flags.js";

/** Storages a command opened: `runCli` closes them when the command is done (Redis connections). */
const opened = new Set<Storage>();

/**
 * The CLI's store: the filesystem at --data-dir, $ATOMITON_DATA_DIR or ./.atomiton; memory; or Redis
 * at --redis / $ATOMITON_REDIS_URL under the namespace $ATOMITON_QUEUE (default `atomiton`), the
 * store queue-mode workers write to (SPEC §10).
 */
export function openStorage(type: string, dataDir: string | undefined, io: CliIO, redisUrl?: string, namespace?: string): Storage {
  if (type === "memory") return createStorage({ type: "memory" });
  if (type === "redis") {
    const url = redisUrl ?? io.env.ATOMITON_REDIS_URL;
    if (url === undefined || url === "") {
      throw new AtomitonError(ErrorCode.USAGE, "--storage redis needs a Redis URL", { retryable: false, hint: "give --redis redis://127.0.0.1:6379 or set ATOMITON_REDIS_URL" });
    }
    parseRedisUrl(redisUrl === undefined ? "ATOMITON_REDIS_URL" : "--redis", url);
    const storage = createStorage({ type: "redis", url, prefix: queueNameFrom("--queue-name", namespace, io.env) });
    opened.add(storage);
    return storage;
  }
  if (type !== "filesystem") {
    throw new AtomitonError(ErrorCode.USAGE, `unknown --storage "${type}"`, { retryable: false, hint: "use filesystem, memory or redis" });
  }
  if (dataDir !== undefined && dataDir.trim() === "") {
    throw new AtomitonError(ErrorCode.USAGE, "--data-dir is empty", { retryable: false, hint: "give a directory, or leave the flag out for $ATOMITON_DATA_DIR or ./.atomiton" });
  }
  // An empty $ATOMITON_DATA_DIR counts as unset, as an empty $ATOMITON_QUEUE does: path.resolve(cwd, "")
  // would put run records straight into the working directory.
  const dir = path.resolve(io.cwd, dataDir ?? (io.env.ATOMITON_DATA_DIR?.trim() || ".atomiton"));
  // A file where the data dir should be: every command says so (`runs` listed "no runs" and exited 0).
  if (isNonDirectory(dir)) {
    throw new AtomitonError(ErrorCode.STORAGE, `the data directory ${dir} is not a directory: a file stands there or on its path`, { retryable: false, hint: `choose another directory with --data-dir / ATOMITON_DATA_DIR, or move the file away` });
  }
  return createStorage({ type: "filesystem", dir });
}

/** Closes what `openStorage` opened (called once the command has finished). */
export async function closeOpenedStorages(): Promise<void> {
  const all = [...opened];
  opened.clear();
  await Promise.all(all.map((s) => s.close().catch(() => undefined)));
}

/**
 * Where a key of `storage` is, for messages: on the filesystem its path (relative to `cwd` when
 * given); on Redis the URL and prefix, and the key unless it is a folder (`runs/`). A Redis location
 * never goes through `path.join`, which would print `redis://host` as `redis:/host`.
 */
export function renderStorageLocation(storage: Pick<Storage, "type" | "location">, key: string, cwd?: string): string {
  if (storage.type === "filesystem") {
    const full = path.join(storage.location, key.replace(/\/$/, ""));
    return cwd === undefined ? full : path.relative(cwd, full) || ".";
  }
  return key.endsWith("/") ? storage.location : `key "${key}" in ${storage.location}`;
}

/** A file stands at `dir` or on its path (other errors, such as EACCES, are the storage's to report). */
function isNonDirectory(dir: string): boolean {
  try {
    return statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOTDIR";
  }
}
