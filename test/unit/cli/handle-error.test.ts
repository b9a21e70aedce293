import { describe, expect, test } from "vitest";
import { EXIT_CODE_BY_ERROR, exitCodeFor } from "../../../src/cli/exit-codes.js";
import { handleError } from "../../../src/cli/handle-error.js";
import { AtomitonError, CancelledError, ErrorCode } from "../../../src/errors.js";
import { FakeStream } from "../reporters/fake-streams.js";

function fakeIO() {
  const stderr = new FakeStream({ isTTY: false });
  return { io: { stdout: new FakeStream({ isTTY: false }), stderr, env: { CI: "true", NO_COLOR: "1" }, cwd: "/" }, stderr: () => stderr.text() };
}

describe("exit codes are chosen by error code", () => {
  test.each([
    [ErrorCode.YAML, 2],
    [ErrorCode.SCHEMA, 2],
    [ErrorCode.UNKNOWN_TYPE, 2],
    [ErrorCode.PARAM, 2],
    [ErrorCode.EDGE, 2],
    [ErrorCode.CYCLE, 2],
    [ErrorCode.REF, 2],
    [ErrorCode.INVALID, 2],
    [ErrorCode.USAGE, 2],
    [ErrorCode.NOT_FOUND, 2],
    [ErrorCode.STORAGE_KEY, 2],
    [ErrorCode.CUSTOM_NODE, 2],
    [ErrorCode.STORAGE, 1],
    [ErrorCode.FILE, 1],
    [ErrorCode.TIMEOUT, 1],
    [ErrorCode.NODE, 1],
    [ErrorCode.NETWORK, 1],
    [ErrorCode.INTERNAL, 1],
    [ErrorCode.CANCELLED, 130],
    ["E_SOMETHING_A_CUSTOM_NODE_MADE", 1],
  ])("%s exits %i, with one line and no stack", (code, exit) => {
    const { io, stderr } = fakeIO();
    expect(handleError(new AtomitonError(code, "what failed", { retryable: false, hint: "the fix" }), io)).toBe(exit);
    expect(stderr()).toBe(`✖ ${code} what failed\n  hint: the fix\n`);
  });

  test("every exit code in the table is 1, 2 or 130, and only input mistakes are 2", () => {
    const invalid = Object.entries(EXIT_CODE_BY_ERROR).filter(([, exit]) => exit === 2).map(([code]) => code);
    expect(invalid.sort()).toEqual(["E_AUTH", "E_CUSTOM_NODE", "E_CYCLE", "E_EDGE", "E_ENCODING", "E_INVALID", "E_NOT_FOUND", "E_PARAM", "E_PATH", "E_REF", "E_SCHEMA", "E_STORAGE_KEY", "E_UNKNOWN_TYPE", "E_USAGE", "E_YAML"]);
    expect(new Set(Object.values(EXIT_CODE_BY_ERROR))).toEqual(new Set([1, 2, 130]));
    expect(exitCodeFor("toString")).toBe(1);
  });

  test("a cancel exits 130; an unexpected error prints its stack and exits 1", () => {
    expect(handleError(new CancelledError("stopped"), fakeIO().io)).toBe(130);
    const { io, stderr } = fakeIO();
    expect(handleError(new TypeError("boom"), io)).toBe(1);
    expect(stderr()).toMatch(/internal error.*\n.*TypeError: boom\n\s+at /);
  });
});
