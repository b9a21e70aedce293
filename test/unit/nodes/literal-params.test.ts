import { describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";

// Literal parameters a node can never run with are found by `validate`, at their line, all at once,
// before an earlier node runs with its side effects. Found by a fault hunt: these passed `validate`
// and failed only at run time, without a location.

describe("literal parameters checked before the run", () => {
  test("a URL that does not parse, a non-http protocol and an unknown connection scheme: one E_PARAM each, at its line; a templated URL is left for run time", () => {
    const yaml = [
      "nodes:",
      "  - { id: a, type: log, parameters: { message: first } }",
      '  - { id: b, type: http-request, parameters: { url: "ht!tp://x y" } }',
      '  - { id: d, type: sql, parameters: { connection: "mysql://x/y", query: "SELECT 1" } }',
      '  - { id: e, type: http-request, parameters: { url: "{{ $env.BASE }}/x" } }',
      '  - { id: f, type: http-request, parameters: { url: "ftp://x/y" } }',
      "",
    ].join("\n");
    const loaded = loadCompositeFromText(yaml, { file: "v.yaml" });
    expect(loaded.ok).toBe(false);
    expect(loaded.problems.map((p) => [p.code, p.line, p.message.replace(/^node "(\w)": .*?: /, "$1: ")])).toEqual([
      ["E_PARAM", 3, "b: not an absolute URL (such as https://example.test/path)"],
      ["E_PARAM", 4, "d: unsupported connection scheme mysql://: use a SQLite file path, :memory:, or a postgres:// URL"],
      ["E_PARAM", 6, "f: unsupported protocol ftp:: use http:// or https://"],
    ]);
  });

  test("a transformFunction that reads $vars (it sees only its own arguments) is an E_PARAM at the name; one that names its own parameter $item is fine", () => {
    const yaml = (fn: string) => `name: t\nvariables:\n  minAge: { type: number, default: 3 }\nnodes:\n  - id: t\n    type: transform\n    parameters: { operation: map, transformFunction: "${fn}" }\n`;
    expect(loadCompositeFromText(yaml("(row) => `${row.a + $vars.minAge} years`"), { file: "t.yaml" }).problems[0]?.message).toContain("cannot use $vars");
    const bad = loadCompositeFromText(yaml("x => x * $vars.minAge"), { file: "t.yaml" });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0], JSON.stringify(bad.problems[0])).toMatchObject({ code: "E_PARAM", line: 7, col: 64, message: expect.stringContaining("`transformFunction` cannot use $vars") });
    // Also: names in strings, template text and comments, and parameters of nested functions (a review found these refused).
    const fine = ["$item => $item * 2", "($item, i) => $item + i", "function ($item) { return $item; }", "x => x.price * 2", 'item => item.msg.replace(\\"$input\\", \\"x\\")', "(row) => `${row.a} costs $index`", "item => item /* not $vars */", "x => x.map($item => $item.id)"];
    for (const fn of fine) {
      expect(loadCompositeFromText(yaml(fn), { file: "t.yaml" }).problems, fn).toEqual([]);
    }
  });
});
