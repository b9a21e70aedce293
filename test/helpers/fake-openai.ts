import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach } from "vitest";

/**
 * A fake of a remote OpenAI-compatible service on loopback: it speaks the chat-completions wire
 * format (JSON and SSE streaming) and answers what the test scripts. Not a mock of our code.
 */
export interface FakeRequest {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> & { messages?: { role: string; content: string }[] };
}

export type FakeReply =
  /** A normal completion whose message content is `content`. */
  | { content: string; finishReason?: string; usage?: { prompt_tokens: number; completion_tokens: number } }
  /** A streamed completion: one SSE chunk per token, then a usage chunk and [DONE]. */
  | { stream: string[]; finishReason?: string }
  /** Any status and raw body (429 with Retry-After, malformed JSON…). */
  | { status: number; headers?: Record<string, string>; body: string }
  /**
   * A raw `text/event-stream` body, ended as `end` says: `end` a chunked response's normal end,
   * `close` a body without length or chunks that ends when the server closes the connection
   * (HTTP/1.0 style), `cut` the connection destroyed before the chunked body's end.
   */
  | { sse: string; end: "end" | "close" | "cut" };

export interface FakeOpenAI {
  /** The API root to use as `baseUrl` (…/v1). */
  baseUrl: string;
  requests: FakeRequest[];
  /** Answer the next requests with these replies, in order; after them `fallback` answers. */
  queue: FakeReply[];
  close(): Promise<void>;
}

/**
 * A small rule-based "model" for examples: it classifies the last user message as billing, bug or
 * question by keywords, answering JSON when the request asks for it.
 */
export function classifyingModel(request: FakeRequest): FakeReply {
  const text = (request.body.messages?.at(-1)?.content ?? "").toLowerCase();
  const label = /refund|invoice|charg|billing|\bpay/.test(text) ? "billing" : /crash|error|broken|fails?|bug/.test(text) ? "bug" : "question";
  const wantsJson = request.body.response_format !== undefined;
  return { content: wantsJson ? JSON.stringify({ label, confidence: 0.9 }) : label };
}

export async function startFakeOpenAI(fallback: (request: FakeRequest) => FakeReply = classifyingModel): Promise<FakeOpenAI> {
  const requests: FakeRequest[] = [];
  const queue: FakeReply[] = [];
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      const request: FakeRequest = { headers: req.headers, body: JSON.parse(raw) as FakeRequest["body"] };
      requests.push(request);
      const reply = queue.shift() ?? fallback(request);
      const model = typeof request.body.model === "string" ? request.body.model : "fake";
      if ("sse" in reply) {
        if (reply.end === "close") {
          res.socket!.end(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n${reply.sse}`);
        } else {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          if (reply.end === "end") res.end(reply.sse);
          else res.write(reply.sse, () => res.socket!.destroy());
        }
      } else if ("status" in reply) {
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers }).end(reply.body);
      } else if ("stream" in reply) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => res.write(`data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", model, choices, ...extra })}\n\n`);
        chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
        for (const token of reply.stream) chunk([{ index: 0, delta: { content: token }, finish_reason: null }]);
        chunk([{ index: 0, delta: {}, finish_reason: reply.finishReason ?? "stop" }]);
        chunk([], { usage: { prompt_tokens: 7, completion_tokens: reply.stream.length } });
        res.end("data: [DONE]\n\n");
      } else {
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: "chatcmpl-fake",
            object: "chat.completion",
            model,
            choices: [{ index: 0, message: { role: "assistant", content: reply.content }, finish_reason: reply.finishReason ?? "stop" }],
            usage: reply.usage ?? { prompt_tokens: 11, completion_tokens: 3 },
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    queue,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The fake for the tests of one file: started before them (`onStart` gets it), its requests and
 * scripted replies emptied before each test, closed after them all.
 */
export function useFakeOpenAI(onStart: (api: FakeOpenAI) => void): void {
  let api: FakeOpenAI | undefined;
  beforeAll(async () => {
    api = await startFakeOpenAI();
    onStart(api);
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(() => {
    api!.requests.length = 0;
    api!.queue.length = 0;
  });
}
