import { afterEach, describe, expect, expectTypeOf, test, vi } from "vitest";
import { createEventBus, type EventBus } from "../../../src/events/create-event-bus.js";
import type { NodeFinishEvent, RunEventMap } from "../../../src/events/event-map.js";

interface TestEvents {
  "a:fire": { n: number };
  "b:fire": { s: string };
}
interface TestRequests {
  "math:double": { payload: number; result: number };
  "user:name": { payload: { id: string }; result: string };
}

const finish: NodeFinishEvent = { runId: "r1", ts: 1, nodeId: "a", status: "succeeded", durationMs: 2, attempt: 1 };

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("types", () => {
  test("listeners infer the payload from the event map", () => {
    const bus: EventBus<RunEventMap> = createEventBus<RunEventMap>();
    const seen: string[] = [];
    bus.on("node:finish", (e) => {
      expectTypeOf(e).toEqualTypeOf<NodeFinishEvent>();
      seen.push(e.status);
    });
    bus.onAny((name, payload) => {
      if (name === "node:finish") expectTypeOf(payload).toEqualTypeOf<NodeFinishEvent>();
      seen.push(name);
    });
    bus.emit("node:finish", finish);
    expect(seen).toEqual(["succeeded", "node:finish"]);

    const typed = createEventBus<TestEvents, TestRequests>();
    // Compile-time checks only; never called.
    const _wrong = () => {
      expectTypeOf(typed.request("math:double", 2)).toEqualTypeOf<Promise<number>>();
      // @ts-expect-error payload of another event
      bus.emit("node:finish", { nodeId: "a" });
      // @ts-expect-error unknown event name
      bus.on("node:unknown", () => {});
      // @ts-expect-error wrong request payload
      void typed.request("math:double", "2");
      // @ts-expect-error handler must answer a string
      typed.handle("user:name", () => 1);
    };
    expect(typeof _wrong).toBe("function");
  });
});

describe("on / off / once / onAny", () => {
  test("listeners run in subscription order, then onAny listeners, for every emit", () => {
    const bus = createEventBus<TestEvents>();
    const log: string[] = [];
    bus.onAny((name, payload) => log.push(`any ${name} ${JSON.stringify(payload)}`));
    bus.on("a:fire", (e) => log.push(`on1 ${e.n}`));
    bus.once("a:fire", (e) => log.push(`once ${e.n}`));
    bus.on("a:fire", (e) => log.push(`on2 ${e.n}`));
    bus.on("b:fire", (e) => log.push(`b ${e.s}`));
    bus.emit("a:fire", { n: 1 });
    bus.emit("b:fire", { s: "x" });
    bus.emit("a:fire", { n: 2 });
    expect(log).toEqual([
      "on1 1",
      "once 1",
      "on2 1",
      'any a:fire {"n":1}',
      "b x",
      'any b:fire {"s":"x"}',
      "on1 2",
      "on2 2",
      'any a:fire {"n":2}',
    ]);
  });

  test("unsubscribe functions and off remove listeners", () => {
    const bus = createEventBus<TestEvents>();
    const calls: string[] = [];
    const l1 = () => calls.push("l1");
    const l2 = () => calls.push("l2");
    const off1 = bus.on("a:fire", l1);
    bus.on("a:fire", l2);
    bus.once("a:fire", l1); // off(l1) removes this most recent one first
    const offAny = bus.onAny(() => calls.push("any"));
    bus.off("a:fire", l1);
    bus.emit("a:fire", { n: 1 });
    off1();
    off1(); // idempotent
    offAny();
    bus.off("a:fire", () => {}); // unknown listener: no-op
    bus.emit("a:fire", { n: 2 });
    expect(calls).toEqual(["l1", "l2", "any", "l2"]);
  });

  test("a listener added during an emit runs from the next emit on", () => {
    const bus = createEventBus<TestEvents>();
    const calls: string[] = [];
    let added = false;
    bus.on("a:fire", (e) => {
      calls.push(`a${e.n}`);
      if (added) return;
      added = true;
      bus.on("a:fire", (late) => calls.push(`late${late.n}`));
    });
    bus.emit("a:fire", { n: 1 });
    bus.emit("a:fire", { n: 2 });
    expect(calls).toEqual(["a1", "a2", "late2"]);
  });

  test("a listener removed by an earlier listener in the same emit is skipped", () => {
    const bus = createEventBus<TestEvents>();
    const calls: string[] = [];
    let offSecond = () => {};
    bus.on("a:fire", () => {
      calls.push("first");
      offSecond();
    });
    offSecond = bus.on("a:fire", () => calls.push("second"));
    bus.emit("a:fire", { n: 1 });
    expect(calls).toEqual(["first"]);
  });

  test("once runs once even when the event is re-emitted from a listener", () => {
    const bus = createEventBus<TestEvents>();
    const calls: number[] = [];
    bus.on("a:fire", (e) => {
      if (e.n === 1) bus.emit("a:fire", { n: 2 });
    });
    bus.once("a:fire", (e) => calls.push(e.n));
    bus.emit("a:fire", { n: 1 });
    bus.emit("a:fire", { n: 3 });
    expect(calls).toEqual([2]);
  });

  test("hasListeners tells whether an emit would reach anyone", () => {
    const bus = createEventBus<TestEvents>();
    expect(bus.hasListeners()).toBe(false);
    expect(bus.hasListeners("a:fire")).toBe(false);
    const off = bus.on("a:fire", () => {});
    expect([bus.hasListeners(), bus.hasListeners("a:fire"), bus.hasListeners("b:fire")]).toEqual([true, true, false]);
    off();
    expect(bus.hasListeners()).toBe(false);
    const offAny = bus.onAny(() => {});
    expect([bus.hasListeners(), bus.hasListeners("b:fire")]).toEqual([true, true]);
    offAny();
    bus.once("b:fire", () => {});
    bus.emit("b:fire", { s: "x" });
    expect([bus.hasListeners(), bus.hasListeners("b:fire")]).toEqual([false, false]);
  });
});

describe("listener errors", () => {
  test("a throwing or rejecting listener is reported and never breaks emit or other listeners", async () => {
    const errors: [unknown, string][] = [];
    const bus = createEventBus<TestEvents>({ onListenerError: (error, name) => errors.push([error, name]) });
    const calls: string[] = [];
    const boom = new Error("boom");
    bus.on("a:fire", () => {
      throw boom;
    });
    bus.on("a:fire", async () => {
      throw new Error("async boom");
    });
    bus.on("a:fire", () => calls.push("after"));
    bus.onAny(() => {
      throw "any failed";
    });
    bus.onAny((name, _payload) => calls.push(`any ${name}`));
    expect(() => bus.emit("a:fire", { n: 1 })).not.toThrow();
    expect(calls).toEqual(["after", "any a:fire"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([
      [boom, "a:fire"],
      ["any failed", "a:fire"],
      [expect.objectContaining({ message: "async boom" }), "a:fire"],
    ]);
  });

  test("a throwing onListenerError is swallowed", () => {
    const bus = createEventBus<TestEvents>({
      onListenerError: () => {
        throw new Error("reporter broke");
      },
    });
    const calls: number[] = [];
    bus.on("a:fire", () => {
      throw new Error("boom");
    });
    bus.on("a:fire", (e) => calls.push(e.n));
    expect(() => bus.emit("a:fire", { n: 7 })).not.toThrow();
    expect(calls).toEqual([7]);
  });

  test("by default the error becomes a process warning naming the event", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const bus = createEventBus<TestEvents>();
    bus.on("b:fire", () => {
      throw new Error("bad listener");
    });
    bus.emit("b:fire", { s: "x" });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBe('event listener for "b:fire" threw: bad listener');
  });
});
