import { describe, expect, test } from "vitest";
import { z } from "zod";
import { defineNode } from "../../../src/nodes/define-node.js";
import { runYaml } from "./harness.js";

describe("failures, fail-fast and retries", () => {
  test("fail-fast aborts a running node through its signal and cancels pending ones", async () => {
    const { result, events } = await runYaml(`
nodes:
  - { id: slow, type: test-sleep, parameters: { ms: 10000 } }
  - { id: boom, type: test-sleep, parameters: { ms: 10, fail: "kaput", retryable: false } }
  - { id: after, type: test-echo }
edges: [slow -> after]
`);
    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ code: "E_TEST", message: "kaput" });
    expect(result.nodes.boom!.status).toBe("failed");
    expect(result.nodes.slow).toMatchObject({ status: "cancelled", reason: 'cancelled because node "boom" failed' });
    expect(result.nodes.after!.status).toBe("cancelled");
    expect(result.durationMs).toBeLessThan(5000);
    const finish = events.at(-1)!;
    expect(finish).toMatchObject({ type: "run:finish", status: "failed", counts: { succeeded: 0, failed: 1, skipped: 0, cancelled: 2 } });
  });

  test("onError: continue records the error and passes null on", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: a, type: test-sleep, onError: continue, parameters: { fail: nope } }
  - { id: b, type: test-echo }
edges: [a -> b]
`);
    expect(result.status).toBe("succeeded");
    expect(result.nodes.a!.status).toBe("failed");
    expect((result.output as { input: unknown }).input).toBeNull();
  });

  test("onError: route sends {message, code, nodeId} to the error port and skips the success branch", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: a, type: test-sleep, onError: route, parameters: { fail: nope } }
  - { id: ok, type: test-echo }
  - { id: handler, type: test-echo }
edges: [a -> ok, a.error -> handler]
`);
    expect(result.status).toBe("succeeded");
    expect(result.nodes.ok!.status).toBe("skipped");
    expect(result.nodes.handler!.output).toMatchObject({ input: { message: "nope", code: "E_TEST", nodeId: "a" } });
  });

  test("retry emits node:retry and succeeds on a later attempt", async () => {
    const { result, events } = await runYaml(`
nodes:
  - id: flaky
    type: test-flaky
    retry: { attempts: 3, delay: 1, backoff: fixed }
    parameters: { succeedOn: 3 }
`);
    expect(result.status).toBe("succeeded");
    expect(result.output).toBe(3);
    expect(events.filter((e) => e.type === "node:retry").map((e) => (e as { attempt: number }).attempt)).toEqual([2, 3]);
    expect(result.nodes.flaky!.attempts).toBe(3);
  });

  test("non-retryable errors are not retried", async () => {
    const { result, events } = await runYaml(`
nodes:
  - { id: a, type: test-sleep, retry: { attempts: 5, delay: 1 }, parameters: { fail: bad input, retryable: false } }
`);
    expect(result.status).toBe("failed");
    expect(events.some((e) => e.type === "node:retry")).toBe(false);
  });

  test("a node timeout aborts it with E_TIMEOUT", async () => {
    const { result } = await runYaml(`nodes: [{ id: hang, type: test-sleep, timeout: 50ms, parameters: { ms: 10000 } }]`);
    expect(result.status).toBe("failed");
    expect(result.nodes.hang!.error).toMatchObject({ code: "E_TIMEOUT" });
  });

  test("the run timeout fails the run with E_TIMEOUT", async () => {
    const { result } = await runYaml(`nodes: [{ id: hang, type: test-sleep, parameters: { ms: 10000 } }]`, { timeout: 50 });
    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ code: "E_TIMEOUT" });
    expect(result.nodes.hang!.status).toBe("cancelled");
  });

  test("an external abort cancels the run", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user pressed Ctrl-C")), 30);
    const { result } = await runYaml(`nodes: [{ id: hang, type: test-sleep, parameters: { ms: 10000 } }]`, { signal: controller.signal });
    expect(result.status).toBe("cancelled");
    expect(result.nodes.hang!.status).toBe("cancelled");
  });

  test("an infinite loop in code fails that node with E_TIMEOUT", async () => {
    const { result } = await runYaml(`nodes: [{ id: spin, type: code, timeout: 200ms, parameters: { code: "while (true) {}" } }]`);
    expect(result.status).toBe("failed");
    expect(result.nodes.spin!.error).toMatchObject({ code: "E_TIMEOUT" });
  });
});

describe("a node that blocks the event loop past its timeout", () => {
  // The timer cannot fire while a synchronous loop runs; such a node ended as succeeded.
  const spin = (ms: number): void => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  const blocking = defineNode({
    type: "test-block",
    title: "block",
    description: "test",
    category: "test",
    parameters: z.object({ ms: z.number(), async: z.boolean().default(false) }),
    inputs: [{ id: "input" }],
    outputs: [{ id: "output" }],
    execute(ctx) {
      spin(ctx.parameters.ms);
      return ctx.parameters.async ? Promise.resolve("done") : "done";
    },
  });

  test.each([false, true])("async: %s, returning past the limit fails with E_TIMEOUT and says why", async (async) => {
    const { result } = await runYaml(`nodes: [{ id: b, type: test-block, timeout: 30ms, parameters: { ms: 120, async: ${async} } }]`, {}, [blocking]);
    expect(result.status).toBe("failed");
    expect(result.nodes.b!.error).toMatchObject({ code: "E_TIMEOUT", message: 'node "b" timed out after 30ms', hint: expect.stringMatching(/blocked the event loop/) });
  });

  test("another node's blocking does not time out a node whose own work was quick", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: quick, type: test-sleep, timeout: 40ms, parameters: { ms: 5, value: ok } }
  - { id: hog, type: test-block, parameters: { ms: 150 } }
`, {}, [blocking]);
    expect(result.nodes.quick).toMatchObject({ status: "succeeded" });
    expect(result.status).toBe("succeeded");
  });

  test("within the limit it succeeds", async () => {
    const { result } = await runYaml(`nodes: [{ id: b, type: test-block, timeout: 5s, parameters: { ms: 5 } }]`, {}, [blocking]);
    expect(result.status).toBe("succeeded");
    expect(result.output).toBe("done");
  });
});
