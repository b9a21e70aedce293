import { holdsBytes, stringifyJsonSafe, toJsonSafe } from "../events/json-safe.js";

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
  // The replacer sees a Buffer only after its `toJSON` made an array of every byte (8 s for 50 MB).
  if (holdsBytes(value, 0)) return stringifyJsonSafe(value);
  try {
    return JSON.stringify(value, binarySafe);
  } catch {
    return stringifyJsonSafe(value);
  }
}

/**
 * An event payload's JSON, as the stored event log holds it after `{"type":…,`: plain
 * `JSON.stringify` unless it carries an output or error details (the only places values JSON
 * mishandles can hide), else `fastJson`.
 *
 * The last payload's text is kept: the run recorder and `atomiton serve`'s event streams both listen
 * to the bus and render the same event in turn, so the second one reuses the first one's text
 * (bench/serve.js: rendering was about half of what a subscribed client cost a 10k-node run).
 * Payloads are fresh objects per emit, so the identity check cannot return another event's text.
 * It holds one payload alive until the next event is rendered.
 */
export function eventBody(payload: object): string {
  if (payload === lastPayload) return lastBody;
  const p = payload as { output?: unknown; error?: { details?: unknown } };
  const body = p.output === undefined && p.error?.details === undefined ? plainJson(payload) : fastJson(payload);
  lastPayload = payload;
  lastBody = body;
  return body;
}
let lastPayload: object | undefined;
let lastBody = "";

function binarySafe(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value !== null && typeof value === "object") {
    // Buffer.toJSON already ran: look at the holder's original value.
    const original = key === "" ? value : (this as Record<string, unknown>)[key];
    if (ArrayBuffer.isView(original) || original instanceof ArrayBuffer) return `<Buffer ${original.byteLength} bytes>`;
    // JSON.stringify writes these as `{}` (a Map's entries, a Set's items, an Error's message lost):
    // written as `toJsonSafe` writes them, so the stored log says what `--reporter json` says.
    if (value instanceof Map || value instanceof Set || value instanceof Error) return toJsonSafe(value);
  }
  return value;
}
