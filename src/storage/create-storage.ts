import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { AtomitonError, ErrorCode } from "../errors.js";
import { createFilesystemBackend } from "./filesystem.js";
import { assertValidKey, assertValidPrefix, formatOfKey, KeyFormat } from "./keys.js";
import { createMemoryBackend } from "./memory.js";
import { createRedisBackend } from "./redis.js";
import { StorageType, type Storage, type StorageBackend, type StorageOptions } from "./types.js";

/**
 * Creates a storage over the memory, filesystem or Redis backend; see `Storage` for the key and format rules.
 * Throws `E_STORAGE` for an unknown `type`, a filesystem storage without `dir` or a Redis one without `url`. Nothing touches the
 * disk until the first write (call `assertWritable()` to check the directory up front).
 *
 * @example
 * const storage = createStorage({ type: "filesystem", dir: ".atomiton" });
 * await storage.save("runs/r1.json", { status: "succeeded" });
 * await storage.load("runs/r1.json"); // { status: "succeeded" }
 * await storage.list("runs/"); // ["runs/r1.json"]
 */
export function createStorage(options: StorageOptions): Storage {
  return wrapBackend(createBackend(options));
}

function createBackend(options: StorageOptions): StorageBackend {
  const type: unknown = (options as { type?: unknown } | undefined)?.type;
  if (type === StorageType.memory) return createMemoryBackend();
  if (type === StorageType.filesystem) {
    const dir: unknown = (options as { dir?: unknown }).dir;
    if (typeof dir !== "string" || dir.trim() === "") {
      throw new AtomitonError(ErrorCode.STORAGE, 'filesystem storage needs a "dir" (a non-empty path)', {
        retryable: false,
        hint: 'createStorage({ type: "filesystem", dir: ".atomiton" })',
      });
    }
    return createFilesystemBackend(dir);
  }
  if (type === StorageType.redis) {
    const { url, prefix } = options as { url?: unknown; prefix?: unknown };
    if (typeof url !== "string" || !/^rediss?:\/\//.test(url)) {
      throw new AtomitonError(ErrorCode.STORAGE, `redis storage needs a "url" such as redis://127.0.0.1:6379, got ${JSON.stringify(url) ?? String(url)}`, {
        retryable: false,
        hint: 'createStorage({ type: "redis", url: "redis://127.0.0.1:6379" }), or --storage redis --redis <url>',
      });
    }
    if (prefix !== undefined) assertRedisPrefix(prefix);
    return createRedisBackend(url, prefix as string | undefined);
  }
  const valid = Object.values(StorageType).join(", ");
  throw new AtomitonError(ErrorCode.STORAGE, `unknown storage type ${JSON.stringify(type) ?? String(type)}; valid types: ${valid}`, {
    retryable: false,
    hint: `use --storage ${Object.values(StorageType).join("|")}`,
    details: { type: String(type), valid: Object.values(StorageType) },
  });
}

/** A storage over a backend made by hand (the queue's engine thread shares its Redis backend's client). */
export function wrapBackend(backend: StorageBackend): Storage {
  return {
    type: backend.type,
    location: backend.location,
    followable: backend.followable ?? false,
    ordered: backend.ordered ?? false,
    async save(key, value) {
      assertValidKey(key);
      await backend.write(key, encodeValue(key, value));
    },
    async load(key) {
      assertValidKey(key);
      const data = await backend.read(key);
      return data === undefined ? undefined : decodeValue(key, data);
    },
    async saveText(key, text) {
      assertValidKey(key);
      if (typeof text !== "string") throw encodeError(key, `saveText expects a string, got ${typeName(text)}`);
      await backend.write(key, Buffer.from(text, "utf8"));
    },
    async createText(key, text) {
      assertValidKey(key);
      if (typeof text !== "string") throw encodeError(key, `createText expects a string, got ${typeName(text)}`);
      return backend.create(key, Buffer.from(text, "utf8"));
    },
    async loadText(key) {
      assertValidKey(key);
      return (await backend.read(key))?.toString("utf8");
    },
    async loadBytesFrom(key, start) {
      assertValidKey(key);
      if (!Number.isSafeInteger(start) || start < 0) throw new AtomitonError(ErrorCode.STORAGE, `cannot load "${key}" from byte ${String(start)}: expected a whole number ≥ 0`, { retryable: false, details: { key } });
      if (backend.readFrom) return backend.readFrom(key, start);
      return (await backend.read(key))?.subarray(start);
    },
    async delete(key) {
      assertValidKey(key);
      return backend.remove(key);
    },
    async list(prefix = "") {
      assertValidPrefix(prefix);
      // Code-unit order: the same on every machine, unlike localeCompare.
      return (await backend.keys(prefix)).sort();
    },
    async exists(key) {
      assertValidKey(key);
      return backend.has(key);
    },
    async appendLines(key, lines) {
      assertValidKey(key);
      if (formatOfKey(key) !== KeyFormat.raw) {
        throw encodeError(key, "appendLines needs a raw text key such as .ndjson; .json and .yaml are saved whole");
      }
      const bad = lines.findIndex((line) => typeof line !== "string" || line.includes("\n") || line.includes("\r"));
      if (bad !== -1) throw encodeError(key, `line ${bad} is not a string without line breaks`);
      if (lines.length === 0) return;
      await backend.append(key, Buffer.from(`${lines.join("\n")}\n`, "utf8"));
    },
    assertWritable: () => backend.assertWritable(),
    async removeStaleTempFiles(prefix) {
      assertValidPrefix(prefix);
      return (await backend.removeStaleTempFiles?.(prefix)) ?? 0;
    },
    close: async () => {
      await backend.close?.();
    },
  };
}

/** Encodes `value` for `key` by its extension, or throws `E_STORAGE` (nothing is written then). */
function encodeValue(key: string, value: unknown): Uint8Array {
  const format = formatOfKey(key);
  if (format === KeyFormat.raw) {
    if (typeof value === "string") return Buffer.from(value, "utf8");
    if (value instanceof Uint8Array) return value;
    throw encodeError(key, `expects a string or Buffer, got ${typeName(value)}; use a .json or .yaml key for structured values`);
  }
  let text: string | undefined;
  try {
    // aliasDuplicateObjects: false repeats shared objects instead of writing &anchors (and refuses cycles).
    text = format === KeyFormat.json ? JSON.stringify(value, null, 2) : stringifyYaml(value, { aliasDuplicateObjects: false });
  } catch (error) {
    const why = error instanceof RangeError ? "circular reference" : describe(error);
    throw encodeError(key, `cannot encode the value as ${format.toUpperCase()} (${why})`, error);
  }
  if (text === undefined) throw encodeError(key, `cannot store ${typeName(value)}; use delete() to remove a key`);
  return Buffer.from(format === KeyFormat.json ? `${text}\n` : text, "utf8");
}

/** Decodes stored bytes for `key`; a file that does not parse is an `E_STORAGE` naming the key. */
function decodeValue(key: string, data: Buffer): unknown {
  const format = formatOfKey(key);
  if (format === KeyFormat.raw) return data;
  const text = data.toString("utf8");
  try {
    return format === KeyFormat.json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new AtomitonError(ErrorCode.STORAGE, `stored "${key}" is not valid ${format.toUpperCase()} (${describe(error)})`, {
      cause: error,
      retryable: false,
      hint: "the file was edited or written by something else; fix or delete it",
      details: { key },
    });
  }
}

function encodeError(key: string, reason: string, cause?: unknown): AtomitonError {
  return new AtomitonError(ErrorCode.STORAGE, `cannot save "${key}": ${reason}`, { cause, retryable: false, details: { key } });
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? (value.constructor?.name ?? "an object") : typeof value;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A Redis namespace (`prefix`, a queue's name): letters, digits, `_`, `.`, `-`, with `:` between parts. */
export function isRedisPrefix(prefix: unknown): prefix is string {
  return typeof prefix === "string" && /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$/.test(prefix);
}

/** Throws unless `prefix` is a Redis namespace (see isRedisPrefix). */
export function assertRedisPrefix(prefix: unknown): void {
  if (!isRedisPrefix(prefix)) {
    throw new AtomitonError(ErrorCode.STORAGE, `redis storage: prefix ${JSON.stringify(prefix)} is not a name of letters, digits, "_", ".", "-" (":" between parts)`, { retryable: false });
  }
}
