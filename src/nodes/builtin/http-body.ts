import { ErrorCode, NonRetryableError } from "../../errors.js";
import { MAX_STREAMED_BYTES } from "../../read-file.js";
import { isBytes } from "./file-utils.js";
import { stringifyJsonSafe } from "../../events/json-safe.js";

/** Base64 or base64url, with optional padding. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$|^[A-Za-z0-9_-]*$/;

export const BODY_TYPES = ["auto", "json", "text", "form", "binary"] as const;
export type BodyType = (typeof BODY_TYPES)[number];
export const RESPONSE_TYPES = ["auto", "json", "text", "binary", "base64"] as const;
export type ResponseType = (typeof RESPONSE_TYPES)[number];

export interface EncodedBody {
  body: string | Uint8Array;
  contentType: string;
}

/** A value as JSON text, as the run's records write it (a BigInt as its digits, a Map as an object; JSON.stringify threw or wrote `{}`). */
function jsonText(value: unknown): string {
  return stringifyJsonSafe(value, { binary: "base64" });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isBytes(value);
}

/**
 * Encode a request body. `auto`: strings as text, bytes (or `{ data: bytes }` items) as
 * application/octet-stream, everything else as JSON.
 */
export function encodeBody(body: unknown, type: BodyType): EncodedBody | undefined {
  if (body === undefined || body === null) return undefined;
  const bytes = isBytes(body) ? body : isPlainObject(body) && isBytes(body.data) ? body.data : undefined;
  switch (type) {
    case "json":
      return { body: typeof body === "string" ? body : jsonText(body), contentType: "application/json" };
    case "text":
      return { body: typeof body === "string" ? body : bytes ? Buffer.from(bytes).toString("utf8") : jsonText(body), contentType: "text/plain;charset=utf-8" };
    case "form": {
      if (typeof body === "string") return { body, contentType: "application/x-www-form-urlencoded" };
      if (!isPlainObject(body)) {
        throw new NonRetryableError("bodyType form needs an object of fields (or an encoded string)", { code: ErrorCode.NODE_INPUT, hint: "pass `body: { field: value }`" });
      }
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) {
        if (v === undefined || v === null) continue;
        for (const item of Array.isArray(v) ? v : [v]) form.append(k, typeof item === "object" ? jsonText(item) : String(item));
      }
      return { body: form.toString(), contentType: "application/x-www-form-urlencoded" };
    }
    case "binary":
      if (bytes) return { body: bytes, contentType: "application/octet-stream" };
      if (typeof body === "string") {
        // Node's decoder skips what is not base64, so a typo would send other bytes without a word.
        if (!BASE64.test(body.replace(/\s+/g, ""))) {
          throw new NonRetryableError("bodyType binary: the body string is not base64", { code: ErrorCode.NODE_INPUT, hint: "give the bytes as base64 (A–Z, a–z, 0–9, +, / or -, _, with = padding), or connect a node whose output is bytes" });
        }
        return { body: Buffer.from(body, "base64"), contentType: "application/octet-stream" };
      }
      throw new NonRetryableError("bodyType binary needs bytes (or a base64 string)", { code: ErrorCode.NODE_INPUT, hint: "connect a node whose output is bytes, e.g. an image node" });
    case "auto":
      if (typeof body === "string") return { body, contentType: "text/plain;charset=utf-8" };
      if (bytes) return { body: bytes, contentType: "application/octet-stream" };
      return { body: jsonText(body), contentType: "application/json" };
  }
}

function isJsonType(contentType: string): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/.test(contentType) || /\+json\b/.test(contentType);
}

function isTextType(contentType: string): boolean {
  return /^text\//.test(contentType) || /(?:^application\/(?:xml|xhtml\+xml|javascript|ecmascript|x-www-form-urlencoded|x-ndjson|yaml|x-yaml|graphql)\b)|\+xml\b/.test(contentType);
}

/** True when the bytes decode as UTF-8 text (no NUL bytes, no invalid sequences). */
function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * A body as text in the charset its content-type names (`charset=ISO-8859-1`, `Shift_JIS`…; UTF-8
 * when it names none or one the decoder does not know), without a byte order mark: a BOM made a
 * JSON body unparseable, and a latin1 `é` became `\uFFFD`.
 */
export function decodeText(bytes: Uint8Array, contentType: string): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1];
  try {
    return new TextDecoder(charset ?? "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

/** The first `max` characters of a body, for error messages. */
export function bodyExcerpt(bytes: Uint8Array, contentType: string, max = 200): string {
  if (bytes.byteLength === 0) return "";
  if (!isJsonType(contentType) && !isTextType(contentType) && !looksLikeText(bytes)) return `<${bytes.byteLength} bytes of ${contentType || "binary data"}>`;
  const text = decodeText(bytes.subarray(0, max * 4), contentType).replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export interface DecodedBody {
  data: unknown;
  /** A note for the log when `auto` had to fall back (JSON content-type with a non-JSON body). */
  warning?: string;
}

/**
 * Decode a response body. `auto`: JSON content types parsed, text types (and untyped UTF-8) as
 * a string, anything else as a Buffer; `base64` gives the bytes as a base64 string.
 */
export function decodeBody(bytes: Uint8Array, contentType: string, type: ResponseType, where: string): DecodedBody {
  const text = (): string => decodeText(bytes, contentType);
  switch (type) {
    case "binary":
      return { data: Buffer.from(bytes) };
    case "base64":
      return { data: Buffer.from(bytes).toString("base64") };
    case "text":
      return { data: text() };
    case "json": {
      if (bytes.byteLength === 0) return { data: null };
      try {
        return { data: JSON.parse(text()) as unknown };
      } catch (error) {
        throw new NonRetryableError(`${where}: the response is not valid JSON (${(error as Error).message}): ${bodyExcerpt(bytes, contentType)}`, {
          code: ErrorCode.HTTP,
          hint: "set `responseType: text` (or auto) to get the raw body",
        });
      }
    }
    case "auto": {
      if (bytes.byteLength === 0) return { data: contentType && !isJsonType(contentType) ? "" : null };
      if (isJsonType(contentType)) {
        try {
          return { data: JSON.parse(text()) as unknown };
        } catch {
          return { data: text(), warning: `${where}: content-type is ${contentType} but the body is not valid JSON; returning it as text` };
        }
      }
      if (isTextType(contentType) || (!contentType && looksLikeText(bytes))) return { data: text() };
      return { data: Buffer.from(bytes) };
    }
  }
}

/** The most of a response body http-request and llm hold in memory (as much as a file read may be). */
export const MAX_RESPONSE_BYTES = MAX_STREAMED_BYTES;

function tooLarge(where: string, size: number | undefined, code: string): NonRetryableError {
  const cap = `${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`;
  const what = size === undefined ? `the response body went over ${cap}` : `the response body is ${Math.round(size / 1024 / 1024)} MiB (content-length), over ${cap}`;
  return new NonRetryableError(`${where}: ${what}, the most a node holds in memory`, {
    code,
    hint: "download a large file with a shell-command (curl -o file …) and read it in parts, or ask the server for less (a range, a page, a filter)",
    details: { maxBytes: MAX_RESPONSE_BYTES, ...(size === undefined ? {} : { contentLength: size }) },
  });
}

/**
 * The whole body of a response, up to MAX_RESPONSE_BYTES: a bigger content-length is refused before
 * reading, and a body that goes over (an endless chunked stream) is cancelled there, instead of
 * filling memory until the process dies.
 */
export async function readBodyCapped(response: Response, where: string, code: string = ErrorCode.HTTP): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(where, declared, code);
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(where, undefined, code);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
