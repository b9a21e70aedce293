// What one node's JavaScript does to prototypes, globals or the values it was given must not
// reach the host or any other node. Worker runs need the built dist/isolate-worker.js.
import { describe, expect, test } from "vitest";
import { runYaml } from "../conductor/harness.js";

const POLLUTE = `
const attempts = [
  () => { Object.prototype.polluted = 1; },
  () => { ({}).__proto__.viaProto = 1; },
  () => { Array.prototype.push = function () { return "hijacked"; }; },
  () => { Object.defineProperty(Object.prototype, "defined", { value: 1, enumerable: true }); },
  () => { JSON.parse = () => "hijacked"; },
  () => { leaked = 42; },
  () => { globalThis.leaked2 = 1; },
  () => { Object.defineProperty(globalThis, "sticky", { value: 1 }); },
];
for (const attempt of attempts) try { attempt(); } catch {}
return { n: 1 };`;

const INSPECT = `
const a = [];
a.push(1);
return {
  polluted: ({}).polluted, viaProto: ({}).viaProto, defined: ({}).defined, length: a.length,
  json: JSON.parse("2"), leaked: typeof leaked, leaked2: typeof leaked2, sticky: typeof sticky,
};`;

const CLEAN = { polluted: undefined, viaProto: undefined, defined: undefined, length: 1, json: 2, leaked: "undefined", leaked2: "undefined", sticky: "undefined" };

describe.each(["vm", "worker"])("prototype pollution stays inside one node (isolation: %s)", (isolation) => {
  test("the next code node, the next template and the host see clean built-ins and globals", async () => {
    const originalPush = Array.prototype.push;
    const { result } = await runYaml(`
nodes:
  - { id: a, type: code, isolation: ${isolation}, parameters: { code: ${JSON.stringify(POLLUTE)} } }
  - { id: b, type: code, isolation: ${isolation}, parameters: { code: ${JSON.stringify(INSPECT)} } }
  - { id: c, type: test-echo, parameters: { label: "{{ [({}).polluted, typeof leaked, typeof sticky, [].concat([1]).push(2)] }}" } }
edges: [a -> b, b -> c]
`);
    expect(result.nodes.a?.output).toEqual({ n: 1 });
    expect(result.nodes.b?.output).toEqual(CLEAN);
    expect((result.nodes.c?.output as { label: unknown }).label).toEqual([undefined, "undefined", "undefined", 2]);
    expect((({}) as Record<string, unknown>).polluted).toBeUndefined();
    expect(Array.prototype.push).toBe(originalPush);
    expect((globalThis as Record<string, unknown>).leaked).toBeUndefined();
  });

  test("a node that mutates its input changes no other node's view of that output", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: a, type: code, isolation: ${isolation}, parameters: { code: "return { n: 1, list: [1] };" } }
  - { id: b, type: code, isolation: ${isolation}, parameters: { code: "data.n = 99; data.list.push(2); data.added = true; return data;" } }
  - { id: c, type: code, isolation: ${isolation}, parameters: { code: "return $nodes.a;" } }
edges: [a -> b, b -> c]
`);
    expect(result.nodes.b?.output).toEqual({ n: 99, list: [1, 2], added: true });
    expect(result.nodes.a?.output).toEqual({ n: 1, list: [1] });
    expect(result.nodes.c?.output).toEqual({ n: 1, list: [1] });
  });

  test("an own __proto__ key in an output is data, not a prototype", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: a, type: code, isolation: ${isolation}, parameters: { code: "return JSON.parse('{\\"__proto__\\": {\\"polluted\\": 1}, \\"ok\\": 1}');" } }
  - { id: b, type: code, isolation: ${isolation}, parameters: { code: "return [data.polluted, Object.keys(data), data.ok];" } }
edges: [a -> b]
`);
    const out = result.nodes.a?.output as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual(["__proto__", "ok"]);
    expect(result.nodes.b?.output).toEqual([undefined, ["__proto__", "ok"], 1]);
  });
});
