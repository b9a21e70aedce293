import { hash } from "node:crypto";
/** A value `JSON.stringify` writes and `JSON.parse` reads back unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface JsonSafeOptions {
  /**
   * How Buffers, typed arrays and ArrayBuffers are written:
   * - `"summary"` (default): `"<Buffer 1234 bytes>"` — event logs stay small when a node outputs an image.
   * - `"base64"`: `{ "type": "Buffer", "base64": "…" }` — lossless.
   * - `"digest"`: `{ "type": "Buffer", "bytes": 1234, "sha256": "…" }` — for cache keys: equal bytes,
   *   equal text, without a copy of the bytes.
   */
  binary?: "summary" | "base64" | "digest";
  /** Deeper values become `"[MaxDepth]"` (default 100). */
  maxDepth?: number;
}

/**
 * A copy of `value` that `JSON.stringify` cannot throw on and that survives a JSON round trip:
 * - BigInt → its decimal string (`"12345678901234567890"`).
 * - Buffer / typed array / ArrayBuffer → see `options.binary`.
 * - a reference to an object that contains it (a cycle) → `"[Circular]"`; an object that is merely
 *   shared by two branches is written twice.
 * - Map → object (array of `[key, value]` pairs when a key is not a string), Set → array.
 * - Error → `{ name, message, code?, …own fields }`; Date and other `toJSON` values → their JSON.
 * - NaN/±Infinity → null and undefined/functions/symbols dropped (null inside arrays), as JSON does.
 * - a getter or `toJSON` that throws → `"[Unserializable: <message>]"`.
 *
 * @example
 * JSON.stringify(toJsonSafe({ n: 10n, b: Buffer.from("hi") })); // {"n":"10","b":"<Buffer 2 bytes>"}
 */
export function toJsonSafe(value: unknown, options: JsonSafeOptions = {}): JsonValue {
  const walker = new Walker(options.binary ?? "summary", options.maxDepth ?? 100);
  return walker.walk(value, 0) ?? null;
}

/** `JSON.stringify(toJsonSafe(value))`: never throws. */
export function stringifyJsonSafe(value: unknown, options?: JsonSafeOptions): string {
  return JSON.stringify(toJsonSafe(value, options));
}

class Walker {
  // Ancestors of the value being walked: only these make a cycle.
  private readonly stack = new Set<object>();

  constructor(
    private readonly binary: "summary" | "base64" | "digest",
    private readonly maxDepth: number,
  ) {}

  /** `undefined` means "leave out" (JSON drops it from objects, writes null in arrays). */
  walk(value: unknown, depth: number): JsonValue | undefined {
    switch (typeof value) {
      case "string":
      case "boolean":
        return value;
      case "number":
        return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : null;
      case "bigint":
        return value.toString();
      case "undefined":
      case "function":
      case "symbol":
        return undefined;
      default:
        break;
    }
    if (value === null) return null;
    const obj = value as object;
    if (this.stack.has(obj)) return "[Circular]";
    if (depth >= this.maxDepth) return "[MaxDepth]";
    if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer || obj instanceof SharedArrayBuffer) {
      return this.binaryValue(obj);
    }
    this.stack.add(obj);
    try {
      return this.walkObject(obj, depth + 1);
    } catch (error) {
      return `[Unserializable: ${error instanceof Error ? error.message : String(error)}]`;
    } finally {
      this.stack.delete(obj);
    }
  }

  private walkObject(obj: object, depth: number): JsonValue | undefined {
    if (Array.isArray(obj)) {
      // A loop, not map(): map skips the holes of sparse arrays, which JSON writes as null.
      const out: JsonValue[] = [];
      for (let i = 0; i < obj.length; i++) out.push(this.walk(obj[i], depth) ?? null);
      return out;
    }
    if (obj instanceof Map) return this.walkMap(obj, depth);
    if (obj instanceof Set) return [...obj].map((item) => this.walk(item, depth) ?? null);
    if (obj instanceof Error) return this.walkError(obj, depth);
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      const replaced: unknown = toJSON.call(obj);
      return replaced === obj ? this.walkEntries(obj, depth) : this.walk(replaced, depth);
    }
    return this.walkEntries(obj, depth);
  }

  private walkEntries(obj: object, depth: number): JsonValue {
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(obj)) {
      const v = this.walk((obj as Record<string, unknown>)[key], depth);
      if (v !== undefined) setKey(out, key, v);
    }
    return out;
  }

  private walkMap(map: Map<unknown, unknown>, depth: number): JsonValue {
    const stringKeys = [...map.keys()].every((k) => typeof k === "string");
    if (!stringKeys) return [...map].map(([k, v]) => [this.walk(k, depth) ?? null, this.walk(v, depth) ?? null]);
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of map) {
      const safe = this.walk(v, depth);
      if (safe !== undefined) setKey(out, k as string, safe);
    }
    return out;
  }

  private walkError(error: Error, depth: number): JsonValue {
    const out: { [key: string]: JsonValue } = { name: error.name, message: error.message };
    const entries = this.walkEntries(error, depth) as { [key: string]: JsonValue };
    for (const [k, v] of Object.entries(entries)) if (!(k in out)) out[k] = v;
    return out;
  }

  private binaryValue(obj: ArrayBufferView | ArrayBuffer | SharedArrayBuffer): JsonValue {
    const bytes = ArrayBuffer.isView(obj)
      ? Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength)
      : Buffer.from(obj as ArrayBuffer);
    const type = Buffer.isBuffer(obj) ? "Buffer" : obj.constructor.name;
    if (this.binary === "base64") return { type, base64: bytes.toString("base64") };
    if (this.binary === "digest") return { type, bytes: bytes.byteLength, sha256: hash("sha256", bytes, "base64url") };
    return `<${type} ${bytes.byteLength} bytes>`;
  }
}

const BYTES_DEPTH = 4;
const BYTES_SCAN = 32;

/**
 * Bytes (a Buffer, a typed array, an ArrayBuffer) within BYTES_DEPTH levels of `value`, looking at
 * the first BYTES_SCAN items or fields of each level: where nodes put them (an output that is
 * bytes, an item's `data`, a list of such items). Callers use it to keep bytes away from
 * `JSON.stringify`, which calls a Buffer's `toJSON`: an array of every byte as a number.
 */
export function holdsBytes(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return true;
  if (depth >= BYTES_DEPTH) return false;
  let seen = 0;
  const items: Iterable<unknown> = Array.isArray(value) ? value : fieldValues(value as Record<string, unknown>);
  for (const item of items) {
    if (holdsBytes(item, depth + 1)) return true;
    if (++seen >= BYTES_SCAN) return false;
  }
  return false;
}

function* fieldValues(object: Record<string, unknown>): Generator<unknown> {
  for (const key in object) yield object[key];
}

/** `out[key] = value`, also for a key named `__proto__`, which an assignment takes for the prototype (the key was lost). */
function setKey(out: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
