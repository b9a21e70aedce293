import { describe, expect, test } from "vitest";
import { assertValidKey, assertValidPrefix, formatOfKey, isValidKey } from "../../../src/storage/keys.js";

describe("assertValidKey", () => {
  test.each(["runs/r1.json", "composites/hello.yaml", "a", "a.b/c-d_e/f g.txt", "runs/2024-01-01T00:00:00Z.json", "ünï/日本.json", "..a/b..", ".hidden", `composites/${"a".repeat(195)}.yaml`])(
    "accepts %j",
    (key) => {
      expect(() => assertValidKey(key)).not.toThrow();
      expect(isValidKey(key)).toBe(true);
    },
  );

  test.each([
    ["", /empty/],
    ["../x", /"\.\." segments/],
    ["a/../b", /"\.\." segments/],
    ["a/..", /"\.\." segments/],
    ["./a", /"\." segments/],
    ["/etc/passwd", /absolute/],
    ["C:\\x", /backslash/],
    ["C:x", /absolute/],
    ["c:/x", /absolute/],
    ["a\\b", /backslash/],
    ["a\0b", /NUL/],
    ["a\nb", /control/],
    ["a\u007fb", /control/],
    ["a//b", /empty segments/],
    ["a/", /empty segments/],
    [`composites/${"a".repeat(196)}.yaml`, /a name of 201 bytes is too long \(at most 200 between "\/"\)/],
    [`runs/${"日".repeat(67)}`, /a name of 201 bytes is too long/],
  ])("refuses %j", (key, reason) => {
    expect(isValidKey(key)).toBe(false);
    expect(() => assertValidKey(key)).toThrow(
      expect.objectContaining({
        code: "E_STORAGE_KEY",
        retryable: false,
        message: expect.stringMatching(reason),
      }),
    );
    expect(() => assertValidKey(key)).toThrow(`invalid storage key ${JSON.stringify(key)}`);
  });

  test("refuses non-strings", () => {
    expect(() => assertValidKey(42)).toThrow(expect.objectContaining({ code: "E_STORAGE_KEY", message: expect.stringContaining("number") }));
  });
});

describe("assertValidPrefix", () => {
  test.each(["", "runs/", "runs", "runs/ab", "a/b/"])("accepts %j", (prefix) => {
    expect(() => assertValidPrefix(prefix)).not.toThrow();
  });
  test.each(["/", "../", "a//", "/runs/", "a/../"])("refuses %j", (prefix) => {
    expect(() => assertValidPrefix(prefix)).toThrow(expect.objectContaining({ code: "E_STORAGE_KEY" }));
  });
});

test.each([
  ["runs/r1.json", "json"],
  ["A.JSON", "json"],
  ["c.yaml", "yaml"],
  ["c.yml", "yaml"],
  ["runs/r1.ndjson", "raw"],
  ["notes.txt", "raw"],
  ["no-extension", "raw"],
  ["json", "raw"],
])("formatOfKey(%j) is %s", (key, format) => {
  expect(formatOfKey(key)).toBe(format);
});
