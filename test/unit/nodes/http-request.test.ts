import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { AtomitonError, ErrorCode } from "../../../src/errors.js";
import httpRequest, { retryAfterMs } from "../../../src/nodes/builtin/http-request.js";
import { exampleParameters, parseParameters, rejectionOf, runNode, startNode } from "../../helpers/node-context.js";

let server: Server;
let base: string;
let flakyCount = 0;

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

/** `bytes` of body with no content-length (chunked), as an endless stream looks until its end. */
function sendChunked(res: ServerResponse, bytes: number): void {
  res.writeHead(200, { "content-type": "application/octet-stream" });
  const chunk = Buffer.alloc(1024 * 1024, 97);
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    res.end();
  };
  pump();
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  const body = await readBody(req);
  const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(value));
  };
  switch (path) {
    case "/json":
      return json(200, { hello: "world", items: [1, 2] });
    case "/echo":
      return json(200, { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body } satisfies Echo);
    case "/text":
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      return void res.end("plain text");
    case "/xml":
      res.writeHead(200, { "content-type": "application/xml" });
      return void res.end("<a>1</a>");
    case "/untyped":
      return void res.end("no content type");
    case "/bom-json":
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]));
    case "/latin1":
      res.writeHead(200, { "content-type": "text/plain; charset=ISO-8859-1" });
      return void res.end(Buffer.from("café", "latin1"));
    case "/sjis":
      res.writeHead(200, { "content-type": 'text/html; charset="Shift_JIS"' });
      return void res.end(Buffer.from([0x93, 0xfa, 0x96, 0x7b])); // 日本
    case "/unknown-charset":
      res.writeHead(200, { "content-type": "text/plain; charset=x-no-such" });
      return void res.end("plain");
    case "/binary":
      res.writeHead(200, { "content-type": "image/png" });
      return void res.end(Buffer.from([0, 1, 2, 255]));
    case "/bad-json":
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end("{not json");
    case "/empty":
      res.writeHead(204);
      return void res.end();
    case "/missing":
      return json(404, { error: "no such item", id: 42 });
    case "/throttled":
      return json(429, { error: "slow down" }, { "retry-after": "0" });
    case "/always500":
      return json(500, { error: "boom" });
    case "/flaky":
      flakyCount += 1;
      if (flakyCount === 1) return json(500, { error: "first call fails" }, { "retry-after": "0" });
      return json(200, { attempt: flakyCount });
    case "/redirect":
      res.writeHead(302, { location: "/json" });
      return void res.end();
    case "/loop":
      res.writeHead(302, { location: "/loop" });
      return void res.end();
    case "/hang":
      return; // never answers
    case "/huge-declared":
      // A content-length over the cap: refused before its body is read (none is sent).
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(2 * 1024 ** 3) });
      return void res.flushHeaders();
    case "/huge-chunked":
      return void sendChunked(res, 260 * 1024 * 1024);
    default:
      res.writeHead(404);
      res.end();
  }
}

// A TLS server whose certificate (self-signed, test/fixtures/tls) the client does not trust.
let tlsServer: HttpsServer;
let tlsBase: string;

beforeAll(async () => {
  const tls = path.join(import.meta.dirname, "../../fixtures/tls");
  tlsServer = createHttpsServer({ key: readFileSync(path.join(tls, "self-signed-key.pem")), cert: readFileSync(path.join(tls, "self-signed-cert.pem")) }, (_req, res) => void res.end("secret"));
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
  tlsBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/`;
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  tlsServer.closeAllConnections();
  await new Promise((resolve) => tlsServer.close(resolve));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  flakyCount = 0;
});

async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe("http-request parameters", () => {
  test("defaults", () => {
    expect(httpRequest.parameters.parse({ url: "http://x.test" })).toEqual({
      url: "http://x.test",
      method: "GET",
      headers: {},
      params: {},
      bodyType: "auto",
      responseType: "auto",
      allowErrorStatus: false,
      followRedirects: true,
    });
    expect(httpRequest.parameters.parse({ url: "http://x.test", retry: {} }).retry).toEqual({ attempts: 3, delay: 1000, backoff: "exponential", maxDelay: 30_000 });
  });

  test.each([
    [{}, "url"],
    [{ url: "http://x.test", method: "FETCH" }, "method"],
    [{ url: "http://x.test", headers: "not json" }, "headers"],
    [{ url: "http://x.test", auth: { type: "bearer" } }, "auth"],
    [{ url: "http://x.test", timeout: "soon" }, "timeout"],
  ])("rejects %j at %s", (raw, key) => {
    const result = httpRequest.parameters.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path[0])).toContain(key);
  });

  test("has an example whose parameters validate", async () => {
    const examples = await exampleParameters(httpRequest);
    expect(examples.length).toBeGreaterThan(0);
    for (const raw of examples) expect(parseParameters(httpRequest, raw)).toBeTruthy();
  });

  test.each([
    ["2", 2000],
    ["0", 0],
    [new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), 10_000],
    ["garbage", undefined],
    [null, undefined],
  ])("Retry-After %j → %j ms", (header, expected) => {
    expect(retryAfterMs(header, Date.UTC(2030, 0, 1, 0, 0, 0))).toBe(expected);
  });
});

describe("http-request responses", () => {
  test("GET JSON → the parsed body in data, with status and headers", async () => {
    const { output } = await runNode(httpRequest, { url: `${base}/json` });
    expect(output).toMatchObject({ status: 200, statusText: "OK", ok: true, data: { hello: "world", items: [1, 2] }, url: `${base}/json`, redirected: false });
    expect(output.headers["content-type"]).toBe("application/json");
    expect(output.durationMs).toBeGreaterThanOrEqual(0);
  });

  test("POST an object body as JSON", async () => {
    const { output } = await runNode(httpRequest, { method: "POST", url: `${base}/echo`, body: { name: "Ada", tags: ["x"] } });
    const echo = output.data as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(echo.body)).toEqual({ name: "Ada", tags: ["x"] });
  });

  test.each([
    ["text", "hello", undefined, "text/plain;charset=utf-8", "hello"],
    ["form", { a: 1, b: ["x", "y"] }, "form", "application/x-www-form-urlencoded", "a=1&b=x&b=y"],
    ["bytes", Buffer.from("raw"), undefined, "application/octet-stream", "raw"],
    ["a content-type header wins", { a: 1 }, undefined, "application/vnd.custom+json", '{"a":1}'],
  ])("body: %s", async (name, body, bodyType, contentType, sent) => {
    const headers = name.startsWith("a content-type") ? { "Content-Type": contentType } : {};
    const { output } = await runNode(httpRequest, { method: "PUT", url: `${base}/echo`, body, headers, ...(bodyType ? { bodyType } : {}) });
    const echo = output.data as Echo;
    expect(echo.headers["content-type"]).toBe(contentType);
    expect(echo.body).toBe(sent);
  });

  test("params are appended to the query (arrays repeat, null skipped, existing query kept)", async () => {
    const { output } = await runNode(httpRequest, { url: `${base}/echo?keep=1`, params: { q: "a b", n: 2, tag: ["x", "y"], skip: null } });
    expect((output.data as Echo).url).toBe("/echo?keep=1&q=a+b&n=2&tag=x&tag=y");
  });

  test.each([
    ["basic auth", { auth: { type: "basic", username: "ada", password: "s3cret" } }, `Basic ${Buffer.from("ada:s3cret").toString("base64")}`],
    ["bearer auth", { auth: { type: "bearer", token: "tok-123" } }, "Bearer tok-123"],
    ["credentials in the URL", { userinfo: "ada:pw" }, `Basic ${Buffer.from("ada:pw").toString("base64")}`],
    ["headers as a JSON string", { headers: '{"Authorization": "Token abc"}' }, "Token abc"],
  ])("%s → the Authorization header the server sees", async (_name, extra, expected) => {
    const { userinfo, ...rest } = extra as Record<string, unknown>;
    const url = userinfo ? `${base.replace("http://", `http://${String(userinfo)}@`)}/echo` : `${base}/echo`;
    const { output } = await runNode(httpRequest, { url, ...rest });
    expect((output.data as Echo).headers.authorization).toBe(expected);
  });

  test("HEAD → status and headers, data null", async () => {
    const { output } = await runNode(httpRequest, { method: "HEAD", url: `${base}/json` });
    expect(output).toMatchObject({ status: 200, data: null });
    expect(output.headers["content-type"]).toBe("application/json");
  });

  test.each([
    ["/text", "auto", "plain text"],
    ["/xml", "auto", "<a>1</a>"],
    ["/untyped", "auto", "no content type"],
    ["/binary", "auto", Buffer.from([0, 1, 2, 255])],
    ["/binary", "base64", Buffer.from([0, 1, 2, 255]).toString("base64")],
    ["/json", "text", '{"hello":"world","items":[1,2]}'],
    ["/text", "binary", Buffer.from("plain text")],
    ["/empty", "auto", null],
    // A UTF-8 byte order mark (some servers send one) is not part of the JSON, nor of the text.
    ["/bom-json", "auto", { a: 1 }],
    ["/bom-json", "json", { a: 1 }],
    ["/bom-json", "text", '{"a":1}'],
    // Text in the charset its content-type names (it was read as UTF-8: "caf\uFFFD").
    ["/latin1", "auto", "café"],
    ["/sjis", "text", "日本"],
    ["/unknown-charset", "auto", "plain"],
  ])("%s with responseType %s", async (path, responseType, expected) => {
    const { output } = await runNode(httpRequest, { url: `${base}${path}`, responseType });
    expect(output.data).toEqual(expected);
  });

  test("auto with a JSON content-type but a broken body returns the text and warns; json fails", async () => {
    const { output, logs } = await runNode(httpRequest, { url: `${base}/bad-json` });
    expect(output.data).toBe("{not json");
    expect(logs.some((l) => l.level === "warn" && l.message.includes("not valid JSON"))).toBe(true);
    const error = await rejectionOf(runNode(httpRequest, { url: `${base}/bad-json`, responseType: "json" }));
    expect(error.retryable).toBe(false);
  });

  test("redirects are followed; followRedirects: false returns the 3xx", async () => {
    const followed = await runNode(httpRequest, { url: `${base}/redirect` });
    expect(followed.output).toMatchObject({ status: 200, redirected: true, url: `${base}/json`, data: { hello: "world" } });
    const manual = await runNode(httpRequest, { url: `${base}/redirect`, followRedirects: false });
    expect(manual.output.status).toBe(302);
    expect(manual.output.headers.location).toBe("/json");
  });
});

describe("http-request failures", () => {
  test("404 → non-retryable E_HTTP_STATUS with the status and a body excerpt", async () => {
    const error = await rejectionOf(runNode(httpRequest, { url: `${base}/missing` }));
    expect(error).toBeInstanceOf(AtomitonError);
    expect(error.code).toBe(ErrorCode.HTTP_STATUS);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`GET ${base}/missing → 404 Not Found`);
    expect(error.message).toContain('"error":"no such item"');
    expect(error.details).toEqual({ status: 404, url: `${base}/missing`, bodyExcerpt: '{"error":"no such item","id":42}' });
  });

  test.each([
    ["/always500", 500],
    ["/throttled", 429],
  ])("%s → retryable E_HTTP_STATUS (%i)", async (path, status) => {
    const error = await rejectionOf(runNode(httpRequest, { url: `${base}${path}` }));
    expect(error.code).toBe(ErrorCode.HTTP_STATUS);
    expect(error.retryable).toBe(true);
    expect(error.details?.status).toBe(status);
  });

  test("retry: a 500 then a 200 succeeds, honouring Retry-After: 0, with a warn log per retry", async () => {
    const { output, logs } = await runNode(httpRequest, { url: `${base}/flaky`, retry: { attempts: 3, delay: 60_000 } });
    expect(output.data).toEqual({ attempt: 2 });
    const warnings = logs.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain("500");
    expect(warnings[0]?.message).toContain("retrying in 0ms (attempt 2 of 3)");
  });

  test("retry gives up after `attempts` and throws the last error", async () => {
    const { result, logs } = startNode(httpRequest, { url: `${base}/always500`, retry: { attempts: 2, delay: 1 } });
    const error = await rejectionOf(result);
    expect(error.code).toBe(ErrorCode.HTTP_STATUS);
    expect(logs.filter((l) => l.level === "warn")).toHaveLength(1);
  });

  test("retry never repeats a 4xx", async () => {
    const { result, logs } = startNode(httpRequest, { url: `${base}/missing`, retry: { attempts: 3, delay: 1 } });
    expect((await rejectionOf(result)).code).toBe(ErrorCode.HTTP_STATUS);
    expect(logs.filter((l) => l.level === "warn")).toHaveLength(0);
  });

  test("allowErrorStatus returns the error response", async () => {
    const { output } = await runNode(httpRequest, { url: `${base}/missing`, allowErrorStatus: true });
    expect(output).toMatchObject({ status: 404, ok: false, data: { error: "no such item", id: 42 } });
  });

  test.each([
    ["a redirect loop", () => `${base}/loop`, "more than 20 redirects (a redirect loop?)", "followRedirects: false"],
    ["https:// to a plain-HTTP port", () => `${base.replace("http:", "https:")}/json`, "ERR_SSL_WRONG_VERSION_NUMBER: the server did not answer with TLS", "use http://"],
    ["a certificate that is not trusted", () => tlsBase, "DEPTH_ZERO_SELF_SIGNED_CERT", "NODE_EXTRA_CA_CERTS"],
  ])("%s fails the same way every time: a non-retryable E_NETWORK that says what to change, not retried", async (_name, url, said, hint) => {
    const started = startNode(httpRequest, { url: url(), retry: { attempts: 3, delay: 1 } });
    const error = await rejectionOf(started.result);
    expect(error).toMatchObject({ code: ErrorCode.NETWORK, retryable: false });
    expect(error.message).toContain(said);
    expect(error.message).not.toContain("ssl3_");
    expect(error.hint).toContain(hint);
    expect(started.logs.filter((l) => l.level === "warn")).toEqual([]);
  });

  test("an unreachable port → retryable E_NETWORK naming the url and ECONNREFUSED", async () => {
    const url = `http://127.0.0.1:${await unusedPort()}/x`;
    const error = await rejectionOf(runNode(httpRequest, { url }));
    expect(error.code).toBe(ErrorCode.NETWORK);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(url);
    expect(error.message).toContain("ECONNREFUSED");
  });

  test.each([
    ["not a url", "not an absolute URL"],
    ["ftp://127.0.0.1/file", "unsupported protocol ftp:"],
  ])("a literal bad url %j is refused by the parameter schema, so at validation, before anything runs", (url, message) => {
    const result = httpRequest.parameters.safeParse({ url });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ["url"], message: expect.stringContaining(message) });
  });

  test("a port fetch refuses (6000, browsers block it) is said so, not retried as a network error", async () => {
    const error = await rejectionOf(runNode(httpRequest, { url: "http://127.0.0.1:6000/", retry: { attempts: 3, delay: 1 } }));
    expect(error).toMatchObject({ code: ErrorCode.NODE_INPUT, retryable: false, hint: "serve it on another port" });
    expect(error.message).toContain("port 6000 is one that fetch refuses");
  });

  test("bodyType binary with a string that is not base64 fails before any request (Node's decoder would send other bytes)", async () => {
    const error = await rejectionOf(runNode(httpRequest, { url: `${base}/echo`, method: "POST", bodyType: "binary", body: "@@not base64!!" }));
    expect(error.code).toBe(ErrorCode.NODE_INPUT);
    expect(error.message).toContain("not base64");
  });

  test.each([
    // Known only once rendered (here: never rendered): refused at run time.
    ["{{ nothing }}/path", ErrorCode.NODE_INPUT],
  ])("a bad url %j fails without a request", async (url, code) => {
    const error = await rejectionOf(runNode(httpRequest, { url }));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(false);
  });

  test.each([
    ["/huge-declared", "is 2048 MiB (content-length), over 256 MiB"],
    ["/huge-chunked", "went over 256 MiB"],
  ])("a body over 256 MiB (%s) is a non-retryable E_HTTP, not a process that fills its memory", async (path, said) => {
    const error = await rejectionOf(runNode(httpRequest, { url: `${base}${path}`, retry: { attempts: 3, delay: 1 } }));
    expect(error).toMatchObject({ code: ErrorCode.HTTP, retryable: false, details: { maxBytes: 256 * 1024 * 1024 } });
    expect(error.message).toContain(`GET ${base}${path}: the response body ${said}`);
    expect(error.hint).toContain("shell-command");
  });

  test("timeout → retryable E_TIMEOUT", async () => {
    const error = await rejectionOf(runNode(httpRequest, { url: `${base}/hang`, timeout: 100 }));
    expect(error.code).toBe(ErrorCode.TIMEOUT);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("timed out after 100ms");
  });
});

describe("http-request cancellation", () => {
  test("abort rejects a request the server never answers, with E_CANCELLED", async () => {
    const started = startNode(httpRequest, { url: `${base}/hang` });
    setTimeout(() => started.controller.abort(), 50);
    const error = await rejectionOf(started.result);
    expect(error.code).toBe(ErrorCode.CANCELLED);
    expect(error.message).toContain(`GET ${base}/hang`);
  });

  test("an AtomitonError reason (node timeout) is rethrown as it is", async () => {
    const started = startNode(httpRequest, { url: `${base}/hang` });
    const reason = new AtomitonError(ErrorCode.TIMEOUT, "node fetch timed out after 50ms", { retryable: true });
    setTimeout(() => started.controller.abort(reason), 50);
    expect(await rejectionOf(started.result)).toBe(reason);
  });

  test("abort during a retry wait stops the retries", async () => {
    const started = startNode(httpRequest, { url: `${base}/always500`, retry: { attempts: 5, delay: 60_000 } });
    const deadline = Date.now() + 5000;
    while (!started.logs.some((l) => l.level === "warn") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    started.controller.abort();
    expect((await rejectionOf(started.result)).code).toBe(ErrorCode.CANCELLED);
  });
});
