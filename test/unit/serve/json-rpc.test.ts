import { describe, expect, test } from "vitest";
import { parseRpcMessage, renderError, renderResult, renderRunEvent, RpcError } from "../../../src/serve/json-rpc.js";

describe("parseRpcMessage", () => {
  test.each([
    ["{oops", -32700, null],
    ["[]", -32600, null],
    ["42", -32600, null],
    ['{"jsonrpc":"1.0","id":7,"method":"x"}', -32600, 7],
    ['{"jsonrpc":"2.0","id":{"a":1},"method":"x"}', -32600, null],
    ['{"jsonrpc":"2.0","id":"a","method":""}', -32600, "a"],
    ['{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}', -32602, 1],
    ['{"jsonrpc":"2.0","id":1,"method":"x","params":null}', -32602, 1],
  ])("%s → %i (id %j)", (text, code, id) => {
    const parsed = parseRpcMessage(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(code);
      expect(parsed.id).toBe(id);
    }
  });

  test("a notification with params of the wrong shape is an error nobody is sent", () => {
    expect(parseRpcMessage('{"jsonrpc":"2.0","method":"initialize","params":"x"}')).toMatchObject({ ok: false, notification: true, error: { code: -32602 } });
    expect(parseRpcMessage('{"jsonrpc":"2.0","id":null,"method":"initialize","params":"x"}')).not.toHaveProperty("notification");
  });

  test("a request and a notification", () => {
    expect(parseRpcMessage('{"jsonrpc":"2.0","id":3,"method":"runs.list","params":{"limit":2}}')).toEqual({ ok: true, request: { id: 3, method: "runs.list", params: { limit: 2 } } });
    expect(parseRpcMessage('{"jsonrpc":"2.0","method":"initialize"}')).toEqual({ ok: true, request: { method: "initialize", params: {} } });
  });
});

describe("rendering", () => {
  test("answers and the run.event notification are JSON-RPC 2.0", () => {
    expect(JSON.parse(renderResult(1, { ok: true }))).toEqual({ jsonrpc: "2.0", id: 1, result: { ok: true } });
    expect(JSON.parse(renderError("x", new RpcError(-32000, "boom", { code: "E_X" })))).toEqual({ jsonrpc: "2.0", id: "x", error: { code: -32000, message: "boom", data: { code: "E_X" } } });
    expect(JSON.parse(renderRunEvent('r"1', 4, '{"type":"node:start","runId":"r\\"1"}'))).toEqual({ jsonrpc: "2.0", method: "run.event", params: { runId: 'r"1', seq: 4, event: { type: "node:start", runId: 'r"1' } } });
  });
});
