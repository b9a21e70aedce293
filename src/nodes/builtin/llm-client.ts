import { AtomitonError, ErrorCode, TimeoutError } from "../../errors.js";
import type { NodeContext } from "../define-node.js";
import { abortError, sleep } from "./abort.js";
import { describeNetworkError, retryAfterMs } from "./http-request.js";
import { MAX_RESPONSE_BYTES, readBodyCapped } from "./http-body.js";
import { createParser } from "eventsource-parser";
import { setLongTimeout } from "../../js/duration.js";

/** What one chat completion came back with. */
export interface Completion {
  text: string;
  model: string;
  finishReason: string | null;
  usage: { promptTokens: number | null; completionTokens: number | null };
}

export interface CompletionRequest {
  /** `<baseUrl>/chat/completions`. */
  url: string;
  headers: Record<string, string>;
  /** The request body (model, messages, sampling options). */
  body: Record<string, unknown>;
  stream: boolean;
  /** The token budget, for streamed progress (tokens so far / maxTokens). */
  maxTokens: number | undefined;
  timeoutMs: number | undefined;
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Replace secrets (the API key) in any text that leaves the node. */
  scrub: (text: string) => string;
}

/** How much of a streamed answer is kept to read it as plain JSON when it has no `data:` line. */
const MAX_PLAIN_BODY = 1024 * 1024;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function statusHint(status: number): string {
  if (status === 401 || status === 403) return "check `apiKey` (normally \"{{ $env.OPENAI_API_KEY }}\" with the variable under `secrets:`)";
  if (status === 404) return "check `baseUrl` (it ends before /chat/completions, e.g. http://127.0.0.1:11434/v1) and `model`";
  if (status === 429) return "rate limited; the node waited as the server asked, then gave up: raise `retry.attempts`, or a node-level retry";
  if (status >= 500) return "the server failed; a node-level `retry` tries again later";
  return "check the request parameters (model, messages, maxTokens…) against what the server accepts";
}

/**
 * POST a chat completion, retrying 408/409/429/5xx answers, network errors and broken bodies
 * (waiting what Retry-After asks for), streaming tokens as progress when asked.
 */
export async function requestCompletion(ctx: NodeContext<unknown>, request: CompletionRequest): Promise<Completion> {
  const where = `llm ${request.body.model as string} at ${request.url}`;
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal.aborted) throw abortError(ctx.signal, where);
    const timeout = new AbortController();
    const timer = request.timeoutMs === undefined ? undefined : setLongTimeout(() => timeout.abort(new TimeoutError(`${where} timed out after ${request.timeoutMs}ms`, { retryable: true })), request.timeoutMs);
    let failure: AtomitonError;
    let retryAfter: number | undefined;
    try {
      const response = await fetch(request.url, {
        method: "POST",
        headers: request.headers,
        body: JSON.stringify(request.body),
        signal: AbortSignal.any([ctx.signal, timeout.signal]),
      });
      if (response.ok) {
        const contentType = response.headers.get("content-type") ?? "";
        return request.stream && contentType.includes("text/event-stream") ? await readStream(ctx, response, where, request) : parseCompletion(await readText(response, where), where, request.scrub);
      }
      const text = await readText(response, where).catch(() => "");
      const body = request.scrub(excerpt(text));
      // The provider's own words (`{"error":{"message":…}}`), as for an error in a 200; the whole body in details.
      const said = errorMessageOf(parseJson(text)?.error);
      const retryable = response.status === 408 || response.status === 409 || response.status === 429 || response.status >= 500;
      failure = new AtomitonError(ErrorCode.LLM, `${where} → ${response.status} ${response.statusText}${said ? `: ${request.scrub(excerpt(said))}` : body ? `: ${body}` : ""}`, {
        retryable,
        hint: statusHint(response.status),
        details: { status: response.status, ...(said && body ? { body } : {}) },
      });
      if (retryable) retryAfter = retryAfterMs(response.headers.get("retry-after"));
    } catch (error) {
      if (ctx.signal.aborted) throw abortError(ctx.signal, where);
      if (timeout.signal.aborted && timeout.signal.reason instanceof AtomitonError) failure = timeout.signal.reason;
      else if (error instanceof AtomitonError) failure = error;
      else {
        const { text, errno, retryable, hint } = describeNetworkError(error);
        failure = new AtomitonError(ErrorCode.NETWORK, request.scrub(`${where} failed: ${text}`), {
          retryable,
          hint: hint ?? (errno === "ECONNREFUSED" ? "nothing is listening at `baseUrl`; is the model server (e.g. `ollama serve`) running?" : "check `baseUrl` and the network"),
          details: errno ? { errno } : {},
        });
      }
    } finally {
      timer?.clear();
    }
    if (attempt >= request.attempts || !failure.retryable) throw failure;
    const computed = request.baseDelayMs * 2 ** (attempt - 1);
    const wait = Math.min(retryAfter ?? computed, request.maxDelayMs);
    ctx.log("warn", `${failure.message.split("\n")[0]}; retrying in ${wait}ms${retryAfter !== undefined ? " (Retry-After)" : ""} (attempt ${attempt + 1} of ${request.attempts})`);
    await sleep(wait, ctx.signal, where);
  }
}

const readText = async (response: Response, where: string): Promise<string> => Buffer.from(await readBodyCapped(response, where, ErrorCode.LLM)).toString("utf8");

interface ChoiceLike {
  message?: { content?: unknown };
  delta?: { content?: unknown };
  finish_reason?: unknown;
}
interface CompletionLike {
  model?: unknown;
  choices?: ChoiceLike[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: { message?: unknown } | string;
}

function brokenAnswer(where: string, what: string, body: string, scrub: (t: string) => string): AtomitonError {
  return new AtomitonError(ErrorCode.LLM, `${where}: ${what}: ${scrub(excerpt(body))}`, {
    retryable: true,
    hint: "the server's answer is not an OpenAI chat completion; check that `baseUrl` points at an OpenAI-compatible API (…/v1)",
  });
}

/** An error object in a successful answer (`{ "error": { "message": … } }`): its message, not a complaint about the format. */
function serverError(where: string, what: string, data: CompletionLike, body: string, scrub: (t: string) => string): AtomitonError {
  const error = data.error;
  const said = errorMessageOf(error) ?? excerpt(body);
  return new AtomitonError(ErrorCode.LLM, `${where}: ${what}: ${scrub(excerpt(said))}`, {
    retryable: true,
    hint: "the server reported an error instead of a completion (with status 200); check `model` and the request parameters; the node retries it (`retry.attempts`)",
    details: { error: JSON.parse(scrub(JSON.stringify(error))) as unknown },
  });
}

/** An OpenAI-style error's message: `"error": "…"` or `"error": { "message": "…" }`. */
function errorMessageOf(error: CompletionLike["error"]): string | undefined {
  const said = typeof error === "string" ? error : typeof error?.message === "string" ? error.message : undefined;
  return said?.trim() ? said : undefined;
}

function parseJson(text: string): CompletionLike | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as CompletionLike) : undefined;
  } catch {
    return undefined;
  }
}

const usageOf = (u: CompletionLike["usage"]): Completion["usage"] => ({
  promptTokens: typeof u?.prompt_tokens === "number" ? u.prompt_tokens : null,
  completionTokens: typeof u?.completion_tokens === "number" ? u.completion_tokens : null,
});

function parseCompletion(body: string, where: string, scrub: (t: string) => string): Completion {
  const data = parseJson(body);
  if (!data) throw brokenAnswer(where, "the answer is not valid JSON", body, scrub);
  if (data.error) throw serverError(where, "the server answered with an error", data, body, scrub);
  const choice = data.choices?.[0];
  const content = choice?.message?.content;
  if (!choice || (typeof content !== "string" && content !== null)) throw brokenAnswer(where, "the answer has no choices[0].message.content", body, scrub);
  return {
    text: content ?? "",
    model: typeof data.model === "string" ? data.model : "",
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    usage: usageOf(data.usage),
  };
}

/** Read a server-sent event stream of completion chunks: tokens as progress, whole lines as info logs. */
async function readStream(ctx: NodeContext<unknown>, response: Response, where: string, { scrub, maxTokens }: CompletionRequest): Promise<Completion> {
  const out: Completion = { text: "", model: "", finishReason: null, usage: { promptTokens: null, completionTokens: null } };
  let chunks = 0;
  let lineStart = 0;
  const decoder = new TextDecoder();
  const onData = (data: string): boolean => {
    const payload = data.trim();
    if (payload === "[DONE]") return true;
    const chunk = parseJson(payload);
    if (!chunk) throw brokenAnswer(where, "a streamed chunk is not valid JSON", payload, scrub);
    if (chunk.error) throw serverError(where, "the server sent an error in the stream", chunk, payload, scrub);
    if (typeof chunk.model === "string") out.model = chunk.model;
    if (chunk.usage) out.usage = usageOf(chunk.usage);
    const choice = chunk.choices?.[0];
    if (typeof choice?.finish_reason === "string") out.finishReason = choice.finish_reason;
    const delta = choice?.delta?.content;
    if (typeof delta === "string" && delta !== "") {
      out.text += delta;
      chunks++;
      ctx.progress(maxTokens ? Math.min(1, chunks / maxTokens) : 0, delta);
      let nl: number;
      while ((nl = out.text.indexOf("\n", lineStart)) !== -1) {
        ctx.log("info", out.text.slice(lineStart, nl));
        lineStart = nl + 1;
      }
    }
    return false;
  };
  // The event stream is parsed by eventsource-parser (the WHATWG rules: CR, LF or CRLF line ends,
  // several `data:` lines joined, a blank line dispatching). At the response's end a whole last event
  // without its blank line still counts, as the openai SDK reads it; a cut one is an error.
  let done = false;
  let sawEvent = false;
  let ending = false;
  const parser = createParser({
    onEvent: ({ data }) => {
      if (done) return;
      sawEvent = true;
      const payload = data.trim();
      if (ending) {
        if (payload === "") return;
        if (payload !== "[DONE]" && parseJson(payload) === undefined) {
          throw new AtomitonError(ErrorCode.LLM, `${where}: the stream ended in the middle of an event (after ${plural(chunks, "chunk")}): ${scrub(excerpt(payload))}`, {
            retryable: true,
            hint: "the server closed the answer before the event's end; the node retries it (`retry.attempts`), a node-level `retry` tries again later",
          });
        }
      }
      done = onData(payload);
    },
  });
  // The body as text while no event came: a provider that answers a stream request with plain
  // JSON (an error object, or a whole completion) under text/event-stream is read as that JSON.
  let raw = "";
  const reader = response.body!.getReader();
  let size = 0;
  while (!done) {
    let read: Awaited<ReturnType<typeof reader.read>>;
    try {
      read = await reader.read();
    } catch (error) {
      // The connection broke before [DONE] or the response's end (a timeout or a cancel is told apart by the caller).
      const { text } = describeNetworkError(error);
      throw new AtomitonError(ErrorCode.NETWORK, scrub(`${where}: the connection closed in the middle of the streamed answer (after ${plural(chunks, "chunk")}): ${text}`), {
        retryable: true,
        hint: "the server (or a proxy in between) cut the stream; the node retries it (`retry.attempts`), a node-level `retry` tries again later",
      });
    }
    // A stream that never ends (or never sends a newline) stops here, not at the end of memory.
    size += read.value?.byteLength ?? 0;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new AtomitonError(ErrorCode.LLM, `${where}: the streamed answer went over ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`, {
        retryable: false,
        hint: "set `maxTokens`, or check that `baseUrl` points at an OpenAI-compatible API (…/v1)",
      });
    }
    const text = read.done ? decoder.decode() : decoder.decode(read.value, { stream: true });
    if (!sawEvent && raw.length < MAX_PLAIN_BODY) raw += text;
    parser.feed(text);
    if (read.done && !done) {
      // The end of the response ends the stream, [DONE] or not: a last line and event left open are closed here.
      ending = true;
      parser.feed("\n\n");
      if (!sawEvent && raw.trim() !== "") {
        if (parseJson(raw) === undefined) throw brokenAnswer(where, "the streamed answer has no `data:` events", raw, scrub);
        return parseCompletion(raw, where, scrub);
      }
      break;
    }
  }
  if (done) await reader.cancel().catch(() => undefined);
  if (lineStart < out.text.length) ctx.log("info", out.text.slice(lineStart));
  if (chunks === 0 && out.finishReason === null) throw brokenAnswer(where, "the stream ended without a completion", out.text, scrub);
  return out;
}
