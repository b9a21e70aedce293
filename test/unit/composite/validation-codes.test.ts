import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { displayName, loadComposite, loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { Problem } from "../../../src/composite/problem.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { defineNode } from "../../../src/nodes/define-node.js";

const text = (...lines: string[]): string => `${lines.join("\n")}\n`;
const where = (p: Problem): string => `${p.code} ${p.line}:${p.col}`;
const load = (...lines: string[]) => loadCompositeFromText(text(...lines), { file: "flow.yaml" });

/** Exactly one problem: its code, location, message and hint. */
function only(result: { problems: Problem[] }): Problem {
  expect(result.problems.map(where)).toHaveLength(1);
  const p = result.problems[0]!;
  expect(p.file).toBe("flow.yaml");
  return p;
}

describe("E_YAML", () => {
  test.each([
    { name: "unclosed flow sequence", lines: ["name: x", "nodes: [a, b"], at: "E_YAML 3:1", message: /Flow sequence/, hint: /indentation/ },
    { name: "duplicate key", lines: ["name: x", "nodes: []", "name: y"], at: "E_YAML 3:1", message: /Map keys must be unique/, hint: /each key may appear once/ },
    { name: "duplicate key inside a node", lines: ["nodes:", "  - id: a", "    type: log", "    id: b"], at: "E_YAML 4:5", message: /unique/, hint: /remove or rename/ },
    { name: "tab indentation", lines: ["nodes:", "\t- id: a"], at: "E_YAML 2:1", message: /Tabs are not allowed/, hint: /spaces, not tabs/ },
    { name: "a second document", lines: ["name: a", "nodes: []", "---", "name: b"], at: "E_YAML 3:1", message: /^a second YAML document starts here: a composite file holds one$/, hint: /remove this `---` line/ },
  ])("$name → $at", ({ lines, at, message, hint }) => {
    const r = load(...lines);
    expect(r.ok).toBe(false);
    expect(r.composite).toBeUndefined();
    const p = r.problems.find((x) => x.code === "E_YAML")!;
    expect(where(p)).toBe(at);
    expect(p.severity).toBe("error");
    expect(p.message).toMatch(message);
    expect(p.message).not.toMatch(/at line \d+/);
    if (hint) expect(p.hint).toMatch(hint);
  });

  test("an alias bomb is refused, not expanded", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 6; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`);
    lines.push("nodes: []");
    const r = load(...lines);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.code)).toContain("E_YAML");
  });

  test.each([
    { name: "a list that holds itself", lines: ["nodes:", "  - id: x", "    type: code", "    parameters:", '      code: "return data"', "      inputParams: &a [*a]"], at: "E_YAML 6:24" },
    { name: "a node that holds itself", lines: ["nodes:", "  - &n", "    id: x", "    type: log", "    parameters: { message: hi, self: *n }"], at: "E_YAML 5:38" },
  ])("an alias inside its own anchor ($name) is E_YAML at the alias, not a crash", ({ lines, at }) => {
    const r = load(...lines);
    expect(r.problems.map(where)).toEqual([at]);
    expect(r.problems[0]?.message).toMatch(/^alias \*[an] refers to a node that contains it/);
  });
});

describe("E_SCHEMA", () => {
  // One duration schema (src/js/duration.ts) for composite keys and node parameters alike: the same
  // message, naming the value, wherever a duration goes.
  test.each([
    { name: "delay's duration", node: "{ id: d, type: delay, parameters: { duration: soon } }" },
    { name: "http-request's timeout", node: "{ id: d, type: http-request, parameters: { url: 'http://127.0.0.1:1', timeout: soon } }" },
    { name: "http-request's retry delay", node: "{ id: d, type: http-request, parameters: { url: 'http://127.0.0.1:1', retry: { delay: soon } } }" },
    { name: "shell-command's timeout", node: "{ id: d, type: shell-command, parameters: { command: 'true', timeout: soon } }" },
    { name: "sql's timeout", node: "{ id: d, type: sql, parameters: { connection: 'sqlite::memory:', query: 'select 1', timeout: soon } }" },
  ])("a bad duration in $name gives the one duration message", ({ node }) => {
    const r = load("nodes:", `  - ${node}`);
    const messages = r.problems.map((p) => p.message);
    expect(messages.some((m) => m.includes('expected duration (ms number or "250ms", "30s", "5m", "1h"), got "soon"')), messages.join("\n")).toBe(true);
  });

  test("a bad node timeout names the node index, the expected form and the value", () => {
    const p = only(load("nodes:", "  - { id: a, type: log }", "  - { id: b, type: log }", "  - id: c", "    type: log", "    timeout: fast"));
    expect(where(p)).toBe("E_SCHEMA 6:14");
    expect(p.message).toBe('nodes[2].timeout: expected duration (ms number or "250ms", "30s", "5m", "1h"), got "fast"');
    expect(p.path).toBe("nodes[2].timeout");
  });

  test.each([
    { name: "nodes is a scalar", lines: ["nodes: 5"], at: "E_SCHEMA 1:8", message: "nodes: `nodes` must be a list of nodes" },
    { name: "nodes is a mapping (its edges are not checked)", lines: ["nodes:", "  a: { type: log }", "edges:", "  - a -> b"], at: "E_SCHEMA 2:3", message: "nodes: `nodes` must be a list of nodes" },
    { name: "nodes is missing", lines: ["name: x"], at: "E_SCHEMA 1:1", message: "nodes: `nodes` must be a list of nodes" },
    { name: "edges is a mapping", lines: ["nodes: []", "edges: { a: b }"], at: "E_SCHEMA 2:8", message: "edges: `edges` must be a list" },
    { name: "a node id with a space", lines: ["nodes:", "  - { id: my node, type: log }"], at: "E_SCHEMA 2:11", message: "nodes[0].id: node ids may contain only letters, digits, `_` and `-`" },
    { name: "__proto__ as a node id", lines: ["nodes:", "  - { id: __proto__, type: log }"], at: "E_SCHEMA 2:11", message: "nodes[0].id: `__proto__` cannot be a node id (it is the one name an object key cannot hold); rename the node" },
    { name: "a numeric node id (edges to it are not reported again)", lines: ["nodes:", "  - { id: 123, type: log }", "  - { id: b, type: log }", "edges: [123 -> b]"], at: "E_SCHEMA 2:11", message: "nodes[0].id: expected a node id string, got 123" },
    { name: "a node without type (edges to it are not reported again)", lines: ["nodes:", "  - { id: a }", "  - { id: b, type: log }", "edges: [a -> b]"], at: "E_SCHEMA 2:5", message: "nodes[0].type: expected a node type string, got undefined" },
    { name: "a node that is a string", lines: ["nodes:", "  - just-a-string"], at: "E_SCHEMA 2:5", message: "nodes[0]: expected a node mapping with `id` and `type`" },
    { name: "an unreadable edge shorthand", lines: ["nodes: []", "edges:", "  - a => b"], at: "E_SCHEMA 3:5", message: 'edges[0]: cannot read edge "a => b"' },
    { name: "an edge without target", lines: ["nodes: []", "edges:", "  - { source: a }"], at: "E_SCHEMA 3:5", message: "edges[0]: edge needs a `target` node id" },
    { name: "an edge that is a number", lines: ["nodes: []", "edges:", "  - 42"], at: "E_SCHEMA 3:5", message: 'edges[0]: expected an edge ("a -> b" or { source, target })' },
    { name: "a bad onError", lines: ["nodes:", "  - { id: a, type: log, onError: explode }"], at: "E_SCHEMA 2:34", message: 'nodes[0].onError: Invalid option: expected one of "fail"|"continue"|"route"' },
    { name: "enabled: yes (a string in YAML 1.2)", lines: ["nodes:", "  - { id: a, type: log, enabled: yes }"], at: "E_SCHEMA 2:34", message: "nodes[0].enabled: Invalid input: expected boolean, received string" },
    { name: "retry: 0", lines: ["nodes:", "  - { id: a, type: log, retry: 0 }"], at: "E_SCHEMA 2:32", message: "nodes[0].retry: Too small: expected number to be >=1" },
    { name: "retry: a word", lines: ["nodes:", "  - { id: a, type: log, retry: three }"], at: "E_SCHEMA 2:32", message: "nodes[0].retry: Invalid input: expected number or object, received string" },
    { name: "a bad backoff inside a retry object", lines: ["nodes:", "  - id: a", "    type: log", "    retry: { backoff: linear }"], at: "E_SCHEMA 4:23", message: 'nodes[0].retry.backoff: Invalid option: expected one of "fixed"|"exponential"' },
    { name: "a bad settings.timeout", lines: ["settings: { timeout: soon }", "nodes: []"], at: "E_SCHEMA 1:22", message: 'settings.timeout: expected duration (ms number or "250ms", "30s", "5m", "1h"), got "soon"' },
    { name: "concurrency 0", lines: ["settings: { concurrency: 0 }", "nodes: []"], at: "E_SCHEMA 1:26", message: "settings.concurrency: Too small: expected number to be >=1" },
    { name: "a secret that is not a name", lines: ["secrets: [A, 3]", "nodes: []"], at: "E_SCHEMA 1:14", message: "secrets[1]: Invalid input: expected string, received number" },
    { name: "a variable whose default is not of its type", lines: ["variables:", '  w: { type: number, default: "abc" }', "nodes: []"], at: "E_SCHEMA 2:31", message: 'variables.w.default: "abc" is not a number, the variable\'s declared type' },
    { name: "a boolean variable with a number default (editor form)", lines: ["variables:", "  z:", "    type: boolean", "    defaultValue: 5", "nodes: []"], at: "E_SCHEMA 4:19", message: "variables.z.defaultValue: 5 is not a boolean, the variable's declared type" },
    { name: "a variable of an unknown type (templates using it are not reported again)", lines: ["variables:", "  x: { type: strin }", "nodes:", "  - { id: a, type: log, parameters: { message: '{{ $vars.x }}' } }"], at: "E_SCHEMA 2:14", message: 'variables.x.type: Invalid option: expected one of "string"|"number"|"boolean"|"object"|"array"|"any"' },
  ])("$name → $at", ({ lines, at, message }) => {
    const r = load(...lines);
    expect(r.ok).toBe(false);
    expect(r.problems.map(where)).toEqual([at]);
    expect(r.problems[0]?.message).toBe(message);
  });
});

describe("E_UNKNOWN_TYPE", () => {
  test.each([
    ["htp-request", 'did you mean "http-request"?'],
    ["HTTP-Request", 'did you mean "http-request"?'],
    ["trasnform", 'did you mean "transform"?'],
    ["csv-reder", 'did you mean "csv-reader"?'],
    ["quantum-flux", "run `atomiton nodes` to list the available types; a custom node loads with --nodes <file|dir> or from atomiton.config.*"],
  ])("%s → %s", (type, hint) => {
    const p = only(load("nodes:", "  - id: fetch", `    type: ${type}`));
    expect(where(p)).toBe("E_UNKNOWN_TYPE 3:11");
    expect(p.message).toBe(`node "fetch": unknown node type "${type}"`);
    expect(p.hint).toBe(hint);
  });

  test("a custom catalog is honoured", () => {
    const greet = defineNode({
      type: "greet",
      title: "Greet",
      description: "Say hello",
      category: "demo",
      parameters: z.object({ name: z.string().default("world") }),
      inputs: [{ id: "input" }],
      outputs: [{ id: "output" }],
      execute: ({ parameters }) => `hello ${parameters.name}`,
    });
    const catalog = createBuiltinCatalog([{ definition: greet, source: "test" }]);
    const src = text("nodes:", "  - { id: g, type: greet, parameters: { name: Ada } }");
    expect(loadCompositeFromText(src, { catalog }).ok).toBe(true);
    expect(loadCompositeFromText(src).problems.map((p) => p.code)).toEqual(["E_UNKNOWN_TYPE"]);
  });
});

describe("E_PARAM", () => {
  test("a parameter named like an Object.prototype member (__proto__, constructor) is unknown like any other", () => {
    // `key in shape` found them on the prototype: they passed silently, and `--set a.__proto__=x` read "[object Object]".
    const r = load("nodes:", "  - { id: a, type: log, parameters: { message: hi, constructor: 1, toString: 2 } }");
    expect(r.problems.map((p) => p.message)).toEqual(['node "a": unknown parameter `constructor` for log', 'node "a": unknown parameter `toString` for log']);
    const set = loadCompositeFromText(text("nodes:", "  - { id: a, type: log, parameters: { message: hi } }"), { file: "flow.yaml", overrides: [{ nodeId: "a", param: "__proto__", value: "x" }] });
    expect(set.problems.map((p) => p.message)).toEqual(['--set a.__proto__="x": node "a": unknown parameter `__proto__` for log']);
  });

  test("a value failing the node's zod schema points at the value and names the parameter", () => {
    const p = only(load("nodes:", "  - id: shout", "    type: log", "    parameters:", "      level: loud"));
    expect(where(p)).toBe("E_PARAM 5:14");
    expect(p.message).toBe('node "shout": level: Invalid option: expected one of "debug"|"info"|"warn"|"error"');
    expect(p.path).toBe("nodes[0].parameters.level");
    expect(p.hint).toBe("level: Log level");
  });

  test("a nested failure names the full parameter path", () => {
    const p = only(load("nodes:", "  - id: api", "    type: http-request", "    parameters:", "      url: https://example.test", "      auth: { type: bearer, token: '' }"));
    expect(where(p)).toBe("E_PARAM 6:36");
    expect(p.message).toMatch(/^node "api": auth\.token: /);
    expect(p.path).toBe("nodes[0].parameters.auth.token");
  });

  test("a missing required parameter points at the node", () => {
    const p = only(load("nodes:", "  - id: check", "    type: condition"));
    expect(where(p)).toBe("E_PARAM 2:5");
    expect(p.message).toBe('node "check": missing required parameter `expression`');
  });

  test("an unknown parameter is an error in the concise form, with did-you-mean, at the key", () => {
    const p = only(load("nodes:", "  - id: api", "    type: http-request", "    parameters:", "      url: https://example.test", "      methd: POST"));
    expect(where(p)).toBe("E_PARAM 6:7");
    expect(p.message).toBe('node "api": unknown parameter `methd` for http-request');
    expect(p.hint).toBe('did you mean "method"?');
  });

  test("an aliased parameter's error points at the name that was written", () => {
    const p = only(load("nodes:", "  - id: f", "    type: file-system", "    parameters:", "      operation: read", "      filePath: 42"));
    expect(where(p)).toBe("E_PARAM 6:17");
    expect(p.message).toMatch(/^node "f": filePath: /);
  });

  test("templated values are checked at run time, not at validate time", () => {
    const r = load(
      "variables: { method: GET, redirects: true }",
      "nodes:",
      "  - id: api",
      "    type: http-request",
      "    parameters:",
      "      url: https://example.test",
      "      method: '{{ $vars.method }}'",
      "      followRedirects: '{{ $vars.redirects }}'",
    );
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    // The same literal would fail.
    expect(load("nodes:", "  - id: api", "    type: http-request", "    parameters:", "      url: https://example.test", "      method: FETCH").problems.map(where)).toEqual([
      "E_PARAM 6:15",
    ]);
  });
});

describe("E_EDGE", () => {
  test("an edge to a missing node, with did-you-mean", () => {
    const p = only(load("nodes:", "  - { id: fetch, type: log }", "  - { id: write, type: log }", "edges:", "  - fetch -> wirte"));
    expect(where(p)).toBe("E_EDGE 5:5");
    expect(p.message).toBe('edge fetch.output -> wirte: target node "wirte" does not exist');
    expect(p.hint).toBe('did you mean "write"?');
  });

  test("an edge from a missing node lists the nodes when nothing is close", () => {
    const p = only(load("nodes:", "  - { id: fetch, type: log }", "  - { id: write, type: log }", "edges:", "  - { source: zebra, target: write }"));
    expect(where(p)).toBe("E_EDGE 5:5");
    expect(p.message).toMatch(/source node "zebra" does not exist/);
    expect(p.hint).toBe("nodes here: fetch, write");
  });

  test.each([
    ["  - a.outptu -> b", 'edge a.outptu -> b: log node "a" has no output port "outptu"', 'did you mean "output"?'],
    ["  - a -> b.inptu", 'edge a.output -> b.inptu: log node "b" has no input port "inptu"', 'did you mean "input"?'],
    ["  - { source: a, sourcePort: nowhere, target: b }", 'edge a.nowhere -> b: log node "a" has no output port "nowhere"', "ports: output, error"],
  ])("a missing port: %s", (edge, message, hint) => {
    const p = only(load("nodes:", "  - { id: a, type: log }", "  - { id: b, type: log }", "edges:", edge));
    expect(where(p)).toBe("E_EDGE 5:5");
    expect(p.message).toBe(message);
    expect(p.hint).toBe(hint);
  });

  test("a duplicate node id points at the second id and names the first line", () => {
    const p = only(load("nodes:", "  - { id: a, type: log }", "  - id: a", "    type: delay"));
    expect(where(p)).toBe("E_EDGE 3:9");
    expect(p.message).toBe('duplicate node id "a" (first declared at line 2)');
  });

  test("ids are unique across loop bodies too", () => {
    const p = only(load("nodes:", "  - { id: a, type: log }", "  - id: each", "    type: loop", "    nodes:", "      - { id: a, type: log }"));
    expect(where(p)).toBe("E_EDGE 6:15");
    expect(p.path).toBe("nodes[1].nodes[0].id");
  });

  test("an edge cannot cross into a loop body", () => {
    const p = only(load("nodes:", "  - { id: a, type: log }", "  - id: each", "    type: loop", "    nodes:", "      - { id: inner, type: log }", "edges:", "  - a -> inner"));
    expect(where(p)).toBe("E_EDGE 8:5");
    expect(p.hint).toMatch(/edges cannot cross a loop or group boundary/);
  });
});

describe("E_CYCLE", () => {
  test("prints the cycle and points at its first edge", () => {
    const p = only(load("nodes:", "  - { id: a, type: log }", "  - { id: b, type: log }", "  - { id: c, type: log }", "edges:", "  - a -> b", "  - b -> c", "  - c -> a"));
    expect(where(p)).toBe("E_CYCLE 6:5");
    expect(p.message).toBe("cycle: a -> b -> c -> a");
    expect(p.hint).toMatch(/use a loop node/);
  });

  test("a self-loop", () => {
    const p = only(load("nodes:", "  - { id: a, type: log }", "edges:", "  - a -> a"));
    expect(where(p)).toBe("E_CYCLE 4:5");
    expect(p.message).toBe("cycle: a -> a");
  });

  test("every cycle at once, each at its first edge, and a $nodes reference that is not upstream beside them", () => {
    const r = load(
      "nodes:",
      "  - { id: a, type: log }",
      "  - { id: b, type: log }",
      "  - { id: c, type: log }",
      "  - { id: d, type: log }",
      "  - { id: e, type: log, parameters: { message: '{{ $nodes.a }}' } }",
      "edges: [a -> b, b -> a, c -> d, d -> c]",
    );
    expect(r.problems.map((p) => `${where(p)} ${p.message}`)).toEqual(['E_REF 6:52 node "e": $nodes.a is not upstream of this node', "E_CYCLE 7:9 cycle: a -> b -> a", "E_CYCLE 7:25 cycle: c -> d -> c"]);
  });

  test("the same edge twice is W_DUPLICATE_EDGE at the copy (the target would get a list of copies); other ports are not a copy", () => {
    const r = load("nodes:", "  - { id: a, type: log }", "  - { id: b, type: log }", "edges: [a -> b, a -> b, { source: a, target: b }]");
    expect(r.problems.map((p) => `${where(p)} ${p.message}`)).toEqual(["W_DUPLICATE_EDGE 4:17 edge a.output -> b.input is given twice (first at line 4)", "W_DUPLICATE_EDGE 4:25 edge a.output -> b.input is given twice (first at line 4)"]);
    const fanOut = load("nodes:", "  - { id: a, type: log }", ...Array.from({ length: 20 }, (_, i) => `  - { id: b${i}, type: log }`), `edges: [${Array.from({ length: 20 }, (_, i) => `a -> b${i}`).join(", ")}, a -> b7]`);
    expect(fanOut.problems.map((p) => p.message)).toEqual(["edge a.output -> b7.input is given twice (first at line 23)"]);
  });

  test("a cycle inside a loop body", () => {
    const p = only(load("nodes:", "  - id: each", "    type: loop", "    nodes:", "      - { id: x, type: log }", "      - { id: y, type: log }", "    edges: [x -> y, y -> x]"));
    expect(where(p)).toBe("E_CYCLE 7:13");
    expect(p.message).toBe("cycle: x -> y -> x");
  });
});

describe("E_REF", () => {
  test("$vars.missing, with did-you-mean when close", () => {
    const r = load("variables: { known: 1 }", "nodes:", "  - id: a", "    type: log", "    parameters:", "      message: '{{ $vars.missing }} {{ $vars.knwon }}'");
    // Each at its own reference, not at the string that holds both.
    expect(r.problems.map(where)).toEqual(["E_REF 6:20", "E_REF 6:40"]);
    expect(r.problems.map((p) => p.message)).toEqual(['node "a": $vars.missing is not a declared variable', 'node "a": $vars.knwon is not a declared variable']);
    expect(r.problems.map((p) => p.hint)).toEqual(["declare it under `variables:` or pass --var", 'did you mean "known"?']);
  });

  test("variables given on the command line count as declared", () => {
    const src = text("nodes:", "  - { id: a, type: log, parameters: { message: '{{ $vars.name }}' } }");
    expect(loadCompositeFromText(src).problems.map((p) => p.code)).toEqual(["E_REF"]);
    expect(loadCompositeFromText(src, { variables: ["name"] }).problems).toEqual([]);
  });

  test("$nodes.x that is not upstream, or does not exist (in parameters and in `if:`)", () => {
    const r = load(
      "nodes:",
      "  - { id: a, type: log }",
      "  - id: b",
      "    type: log",
      "    parameters:",
      "      message: '{{ $nodes.c }}'",
      "  - id: c",
      "    type: log",
      "    if: $nodes.zzz > 1",
      "edges:",
      "  - a -> b",
    );
    expect(r.problems.map(where)).toEqual(["E_REF 6:20", "E_REF 9:9"]);
    expect(r.problems[0]?.message).toBe('node "b": $nodes.c is not upstream of this node');
    expect(r.problems[0]?.hint).toBe('add an edge so that "c" runs before "b"');
    expect(r.problems[1]?.message).toBe('node "c": $nodes.zzz does not exist');
  });

  test("$nodes of an upstream node, also through a loop boundary, is fine", () => {
    const r = load(
      "nodes:",
      "  - { id: a, type: log }",
      "  - id: each",
      "    type: loop",
      "    nodes:",
      "      - { id: inner, type: log, parameters: { message: '{{ $nodes.a }}' } }",
      "  - { id: b, type: log, parameters: { message: '{{ $nodes[\"a\"] }}' } }",
      "edges: [a -> each, a -> b]",
    );
    expect(r.problems).toEqual([]);
  });

  test("the column is the reference's own, through escapes of a double-quoted string and in a templated `if:`", () => {
    const r = load("nodes:", "  - id: a", "    type: log", "    if: '{{ $vars.gone }}'", "    parameters:", '      message: "tab\\there {{ $vars.nope }}"');
    // `if:` at col 9: its `'` then `{{ ` (3 characters); message at col 16: `"`, then
    // `tab\\there {{ ` as written (13 characters; 12 in the value, where the escape is one tab).
    expect(r.problems.map(where)).toEqual(["E_REF 4:13", "E_REF 6:30"]);
  });

  test("an E_REF inside an aliased parameter points at the name that was written", () => {
    const p = only(load("type: group", "nodes:", "  - id: f", "    type: file-system", "    parameters:", "      operation: read", "      filePath: '{{ $vars.nope }}'"));
    expect(where(p)).toBe("E_REF 7:21");
    expect(p.path).toBe("nodes[0].parameters.filePath");
  });
});

describe("warnings: W_UNKNOWN_KEY (and --strict)", () => {
  const lines = [
    "nmae: x",
    "variables:",
    "  v: { type: string, defualt: hi }",
    "settings:",
    "  concurency: 3",
    "nodes:",
    "  - id: a",
    "    type: log",
    "    timout: 5s",
    "    retry: { attempts: 2, dealy: 1s }",
    "  - { id: b, type: log }",
    "edges:",
    "  - { source: a, target: b, sourcePrt: output }",
  ];
  const expected = [
    ["W_UNKNOWN_KEY 1:1", "unknown key `nmae` in the composite is ignored", 'did you mean "name"?'],
    ["W_UNKNOWN_KEY 3:22", "unknown key `defualt` in variables.v is ignored", 'did you mean "default"?'],
    ["W_UNKNOWN_KEY 5:3", "unknown key `concurency` in settings is ignored", 'did you mean "concurrency"?'],
    ["W_UNKNOWN_KEY 9:5", "unknown key `timout` in nodes[0] is ignored", 'did you mean "timeout"?'],
    ["W_UNKNOWN_KEY 10:27", "unknown key `dealy` in nodes[0].retry is ignored", 'did you mean "delay"?'],
    ["W_UNKNOWN_KEY 13:29", "unknown key `sourcePrt` in edges[0] is ignored", 'did you mean "sourcePort"?'],
  ];

  test("each unknown key is a located warning with did-you-mean; the file still loads", () => {
    const r = load(...lines);
    expect(r.ok).toBe(true);
    expect(r.problems.map((p) => [where(p), p.message, p.hint])).toEqual(expected);
    expect(r.problems.every((p) => p.severity === "warning")).toBe(true);
  });

  test("with strict: true they are errors", () => {
    const r = loadCompositeFromText(text(...lines), { file: "flow.yaml", strict: true });
    expect(r.ok).toBe(false);
    expect(r.problems.map(where)).toEqual(expected.map((e) => e[0]));
    expect(r.problems.every((p) => p.severity === "error")).toBe(true);
    // An error no longer says the key "is ignored": it stops the run.
    expect(r.problems.map((p) => p.message)).toEqual(expected.map((e) => e[1]!.replace(/ is ignored$/, " (an error with --strict)")));
  });

  test("a key nothing resembles lists the known keys", () => {
    const p = only(load("nodes:", "  - { id: a, type: log, zzzzzz: 1 }"));
    expect(p.hint).toMatch(/^known keys: id, type, name/);
  });

  test("W_ROUTE: an error edge without onError: route", () => {
    const p = only(load("nodes:", "  - { id: a, type: log }", "  - { id: b, type: log }", "edges:", "  - a.error -> b"));
    expect(where(p)).toBe("W_ROUTE 2:5");
  });

  test("W_ROUTE: onError: route with no edge from the error port (a failure would go nowhere, the run would succeed)", () => {
    const p = only(load("nodes:", "  - { id: bad, type: log, onError: route }", "  - { id: next, type: log }", "edges: [bad -> next]"));
    expect(where(p)).toBe("W_ROUTE 2:5");
    expect(p.message).toBe('node "bad": onError is "route" but no edge leaves its `error` port, so a failure would go nowhere and the run would still succeed');
    expect(load("nodes:", "  - { id: bad, type: log, onError: route }", "  - { id: handle, type: log }", "edges: [bad.error -> handle]").problems).toEqual([]);
  });
});

describe("loadComposite: files, refs and overrides", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-composite-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a missing file is E_NOT_FOUND, not a throw", async () => {
    const r = await loadComposite(path.join(dir, "nope.yaml"));
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.code, p.line, p.col])).toEqual([["E_NOT_FOUND", 1, 1]]);
    expect(r.problems[0]?.message).toMatch(/^file not found: /);
  });

  test("a directory is E_NOT_FOUND with a clear message", async () => {
    const r = await loadComposite(dir);
    expect(r.problems[0]?.message).toMatch(/is a directory, not a composite file/);
    expect(r.problems[0]?.hint).toBe("give the composite file inside it, e.g. flow.yaml");
  });

  test.skipIf(process.platform !== "linux")("a file that is there but cannot be read is E_FILE, not E_NOT_FOUND (/proc/self/mem gives EIO)", async () => {
    const r = await loadComposite("/proc/self/mem");
    expect(r.problems.map((p) => [p.code, p.line, p.col])).toEqual([["E_FILE", 1, 1]]);
    expect(r.problems[0]?.message).toMatch(/^cannot read \/proc\/self\/mem: /);
    expect(r.problems[0]?.hint).toBe("check the file and the disk it is on");
  });

  test("a group ref: loads the other file; its problems are located in that file", async () => {
    await writeFile(path.join(dir, "child.yaml"), text("nodes:", "  - { id: inner, type: log }", "  - id: broken", "    type: htp-request"));
    await writeFile(path.join(dir, "parent.yaml"), text("nodes:", "  - { id: sub, type: group, ref: ./child.yaml }"));
    const r = await loadComposite(path.join(dir, "parent.yaml"));
    expect(r.problems.map((p) => [p.file, where(p)])).toEqual([[displayName(path.join(dir, "child.yaml")), "E_UNKNOWN_TYPE 4:11"]]);
    expect(r.composite?.nodes[0]?.body?.nodes.map((n) => n.id)).toEqual(["inner", "broken"]);
    expect(r.sources.has(displayName(path.join(dir, "child.yaml")))).toBe(true);
  });

  test("a missing ref is E_REF at the ref; a ref cycle is E_CYCLE", async () => {
    await writeFile(path.join(dir, "missing.yaml"), text("nodes:", "  - id: sub", "    type: group", "    ref: ./ghost.yaml"));
    const missing = await loadComposite(path.join(dir, "missing.yaml"));
    expect(missing.problems.map(where)).toEqual(["E_REF 4:10"]);

    await writeFile(path.join(dir, "self.yaml"), text("nodes:", "  - id: sub", "    type: group", "    ref: ./self.yaml"));
    const self = await loadComposite(path.join(dir, "self.yaml"));
    expect(self.problems.map(where)).toEqual(["E_CYCLE 4:10"]);
    expect(self.problems[0]?.message).toMatch(/ref cycle: .*self\.yaml -> .*self\.yaml/);
  });

  test("a group with both a ref: and nested nodes is E_SCHEMA at `nodes` (the ref would replace them silently)", async () => {
    await writeFile(path.join(dir, "both-sub.yaml"), text("nodes:", "  - { id: inner, type: log }"));
    await writeFile(path.join(dir, "both.yaml"), text("nodes:", "  - id: g", "    type: group", "    ref: ./both-sub.yaml", "    nodes:", "      - { id: x, type: log }"));
    const r = await loadComposite(path.join(dir, "both.yaml"));
    expect(r.problems.map(where)).toEqual(["E_SCHEMA 5:5"]);
    expect(r.problems[0]?.message).toBe('node "g": a group takes nested `nodes` or a `ref:` to another file, not both');
  });

  test("a ref to a directory is E_REF at the ref, not a crash", async () => {
    await writeFile(path.join(dir, "dir-ref.yaml"), text("nodes:", "  - id: sub", "    type: group", "    ref: ."));
    const r = await loadComposite(path.join(dir, "dir-ref.yaml"));
    expect(r.problems.map(where)).toEqual(["E_REF 4:10"]);
    expect(r.problems[0]?.message).toMatch(/^node "sub": ref is a directory, not a composite file: \. \(resolved to /);
  });

  test("a file included twice through ref: names both places of the duplicate ids", async () => {
    await writeFile(path.join(dir, "twice-sub.yaml"), text("nodes:", "  - { id: x, type: log }"));
    await writeFile(path.join(dir, "twice.yaml"), text("nodes:", "  - { id: g1, type: group, ref: ./twice-sub.yaml }", "  - { id: g2, type: group, ref: ./twice-sub.yaml }", "edges: [g1 -> g2]"));
    const r = await loadComposite(path.join(dir, "twice.yaml"));
    const sub = displayName(path.join(dir, "twice-sub.yaml"));
    expect(r.problems.map((p) => [p.file, where(p)])).toEqual([[sub, "E_EDGE 2:11"]]);
    expect(r.problems[0]?.message).toBe(`duplicate node id "x" (first declared at ${sub}:2:5)`);
    expect(r.problems[0]?.hint).toMatch(/included more than once through ref:/);
  });

  test("overrides replace a parameter under any of its names before validation", () => {
    const src = text("type: group", "nodes:", "  - id: f", "    type: file-system", "    parameters: { operation: read, filePath: /data/in.csv }");
    const r = loadCompositeFromText(src, { overrides: [{ nodeId: "f", param: "filePath", value: "local.csv" }] });
    expect(r.ok).toBe(true);
    expect(r.composite?.nodes[0]?.parameters).toEqual({ operation: "read", path: "local.csv" });

    const bad = loadCompositeFromText(src, { file: "flow.yaml", overrides: [{ nodeId: "g", param: "path", value: "x" }] });
    expect(bad.problems.map((p) => [p.code, p.message, p.hint])).toEqual([["E_USAGE", '--set g.path: no node "g" in the composite', 'did you mean "f"?']]);

    // A value from --set that does not fit says where it came from.
    const wrong = loadCompositeFromText(text("nodes:", "  - id: say", "    type: log", '    parameters: { message: "x" }'), { file: "flow.yaml", overrides: [{ nodeId: "say", param: "level", value: "loud" }] });
    expect(wrong.problems.map((p) => p.message)).toEqual(['--set say.level="loud": node "say": level: Invalid option: expected one of "debug"|"info"|"warn"|"error"']);
    expect(wrong.problems[0]?.hint).toMatch(/^the value comes from --set say\.level="loud" on the command line, not from the file/);
  });
});
