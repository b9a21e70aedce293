import { z } from "zod";
import { defineNode } from "../define-node.js";
import { durationSchema as duration, parseDuration, timeoutOrNone } from "../../js/duration.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { requestCompletion } from "./llm-client.js";

/** Text parameters take any value; a non-string (an object from `{{ $input }}`) is sent as JSON. */
const text = z.preprocess((v) => (v === undefined || v === null || typeof v === "string" ? v : JSON.stringify(v)), z.string());

function jsonSchemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const parameters = z
  .object({
    baseUrl: z
      .string()
      .url()
      .default("https://api.openai.com/v1")
      .describe(
        "Root of an OpenAI-compatible API; the node POSTs to <baseUrl>/chat/completions. OpenAI https://api.openai.com/v1 · Ollama http://127.0.0.1:11434/v1 · vLLM http://127.0.0.1:8000/v1 · LM Studio http://127.0.0.1:1234/v1 · OpenRouter https://openrouter.ai/api/v1",
      ),
    model: z.string().min(1).describe("Model name as the server knows it (gpt-4o-mini, llama3.2, qwen2.5:7b…)"),
    messages: z
      .array(z.object({ role: z.enum(["system", "user", "assistant"]).describe("Who speaks"), content: text.describe("What is said (a non-string value is sent as JSON)") }))
      .optional()
      .describe("The conversation: [{ role: system|user|assistant, content }]. `system` is put before it and `prompt` after it, when set"),
    prompt: text.optional().describe('The user message (a non-string value, e.g. "{{ $input }}" of an object, is sent as JSON). Set `prompt` or `messages`'),
    system: text.optional().describe("A system message put first (instructions for the model)"),
    temperature: z.number().min(0).max(2).optional().describe("Sampling temperature 0..2 (0: the most deterministic). Server default when unset"),
    maxTokens: z.number().int().positive().optional().describe("Upper bound of tokens in the answer (max_tokens). Server default when unset"),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).optional().describe("Up to 4 sequences where the model stops"),
    seed: z.number().int().optional().describe("Seed for reproducible sampling, where the server supports it"),
    responseFormat: z
      .enum(["text", "json"])
      .default("text")
      .describe("text: the answer as it is · json: ask for a JSON answer (response_format) and parse it into `json`; a non-JSON answer is E_LLM_SCHEMA (retryable). `jsonSchema` implies json"),
    jsonSchema: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "A JSON Schema the parsed answer must match; sent as response_format json_schema, and checked here: a mismatch is E_LLM_SCHEMA, retryable, so a node-level `retry` asks again",
      ),
    apiKey: z
      .string()
      .optional()
      .describe('Bearer token, normally "{{ $env.OPENAI_API_KEY }}" with OPENAI_API_KEY listed under `secrets:`. Never printed: it is scrubbed from errors and logs. Local servers (Ollama) need none'),
    headers: z.record(z.string(), z.string()).default({}).describe("Extra request headers (e.g. HTTP-Referer and X-Title for OpenRouter)"),
    stream: z
      .boolean()
      .default(false)
      .describe("Stream the answer: each token is a node:progress event (its text as the message), each finished line an info log"),
    timeout: duration.optional().describe("Time limit per request (ms or 30s, 2m); E_TIMEOUT, retried like a 5xx"),
    retry: z
      .object({
        attempts: z.number().int().min(1).max(20).default(3).describe("Total requests, the first included"),
        delay: duration.default(1000).describe("Wait before the first retry, doubled each time"),
        maxDelay: duration.default(60_000).describe("Upper bound of one wait, Retry-After included"),
      })
      .default({ attempts: 3, delay: 1000, maxDelay: 60_000 })
      .describe("Retry 408, 409, 429, 5xx, network errors and broken answers inside the node, waiting what Retry-After asks for"),
  })
  .superRefine((value, issue) => {
    if (value.prompt === undefined && (value.messages === undefined || value.messages.length === 0)) {
      issue.addIssue({ code: "custom", path: ["prompt"], message: "set `prompt` (with an optional `system`) or `messages`" });
    }
    const problem = value.jsonSchema ? jsonSchemaProblem(value.jsonSchema) : undefined;
    if (problem) issue.addIssue({ code: "custom", path: ["jsonSchema"], message: `not a usable JSON Schema: ${problem}` });
  });

/** The output of an llm node. */
export interface LlmResult {
  /** The answer as the model wrote it. */
  text: string;
  /** The parsed answer, with responseFormat json. */
  json?: unknown;
  usage: { promptTokens: number | null; completionTokens: number | null };
  model: string;
  finishReason: string | null;
}

/** A JSON answer, allowing the ```json fence some models put around it. */
function parseAnswer(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  try {
    return { ok: true, value: JSON.parse(fenced ? fenced[1]! : text) };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

function schemaError(message: string, hint: string, details: Record<string, unknown>): AtomitonError {
  return new AtomitonError(ErrorCode.LLM_SCHEMA, message, { retryable: true, hint, details });
}

export default defineNode({
  type: "llm",
  title: "LLM",
  description: "Chat completion against any OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, LM Studio, OpenRouter): text or JSON checked against a schema, streamed tokens as progress, retries honouring Retry-After.",
  category: "ai",
  parameters,
  inputs: [{ id: "input", description: 'Available to templates as $input (e.g. `prompt: "Classify: {{ $input.text }}"`)' }],
  outputs: [
    { id: "output", description: "{ text, json (responseFormat json), usage: { promptTokens, completionTokens }, model, finishReason }" },
    { id: "error", description: "The failure, when onError: route" },
  ],
  example: `- id: classify
  type: llm
  retry: { attempts: 3 }           # re-asks when the answer does not match jsonSchema
  parameters:
    baseUrl: http://127.0.0.1:11434/v1   # Ollama; default https://api.openai.com/v1
    model: llama3.2
    apiKey: "{{ $env.OPENAI_API_KEY }}"  # list OPENAI_API_KEY under secrets:
    system: Classify the support ticket. Answer with JSON.
    prompt: "{{ $input.text }}"
    temperature: 0
    responseFormat: json
    jsonSchema:
      type: object
      properties: { label: { enum: [bug, billing, question] } }
      required: [label]`,
  async execute(ctx): Promise<LlmResult> {
    const p = ctx.parameters;
    const apiKey = p.apiKey ?? "";
    const scrub = (t: string): string => (apiKey.length >= 4 ? t.split(apiKey).join("***") : t);
    const json = p.responseFormat === "json" || p.jsonSchema !== undefined;

    const messages: { role: string; content: string }[] = [];
    if (p.system !== undefined) messages.push({ role: "system", content: p.system });
    messages.push(...(p.messages ?? []));
    if (p.prompt !== undefined) messages.push({ role: "user", content: p.prompt });

    const body: Record<string, unknown> = { model: p.model, messages, stream: p.stream };
    if (p.stream) body.stream_options = { include_usage: true };
    if (p.temperature !== undefined) body.temperature = p.temperature;
    if (p.maxTokens !== undefined) body.max_tokens = p.maxTokens;
    if (p.stop !== undefined) body.stop = p.stop;
    if (p.seed !== undefined) body.seed = p.seed;
    if (p.jsonSchema) body.response_format = { type: "json_schema", json_schema: { name: "answer", schema: p.jsonSchema } };
    else if (json) body.response_format = { type: "json_object" };

    const headers: Record<string, string> = { "content-type": "application/json", accept: p.stream ? "text/event-stream" : "application/json", ...p.headers };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    const completion = await requestCompletion(ctx, {
      url: `${p.baseUrl.replace(/\/+$/, "")}/chat/completions`,
      headers,
      body,
      stream: p.stream,
      maxTokens: p.maxTokens,
      timeoutMs: timeoutOrNone(p.timeout === undefined ? undefined : parseDuration(p.timeout)),
      attempts: p.retry.attempts,
      baseDelayMs: parseDuration(p.retry.delay) ?? 1000,
      maxDelayMs: parseDuration(p.retry.maxDelay) ?? 60_000,
      scrub,
    });
    const result: LlmResult = { text: completion.text, usage: completion.usage, model: completion.model || p.model, finishReason: completion.finishReason };
    if (!json) return result;

    const where = `llm ${p.model}`;
    const answer = parseAnswer(completion.text);
    const excerpt = scrub(completion.text.length > 200 ? `${completion.text.slice(0, 200)}…` : completion.text);
    if (!answer.ok) {
      const truncated = completion.finishReason === "length";
      throw schemaError(`${where}: the answer is not valid JSON (${answer.message}): ${excerpt}`, truncated ? "the answer was cut off at maxTokens; raise `maxTokens`" : "a node-level `retry` asks again; say \"answer with JSON\" in the prompt", {
        answer: excerpt,
        finishReason: completion.finishReason,
      });
    }
    if (p.jsonSchema) {
      const checked = z.fromJSONSchema(p.jsonSchema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(answer.value);
      if (!checked.success) {
        const issues = checked.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
        throw schemaError(`${where}: the answer does not match jsonSchema: ${issues.join("; ")}`, "a node-level `retry` asks again; describe the expected shape in the prompt too", { issues, answer: excerpt });
      }
    }
    result.json = answer.value;
    return result;
  },
});
