import { describe, expect, test } from "vitest";
import llm from "../../../src/nodes/builtin/llm.js";
import { rejectionOf, runNode, startNode } from "../../helpers/node-context.js";
import { useFakeOpenAI, type FakeOpenAI } from "../../helpers/fake-openai.js";

// `stream: true` against a real HTTP server on loopback that answers in ways providers do.
let api: FakeOpenAI;
useFakeOpenAI((started) => (api = started));

const base = () => ({ baseUrl: api.baseUrl, model: "tiny-1", apiKey: "sk-test-1234567890", prompt: "hi", stream: true, retry: { attempts: 1 } });
const ERROR = JSON.stringify({ error: { message: "The model `tiny-1` does not exist", type: "invalid_request_error", code: "model_not_found" } });
const COMPLETION = JSON.stringify({ id: "c", object: "chat.completion", model: "tiny-1", choices: [{ index: 0, message: { role: "assistant", content: "a whole answer" }, finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 3 } });
const chunk = (content: string, finish: string | null = null) => `data: ${JSON.stringify({ model: "tiny-1", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}`;

describe("llm stream: answers that are not a plain LF event stream", () => {
  test.each([
    ["CR", "\r"],
    ["CRLF", "\r\n"],
    ["LF", "\n"],
  ])("events whose lines end with %s give the streamed text, token by token", async (_name, eol) => {
    api.queue.push({ sse: [chunk("Roses"), "", chunk(" are"), "", chunk(" red", "stop"), "", "data: [DONE]", "", ""].join(eol), end: "end" });
    const { output, progress } = await runNode(llm, base());
    expect(output).toEqual({ text: "Roses are red", usage: { promptTokens: null, completionTokens: null }, model: "tiny-1", finishReason: "stop" });
    expect(progress.map((p) => p.message)).toEqual(["Roses", " are", " red"]);
  });

  test("an event split over several data lines is one chunk", async () => {
    api.queue.push({ sse: `data: {"model":"tiny-1",\ndata: "choices":[{"delta":{"content":"joined"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`, end: "end" });
    expect((await runNode(llm, base())).output).toMatchObject({ text: "joined", finishReason: "stop" });
  });

  test.each([
    ["200, application/json", { status: 200, body: ERROR }],
    ["200, text/event-stream", { status: 200, headers: { "content-type": "text/event-stream" }, body: ERROR }],
  ])("an error object instead of a stream (%s) fails with the provider's message", async (_name, reply) => {
    api.queue.push(reply);
    const error = await rejectionOf(startNode(llm, base()).result);
    expect(error.code).toBe("E_LLM");
    expect(error.message).toBe(`llm tiny-1 at ${api.baseUrl}/chat/completions: the server answered with an error: The model \`tiny-1\` does not exist`);
    expect(error.hint).toMatch(/^the server reported an error instead of a completion/);
    expect(error.details).toEqual({ error: { message: "The model `tiny-1` does not exist", type: "invalid_request_error", code: "model_not_found" } });
  });

  test("a 404 with a JSON error object says the status and the provider's message, the body in details", async () => {
    api.queue.push({ status: 404, body: ERROR });
    const error = await rejectionOf(startNode(llm, base()).result);
    expect(error).toMatchObject({ code: "E_LLM", retryable: false, details: { status: 404, body: ERROR } });
    expect(error.message).toBe(`llm tiny-1 at ${api.baseUrl}/chat/completions → 404 Not Found: The model \`tiny-1\` does not exist`);
  });

  test("a whole completion as JSON under text/event-stream is read as that completion", async () => {
    api.queue.push({ status: 200, headers: { "content-type": "text/event-stream" }, body: COMPLETION });
    expect((await runNode(llm, base())).output).toEqual({ text: "a whole answer", usage: { promptTokens: 3, completionTokens: 3 }, model: "tiny-1", finishReason: "stop" });
  });

  test("a text/event-stream body that is neither events nor JSON says so, with an excerpt", async () => {
    api.queue.push({ status: 200, headers: { "content-type": "text/event-stream" }, body: "<html>Bad gateway</html>" });
    const error = await rejectionOf(startNode(llm, base()).result);
    expect(error.message).toBe(`llm tiny-1 at ${api.baseUrl}/chat/completions: the streamed answer has no \`data:\` events: <html>Bad gateway</html>`);
  });
});
