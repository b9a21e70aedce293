import { EventEmitter } from "node:events";
import { describe, expect, test } from "vitest";
import { onInterruptTwice, showCursor, type SignalSource } from "../../../src/cli/interrupt-signals.js";

/** A stand-in for the process: `send` delivers a signal to its listeners. */
function signals(): SignalSource & { send(signal: NodeJS.Signals): void } {
  const emitter = new EventEmitter();
  return {
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    send: (signal) => void emitter.emit(signal, signal),
  };
}

describe("onInterruptTwice", () => {
  test("the first signal stops, the same signal again stops now", () => {
    const source = signals();
    const calls: string[] = [];
    onInterruptTwice((s) => calls.push(`first ${s}`), (s) => calls.push(`again ${s}`), source);
    source.send("SIGINT");
    source.send("SIGINT");
    expect(calls).toEqual(["first SIGINT", "again SIGINT"]);
  });

  test("another kind of signal after the first belongs to the same stop; a repeat of either is 'again'", () => {
    const source = signals();
    const calls: string[] = [];
    onInterruptTwice((s) => calls.push(`first ${s}`), (s) => calls.push(`again ${s}`), source);
    source.send("SIGTERM");
    source.send("SIGHUP");
    expect(calls).toEqual(["first SIGTERM"]);
    source.send("SIGHUP");
    expect(calls).toEqual(["first SIGTERM", "again SIGHUP"]);
  });

  test("stops listening when asked", () => {
    const source = signals();
    const calls: string[] = [];
    const off = onInterruptTwice((s) => calls.push(`first ${s}`), (s) => calls.push(`again ${s}`), source);
    off();
    source.send("SIGINT");
    expect(calls).toEqual([]);
  });
});

describe("showCursor", () => {
  test("writes the show-cursor sequence to a terminal only", () => {
    const written: string[] = [];
    showCursor({ isTTY: true, write: (t: string) => written.push(t) });
    showCursor({ isTTY: false, write: (t: string) => written.push(t) });
    showCursor({ write: (t: string) => written.push(t) });
    expect(written).toEqual(["\u001b[?25h"]);
  });
});
