import { z } from "zod";
import { defineNode } from "../define-node.js";
import { durationSchema as duration, parseDuration, setLongTimeout, timeoutOrNone } from "../../js/duration.js";
import { AtomitonError, ErrorCode, NonRetryableError, TimeoutError } from "../../errors.js";
import { abortError, sleep } from "./abort.js";
import { BODY_TYPES, RESPONSE_TYPES, bodyExcerpt, decodeBody, encodeBody, readBodyCapped } from "./http-body.js";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
const scalar = z.union([z.string(), z.number(), z.boolean()]);

function parseHeaderString(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const parameters = z
  .object({
    method: z.enum(METHODS).default("GET").describe("HTTP method"),
    url: z.string().min(1).describe("The URL (http or https); `params` are appended to its query"),
    headers: z.union([z.record(z.string(), scalar), z.string()]).default({}).describe("Request headers: a map, or a JSON object string"),
    params: z
      .record(z.string(), z.union([scalar, z.array(scalar), z.null()]))
      .default({})
      .describe("Query parameters appended to the URL (arrays repeat the key, null is skipped). Alias query"),
    body: z.unknown().optional().describe("Request body (not sent with GET/HEAD). Objects and arrays as JSON, strings as text, bytes as bytes — see bodyType"),
    bodyType: z.enum(BODY_TYPES).default("auto").describe("auto (by value) · json · text · form (x-www-form-urlencoded from an object) · binary (bytes or base64). Sets content-type unless a header does"),
    auth: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("basic"), username: z.string(), password: z.string().default("") }),
        z.object({ type: z.literal("bearer"), token: z.string().min(1) }),
      ])
      .optional()
      .describe("Authorization: { type: basic, username, password } or { type: bearer, token }"),
    responseType: z
      .enum(RESPONSE_TYPES)
      .default("auto")
      .describe("auto: JSON content types parsed, text/xml (and untyped UTF-8) as a string, anything else as a Buffer · json · text · binary (Buffer) · base64 (string). Text is decoded in the content-type's charset (UTF-8 without one), a byte order mark dropped. A body over 256 MiB fails with E_HTTP"),
    timeout: duration.optional().describe("Time limit per attempt (ms or 10s/1m), headers and body included; E_TIMEOUT (retryable) when exceeded"),
    retry: z
      .object({
        attempts: z.number().int().min(1).max(20).default(3).describe("Total attempts, the first included"),
        delay: duration.default(1000).describe("Wait before the first retry"),
        backoff: z.enum(["fixed", "exponential"]).default("exponential").describe("exponential doubles the wait each retry"),
        maxDelay: duration.default(30_000).describe("Upper bound of one wait, Retry-After included"),
      })
      .optional()
      .describe("Retry network errors, timeouts, 408, 429 and 5xx inside the node, honouring Retry-After (seconds or HTTP date); not a redirect loop, https:// to a plain port or an untrusted certificate"),
    allowErrorStatus: z.boolean().default(false).describe("Return 4xx/5xx responses instead of failing with E_HTTP_STATUS"),
    followRedirects: z.boolean().default(true).describe("Follow 3xx redirects; false returns the 3xx response"),
  })
  .superRefine((value, issue) => {
    // A literal URL is checked before anything runs (one with a template only once it is rendered).
    if (!value.url.includes("{{")) {
      const url = URL.canParse(value.url) ? new URL(value.url) : undefined;
      if (url === undefined) issue.addIssue({ code: "custom", path: ["url"], message: "not an absolute URL (such as https://example.test/path)" });
      else if (url.protocol !== "http:" && url.protocol !== "https:") issue.addIssue({ code: "custom", path: ["url"], message: `unsupported protocol ${url.protocol}: use http:// or https://` });
    }
    if (typeof value.headers === "string" && !parseHeaderString(value.headers)) {
      issue.addIssue({ code: "custom", path: ["headers"], message: "expected a map of headers, or a JSON object string" });
    }
  });

/** The output of an http-request node. */
export interface HttpResponse {
  status: number;
  statusText: string;
  ok: boolean;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
  data: unknown;
  /** The final URL, after redirects. */
  url: string;
  redirected: boolean;
  durationMs: number;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Milliseconds a Retry-After header asks for (delta seconds or an HTTP date), if any. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The URL for an error message: every query value (and any user:password) becomes `***`, the names stay. */
function urlForMessage(url: URL): string {
  const shown = new URL(url.href);
  if (shown.username || shown.password) {
    shown.username = "***";
    shown.password = "";
  }
  const names = [...shown.searchParams.keys()];
  if (names.length === 0) return shown.href;
  shown.search = "";
  shown.hash = "";
  return `${shown.href}?${names.map((name) => `${encodeURIComponent(name)}=***`).join("&")}`;
}

/** Certificate checks that fail the same way on every attempt. */
const CERT_ERRORS = new Set(["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT", "CERT_UNTRUSTED", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERR_TLS_CERT_ALTNAME_INVALID"]);

/**
 * A failed fetch in words: the socket error under undici's "fetch failed", and whether trying again
 * can help. A redirect loop, an https:// URL on a plain-HTTP port and a certificate that is not
 * trusted fail the same way every time: they are not retried, and their hint says what to change
 * (instead of OpenSSL's internals and "check the network").
 */
export function describeNetworkError(error: unknown): { text: string; errno?: string; retryable: boolean; hint?: string } {
  let current: unknown = error;
  // undici wraps the socket error: TypeError("fetch failed", { cause: Error("connect ECONNREFUSED …") }).
  for (let depth = 0; depth < 4 && current instanceof Error && current.cause instanceof Error; depth++) current = current.cause;
  const errno = (current as { code?: unknown } | null)?.code;
  const text = current instanceof Error ? current.message : String(current);
  if (text === "redirect count exceeded") return { text: "more than 20 redirects (a redirect loop?)", retryable: false, hint: "check the URL; `followRedirects: false` returns the first 3xx response with its location header" };
  if (typeof errno !== "string") return { text, retryable: true };
  if (errno === "ERR_SSL_WRONG_VERSION_NUMBER" || errno === "ERR_SSL_PACKET_LENGTH_TOO_LONG") {
    return { text: `${errno}: the server did not answer with TLS`, errno, retryable: false, hint: "the port speaks plain HTTP: use http://, or the server's TLS port" };
  }
  if (CERT_ERRORS.has(errno)) {
    const expired = errno === "CERT_HAS_EXPIRED" || errno === "CERT_NOT_YET_VALID";
    return { text: `${errno}: ${text}`, errno, retryable: false, hint: expired ? "the server's certificate is out of its validity dates: renew it, or check this machine's clock" : errno === "ERR_TLS_CERT_ALTNAME_INVALID" ? "the certificate is for another host name: use the name it was issued for" : "the server's certificate is not trusted here: give its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, or use a certificate from a public CA" };
  }
  return { text: text.includes(errno) ? text : `${errno}: ${text}`, errno, retryable: true };
}

export default defineNode({
  type: "http-request",
  title: "HTTP request",
  description: "Send an HTTP request (method, headers, query, JSON/text/form/binary body, basic/bearer auth, timeout, retries) and return the response with its decoded body.",
  category: "io",
  parameters,
  inputs: [{ id: "input", description: "Available to templates as $input (e.g. `body: \"{{ $input }}\"`)" }],
  outputs: [
    { id: "output", description: "{ status, statusText, ok, headers, data, url, redirected, durationMs }" },
    { id: "error", description: "The failure, when onError: route" },
  ],
  parameterAliases: { query: "params" },
  example: `- id: fetch
  type: http-request
  parameters:
    url: https://api.example.test/items
    params: { limit: 20 }
    headers: { accept: application/json }
    auth: { type: bearer, token: "{{ $env.API_TOKEN }}" }
    retry: { attempts: 3, delay: 500 }`,
  async execute(ctx): Promise<HttpResponse> {
    const p = ctx.parameters;
    let url: URL;
    try {
      url = new URL(p.url);
    } catch {
      throw new NonRetryableError(`http-request: invalid url "${p.url.split("?")[0]}${p.url.includes("?") ? "?…" : ""}"`, { code: ErrorCode.NODE_INPUT, hint: "use an absolute URL such as https://example.test/path" });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new NonRetryableError(`http-request: unsupported protocol ${url.protocol} in ${urlForMessage(url)}`, { code: ErrorCode.NODE_INPUT, hint: "use http:// or https://" });
    }
    for (const [key, value] of Object.entries(p.params)) {
      if (value === null) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }

    const headers = new Headers();
    const rawHeaders = typeof p.headers === "string" ? (parseHeaderString(p.headers) ?? {}) : p.headers;
    try {
      for (const [name, value] of Object.entries(rawHeaders)) if (value !== undefined && value !== null) headers.set(name, String(value));
    } catch (error) {
      throw new NonRetryableError(`http-request: invalid header: ${(error as Error).message}`, { code: ErrorCode.NODE_INPUT, cause: error });
    }
    // fetch refuses URLs with credentials: `https://user:pass@host` becomes basic auth.
    if (url.username || url.password) {
      if (!p.auth && !headers.has("authorization")) headers.set("authorization", `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`);
      url.username = "";
      url.password = "";
    }
    if (p.auth?.type === "basic") headers.set("authorization", `Basic ${Buffer.from(`${p.auth.username}:${p.auth.password}`).toString("base64")}`);
    else if (p.auth?.type === "bearer") headers.set("authorization", `Bearer ${p.auth.token}`);

    const sendsBody = p.method !== "GET" && p.method !== "HEAD";
    if (!sendsBody && p.body !== undefined && p.body !== null) ctx.log("warn", `http-request: body is ignored for ${p.method}`);
    const encoded = sendsBody ? encodeBody(p.body, p.bodyType) : undefined;
    if (encoded && !headers.has("content-type")) headers.set("content-type", encoded.contentType);

    const target = url.toString();
    // Messages and error details name the URL with its query values masked: they may carry a key.
    const shown = urlForMessage(url);
    const where = `${p.method} ${shown}`;
    const timeoutMs = timeoutOrNone(p.timeout === undefined ? undefined : parseDuration(p.timeout));
    const attempts = p.retry?.attempts ?? 1;
    const baseDelay = parseDuration(p.retry?.delay) ?? 1000;
    const maxDelay = parseDuration(p.retry?.maxDelay) ?? 30_000;

    for (let attempt = 1; ; attempt++) {
      if (ctx.signal.aborted) throw abortError(ctx.signal, where);
      const started = performance.now();
      const attemptTimeout = new AbortController();
      const timer = timeoutMs === undefined ? undefined : setLongTimeout(() => attemptTimeout.abort(new TimeoutError(`${where} timed out after ${timeoutMs}ms`, { retryable: true, details: { url: shown, timeoutMs } })), timeoutMs);
      let failure: AtomitonError;
      let retryAfter: number | undefined;
      try {
        const response = await fetch(target, {
          method: p.method,
          headers,
          ...(encoded ? { body: encoded.body } : {}),
          redirect: p.followRedirects ? "follow" : "manual",
          signal: AbortSignal.any([ctx.signal, attemptTimeout.signal]),
        });
        const bytes = p.method === "HEAD" || response.status === 204 || response.status === 304 ? new Uint8Array() : await readBodyCapped(response, where);
        const contentType = response.headers.get("content-type")?.toLowerCase() ?? "";
        const durationMs = Math.round(performance.now() - started);
        if (response.ok || p.allowErrorStatus || (response.status >= 300 && response.status < 400 && !p.followRedirects)) {
          const decoded = p.method === "HEAD" ? { data: null } : decodeBody(bytes, contentType, p.responseType, where);
          if ("warning" in decoded && decoded.warning) ctx.log("warn", decoded.warning);
          return {
            status: response.status,
            statusText: response.statusText,
            ok: response.ok,
            headers: Object.fromEntries(response.headers),
            data: decoded.data,
            url: response.url || target,
            redirected: response.redirected,
            durationMs,
          };
        }
        const excerpt = bodyExcerpt(bytes, contentType);
        const retryable = isRetryableStatus(response.status);
        failure = new AtomitonError(ErrorCode.HTTP_STATUS, `${where} → ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ""}`, {
          retryable,
          hint: retryable ? "the server failed or throttled; set `retry` (or a node-level retry) to try again" : "check the URL, the parameters and the credentials; `allowErrorStatus: true` returns the response instead",
          details: { status: response.status, url: shown, bodyExcerpt: excerpt },
        });
        if (retryable) retryAfter = retryAfterMs(response.headers.get("retry-after"));
      } catch (error) {
        if (ctx.signal.aborted) throw abortError(ctx.signal, where);
        if (attemptTimeout.signal.aborted && attemptTimeout.signal.reason instanceof AtomitonError) failure = attemptTimeout.signal.reason;
        else if (error instanceof AtomitonError) throw error;
        else {
          const { text, errno, retryable, hint } = describeNetworkError(error);
          // fetch refuses the ports browsers block (6000, 6665–6669…) before any connection: no retry helps.
          if (text === "bad port") {
            throw new AtomitonError(ErrorCode.NODE_INPUT, `${where}: port ${url.port} is one that fetch refuses (a port browsers block, such as 6000 or 6667)`, {
              cause: error,
              retryable: false,
              hint: "serve it on another port",
              details: { url: shown },
            });
          }
          failure = new AtomitonError(ErrorCode.NETWORK, `${where} failed: ${text}`, {
            cause: error,
            retryable,
            hint: hint ?? (errno === "ECONNREFUSED" ? "nothing is listening there; is the server running?" : errno === "ENOTFOUND" ? "the host name does not resolve; check the URL" : "check the URL and the network"),
            details: { url: shown, ...(errno ? { errno } : {}) },
          });
        }
      } finally {
        timer?.clear();
      }
      if (attempt >= attempts || !failure.retryable) throw failure;
      const computed = p.retry?.backoff === "fixed" ? baseDelay : baseDelay * 2 ** (attempt - 1);
      const wait = Math.min(retryAfter ?? computed, maxDelay);
      ctx.log("warn", `${failure.message.split("\n")[0]}; retrying in ${wait}ms (attempt ${attempt + 1} of ${attempts})`);
      await sleep(wait, ctx.signal, where);
    }
  },
});
