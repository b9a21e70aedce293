import { stringifyJsonSafe } from "../events/json-safe.js";

/** An event as JSON: plain `JSON.stringify`, or the careful walker when that throws. */
export function plainJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return stringifyJsonSafe(value);
  }
}

/**
 * An event as JSON, fast: plain `JSON.stringify` with a replacer for the few values it cannot
 * write (BigInt, binary data as a size summary); the careful walker only when that throws (cycles).
 */
export function fastJson(value: unknown): string {
  try {
    return JSON.stringify(value, binarySafe);
  } catch {
    return stringifyJsonSafe(value);
  }
}

function binarySafe(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value !== null && typeof value === "object") {
    // Buffer.toJSON already ran: look at the holder's original value.
    const original = key === "" ? value : (this as Record<string, unknown>)[key];
    if (ArrayBuffer.isView(original) || original instanceof ArrayBuffer) return `<Buffer ${original.byteLength} bytes>`;
  }
  return value;
}
