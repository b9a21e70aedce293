import { afterEach, describe, expect, test, vi } from "vitest";
import { AtomitonError, CancelledError, TimeoutError } from "../../../src/errors.js";
import { createEventBus, type RequestContext } from "../../../src/events/create-event-bus.js";

interface Requests {
  "math:double": { payload: number; result: number };
  "job:slow": { payload: string; result: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

afterEach(() => {
  vi.useRealTimers();
});

describe("request / handle", () => {
  test.each([
    ["a sync handler", (n: number) => n * 2],
    ["an async handler", async (n: number) => n * 2],
  ])("resolves with the answer of %s", async (_label, handler) => {
    const bus = createEventBus<object, Requests>();
    bus.handle("math:double", handler);
    await expect(bus.request("math:double", 21)).resolves.toBe(42);
  });

  test("each request gets its own correlation id and a live signal", async () => {
    const bus = createEventBus<object, Requests>();
    const contexts: RequestContext[] = [];
    bus.handle("math:double", (n, context) => {
      contexts.push(context);
      return n * 2;
    });
    await Promise.all([bus.request("math:double", 1), bus.request("math:double", 2)]);
    expect(contexts.map((c) => c.requestId)).toEqual([expect.stringMatching(UUID), expect.stringMatching(UUID)]);
    expect(contexts[0]?.requestId).not.toBe(contexts[1]?.requestId);
    expect(contexts.map((c) => c.signal.aborted)).toEqual([false, false]);
  });

  test("the first registered handler answers; unregistering hands over to the next", async () => {
    const bus = createEventBus<object, Requests>();
    const off = bus.handle("math:double", () => 1);
    bus.handle("math:double", () => 2);
    await expect(bus.request("math:double", 0)).resolves.toBe(1);
    off();
    await expect(bus.request("math:double", 0)).resolves.toBe(2);
  });

  test.each([
    [
      "throws",
      () => {
        throw new AtomitonError("E_HANDLER_TEST", "handler broke", { retryable: false });
      },
    ],
    ["rejects", () => Promise.reject(new AtomitonError("E_HANDLER_TEST", "handler broke", { retryable: false }))],
  ])("rejects with the handler's error when it %s", async (_label, handler) => {
    const bus = createEventBus<object, Requests>();
    bus.handle("math:double", handler);
    await expect(bus.request("math:double", 1)).rejects.toMatchObject({ code: "E_HANDLER_TEST", message: "handler broke" });
  });

  test("without a handler it rejects with E_NO_HANDLER naming the request", async () => {
    const bus = createEventBus<object, Requests>();
    const off = bus.handle("math:double", (n) => n);
    off();
    const error = await bus.request("math:double", 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AtomitonError);
    expect(error).toMatchObject({ code: "E_NO_HANDLER", message: expect.stringContaining('"math:double"') });
  });

  test("times out with E_TIMEOUT, aborts the handler's signal and ignores a late answer", async () => {
    vi.useFakeTimers();
    const bus = createEventBus<object, Requests>();
    let context: RequestContext | undefined;
    bus.handle("job:slow", (payload, ctx) => {
      context = ctx;
      return new Promise<string>((resolve) => setTimeout(() => resolve(`late ${payload}`), 5_000));
    });
    const pending = bus.request("job:slow", "x", { timeout: 100 });
    const outcome = pending.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: "E_TIMEOUT", message: expect.stringContaining("100 ms") });
    expect(context?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("an answer in time clears the timeout timer", async () => {
    vi.useFakeTimers();
    const bus = createEventBus<object, Requests>();
    bus.handle("job:slow", (payload) => new Promise<string>((resolve) => setTimeout(() => resolve(`done ${payload}`), 50)));
    const pending = bus.request("job:slow", "y", { timeout: 1_000 });
    expect(vi.getTimerCount()).toBe(1); // the request's timer; the handler has not run yet
    await vi.advanceTimersByTimeAsync(50);
    await expect(pending).resolves.toBe("done y");
    expect(vi.getTimerCount()).toBe(0);
  });

  test("timeout: Infinity sets no timer", async () => {
    vi.useFakeTimers();
    const bus = createEventBus<object, Requests>();
    bus.handle("math:double", (n) => n * 2);
    const pending = bus.request("math:double", 4, { timeout: Number.POSITIVE_INFINITY });
    expect(vi.getTimerCount()).toBe(0);
    await expect(pending).resolves.toBe(8);
  });

  test("an aborted caller signal rejects with E_CANCELLED", async () => {
    const bus = createEventBus<object, Requests>();
    bus.handle("job:slow", (_payload, ctx) => new Promise<string>((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))));
    const controller = new AbortController();
    const pending = bus.request("job:slow", "z", { signal: controller.signal });
    controller.abort(new Error("user pressed Ctrl-C"));
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    await expect(bus.request("job:slow", "z", { signal: controller.signal })).rejects.toMatchObject({ code: "E_CANCELLED" });
  });
});
