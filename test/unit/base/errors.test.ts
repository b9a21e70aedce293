import vm from "node:vm";
import { describe, expect, test } from "vitest";
import { AtomitonError, CancelledError, ErrorCode, fromNodeError, NonRetryableError, TimeoutError, toNodeError, type SerializedError } from "../../../src/errors.js";
import * as api from "../../../src/index.js";

/** What a value thrown inside a vm context looks like to the host: an object of another realm. */
function thrownInVm(source: string): unknown {
  try {
    vm.runInNewContext(source);
  } catch (error) {
    return error;
  }
  throw new Error(`${source} did not throw`);
}

describe("toNodeError: anything thrown becomes one node error", () => {
  test.each<[string, unknown, SerializedError]>([
    ["a user's Error", new Error("x"), { code: "E_NODE", message: "x", retryable: true }],
    ["an Error of another realm", thrownInVm('throw new Error("x")'), { code: "E_NODE", message: "x", retryable: true }],
    ["a TypeError of another realm", thrownInVm("null.y"), { code: "E_NODE", message: "Cannot read properties of null (reading 'y')", retryable: true }],
    ["an errno code is not an error code", Object.assign(new Error("gone"), { code: "ENOENT" }), { code: "E_NODE", message: "gone", retryable: true }],
    ["a stated code and retryable of another realm", thrownInVm('throw Object.assign(new Error("bad"), { code: "E_BAD", retryable: false })'), { code: "E_BAD", message: "bad", retryable: false }],
    ["a string", "x", { code: "E_NODE", message: "x", retryable: true }],
    ["a number", 42, { code: "E_NODE", message: "42", retryable: true }],
    ["null", null, { code: "E_NODE", message: "null", retryable: true }],
    ["undefined", undefined, { code: "E_NODE", message: "undefined", retryable: true }],
    ["an object with a message", { message: "m" }, { code: "E_NODE", message: '{"message":"m"}', retryable: true }],
    ["an AtomitonError", new AtomitonError("E_RATE_LIMIT", "slow down", { retryable: true, hint: "wait", details: { after: 5 } }), { code: "E_RATE_LIMIT", message: "slow down", retryable: true, hint: "wait", details: { after: 5 } }],
    ["a NonRetryableError", new NonRetryableError("bad input", { code: ErrorCode.NODE_INPUT }), { code: "E_NODE_INPUT", message: "bad input", retryable: false }],
    ["a CancelledError", new CancelledError(), { code: "E_CANCELLED", message: "cancelled", retryable: false }],
    ["a TimeoutError", new TimeoutError("too slow", { retryable: true }), { code: "E_TIMEOUT", message: "too slow", retryable: true }],
  ])("%s", (_name, thrown, expected) => {
    const { stack, ...rest } = toNodeError(thrown);
    expect(rest).toEqual(expected);
    // A user's Error keeps its stack for the record; our own errors and non-Errors have none to show.
    expect(stack === undefined).toBe(thrown instanceof AtomitonError || Object.prototype.toString.call(thrown) !== "[object Error]");
  });

  test.each<[string, unknown]>([
    ["an Error of another realm", thrownInVm('throw new RangeError("r")')],
    ["a stated code", Object.assign(new Error("bad"), { code: "E_BAD", retryable: false, hint: "fix it", details: { row: 3 } })],
    ["a string", "x"],
    ["null", null],
    ["an AtomitonError", new NonRetryableError("no", { hint: "h" })],
  ])("crossing a worker or process boundary changes nothing: %s", (_name, thrown) => {
    const sent = toNodeError(thrown);
    // What postMessage does to it: a structured clone of plain fields.
    const received = fromNodeError(structuredClone({ ...sent, name: "RangeError" }));
    expect(toNodeError(received)).toEqual(sent);
    expect(received.name).toBe("RangeError");
  });

  test("retryable is stated at every throw site, never defaulted", () => {
    // @ts-expect-error `retryable` is required
    const unstated = new AtomitonError("E_X", "no statement", {});
    // @ts-expect-error the options (and so `retryable`) are required
    const noOptions = new TimeoutError("no statement");
    // Plain JavaScript can still leave it out at run time: it then behaves like any thrown Error.
    expect([unstated.retryable, noOptions.retryable]).toEqual([true, true]);
    expect(new AtomitonError("E_X", "stated", { retryable: false }).retryable).toBe(false);
  });

  test("the public API has no NodeFailedError and one conversion function", () => {
    expect("NodeFailedError" in api).toBe(false);
    expect(api.toNodeError).toBe(toNodeError);
    expect(api.toSerializedError).toBe(toNodeError);
  });
});
