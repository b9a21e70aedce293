import { describe, expect, test } from "vitest";
import code from "../../../src/nodes/builtin/code.js";
import editFields from "../../../src/nodes/builtin/edit-fields.js";
import transform from "../../../src/nodes/builtin/transform.js";
import delay from "../../../src/nodes/builtin/delay.js";
import log from "../../../src/nodes/builtin/log.js";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createSandbox } from "../../../src/js/sandbox.js";
import { runYaml } from "../conductor/harness.js";

const one = (type: string, parameters: string) => `nodes:\n  - id: n\n    type: ${type}\n    parameters: ${parameters}\n`;

describe("transform", () => {
  const items = [{ n: 3, g: "a" }, { n: 1, g: "b" }, { n: 2, g: "a" }, { n: 1, g: "b" }];
  test.each([
    ["map", "{ operation: map, transformFunction: 'x => x.n * 10' }", [30, 10, 20, 10]],
    ["map block body", "{ operation: map, transformFunction: '(x, i) => { const y = x.n + i; return y; }' }", [3, 2, 4, 4]],
    ["map bare expression", "{ operation: map, transformFunction: 'item.g' }", ["a", "b", "a", "b"]],
    ["filter", "{ operation: filter, transformFunction: 'x => x.n > 1' }", [{ n: 3, g: "a" }, { n: 2, g: "a" }]],
    ["reduce (acc, item)", "{ operation: reduce, transformFunction: '(acc, x) => acc + x.n', reduceInitial: '0' }", 7],
    ["reduce ({acc,item}) Atomiton form", "{ operation: reduce, transformFunction: '({ acc, item }) => acc + item.n', reduceInitial: 0 }", 7],
    ["sort by key desc", "{ operation: sort, sortKey: n, sortDirection: desc }", [{ n: 3, g: "a" }, { n: 2, g: "a" }, { n: 1, g: "b" }, { n: 1, g: "b" }]],
    ["group", "{ operation: group, groupKey: g }", { a: [{ n: 3, g: "a" }, { n: 2, g: "a" }], b: [{ n: 1, g: "b" }, { n: 1, g: "b" }] }],
    ["unique", "{ operation: unique }", [{ n: 3, g: "a" }, { n: 1, g: "b" }, { n: 2, g: "a" }]],
    ["unique by key", "{ operation: unique, uniqueKey: g }", [{ n: 3, g: "a" }, { n: 1, g: "b" }]],
    ["reverse", "{ operation: reverse }", [...items].reverse()],
    ["limit", "{ operation: limit, limitCount: 2 }", items.slice(0, 2)],
    ["skip", "{ operation: skip, skipCount: 3 }", items.slice(3)],
    ["slice", "{ operation: slice, sliceStart: 1, sliceEnd: 3 }", items.slice(1, 3)],
    ["expression over data", "{ expression: 'return data.length' }", 4],
    ["code over data", "{ code: 'return data.map(r => r.g).join(\"\")' }", "abab"],
  ])("%s", async (_name, params, expected) => {
    const { result } = await runYaml(one("transform", params), { input: items });
    expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
    expect(result.output).toEqual(expected);
  });

  test("flatten by depth", async () => {
    const { result } = await runYaml(one("transform", "{ operation: flatten, flattenDepth: 2 }"), { input: [1, [2, [3, [4]]]] });
    expect(result.output).toEqual([1, 2, 3, [4]]);
  });

  test("a non-array input is one item and yields one value", async () => {
    const { result } = await runYaml(one("transform", "{ operation: map, transformFunction: 'o => o.a + 1' }"), { input: { a: 1 } });
    expect(result.output).toBe(2);
  });

  test("bad function source is refused at validation (E_PARAM), and by the sandbox as a non-retryable E_CODE", () => {
    const loaded = loadCompositeFromText(one("transform", "{ operation: map, transformFunction: 'x => {' }"), { file: "t.yaml" });
    expect(loaded.problems).toMatchObject([{ code: "E_PARAM", message: expect.stringMatching(/syntax error in `transformFunction`/) }]);
    expect(() => createSandbox().compileFunctionValue("x => {")).toThrow(expect.objectContaining({ code: "E_CODE", retryable: false }));
  });

  test("declares every Atomiton operation", () => {
    const ops = (transform.parameters.shape.operation.unwrap() as { options: string[] }).options;
    expect(ops).toEqual(["map", "filter", "reduce", "sort", "group", "flatten", "unique", "reverse", "limit", "skip", "slice"]);
  });
});

describe("code", () => {
  test("sync and async bodies, inputParams, scope names", async () => {
    const sync = await runYaml(one("code", "{ code: 'return { sum: data.a + data.b, v: $vars.k }' }").replace("nodes:", "variables: { k: 7 }\nnodes:"), { input: { a: 1, b: 2 } });
    expect(sync.result.output).toEqual({ sum: 3, v: 7 });
    const asyncRun = await runYaml(one("code", "{ code: 'await new Promise(r => setTimeout(r, 5)); return data * 2', async: true }"), { input: 21 });
    // setTimeout does not exist inside the sandbox: the node fails clearly instead of hanging.
    expect(asyncRun.result.status).toBe("failed");
    const awaited = await runYaml(one("code", "{ code: 'const v = await Promise.resolve(data); return v * 2' }"), { input: 21 });
    expect(awaited.result.output).toBe(42);
    const named = await runYaml(one("code", "{ code: 'return rows.length', inputParams: rows }"), { input: [1, 2, 3] });
    expect(named.result.output).toBe(3);
  });

  test.each([
    ["object", "return [1]", "expected the code to return object but got array"],
    ["array", "return null", "expected the code to return array but got null"],
    ["string", "return 5", "expected the code to return string but got number"],
  ])("returnType %s is checked", async (type, body, message) => {
    const { result } = await runYaml(one("code", `{ code: '${body}', returnType: ${type} }`));
    expect(result.nodes.n!.error).toMatchObject({ code: "E_CODE", retryable: false });
    expect(result.nodes.n!.error!.message).toContain(message);
  });

  test("parameter defaults", () => {
    expect(code.parameters.parse({})).toEqual({ code: "return data;", inputParams: "data", returnType: "any", async: false });
  });
});

describe("edit-fields", () => {
  test("templates over input fields, $now and $vars; keepOnlySet; no HTML escaping; missing names render empty", async () => {
    const { result } = await runYaml(
      `variables: { who: { type: string, default: Ada } }
nodes:
  - id: n
    type: edit-fields
    parameters:
      keepOnlySet: true
      values:
        greeting: "Hi {{ name }} & <{{ $vars.who }}>"
        missing: "[{{ nothere }}]"
        count: "{{ items.length }}"
        nested: { at: "{{ $now }}" }
        literal: 5
`,
      { input: { name: "Bob", items: [1, 2], drop: true } },
    );
    const out = result.output as Record<string, unknown>;
    expect(out.greeting).toBe("Hi Bob & <Ada>");
    expect(out.missing).toBe("[]");
    expect(out.count).toBe(2);
    expect(out.literal).toBe(5);
    expect((out.nested as { at: string }).at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(out).not.toHaveProperty("drop");
  });

  test("without keepOnlySet the input's fields are kept", async () => {
    const { result } = await runYaml(one("edit-fields", "{ values: { b: 2 } }"), { input: { a: 1 } });
    expect(result.output).toEqual({ a: 1, b: 2 });
  });

  test("defaults", () => {
    expect(editFields.parameters.parse({})).toEqual({ values: {}, keepOnlySet: false });
  });
});

describe("log, delay, condition", () => {
  test("log emits node:log with the templated message and passes its input on", async () => {
    const { result, events } = await runYaml(one("log", "{ message: 'count={{ $input.length }}', level: warn }"), { input: [1, 2] });
    expect(result.output).toEqual([1, 2]);
    expect(events.find((e) => e.type === "node:log")).toMatchObject({ nodeId: "n", level: "warn", message: "count=2" });
    expect(log.parameters.parse({})).toEqual({ level: "info" });
  });

  test.each([
    ["a text", "hello", "hello"],
    ["an object", { x: 1 }, '{"x":1}'],
  ])("log without a message prints its input, %s (it printed the characters {{ $input }})", async (_name, input, message) => {
    const { result, events } = await runYaml("nodes:\n  - id: n\n    type: log\n", { input });
    expect(result.output).toEqual(input);
    expect(events.find((e) => e.type === "node:log")).toMatchObject({ nodeId: "n", level: "info", message });
  });

  test("delay waits and is cancellable", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 20);
    const { result } = await runYaml(one("delay", "{ duration: 10s }"), { signal: controller.signal });
    expect(result.status).toBe("cancelled");
    expect(delay.parameters.safeParse({ duration: "fast" }).success).toBe(false);
  });

  test("condition with a bad expression fails clearly, before anything runs", () => {
    const loaded = loadCompositeFromText(one("condition", "{ expression: '$input >' }"), { file: "t.yaml" });
    expect(loaded.problems).toMatchObject([{ code: "E_PARAM", line: 4, message: expect.stringMatching(/syntax error in `expression`: the expression ends too early/) }]);
  });
});

describe("cancellation through the signal", () => {
  test.each([
    ["code awaiting forever", "nodes:\n  - { id: n, type: code, parameters: { code: 'await new Promise(() => {}); return 1' } }\n"],
    ["transform body awaiting forever", "nodes:\n  - { id: n, type: transform, parameters: { expression: 'await new Promise(() => {}); return data' } }\n"],
    ["loop whose body waits", "nodes:\n  - id: n\n    type: loop\n    parameters: { mode: times, count: 3 }\n    nodes: [{ id: wait, type: delay, parameters: { duration: 10s } }]\n"],
    ["group whose body waits", "nodes:\n  - id: n\n    type: group\n    nodes: [{ id: wait, type: delay, parameters: { duration: 10s } }]\n"],
  ])("%s stops at once when the run is cancelled", async (_name, yaml) => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("stop")), 30);
    const { result } = await runYaml(yaml, { signal: controller.signal });
    expect(result.status).toBe("cancelled");
    expect(result.nodes.n!.status).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
