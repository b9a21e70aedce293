import { createServer, type AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import llm from "../../../src/nodes/builtin/llm.js";
import { exampleParameters, rejectionOf, runNode, startNode } from "../../helpers/node-context.js";
import { useFakeOpenAI, type FakeOpenAI } from "../../helpers/fake-openai.js";
import { runYaml } from "../conductor/harness.js";

// A real HTTP server on loopback speaking the OpenAI chat-completions format.
let api: FakeOpenAI;
useFakeOpenAI((started) => (api = started));

const KEY = "sk-test-9f8e7d6c5b4a";
const base = () => ({ baseUrl: api.baseUrl, model: "tiny-1", apiKey: KEY, retry: { attempts: 1 } });

describe("llm against an OpenAI-compatible server", () => {
  test("prompt and system become messages; options go on the wire; the output has text, usage, model, finishReason", async () => {
    api.queue.push({ content: "Hello there", usage: { prompt_tokens: 12, completion_tokens: 2 } });
    const { output } = await runNode(llm, { ...base(), system: "Be brief.", prompt: { ask: "hi" }, temperature: 0, maxTokens: 20, stop: ["\n\n"], seed: 7 });
    expect(output).toEqual({ text: "Hello there", usage: { promptTokens: 12, completionTokens: 2 }, model: "tiny-1", finishReason: "stop" });
    const [request] = api.requests;
    expect(request!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request!.body).toEqual({
      model: "tiny-1",
      stream: false,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: '{"ask":"hi"}' },
      ],
      temperature: 0,
      max_tokens: 20,
      stop: ["\n\n"],
      seed: 7,
    });
  });

  test("stream: tokens arrive as progress events, finished lines as logs", async () => {
    api.queue.push({ stream: ["Roses are", " red,\n", "violets", " are blue"] });
    const { output, progress, logs } = await runNode(llm, { ...base(), messages: [{ role: "user", content: "A poem" }], stream: true, maxTokens: 8 });
    expect(output).toEqual({ text: "Roses are red,\nviolets are blue", usage: { promptTokens: 7, completionTokens: 4 }, model: "tiny-1", finishReason: "stop" });
    expect(progress).toEqual([
      { value: 1 / 8, message: "Roses are" },
      { value: 2 / 8, message: " red,\n" },
      { value: 3 / 8, message: "violets" },
      { value: 4 / 8, message: " are blue" },
    ]);
    expect(logs.filter((l) => l.level === "info").map((l) => l.message)).toEqual(["Roses are red,", "violets are blue"]);
    expect(api.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  test("a 429 waits what Retry-After asks for, then succeeds", async () => {
    api.queue.push({ status: 429, headers: { "retry-after": "2" }, body: JSON.stringify({ error: { message: "Rate limit reached" } }) });
    api.queue.push({ content: "ok" });
    const { output, logs } = await runNode(llm, { ...base(), prompt: "hi", retry: { attempts: 3, delay: 10 } });
    expect(output).toMatchObject({ text: "ok" });
    expect(api.requests).toHaveLength(2);
    expect(logs.find((l) => l.level === "warn")?.message).toMatch(/→ 429 Too Many Requests: .*Rate limit reached.*; retrying in 2000ms \(Retry-After\) \(attempt 2 of 3\)$/);
  });

  test.each([
    ["truncated JSON", { status: 200, body: '{"choices": [{"message": {"content": "hal' }, "the answer is not valid JSON"],
    ["no choices", { status: 200, body: '{"object": "chat.completion"}' }, "the answer has no choices[0].message.content"],
    ["an HTML error page", { status: 502, headers: { "content-type": "text/html" }, body: "<html>Bad gateway</html>" }, "502 Bad Gateway"],
  ])("a malformed answer (%s) is a retryable E_LLM, retried inside the node", async (_name, reply, message) => {
    api.queue.push(reply, { content: "fine" });
    const failed = await rejectionOf(startNode(llm, { ...base(), prompt: "hi" }).result);
    expect(failed).toMatchObject({ code: "E_LLM", retryable: true });
    expect(failed.message).toContain(message);
    const { output } = await runNode(llm, { ...base(), prompt: "hi", retry: { attempts: 2, delay: 1 } });
    expect(output).toMatchObject({ text: "fine" });
  });

  test.each([
    ["an answer", { stream: false, contentType: "application/json" }, "the response body went over 256 MiB"],
    ["a stream with no newline", { stream: true, contentType: "text/event-stream" }, "the streamed answer went over 256 MiB"],
  ])("%s over 256 MiB is a non-retryable E_LLM, not a process that fills its memory", async (_name, { stream, contentType }, said) => {
    api.queue.push({ status: 200, headers: { "content-type": contentType }, body: "x".repeat(260 * 1024 * 1024) });
    const error = await rejectionOf(startNode(llm, { ...base(), prompt: "hi", stream, retry: { attempts: 2, delay: 1 } }).result);
    expect(error).toMatchObject({ code: "E_LLM", retryable: false });
    expect(error.message).toContain(said);
    expect(api.requests).toHaveLength(1);
  });

  // What the official openai SDK does: a stream ends at `data: [DONE]` or at the end of the
  // response, whichever comes first (servers such as some vLLM and proxy versions send no [DONE]).
  const event = (o: Record<string, unknown>) => `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "tiny-1", ...o })}\n\n`;
  const WITHOUT_DONE = [
    event({ choices: [{ index: 0, delta: { content: "Hello" }, finish_reason: null }] }),
    event({ choices: [{ index: 0, delta: { content: " world" }, finish_reason: null }] }),
    event({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
    event({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }),
  ].join("");
  test.each(["end", "close"] as const)("stream: an answer without [DONE] ends with the response (%s), once, with its text and usage", async (end) => {
    api.queue.push({ sse: WITHOUT_DONE, end });
    const { output } = await runNode(llm, { ...base(), prompt: "hi", stream: true, retry: { attempts: 2, delay: 1 } });
    expect(output).toMatchObject({ text: "Hello world", finishReason: "stop", usage: { promptTokens: 3, completionTokens: 2 } });
    expect(api.requests).toHaveLength(1);
  });

  test.each([
    ["the connection is cut in the middle of an event", "cut", /the connection closed in the middle of the streamed answer \(after 1 chunk\)/],
    ["the response ends in the middle of an event", "end", /the stream ended in the middle of an event \(after 1 chunk\): \{"id":"c","choi/],
  ] as const)("stream: %s: a retryable error that says so, and the retry gets the answer", async (_name, end, says) => {
    api.queue.push({ sse: `${event({ choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }] })}data: {"id":"c","choi`, end });
    const failed = await rejectionOf(startNode(llm, { ...base(), prompt: "hi", stream: true }).result);
    expect(failed.retryable).toBe(true);
    expect(failed.message).toMatch(says);
    expect(failed.hint).toMatch(/retr/);
    api.queue.push({ sse: `data: {"id":"c","choi`, end }, { sse: WITHOUT_DONE, end: "end" });
    const { output, logs } = await runNode(llm, { ...base(), prompt: "hi", stream: true, retry: { attempts: 2, delay: 1 } });
    expect(output).toMatchObject({ text: "Hello world" });
    expect(logs.map((l) => l.message).join("\n")).toMatch(/retrying in 1ms/);
  });

  test("a 400 is not retried; a refused connection is a retryable E_NETWORK", async () => {
    api.queue.push({ status: 400, body: JSON.stringify({ error: { message: "max_tokens is too large" } }) });
    const bad = await rejectionOf(startNode(llm, { ...base(), prompt: "hi", retry: { attempts: 3, delay: 1 } }).result);
    expect(bad).toMatchObject({ code: "E_LLM", retryable: false, details: { status: 400 } });
    expect(api.requests).toHaveLength(1);

    const parking = createServer();
    await new Promise<void>((resolve) => parking.listen(0, "127.0.0.1", resolve));
    const port = (parking.address() as AddressInfo).port;
    await new Promise((resolve) => parking.close(resolve));
    const refused = await rejectionOf(startNode(llm, { ...base(), baseUrl: `http://127.0.0.1:${port}/v1`, prompt: "hi" }).result);
    expect(refused).toMatchObject({ code: "E_NETWORK", retryable: true });
    expect(refused.message).toContain("ECONNREFUSED");
    expect(refused.hint).toContain("ollama serve");
  });

  test("json: the answer is parsed (a ```json fence allowed) and checked against jsonSchema", async () => {
    const jsonSchema = { type: "object", properties: { label: { enum: ["bug", "billing"] } }, required: ["label"] };
    api.queue.push({ content: '```json\n{"label": "bug"}\n```' });
    const { output } = await runNode(llm, { ...base(), prompt: "x", jsonSchema });
    expect(output.json).toEqual({ label: "bug" });
    expect(api.requests[0]!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "answer", schema: jsonSchema } });

    api.queue.push({ content: '{"label": "spam"}' });
    const mismatch = await rejectionOf(startNode(llm, { ...base(), prompt: "x", jsonSchema }).result);
    expect(mismatch).toMatchObject({ code: "E_LLM_SCHEMA", retryable: true });
    expect(mismatch.message).toContain("does not match jsonSchema: label:");

    api.queue.push({ content: "Sure! The label is bug.", finishReason: "stop" });
    const prose = await rejectionOf(startNode(llm, { ...base(), prompt: "x", responseFormat: "json" }).result);
    expect(prose).toMatchObject({ code: "E_LLM_SCHEMA", retryable: true });
    expect(api.requests.at(-1)!.body.response_format).toEqual({ type: "json_object" });
  });

  test("a schema mismatch is retried by the node-level retry, then succeeds", async () => {
    api.queue.push({ content: '{"label": "spam"}' }, { content: '{"label": "bug"}' });
    const { result, events } = await runYaml(`
name: llm-retry
nodes:
  - id: classify
    type: llm
    retry: { attempts: 2, delay: 10ms }
    parameters:
      baseUrl: ${api.baseUrl}
      model: tiny-1
      prompt: "The app crashes"
      jsonSchema: { type: object, properties: { label: { enum: [bug, billing, question] } }, required: [label] }
`);
    expect(result.status).toBe("succeeded");
    expect(result.output).toMatchObject({ json: { label: "bug" } });
    const retries = events.filter((e) => e.type === "node:retry");
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ error: { code: "E_LLM_SCHEMA" } });
    expect(api.requests).toHaveLength(2);
  });

  test("the API key is scrubbed from errors that echo it", async () => {
    api.queue.push({ status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}`, headers: { authorization: `Bearer ${KEY}` } } }) });
    const error = await rejectionOf(startNode(llm, { ...base(), prompt: "hi" }).result);
    expect(error).toMatchObject({ code: "E_LLM", retryable: false });
    expect(error.message).toContain("Incorrect API key provided: ***");
    expect(JSON.stringify({ message: error.message, hint: error.hint, details: error.details })).not.toContain(KEY);
    expect(error.hint).toContain("apiKey");
  });

  test("parameters: prompt or messages is required, jsonSchema must be usable; the example parses", async () => {
    expect(llm.parameters.safeParse({ model: "m" }).success).toBe(false);
    expect(llm.parameters.safeParse({ model: "m", prompt: "x", jsonSchema: { type: "no-such-type" } }).success).toBe(false);
    for (const p of await exampleParameters(llm)) expect(llm.parameters.safeParse(p).success).toBe(true);
  });
});
