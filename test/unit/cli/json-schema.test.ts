import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { createCompositeJsonSchema, createConciseSchema, renderCompositeJsonSchema } from "../../../src/composite/json-schema.js";
import { createBuiltinCatalog, createCatalog } from "../../../src/nodes/catalog.js";
import { builtinNodes } from "../../../src/nodes/builtin/index.js";
import { defineNode } from "../../../src/nodes/define-node.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const concise = createConciseSchema();
const accepts = (yaml: string) => concise.safeParse(parseYaml(yaml)).success;

describe("the JSON Schema of the concise format", () => {
  test("schema/composite.json is the generated schema (regenerate: node bin/atomiton.js schema -o schema/composite.json)", () => {
    const committed = readFileSync(path.join(ROOT, "schema/composite.json"), "utf8");
    expect(committed).toBe(renderCompositeJsonSchema(createBuiltinCatalog()));
  });

  test("is draft 2020-12 with a node definition per built-in type plus custom types", () => {
    const schema = createCompositeJsonSchema() as { $schema: string; $defs: { node: { anyOf: { properties: { type: { enum?: string[] } } }[] } } };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    const types = schema.$defs.node.anyOf.flatMap((m) => m.properties.type.enum ?? ["<custom>"]);
    for (const def of builtinNodes) expect(types).toContain(def.type);
    expect(types).toContain("<custom>");
  });

  test("examples/hello.yaml and the scaffold satisfy it", async () => {
    expect(accepts(readFileSync(path.join(ROOT, "examples/hello.yaml"), "utf8"))).toBe(true);
    const { SCAFFOLD } = await import("../../../src/cli/commands/init.js");
    expect(accepts(SCAFFOLD.find((f) => f.file === "flow.yaml")!.text)).toBe(true);
  });

  test.each([
    ["a typo in a top-level key", "nodse: []\nnodes: []", false],
    ["a typo in a node key", "nodes:\n  - { id: a, type: log, paramters: {} }", false],
    ["an unknown parameter of a built-in", "nodes:\n  - { id: a, type: log, parameters: { mesage: hi } }", false],
    ["a wrong enum value", "nodes:\n  - { id: a, type: log, parameters: { level: loud } }", false],
    ["a bad node id", "nodes:\n  - { id: 'a b', type: log }", false],
    ["a bad duration", "nodes:\n  - { id: a, type: log, timeout: fast }", false],
    ["a template where a number goes", "nodes:\n  - { id: a, type: loop, parameters: { count: '{{ $vars.n }}' } }", true],
    ["an alias type and alias parameter", "nodes:\n  - { id: a, type: csv-reader, parameters: { filePath: x.csv } }", true],
    ["a custom type with any parameters", "nodes:\n  - { id: a, type: greet, parameters: { anything: 1 } }", true],
    ["a loop body and edge shorthand", "nodes:\n  - id: l\n    type: loop\n    nodes:\n      - { id: b, type: log }\n      - { id: c, type: log }\n    edges: [b -> c]\nedges: []", true],
    ["a retry policy and durations", "settings: { timeout: 2m, concurrency: 4 }\nnodes:\n  - { id: a, type: delay, retry: { attempts: 3, delay: 500ms, backoff: exponential }, timeout: 10s }", true],
  ])("%s → valid: %s", (_name, yaml, valid) => {
    expect(accepts(yaml)).toBe(valid);
  });

  test("custom nodes passed in get their own parameter schema", () => {
    const greet = defineNode({
      type: "greet",
      title: "Greet",
      description: "Say hello",
      category: "custom",
      parameters: z.object({ name: z.string().describe("Who") }),
      inputs: [{ id: "input" }],
      outputs: [{ id: "output" }],
      execute: () => "hi",
    });
    const catalog = createCatalog([...builtinNodes.map((definition) => ({ definition, source: "builtin" })), { definition: greet, source: "nodes/greet.ts" }]);
    const schema = createConciseSchema(catalog);
    expect(schema.safeParse({ nodes: [{ id: "a", type: "greet", parameters: { name: "x" } }] }).success).toBe(true);
    expect(schema.safeParse({ nodes: [{ id: "a", type: "greet", parameters: { nme: "x" } }] }).success).toBe(false);
  });
});
