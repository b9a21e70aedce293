// A node's parameters belong to one execution (issue 11, defect 1): runs of one loaded composite,
// loop iterations and retry attempts each get their own copy.
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor } from "../../../src/conductor/create-conductor.js";
import { copyParameters } from "../../../src/conductor/resolve-parameters.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { defineNode } from "../../../src/nodes/define-node.js";

/** Appends to its parameters, fails `failFirst` times (retryable), returns what it holds. */
const pushNode = defineNode({
  type: "test-push",
  title: "push",
  description: "test",
  category: "test",
  parameters: z.object({ items: z.array(z.string()).default(["a"]), nested: z.object({ tags: z.array(z.string()) }).default({ tags: [] }), failFirst: z.number().default(0) }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  execute: ({ parameters, attempt }) => {
    parameters.items.push("x");
    parameters.nested.tags.push("t");
    if (attempt <= parameters.failFirst) throw Object.assign(new Error("again"), { retryable: true });
    return { items: parameters.items.length, tags: parameters.nested.tags.length };
  },
});

function load(yaml: string) {
  const catalog = createBuiltinCatalog([{ definition: pushNode, source: "test" }]);
  const loaded = loadCompositeFromText(yaml, { catalog, file: "params.yaml" });
  if (!loaded.ok || !loaded.composite) throw new Error(JSON.stringify(loaded.problems));
  return { conductor: createConductor({ nodes: catalog }), composite: loaded.composite };
}

describe("parameters per execution", () => {
  test("three runs of one loaded composite each start from the YAML's parameters", async () => {
    const { conductor, composite } = load(`
nodes:
  - { id: given, type: test-push, parameters: { items: [a, b] } }
  - { id: templated, type: test-push, parameters: { items: ["{{ $input }}"] } }
  - { id: defaulted, type: test-push }
`);
    const outputs = [];
    for (let run = 0; run < 3; run++) outputs.push((await conductor.execute({ composite, input: "i" })).output);
    const once = { given: { items: 3, tags: 1 }, templated: { items: 2, tags: 1 }, defaulted: { items: 2, tags: 1 } };
    expect(outputs).toEqual([once, once, once]);
    expect(composite.nodes[0]!.parameters).toEqual({ items: ["a", "b"] });
  });

  test("every loop iteration and every retry attempt starts from the same parameters", async () => {
    const { conductor, composite } = load(`
nodes:
  - id: each
    type: loop
    parameters: { items: [1, 2, 3] }
    nodes:
      - { id: p, type: test-push, retry: { attempts: 3, delay: 0 }, parameters: { failFirst: 2 } }
`);
    const result = await conductor.execute({ composite });
    expect(result.status).toBe("succeeded");
    expect(result.output).toEqual([1, 2, 3].map(() => ({ items: 2, tags: 1 })));
  });

  test("copyParameters copies plain data all the way down and keeps other values", () => {
    const date = new Date(0);
    const instance = new URL("https://example.com/");
    const source = JSON.parse('{"list":[{"a":1}],"__proto__":{"polluted":true}}') as Record<string, unknown>;
    Object.assign(source, { date, instance });
    const copy = copyParameters(source) as Record<string, any>;
    expect(copy).not.toBe(source);
    expect(copy.list).toEqual([{ a: 1 }]);
    expect(copy.list).not.toBe(source.list);
    expect(copy.list[0]).not.toBe((source.list as unknown[])[0]);
    expect(copy.date).toEqual(date);
    expect(copy.date).not.toBe(date);
    expect(copy.instance).toBe(instance);
    // A "__proto__" key stays data: the copy's prototype is untouched.
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toContain("__proto__");
    expect(copy.polluted).toBeUndefined();
  });
});

describe("validation's parse is the run's", () => {
  let parses = 0;
  const counted = defineNode({
    type: "test-counted",
    title: "counted",
    description: "test",
    category: "test",
    parameters: z.object({ n: z.number().transform((n) => (parses++, n * 2)) }),
    inputs: [{ id: "input" }],
    outputs: [{ id: "output" }],
    execute: ({ parameters }) => parameters.n,
  });

  test("parameters without templates are parsed once, by validation, for every run", async () => {
    parses = 0;
    const catalog = createBuiltinCatalog([{ definition: counted, source: "test" }]);
    const loaded = loadCompositeFromText("nodes:\n  - { id: c, type: test-counted, parameters: { n: 21 } }\n", { catalog });
    expect(loaded.ok).toBe(true);
    expect(parses).toBe(1);
    const conductor = createConductor({ nodes: catalog });
    for (let run = 0; run < 3; run++) expect((await conductor.execute({ composite: loaded.composite! })).output).toBe(42);
    expect(parses).toBe(1);
  });

  test("a conductor whose catalog has another definition of the type parses with its own", async () => {
    parses = 0;
    const loaded = loadCompositeFromText("nodes:\n  - { id: c, type: test-counted, parameters: { n: 21 } }\n", { catalog: createBuiltinCatalog([{ definition: counted, source: "test" }]) });
    const other = defineNode({ ...counted, parameters: z.object({ n: z.number().transform((n) => n + 1) }) });
    const result = await createConductor({ nodes: createBuiltinCatalog([{ definition: other, source: "test" }]) }).execute({ composite: loaded.composite! });
    expect(result.output).toBe(22);
  });
});
