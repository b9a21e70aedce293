/** The storage backends `createStorage` knows. */
export const StorageType = {
  memory: "memory",
  filesystem: "filesystem",
  redis: "redis",
} as const;
export type StorageType = (typeof StorageType)[keyof typeof StorageType];

export interface MemoryStorageOptions {
  type: "memory";
}

export interface FilesystemStorageOptions {
  type: "filesystem";
  /** Root directory; created on the first write. Relative paths resolve against the cwd. */
  dir: string;
}

export interface RedisStorageOptions {
  type: "redis";
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Namespace of every key (default `atomiton`): several stores can share one Redis. */
  prefix?: string;
}

export type StorageOptions = MemoryStorageOptions | FilesystemStorageOptions | RedisStorageOptions;

/**
 * One async key/value interface over every backend (SPEC §6).
 *
 * Keys are `/`-separated names (`runs/r1.json`), checked by `assertValidKey`. The key's extension
 * picks the format:
 * - `.json`: any JSON value, written pretty (2 spaces, trailing newline); `load` parses it.
 * - `.yaml` / `.yml`: any YAML value (`yaml` package); `load` parses it.
 * - anything else (`.ndjson`, `.txt`, no extension…): raw bytes. `save` takes a string (UTF-8) or a
 *   `Uint8Array`/`Buffer`; `load` returns a `Buffer`; `loadText` returns the UTF-8 string.
 *
 * A value that cannot be encoded (a BigInt or a circular object in `.json`, `undefined`…) is refused
 * with `E_STORAGE` and the previous content stays. Loaded values are fresh copies: mutating them never
 * changes what is stored. `load` returns `unknown`: parse it (zod) before trusting it.
 */
export interface Storage {
  readonly type: StorageType;
  /** `"memory"`, the absolute root directory, or the Redis URL (password hidden) and prefix, for messages. */
  readonly location: string;
  /**
   * True when other processes follow appends as they land (Redis: each event log is a stream the
   * submitter of a queued run reads): the run recorder then writes the event log every tick instead of
   * in batches.
   */
  readonly followable: boolean;
  /**
   * True when writes land in the order they are issued, whether or not the earlier ones have settled
   * (Redis: one connection, commands applied in the order sent). A writer may then issue two writes
   * at once, in one round trip, instead of waiting for the first.
   */
  readonly ordered: boolean;
  /** Stores `value` under `key`, replacing any previous value atomically. */
  save(key: string, value: unknown): Promise<void>;
  /** The decoded value under `key`, or `undefined` when missing. */
  load(key: string): Promise<unknown>;
  /** Stores text as-is under any key (e.g. a composite's YAML with its comments). */
  saveText(key: string, text: string): Promise<void>;
  /** The raw UTF-8 text under `key`, or `undefined` when missing. */
  loadText(key: string): Promise<string | undefined>;
  /**
   * The raw bytes under `key` from byte `start` on: what was appended since a reader took the first
   * `start` bytes (an event log followed while its run goes on, without reading it whole each time).
   * Empty when the value is no longer than `start`; `undefined` when missing.
   */
  loadBytesFrom(key: string, start: number): Promise<Buffer | undefined>;
  /**
   * Stores text under `key` only if nothing is there: resolves `false` (and writes nothing) when the
   * key exists. Check and create are one step, so of several processes racing exactly one gets `true`.
   */
  createText(key: string, text: string): Promise<boolean>;
  /** Removes `key`; resolves `true` when it existed. */
  delete(key: string): Promise<boolean>;
  /** Every key starting with `prefix` (a plain string prefix: use `"runs/"` for a folder), sorted. */
  list(prefix?: string): Promise<string[]>;
  exists(key: string): Promise<boolean>;
  /**
   * Appends lines (each without `\n`) to a raw key such as the `.ndjson` event log. The filesystem
   * backend writes the whole batch with one write(2) on an O_APPEND descriptor, so a process crash
   * leaves all of a batch or none of it. Readers still skip lines that do not parse (a power loss is
   * another matter), and the `.json` run record stays the source of truth.
   */
  appendLines(key: string, lines: readonly string[]): Promise<void>;
  /** Fails with `E_STORAGE` naming the location when it cannot be written (creates it if needed). */
  assertWritable(): Promise<void>;
  /**
   * Filesystem: deletes the temp files of atomic writes under the folder `prefix` (e.g. `"runs/"`)
   * whose writing process (pid in the name) is gone on this machine: what a SIGKILL mid-save leaves.
   * Resolves how many it deleted; other backends have none (0).
   */
  removeStaleTempFiles(prefix: string): Promise<number>;
  /** Releases connections (Redis); memory and filesystem have none. The storage is unusable after. */
  close(): Promise<void>;
}

/** What a backend implements: bytes under already-validated keys. `createStorage` adds keys and formats. */
export interface StorageBackend {
  readonly type: StorageType;
  readonly location: string;
  readonly followable?: boolean;
  readonly ordered?: boolean;
  /** The bytes under `key` (a copy), or `undefined` when missing. */
  read(key: string): Promise<Buffer | undefined>;
  /** The bytes under `key` from byte `start` on (a copy), or `undefined` when missing; without it, `read` and a slice. */
  readFrom?(key: string, start: number): Promise<Buffer | undefined>;
  /** Replaces `key` with `data` atomically. */
  write(key: string, data: Uint8Array): Promise<void>;
  /** Writes `data` under `key` only if the key does not exist, atomically; `false` when it did. */
  create(key: string, data: Uint8Array): Promise<boolean>;
  append(key: string, data: Uint8Array): Promise<void>;
  remove(key: string): Promise<boolean>;
  /** Keys starting with `prefix`, in any order. */
  keys(prefix: string): Promise<string[]>;
  has(key: string): Promise<boolean>;
  assertWritable(): Promise<void>;
  removeStaleTempFiles?(prefix: string): Promise<number>;
  close?(): Promise<void>;
}
