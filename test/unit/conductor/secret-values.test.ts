import { describe, expect, test } from "vitest";
import { nodesUnderTheirIds } from "../../../src/conductor/secret-values.js";

describe("nodesUnderTheirIds", () => {
  test("a node kept under its redacted id is found under its own id again", () => {
    const nodes = { "fetch-***": { status: "succeeded" }, use: { status: "failed" } };
    expect(nodesUnderTheirIds(nodes, ["fetch-abc123", "use"], ["abc123"])).toEqual({ "fetch-abc123": { status: "succeeded" }, use: { status: "failed" } });
  });

  test("without secrets, or with ids that hold none, the map is the same object", () => {
    const nodes = { a: 1 };
    expect(nodesUnderTheirIds(nodes, ["a"], [])).toBe(nodes);
    expect(nodesUnderTheirIds(nodes, ["a"], ["zzz999"])).toBe(nodes);
  });

  test("two ids that redact alike are left as they are: which node it was cannot be told", () => {
    const nodes = { "x-***": { n: 1 } };
    expect(nodesUnderTheirIds(nodes, ["x-abc123", "x-def456"], ["abc123", "def456"])).toEqual(nodes);
  });

  test("a node recorded under its own id (a run without the secret) stays there", () => {
    const nodes = { "fetch-abc123": { n: 1 }, "fetch-***": { n: 2 } };
    expect(nodesUnderTheirIds(nodes, ["fetch-abc123"], ["abc123"])).toEqual(nodes);
  });
});
