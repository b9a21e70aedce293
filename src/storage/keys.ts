import { AtomitonError, ErrorCode } from "../errors.js";

// Control characters (C0, DEL, C1) can hide in names and break terminals and file systems.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const WINDOWS_DRIVE = /^[a-zA-Z]:/;
const MAX_SEGMENT_BYTES = 200;

/** Why `key` is not a valid storage key, or `undefined` when it is. */
export function explainInvalidKey(key: unknown): string | undefined {
  if (typeof key !== "string") return `keys are strings, got ${typeof key}`;
  if (key === "") return "the key is empty";
  if (CONTROL_CHARS.test(key)) return "NUL and control characters are not allowed";
  if (key.includes("\\")) return 'backslashes are not allowed; separate names with "/"';
  if (key.startsWith("/") || WINDOWS_DRIVE.test(key)) return "absolute paths are not allowed; use a relative name";
  for (const segment of key.split("/")) {
    if (segment === "") return 'empty segments ("//", leading or trailing "/") are not allowed';
    if (segment === "." || segment === "..") return `"${segment}" segments are not allowed`;
    // File systems take 255 bytes per name; a save's temp file adds a dot and `.<pid>.<hex>.tmp`.
    const bytes = Buffer.byteLength(segment);
    if (bytes > MAX_SEGMENT_BYTES) return `a name of ${bytes} bytes is too long (at most ${MAX_SEGMENT_BYTES} between "/")`;
  }
  return undefined;
}

/** True when `key` is a valid `/`-separated storage key. */
export function isValidKey(key: unknown): key is string {
  return explainInvalidKey(key) === undefined;
}

/**
 * Throws `E_STORAGE_KEY` unless `key` is a relative, `/`-separated name without `.`/`..`/empty
 * segments, backslashes, drive letters, NUL or control characters.
 *
 * @example
 * assertValidKey("runs/r1.json"); // ok
 * assertValidKey("../etc/passwd"); // throws AtomitonError { code: "E_STORAGE_KEY" }
 */
export function assertValidKey(key: unknown): asserts key is string {
  const reason = explainInvalidKey(key);
  if (reason !== undefined) throw keyError(key, reason);
}

/** Like `assertValidKey` for a `list` prefix, which may be empty or end with `/`. */
export function assertValidPrefix(prefix: unknown): asserts prefix is string {
  if (prefix === "") return;
  const reason = explainInvalidKey(typeof prefix === "string" && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix);
  if (reason !== undefined) throw keyError(prefix, reason);
}

function keyError(key: unknown, reason: string): AtomitonError {
  const shown = typeof key === "string" ? JSON.stringify(key) : String(key);
  return new AtomitonError(ErrorCode.STORAGE_KEY, `invalid storage key ${shown}: ${reason}`, {
    retryable: false,
    hint: 'storage keys look like "runs/<runId>.json" or "composites/<id>.yaml"',
    details: { key: typeof key === "string" ? key : String(key) },
  });
}

/** How a key's value is encoded, chosen by its extension. */
export const KeyFormat = { json: "json", yaml: "yaml", raw: "raw" } as const;
export type KeyFormat = (typeof KeyFormat)[keyof typeof KeyFormat];

/** `.json` → json, `.yaml`/`.yml` → yaml, anything else → raw bytes (case-insensitive). */
export function formatOfKey(key: string): KeyFormat {
  const lower = key.toLowerCase();
  if (lower.endsWith(".json")) return KeyFormat.json;
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return KeyFormat.yaml;
  return KeyFormat.raw;
}
