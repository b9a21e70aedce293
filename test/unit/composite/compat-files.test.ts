import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { displayName, loadComposite, type LoadResult } from "../../../src/composite/load-composite.js";
import type { CompositeBody, CompositeEdge, CompositeNode } from "../../../src/composite/model.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const COMPAT = path.resolve(ROOT, "../shared/compat/atomiton");
const edgeText = (e: CompositeEdge): string => `${e.source}.${e.sourcePort} -> ${e.target}.${e.targetPort}`;
const byId = (body: CompositeBody, id: string): CompositeNode => {
  const node = body.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node ${id} in ${body.nodes.map((n) => n.id).join(", ")}`);
  return node;
};
const load = (file: string): Promise<LoadResult> => loadComposite(path.join(COMPAT, file));

const FILES = [
  ["composite-era/hello-world.yaml", "composite-era"],
  ["composite-era/data-transform.yaml", "composite-era"],
  ["composite-era/image-processor.yaml", "composite-era"],
  ["flow-era/hello-world.flow.yaml", "flow-era"],
  ["flow-era/data-transform.flow.yaml", "flow-era"],
  ["flow-era/image-processor.flow.yaml", "flow-era"],
] as const;

describe.skipIf(!existsSync(COMPAT))("real Atomiton editor files (skipped when ../shared/compat/atomiton is absent)", () => {
  test.each(FILES)("%s loads with ok=true as %s; every warning is located", async (file, dialect) => {
    const result = await load(file);
    expect(result.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.composite?.dialect).toBe(dialect);
    for (const p of result.problems) {
      expect(p.severity).toBe("warning");
      expect(p.file).toBe(displayName(path.join(COMPAT, file)));
      expect(p.line).toBeGreaterThan(1);
      expect(p.col).toBeGreaterThanOrEqual(1);
    }
  });

  test.each([
    ["composite-era/image-processor.yaml", 548],
    ["flow-era/image-processor.flow.yaml", 339],
  ])("%s: settings.runtime.parallel is W_EDITOR_SETTING at line %i", async (file, line) => {
    const result = await load(file);
    expect(result.problems.map((p) => `${p.code} ${p.line}:${p.col}`)).toContain(`W_EDITOR_SETTING ${line}:5`);
  });

  test("composite-era/hello-world: data: values, descriptors ignored, runtime timeout, defaultValue", async () => {
    const c = (await load("composite-era/hello-world.yaml")).composite!;
    expect(c.settings).toEqual({ timeout: 5000 });
    expect(c.variables.greeting).toEqual({ type: "string", default: "Hello, World!", description: "The greeting message to display" });
    expect(byId(c, "greeting-code").parameters).toEqual({
      code: "// Greeting function\nconst greeting = 'Hello, World!';\nreturn { message: greeting };",
      inputParams: "data",
      returnType: "object",
      async: false,
    });
    expect(byId(c, "display-transform").parameters).toMatchObject({ expression: "// Transform to uppercase\nreturn data.message.toUpperCase();" });
    expect(c.edges.map(edgeText)).toEqual(["greeting-code.output -> display-transform.input"]);
  });

  test.each(["composite-era/data-transform.yaml", "flow-era/data-transform.flow.yaml"])(
    "%s: csv-reader is a spreadsheet, filePath is path, the chain is linear",
    async (file) => {
      const c = (await load(file)).composite!;
      const csv = byId(c, "csv-source");
      expect(csv.type).toBe("spreadsheet");
      expect(csv.parameters).toMatchObject({ path: "/data/sample.csv", hasHeaders: true, delimiter: "," });
      expect(csv.parameters).not.toHaveProperty("filePath");
      expect(csv.parameters).not.toHaveProperty("customLabel");
      expect(byId(c, "output-file").parameters).toMatchObject({ operation: "write", path: "/output/results.json" });
      expect(c.settings.timeout).toBe(30_000);
      expect(c.edges.map(edgeText)).toEqual([
        "csv-source.output -> filter-transform.input",
        "filter-transform.output -> aggregate-code.input",
        "aggregate-code.output -> output-file.input",
      ]);
    },
  );

  test("flow-era/hello-world: edit-fields `values` stays an object of values", async () => {
    const c = (await load("flow-era/hello-world.flow.yaml")).composite!;
    expect(byId(c, "create-message").parameters).toEqual({
      values: {
        message: "Hello World from Atomiton!",
        description: "This is a simple example showing how Flow nodes work together.",
        timestamp: "{{$now}}",
        author: "Atomiton Flow System",
      },
      keepOnlySet: true,
    });
    expect(byId(c, "write-to-file").parameters).toMatchObject({ path: ".tmp/hello-world-output.txt", content: "{{$input}}" });
  });

  test.each(["composite-era/image-processor.yaml", "flow-era/image-processor.flow.yaml"])(
    "%s: the nodes behind the loop's item port form its body",
    async (file) => {
      const c = (await load(file)).composite!;
      expect(c.nodes.map((n) => n.id)).toEqual(["image-source", "image-loop"]);
      expect(c.edges.map(edgeText)).toEqual(["image-source.output -> image-loop.input"]);
      const loop = byId(c, "image-loop");
      expect(loop.body?.nodes.map((n) => n.id)).toEqual(["parallel-processor", "image-resize", "image-watermark", "save-processed"]);
      expect(loop.body?.edges.map(edgeText)).toEqual([
        "parallel-processor.output -> image-resize.input",
        "image-resize.output -> image-watermark.input",
        "image-watermark.output -> save-processed.input",
      ]);
      expect(byId(loop.body!, "image-resize").type).toBe("image");
      expect(byId(loop.body!, "image-watermark").parameters).toMatchObject({ operation: "watermark", watermarkPath: "/assets/watermark.png" });
      expect(byId(c, "image-source").parameters).toMatchObject({ operation: "list", path: "/images/input", pattern: "*.{jpg,png,gif}" });
      expect(loop.parameters).toMatchObject({ iterateOver: "files", breakOnError: false });
    },
  );
});
