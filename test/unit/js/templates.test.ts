import { describe, expect, test } from "vitest";
import { createSandbox } from "../../../src/js/sandbox.js";
import { createTemplateEngine, findReferences } from "../../../src/js/templates.js";
import { runYaml } from "../conductor/harness.js";

const engine = () => createTemplateEngine(createSandbox());

describe("templates (SPEC §4.3)", () => {
  test.each([
    ["{{ $input }}", { $input: { a: [1, 2] } }, { a: [1, 2] }],
    ["  {{ $input.n }}  ", { $input: { n: 5 } }, 5],
    ["n={{ $input.n }}", { $input: { n: 5 } }, "n=5"],
    ["{{ $input.a }}-{{ $input.b }}", { $input: { a: "x", b: null } }, "x-"],
    ["{{ $input }}!", { $input: { a: 1 } }, '{"a":1}!'],
    ["no templates", {}, "no templates"],
  ])("render %j", (text, scope, expected) => {
    expect(engine().render(text, scope)).toEqual(expected);
  });

  test("a whole-string template yields the raw value through a real run", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: a, type: test-echo, parameters: { label: "{{ $input.list }}" } }
`, { input: { list: [1, 2, 3] } });
    expect((result.output as { label: unknown }).label).toEqual([1, 2, 3]);
  });

  test.each(["process", "require", "globalThis.process", "import.meta"])("%s is not reachable", (expr) => {
    const render = () => engine().render(`{{ ${expr} }}`, { $input: 1 });
    let value: unknown;
    try {
      value = render();
    } catch (error) {
      expect((error as { code?: string }).code).toMatch(/^E_(TEMPLATE|CODE)$/);
      return;
    }
    expect(value).toBeUndefined();
  });

  test("data is never evaluated as code", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: a, type: test-echo, parameters: { label: "{{ $input.text }}" } }
`, { input: { text: "{{ 1 + 1 }} ${process.exit(1)}" } });
    expect((result.output as { label: unknown }).label).toBe("{{ 1 + 1 }} ${process.exit(1)}");
  });

  test("templates are compiled once per run", () => {
    const sandbox = createSandbox();
    let compiles = 0;
    const original = sandbox.compileExpression.bind(sandbox);
    sandbox.compileExpression = (expr, origin) => {
      compiles++;
      return original(expr, origin);
    };
    const e = createTemplateEngine(sandbox);
    for (let i = 0; i < 50; i++) e.render("{{ $input + 1 }} and {{ $input * 2 }}", { $input: i });
    expect(compiles).toBe(2);
  });

  test("$vars, $nodes and --var coercion", async () => {
    const { result } = await runYaml(`
variables: { limit: { type: number, default: 1 } }
nodes:
  - { id: first, type: test-sleep, parameters: { value: hello } }
  - { id: second, type: test-echo, parameters: { label: "{{ $nodes.first }} x{{ $vars.limit * 2 }}" } }
edges: [first -> second]
`, { vars: { limit: "5" } });
    expect((result.output as { label: unknown }).label).toBe("hello x10");
  });

  test("a failing template fails its node with E_TEMPLATE, not the process", async () => {
    const { result } = await runYaml(`nodes: [{ id: a, type: test-echo, parameters: { label: "{{ $input.missing.deeper }}" } }]`, { input: {} });
    expect(result.status).toBe("failed");
    expect(result.nodes.a!.error).toMatchObject({ code: "E_TEMPLATE", retryable: false });
  });

  test("findReferences sees $vars and $nodes in both notations", () => {
    expect(findReferences(`{{ $vars.a + $nodes["my-node"].x + $vars['b'] }}`)).toEqual([
      { kind: "vars", name: "a", index: 3 },
      { kind: "nodes", name: "my-node", index: 13 },
      { kind: "vars", name: "b", index: 35 },
    ]);
  });
});
