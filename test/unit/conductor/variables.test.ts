import { describe, expect, test } from "vitest";
import { coerceVariable } from "../../../src/conductor/variables.js";

describe("coerceVariable", () => {
  test("a number too large for a double (--var n=1e400 parses as Infinity) is refused saying so, not as null", () => {
    expect(() => coerceVariable("n", "number", Number.POSITIVE_INFINITY)).toThrow('variable "n" is declared as number; cannot use Infinity (not a finite number)');
    expect(() => coerceVariable("n", "number", "abc")).toThrow('cannot use "abc"');
    expect(coerceVariable("n", "number", "12")).toBe(12);
  });
});
