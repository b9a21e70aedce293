import { stripVTControlCharacters } from "node:util";
import { Chalk } from "chalk";
import { describe, expect, test } from "vitest";
import { formatDuration, formatElapsed, formatSeconds } from "../../../src/reporters/format-duration.js";
import { truncate, visibleLength } from "../../../src/reporters/text.js";

describe("formatDuration", () => {
  test.each([
    [0, "0ms"],
    [12, "12ms"],
    [999.6, "1000ms"],
    [1000, "1.00s"],
    [1234, "1.23s"],
    [59_999, "59.99s"],
    [60_000, "1m 00s"],
    [123_000, "2m 03s"],
    [3_599_999, "59m 59s"],
    [3_720_000, "1h 02m"],
    [-5, "0ms"],
    [Number.NaN, "0ms"],
  ])("%s ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test("elapsed and seconds keep fixed precision", () => {
    expect(formatElapsed(12)).toBe("  0.012s");
    expect(formatElapsed(123_456)).toBe("123.456s");
    expect(formatSeconds(1500)).toBe("1.500");
    expect(formatSeconds(-1)).toBe("0.000");
  });
});

describe("truncate", () => {
  const c = new Chalk({ level: 1 });

  test.each([
    ["short", 10, "short"],
    ["exactly-10", 10, "exactly-10"],
    ["much longer than ten", 10, "much long…"],
    ["anything", 0, ""],
  ])("%j to %i columns → %j", (text, width, expected) => {
    expect(truncate(text, width)).toBe(expected);
  });

  test("keeps ANSI sequences intact, counts only visible characters and resets colour after a cut", () => {
    const text = `${c.red("error")} ${c.dim("a long dim tail that will not fit")}`;
    const cut = truncate(text, 12);
    expect(visibleLength(cut)).toBe(12);
    expect(stripVTControlCharacters(cut)).toBe("error a lon…");
    expect(cut.endsWith("\u001b[0m…")).toBe(true);
    expect(cut.startsWith("\u001b[31merror\u001b[39m")).toBe(true);
  });

  test("does not split surrogate pairs", () => {
    expect(truncate("😀😀😀😀", 3, ".")).toBe("😀😀.");
  });
});
