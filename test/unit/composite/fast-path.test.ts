import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, test } from "vitest";
import { parseYamlFast } from "../../../src/composite/fast-yaml.js";
import { comparable, loadBoth as loadBothAt } from "../../helpers/load-both.js";

// Issue 17: a composite is read the fast way (js-yaml, no syntax tree) and only read again with
// yaml's located parser when there is something to report or the fast reader is unsure. These pin
// the files the two parsers read differently: each must load exactly as the located path loads it.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const loadBoth = (text: string, options: Parameters<typeof loadBothAt>[1] = {}) => loadBothAt(text, { file: path.join(ROOT, "pinned.yaml"), ...options });

const wrap = (values: string): string => `name: scalars\nnodes:\n  - id: a\n    type: edit-fields\n    parameters:\n      values:\n${values}`;

describe("files one parser reads and the other does not load as they always did", () => {
  test("duplicate keys are an E_YAML at the second key", () => {
    const text = "name: d\nnodes:\n  - id: a\n    type: log\n    id: b\n";
    const r = loadBoth(text);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.code, p.line, p.col])).toEqual([["E_YAML", 5, 5]]);
    expect(r.problems[0]!.message).toMatch(/unique/);
    expect(parseYamlFast(text)).toBeUndefined();
  });

  test("a tab used as indentation is an E_YAML; a tab inside a quoted value is kept", () => {
    const bad = loadBoth("name: t\nnodes:\n\t- id: a\n\t  type: log\n");
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]!.code).toBe("E_YAML");
    expect(bad.problems[0]!.line).toBe(3);
    const text = wrap("        msg: \"a\tb\"\n");
    const good = loadBoth(text);
    expect(good.ok).toBe(true);
    expect(good.composite!.nodes[0]!.parameters.values).toEqual({ msg: "a\tb" });
    expect(parseYamlFast(text)).toBeUndefined();
  });

  test("anchors and aliases resolve (through yaml)", () => {
    const text = "name: a\nnodes:\n  - id: a\n    type: log\n    parameters: &p { message: hi }\n  - id: b\n    type: log\n    parameters: *p\nedges: [a -> b]\n";
    const r = loadBoth(text);
    expect(r.ok).toBe(true);
    expect(r.composite!.nodes[1]!.parameters).toEqual({ message: "hi" });
    expect(parseYamlFast(text)).toBeUndefined();
  });

  test("an alias bomb stops at maxAliasCount with the same E_YAML", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) levels.push(`${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(9).fill(`*${"abcdefghij"[i - 1]}`).join(", ")}]`);
    const text = `${levels.join("\n")}\nnodes: []\n`;
    const r = loadBoth(text);
    expect(r.ok).toBe(false);
    expect(r.problems[0]!.code).toBe("E_YAML");
    expect(r.problems[0]!.message).toMatch(/alias/i);
  });

  test("YAML 1.2 core scalars: 1.1 booleans, octals and digit separators stay as yaml reads them", () => {
    const text = wrap(
      [
        ["y1", "yes"], ["n1", "no"], ["on", "on"], ["off", "off"], ["y", "y"], ["oct", "0o14"], ["oct11", "014"], ["sep", "1_000"], ["hex", "0x1F"],
        ["bin", "0b101"], ["plus", "+12"], ["half", ".5"], ["neghalf", "-.5"], ["exp", "1e3"], ["tilde", "~"], ["date", "2025-01-15"], ["sexa", "12:30"],
        ["inf", ".inf"], ["ninf", "-.Inf"], ["nan", ".NaN"], ["cap", "True"], ["upnull", "NULL"], ["dot", "1."], ["negzero", "-0"], ["badoct", "0o19"], ["big", "12345678901234567890"],
      ]
        .map(([k, v]) => `        ${k}: ${v}\n`)
        .join(""),
    );
    expect(parseYamlFast(text)).toBeDefined();
    const r = loadBoth(text);
    expect(r.ok).toBe(true);
    expect(r.composite!.nodes[0]!.parameters.values).toEqual({
      y1: "yes", n1: "no", on: "on", off: "off", y: "y", oct: 12, oct11: 14, sep: "1_000", hex: 31,
      bin: "0b101", plus: 12, half: 0.5, neghalf: -0.5, exp: 1000, tilde: null, date: "2025-01-15", sexa: "12:30",
      inf: Infinity, ninf: -Infinity, nan: NaN, cap: true, upnull: null, dot: 1, negzero: -0, badoct: "0o19", big: 12345678901234567000,
    });
  });

  test("a %YAML 1.1 directive switches yaml to 1.1 scalars, as before", () => {
    const text = `%YAML 1.1\n---\n${wrap("        a: yes\n        b: 0o14\n        c: 1_000\n")}`;
    expect(parseYamlFast(text)).toBeUndefined();
    const r = loadBoth(text);
    expect(r.composite!.nodes[0]!.parameters.values).toEqual(parse(text, { uniqueKeys: true, strict: true, logLevel: "error" }).nodes[0].parameters.values);
  });

  test("null keys, explicit and collection keys, merge keys and tags are read by yaml", () => {
    for (const values of ["        ~: x\n        null: y\n", "        ~: x\n", "        inner: { ~: 1 }\n", "        list: [ { null: 1 } ]\n", "        deep:\n          - a: { b: { null: 1 } }\n", "        pairs: [: x]\n", "        pairs: [a: 1, null: 2]\n", "        k: {[]}\n", "        k: {x: 1, [a]}\n", "        k: { {a: 1} }\n", "        k: # a comment\n          {[a]}\n", "        ? [a, b]\n        : c\n", "        [a, b]: c\n", "        base: &b { k: 1 }\n        more:\n          <<: *b\n          j: 2\n", "        s: !!str 12\n        t: !!int \"7\"\n", "        u: ! 12\n"]) {
      const text = wrap(values);
      expect(parseYamlFast(text), values).toBeUndefined();
      loadBoth(text);
    }
  });

  test("CRLF line ends give the same composite, nodes at the same lines", () => {
    const lf = wrap("        a: 1\n");
    const crlf = lf.replace(/\n/g, "\r\n");
    const composite = (text: string) => (comparable(loadBoth(text)) as { composite: unknown }).composite;
    expect(composite(crlf)).toEqual(composite(lf));
  });

  test("an unresolved alias, two documents and a lone key are E_YAML as before; an unknown tag a W_YAML", () => {
    for (const text of [wrap("        a: *nowhere\n"), `${wrap("        a: 1\n")}---\nname: second\n`, "name: x\nnodes\n"]) {
      const r = loadBoth(text);
      expect(r.ok, text).toBe(false);
      expect(r.problems[0]!.code).toBe("E_YAML");
    }
    const tagged = loadBoth(wrap("        a: !custom 1\n"));
    expect(tagged.problems.map((p) => [p.code, p.line])).toEqual([["W_YAML", 7]]);
  });

  test("keys that are scalars of other types: true, 1.0 and 0o14 become the same strings", () => {
    const text = wrap("        true: a\n        1.0: b\n        0o14: c\n        .inf: d\n");
    expect(parseYamlFast(text)).toBeDefined();
    expect(loadBoth(text).composite!.nodes[0]!.parameters.values).toEqual({ true: "a", 1: "b", 12: "c", Infinity: "d" });
  });

  test("every node and edge of a fast read is placed where yaml places it", () => {
    const text = [
      "name: places",
      "nodes:",
      "  - id: a",
      "    type: log",
      "  -   { id: b, type: log }",
      "  -",
      "    # a comment before the node",
      "    id: c",
      "    type: log",
      "  - {id: d, type: log}",
      "edges:",
      "  - a -> b",
      "  -   b -> c",
      "  - { source: c, target: d }",
      "",
    ].join("\n");
    expect(parseYamlFast(text)).toBeDefined();
    const r = loadBoth(text);
    expect(r.ok).toBe(true);
    expect(r.composite!.nodes.map((n) => [n.loc!.line, n.loc!.col])).toEqual([[3, 5], [5, 7], [8, 5], [10, 5]]);
  });

  test("the examples and the bench's files take the fast path and load as the located path does", () => {
    for (const file of ["hello.yaml", "csv-report.yaml", "build-pipeline.yaml"]) {
      const abs = path.join(ROOT, "examples", file);
      const text = readFileSync(abs, "utf8");
      loadBoth(text, { file: abs });
    }
    expect(parseYamlFast(readFileSync(path.join(ROOT, "examples/hello.yaml"), "utf8"))).toBeDefined();
  });
});
