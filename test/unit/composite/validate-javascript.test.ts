// SPEC §4.3: every expression and code body compiles at validation; a syntax error is an E_PARAM
// at its file:line:col inside the block, and every problem is reported at once.
import { describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { Problem } from "../../../src/composite/problem.js";
import { z } from "zod";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { defineNode } from "../../../src/nodes/define-node.js";

const load = (yaml: string) => loadCompositeFromText(yaml, { file: "flow.yaml" });
const where = (p: Problem): string => `${p.code} ${p.line}:${p.col}`;
/** Text we wrap user code in to compile it; a message must never show it. */
const WRAPPER = /async \(\) =>|return \(|return \[|with \(\$scope\)|\(async function|atomiton:check/;

/** The character at a problem's line:col in the YAML, and what follows it. */
function at(yaml: string, p: Problem): string {
  return yaml.split("\n")[p.line - 1]!.slice(p.col - 1);
}

describe("a syntax error is an E_PARAM at its line and column inside the block", () => {
  test.each([
    {
      name: "code: a literal block, error on its second line",
      yaml: `nodes:
  - id: calc
    type: code
    parameters:
      code: |
        const rows = data ?? [];
        const total = rows.reduce((s, r) => s + r.n, 0;
        return total;
`,
      loc: "E_PARAM 7:54",
      points: "0;",
      message: /node "calc": syntax error in `code`: missing \) after argument list/,
    },
    {
      name: "code: an async body (await), error on its third line",
      yaml: `nodes:
  - id: calc
    type: code
    parameters:
      code: |
        const a = await Promise.resolve(1);
        if (a) {
          return a +* 2;
        }
`,
      loc: "E_PARAM 8:21",
      points: "* 2;",
      message: /Unexpected token '\*'/,
    },
    {
      name: "code: a brace never closed points at the end of the block",
      yaml: `nodes:
  - id: calc
    type: code
    parameters:
      code: |-
        if (data) {
          return 1;
`,
      loc: "E_PARAM 7:20",
      points: "",
      message: /the code ends too early/,
    },
    {
      name: "transform expression in a folded block",
      yaml: `nodes:
  - id: t
    type: transform
    parameters:
      expression: >-
        return data.map((r) =>
        r.x));
`,
      loc: "E_PARAM 7:13",
      points: ");",
      message: /Unexpected token '\)'/,
    },
    {
      name: "transformFunction: an extra parenthesis, where it was written",
      yaml: `nodes:
  - id: t
    type: transform
    parameters: { operation: map, transformFunction: 'item => item.a)' }
`,
      loc: "E_PARAM 4:69",
      points: ")'",
      message: /syntax error in `transformFunction`: Unexpected token '\)'/,
    },
    {
      name: "condition: inside {{ }}, an operand missing",
      yaml: `nodes:
  - id: pick
    type: condition
    parameters:
      expression: "{{ $input.length > }}"
`,
      loc: "E_PARAM 5:39",
      points: "}}",
      message: /the expression ends too early/,
    },
    {
      name: "loop while condition",
      yaml: `nodes:
  - id: each
    type: loop
    parameters: { mode: while, condition: "$index < < 3" }
`,
      loc: "E_PARAM 4:53",
      points: "< 3",
      message: /Unexpected token '<'/,
    },
    {
      name: "if: expression",
      yaml: `nodes:
  - id: gated
    type: log
    if: "$input.ok &&"
`,
      loc: "E_PARAM 4:22",
      points: '"',
      message: /syntax error in `if`/,
    },
    {
      name: "a template in a double-quoted string, after escapes",
      yaml: `nodes:
  - id: say
    type: log
    parameters: { message: "tab\\there \\u00e9 {{ $input.a.( }}" }
`,
      loc: "E_PARAM 4:58",
      points: "( }}",
      message: /syntax error in the template of `message`: Unexpected token '\('/,
    },
    {
      name: "a template in a single-quoted string with an escaped quote",
      yaml: `nodes:
  - id: say
    type: log
    parameters: { message: 'it''s {{ $input ! }}' }
`,
      loc: "E_PARAM 4:45",
      points: "! }}",
      message: /Unexpected token '!'/,
    },
    {
      name: "a template in a plain scalar that continues on the next line",
      yaml: `nodes:
  - id: say
    type: log
    parameters:
      message: first part
        {{ $input.a b }}
`,
      loc: "E_PARAM 6:21",
      points: "b }}",
      message: /Unexpected identifier 'b'/,
    },
    {
      name: "an unterminated {{ is an error at the {{",
      yaml: `nodes:
  - id: say
    type: log
    parameters: { message: "hello {{ $vars.x " }
variables: { x: { type: string } }
`,
      loc: "E_PARAM 4:35",
      points: "{{ $vars.x",
      message: /unterminated template: `\{\{` has no closing `\}\}`/,
    },
    {
      name: "a template nested in an object parameter",
      yaml: `nodes:
  - id: get
    type: http-request
    parameters:
      url: https://example.test
      headers:
        X-Id: "{{ $input.id + }}"
`,
      loc: "E_PARAM 7:31",
      points: "}}",
      message: /syntax error in the template of `headers`/,
    },
    {
      name: "edit-fields values",
      yaml: `nodes:
  - id: set
    type: edit-fields
    parameters:
      values:
        greeting: "Hello {{ name ++ 1 }}"
`,
      loc: "E_PARAM 6:37",
      points: "1 }}",
      message: /Invalid left-hand side|Unexpected number/,
    },
    {
      name: "a code node inside a loop body",
      yaml: `nodes:
  - id: each
    type: loop
    nodes:
      - id: inner
        type: code
        parameters:
          code: |
            return $item.;
`,
      loc: "E_PARAM 9:26",
      points: ";",
      message: /node "inner": syntax error in `code`: Unexpected token ';'/,
    },
    {
      name: "import() does not compile",
      yaml: `nodes:
  - id: calc
    type: code
    parameters:
      code: |
        const fs = await import("node:fs");
`,
      loc: "E_PARAM 6:26",
      points: 'import("node:fs");',
      message: /import\(\) is not available in the sandbox/,
    },
  ])("$name → $loc", ({ yaml, loc, points, message }) => {
    const r = load(yaml);
    expect(r.ok).toBe(false);
    expect(r.problems.map(where)).toEqual([loc]);
    const p = r.problems[0]!;
    expect(p.file).toBe("flow.yaml");
    expect(p.message).toMatch(message);
    expect(p.message).not.toMatch(WRAPPER);
    expect(at(yaml, p).startsWith(points)).toBe(true);
  });

  test("every problem of a composite is reported at once, in file order", () => {
    const r = load(`nodes:
  - id: a
    type: code
    parameters: { code: "return (;" }
  - id: b
    type: log
    parameters: { message: "{{ $vars.x" }
  - id: c
    type: condition
    parameters: { expression: "1 +" }
variables: { x: { type: string } }
`);
    expect(r.problems.map(where)).toEqual(["E_PARAM 4:34", "E_PARAM 7:29", "E_PARAM 10:35"]);
  });

  test.each([
    ["code", "code", "return data.map((r) => ({ ...r, total: r.a * 2 }));"],
    ["transform", "expression", "const out = await Promise.resolve(data);\nreturn out;"],
    ["transform", "transformFunction", "item => item.price * 2"],
    ["transform", "transformFunction", "item.price"],
    ["condition", "expression", "{{ $input.length > 0 }}"],
    ["log", "message", "{{ $input.a }} and {{ `${$vars.x}`.toUpperCase() }} }} {{ ({ a: 1 }).a }}"],
  ])("valid %s %s compiles", (type, param, value) => {
    const r = load(`variables: { x: { type: string, default: a } }\nnodes:\n  - { id: n, type: ${type}, parameters: { ${param}: ${JSON.stringify(value)} } }\n`);
    expect(r.problems).toEqual([]);
  });
});

test("a custom node's raw parameter is its own business; its other strings are templates", () => {
  const mustache = defineNode({
    type: "test-mustache",
    title: "mustache",
    description: "test",
    category: "test",
    parameters: z.object({ template: z.string(), subject: z.string() }),
    inputs: [{ id: "input" }],
    outputs: [{ id: "output" }],
    rawParameters: ["template"],
    execute: () => null,
  });
  const catalog = createBuiltinCatalog([{ definition: mustache, source: "test" }]);
  const r = loadCompositeFromText(`nodes:
  - id: m
    type: test-mustache
    parameters: { template: "{{#each items}}{{name}}{{/each}}", subject: "{{#each items}}" }
`, { catalog, file: "flow.yaml" });
  expect(r.problems.map((p) => `${where(p)} ${p.path}`)).toEqual(["E_PARAM 4:77 nodes[0].parameters.subject"]);
});

describe("every graph problem at once", () => {
  test("a $nodes reference to a node that exists nowhere is reported beside a cycle", () => {
    const r = load(`nodes:
  - { id: a, type: log, parameters: { message: "{{ $nodes.nope }}" } }
  - { id: b, type: log, parameters: { message: "{{ $nodes.a }}" } }
edges: [a -> b, b -> a]
`);
    expect(r.problems.map((p) => `${where(p)} ${p.message}`)).toEqual([
      'E_REF 2:52 node "a": $nodes.nope does not exist',
      "E_CYCLE 4:9 cycle: a -> b -> a",
    ]);
  });
});
