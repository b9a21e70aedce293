// Every known way out of the sandbox, tried from code bodies, transforms, conditions, `if:` and
// templates, in the vm and in `isolation: worker`. Each probe returns "contained" unless it
// reached the host (then it returns the host's pid). Worker runs need the built
// dist/isolate-worker.js (`npm run build`), as the e2e tests need the built CLI.
import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { beforeAll, describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor, type RunResult } from "../../../src/conductor/create-conductor.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap } from "../../../src/events/event-map.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { defineNode } from "../../../src/nodes/define-node.js";
import { createSandbox } from "../../../src/js/sandbox.js";
import { ROOT } from "../../helpers/cli.js";

const testNode = (type: string, execute: (ctx: { parameters: { label?: unknown } }) => unknown) =>
  defineNode({ type, title: type, description: "test", category: "test", parameters: z.object({ label: z.unknown().optional() }), inputs: [{ id: "input" }], outputs: [{ id: "output" }], execute });

/** Outputs host functions in every disguise: a method, a getter, a Proxy. */
const hostileNode = testNode("test-hostile", () => ({
  plain: { x: 1 },
  fn: () => process.pid,
  get getter() {
    return () => process.pid;
  },
  proxy: new Proxy({ inner: { x: 1 } }, { get: (target, key) => (key === "fn" ? () => process.pid : Reflect.get(target, key)) }),
}));
/** A host getter that throws a host error when the sandbox reads it. */
const boomNode = testNode("test-boom", () => ({
  get boom(): never {
    throw new Error("thrown by a host getter");
  },
}));
/** Outputs its (template-resolved) label. */
const labelNode = testNode("test-label", (ctx) => ctx.parameters.label);

const catalog = createBuiltinCatalog([hostileNode, boomNode, labelNode].map((definition) => ({ definition, source: "test" })));

async function run(composite: object, input?: unknown): Promise<RunResult> {
  const loaded = loadCompositeFromText(JSON.stringify(composite), { catalog, file: "escapes.json" });
  if (!loaded.ok || !loaded.composite) throw new Error(`invalid test composite: ${JSON.stringify(loaded.problems, null, 2)}`);
  const conductor = createConductor({ events: createEventBus<RunEventMap>(), nodes: catalog });
  return conductor.execute({ composite: loaded.composite, input, vars: {} });
}

/** A statement list that tries `expr` and the constructor chain of whatever it throws. */
const probe = (expr: string): string => `
try {
  const got = ${expr};
  if (got !== undefined && got !== null) return got;
} catch (error) {
  try {
    const p = error.constructor.constructor("return process")();
    if (p) return p.pid;
  } catch (again) {}
}
return "contained";`;

/** The same as one expression (templates, conditions, `if:`). */
const probeExpression = (expr: string): string => `(() => {${probe(expr)}})()`;

const CHAIN = (name: string) => `(${name}).constructor.constructor("return process")().pid`;

// Names every code body sees; `extra` is a second input param; `$nodes.up` is the hostile node's output.
const SCOPE_PROBES: [string, string][] = [
  ...["data", "extra", "$input", "$inputs", "$vars", "$env", "$nodes", "$now", "$run", "$index", "$inputs.input", "$nodes.up", "$nodes.up.plain"].map((n): [string, string] => [n, CHAIN(n)]),
  ["__proto__", `data.__proto__.constructor.constructor("return process")().pid`],
  ["Object.getPrototypeOf", `Object.getPrototypeOf($vars).constructor.constructor("return process")().pid`],
  ["this", CHAIN("this")],
  ["sloppy this", `(function () { return this; })().constructor.constructor("return process")().pid`],
  ["globalThis", CHAIN("globalThis")],
  ["thrown TypeError", `null.x`],
  ["host method", `$nodes.up.fn()`],
  ["host getter", `$nodes.up.getter()`],
  ["host Proxy", `$nodes.up.proxy.fn()`],
  ["host Proxy target", CHAIN("$nodes.up.proxy.inner")],
  [
    "Error.prepareStackTrace",
    `(() => {
      Error.prepareStackTrace = (e, frames) => frames;
      const frames = new Error("x").stack;
      if (typeof frames === "string") return undefined;
      for (const f of frames) for (const x of [f.getThis(), f.getFunction()]) if (x) { const p = x.constructor.constructor("return process")(); if (p) return p.pid; }
    })()`,
  ],
  ["console", CHAIN("console.log")],
  ["Function.prototype.caller", `(function f() { return f.caller && f.caller.constructor.constructor("return process")().pid; })()`],
];

const isolations = ["vm", "worker"] as const;

beforeAll(() => {
  if (!existsSync(path.join(ROOT, "dist/isolate-worker.js"))) throw new Error("run `npm run build` first: isolation: worker runs dist/isolate-worker.js");
});

describe.each(isolations)("no way out of the sandbox (isolation: %s)", (isolation) => {
  test("code bodies: constructor chains on every scope name, __proto__, this, thrown errors, host getters and Proxies, prepareStackTrace", async () => {
    const nodes = SCOPE_PROBES.map(([, expr], i) => ({ id: `p${i}`, type: "code", isolation, parameters: { code: probe(expr), inputParams: "data, extra" } }));
    const result = await run({ nodes: [{ id: "up", type: "test-hostile" }, ...nodes], edges: nodes.map((n) => `up -> ${n.id}`) }, { some: "input" });
    const outputs = Object.fromEntries(SCOPE_PROBES.map(([label], i) => [label, result.nodes[`p${i}`]?.output ?? result.nodes[`p${i}`]?.error]));
    expect(outputs).toEqual(Object.fromEntries(SCOPE_PROBES.map(([label]) => [label, "contained"])));
  });

  test("loop bodies: $item and $index", async () => {
    const result = await run({
      nodes: [{ id: "each", type: "loop", parameters: { items: [{ a: 1 }] }, nodes: [{ id: "body", type: "code", isolation, parameters: { code: `return [${["$item", "$index", "data"].map((n) => probeExpression(CHAIN(n))).join(", ")}];` } }] }],
    });
    expect(result.nodes.each?.output).toEqual([["contained", "contained", "contained"]]);
  });

  test("transform: body, item function (also through Function.prototype.caller) and reducer accumulators", async () => {
    const result = await run({
      nodes: [
        { id: "up", type: "test-hostile" },
        { id: "body", type: "transform", isolation, parameters: { expression: probe(CHAIN("data")) } },
        { id: "map", type: "transform", isolation, parameters: { operation: "map", transformFunction: `item => ${probeExpression(CHAIN("item"))}` } },
        { id: "caller", type: "transform", isolation, parameters: { operation: "map", transformFunction: `function f(item) { return f.caller ? f.caller.constructor.constructor("return process")().pid : "contained"; }` } },
        { id: "reduce", type: "transform", isolation, parameters: { operation: "reduce", reduceInitial: "{}", transformFunction: `(acc, item) => ${probeExpression(CHAIN("acc"))}` } },
        { id: "reduce1", type: "transform", isolation, parameters: { operation: "reduce", transformFunction: `(o) => ${probeExpression(CHAIN("o"))}` } },
      ],
      edges: ["up -> body"],
    }, [{ a: 1 }]);
    expect({ body: result.nodes.body?.output, map: result.nodes.map?.output, caller: result.nodes.caller?.output, reduce: result.nodes.reduce?.output, reduce1: result.nodes.reduce1?.output }).toEqual({
      body: "contained",
      map: ["contained"],
      caller: ["contained"],
      reduce: "contained",
      reduce1: "contained",
    });
  });

  test("getters in a result or a thrown object, run by the host's copier, find no host caller", async () => {
    // `g.caller` of a sloppy function is its caller, unless that caller is strict code: the copiers must be.
    const getter = (key: string) => `const o = {}; Object.defineProperty(o, "${key}", { enumerable: true, get: function g() {
      let c; try { c = g.caller; } catch (e) { return "contained"; }
      if (!c) return "contained";
      try { return String(c.constructor.constructor("return process")().pid); } catch (e) { return "contained"; } } });`;
    const result = await run({
      nodes: [
        { id: "sync", type: "code", isolation, parameters: { code: `${getter("x")} return o;` } },
        { id: "async", type: "code", isolation, parameters: { code: `await null; ${getter("x")} return o;` } },
        { id: "thrown", type: "code", isolation, onError: "continue", parameters: { code: `${getter("message")} throw o;` } },
      ],
    });
    expect([result.nodes.sync?.output, result.nodes.async?.output, result.nodes.thrown?.error?.message]).toEqual([{ x: "contained" }, { x: "contained" }, '{"message":"contained"}']); // a thrown non-Error is its JSON text
  });

  test("condition expressions", async () => {
    const names = ["$input", "$vars", "$env", "$nodes", "$nodes.up", "$run"];
    const result = await run({
      nodes: [
        { id: "up", type: "test-hostile" },
        ...names.flatMap((n, i) => [
          { id: `c${i}`, type: "condition", isolation, parameters: { expression: `typeof ${probeExpression(CHAIN(n))} === "number"` } },
          { id: `escaped${i}`, type: "test-label" },
          { id: `contained${i}`, type: "test-label" },
        ]),
      ],
      edges: names.flatMap((_, i) => [`up -> c${i}`, `c${i}.true -> escaped${i}`, `c${i}.false -> contained${i}`]),
    }, { a: 1 });
    const verdicts = names.map((_, i) => [result.nodes[`escaped${i}`]?.status, result.nodes[`contained${i}`]?.status]);
    expect(verdicts).toEqual(names.map(() => ["skipped", "succeeded"]));
  });
});

describe("no way out of templates", () => {
  const NAMES = ["$input", "$inputs", "$vars", "$env", "$nodes", "$now", "$run", "$nodes.up", "$nodes.up.proxy.inner"];
  test.each(NAMES)("{{ %s.constructor.constructor('return process')() }} finds nothing", async (name) => {
    const result = await run({
      nodes: [
        { id: "up", type: "test-hostile" },
        { id: "t", type: "test-label", parameters: { label: `{{ ${probeExpression(CHAIN(name))} }}` } },
        { id: "direct", type: "test-label", onError: "continue", parameters: { label: `{{ ${CHAIN(name)} }}` } },
      ],
      edges: ["up -> t", "up -> direct"],
    }, { a: 1 });
    expect(result.nodes.t?.output).toBe("contained");
    expect(JSON.stringify(result.nodes.direct)).not.toContain(String(process.pid));
  });

  test("$item and $index in a loop body, and `if:` expressions", async () => {
    const result = await run({
      nodes: [
        { id: "gate", type: "test-label", if: `typeof ${probeExpression(CHAIN("$vars"))} === "number"`, parameters: { label: "escaped" } },
        { id: "each", type: "loop", parameters: { items: [{ a: 1 }] }, nodes: [{ id: "body", type: "test-label", parameters: { label: `{{ [${probeExpression(CHAIN("$item"))}, ${probeExpression(CHAIN("$index"))}] }}` } }] },
      ],
    });
    expect(result.nodes.gate?.status).toBe("skipped");
    expect(result.nodes.each?.output).toEqual([["contained", "contained"]]);
  });
});

describe("import() never runs", () => {
  test.each([
    "return import('node:process').then((m) => m.default.pid)",
    "return import /* c */ ('fs').catch((e) => e.constructor.constructor('return process')().pid)",
    "return [...import('fs')]",
  ])("%s does not compile", (body) => {
    expect(() => createSandbox().compileBody(body, [], { async: true })).toThrow(expect.objectContaining({ code: "E_CODE", message: expect.stringMatching(/import\(\) is not available in the sandbox/) }));
  });

  test("strings, comments, regular expressions and properties named import are fine", () => {
    const sandbox = createSandbox();
    const fn = sandbox.compileBody("// import('x')\nreturn ['import(\"fs\")', `${'import('}`, /import\\(/.source, data.import].join('|');", ["data"]);
    expect(sandbox.call(fn, [{ import: "prop" }])).toBe('import("fs")|import(|import\\(|prop');
  });
});
