import { describe, expect, test } from "vitest";
import { errorDetailLines, errorText, shortErrorText } from "../../../src/reporters/event-text.js";

describe("error text", () => {
  const shell = { code: "E_COMMAND", message: "command `make` exited with code 2:\ncc -c a.c\na.c:3: error\n\nmake: *** [all] Error 1", retryable: true, details: { exitCode: 2 } };

  test("a first line that ends in a colon gets the last line it announces", () => {
    expect(errorText(shell)).toBe("E_COMMAND: command `make` exited with code 2: make: *** [all] Error 1");
    expect(errorText({ code: "E_HTTP_STATUS", message: "503 Service Unavailable\nbody", retryable: true })).toBe("E_HTTP_STATUS: 503 Service Unavailable");
  });

  test("the detail lines are the last non-empty lines after the first", () => {
    expect(errorDetailLines(shell)).toEqual(["cc -c a.c", "a.c:3: error", "make: *** [all] Error 1"]);
    expect(errorDetailLines(shell, 1)).toEqual(["make: *** [all] Error 1"]);
    expect(errorDetailLines(undefined)).toEqual([]);
  });

  test.each([
    [shell, "exit 2"],
    [{ code: "E_COMMAND", message: "killed", retryable: true, details: { exitCode: null, signal: "SIGKILL" } }, "SIGKILL"],
    [{ code: "E_HTTP_STATUS", message: "503", retryable: true, details: { status: 503 } }, "HTTP 503"],
    [{ code: "E_TIMEOUT", message: "timed out", retryable: true }, "E_TIMEOUT"],
  ])("short text for a live row: %#", (error, text) => {
    expect(shortErrorText(error)).toBe(text);
  });
});
