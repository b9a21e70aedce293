import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { loadComposite, loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { CompositeBody, CompositeEdge, CompositeNode } from "../../../src/composite/model.js";
import type { Problem } from "../../../src/composite/problem.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/composite");
const text = (...lines: string[]): string => `${lines.join("\n")}\n`;
const edgeText = (e: CompositeEdge): string => `${e.source}.${e.sourcePort} -> ${e.target}.${e.targetPort}`;
const where = (p: Problem): string => `${p.code} ${p.line}:${p.col}`;
const byId = (body: CompositeBody, id: string): CompositeNode => {
  const node = body.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node ${id} in ${body.nodes.map((n) => n.id).join(", ")}`);
  return node;
};

describe("composite era (root `type: composite`)", async () => {
  const result = await loadComposite(path.join(FIXTURES, "composite-era-mini.yaml"));
  const c = result.composite!;

  test("loads with no problem: metadata, category, ports, position, width/height and settings.ui are accepted", () => {
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(c.dialect).toBe("composite-era");
    expect(c).toMatchObject({ id: "composite-mini", name: "Composite era mini", version: "1.0.0" });
  });

  test("the `csv-reader` type alias becomes `spreadsheet`", () => {
    expect(byId(c, "source").type).toBe("spreadsheet");
  });

  test("values come from data:, descriptors unwrap to their default, descriptors without one are dropped", () => {
    // hasHeaders: descriptor default; delimiter: data wins over the descriptor's default;
    // trim: descriptor without default → absent; encoding: a plain parameters: value loses to data:.
    expect(byId(c, "source").parameters).toEqual({ hasHeaders: true, delimiter: ";", path: "/data/sample.csv" });
    expect(byId(c, "save").parameters).toEqual({ operation: "write", overwrite: true, path: "/output/results.json", createDirectories: true });
  });

  test("customLabel and lastModified are removed from data:", () => {
    expect(byId(c, "source").parameters).not.toHaveProperty("customLabel");
    expect(byId(c, "source").parameters).not.toHaveProperty("lastModified");
  });

  test("parameter problems point into data:", () => {
    expect(byId(c, "source").parametersPath).toEqual(["nodes", 0, "data"]);
  });

  test("settings.runtime.timeout becomes settings.timeout; variables.*.defaultValue becomes default", () => {
    expect(c.settings).toEqual({ timeout: 30_000 });
    expect(c.variables).toEqual({ inputPath: { type: "string", default: "/data/sample.csv", description: "Path to input CSV file" } });
  });

  test("sourceHandle (a port alias) and targetHandle: input become the nodes' ports", () => {
    expect(c.edges.map(edgeText)).toEqual(["source.output -> save.input"]);
    expect(c.edges[0]?.id).toBe("source-to-save");
  });

  test("a node with data: or position: marks a file without a root type as an editor file", () => {
    const r = loadCompositeFromText(
      text(
        "nodes:",
        "  - id: a",
        "    type: log",
        "    parameters: { level: { type: string, default: warn, control: select } }",
        "    position: { x: 1, y: 2 }",
      ),
    );
    expect(r.problems).toEqual([]);
    expect(r.composite?.dialect).toBe("composite-era");
    expect(r.composite?.nodes[0]?.parameters).toEqual({ level: "warn" });
  });
});

describe("flow era (root `type: group`)", async () => {
  const result = await loadComposite(path.join(FIXTURES, "flow-era-mini.yaml"));
  const c = result.composite!;

  test("loads with no problem", () => {
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(c.dialect).toBe("flow-era");
  });

  test("values come from parameters:, filePath becomes path", () => {
    expect(byId(c, "write").parameters).toEqual({ operation: "write", content: "{{$input}}", createDirectories: true, path: ".tmp/out.txt" });
    expect(byId(c, "write").parametersPath).toEqual(["nodes", 2, "parameters"]);
  });

  test("edit-fields `values` objects are values, not descriptors", () => {
    expect(byId(c, "message").parameters).toEqual({
      values: { message: "Hello World from Atomiton!", description: "A simple example", timestamp: "{{$now}}" },
      keepOnlySet: true,
    });
    expect(byId(c, "tag").parameters).toEqual({
      values: { type: "greeting", description: "only descriptor-like keys", label: "but no default or control" },
    });
  });

  test("handles `default` resolve to the primary ports", () => {
    expect(c.edges.map(edgeText)).toEqual(["message.output -> tag.input", "tag.output -> write.input"]);
  });
});

describe("editor edges: handles resolve to ports", () => {
  const flow = (sourceType: string, handles: string) =>
    loadCompositeFromText(
      text(
        "type: group",
        "nodes:",
        `  - { id: a, type: ${sourceType} }`,
        "  - { id: b, type: log }",
        "edges:",
        `  - { id: e, source: a, target: b, ${handles} }`,
      ),
      { file: "flow.yaml" },
    );

  test.each([
    ["log", "sourceHandle: output, targetHandle: input", "a.output -> b.input"],
    ["log", "sourceHandle: default, targetHandle: default", "a.output -> b.input"],
    ["log", "sourceHandle: result, targetHandle: trigger", "a.output -> b.input"],
    ["loop", "sourceHandle: output", "a.results -> b.input"],
    ["loop", "sourceHandle: complete", "a.results -> b.input"],
    ["loop", "sourceHandle: results", "a.results -> b.input"],
    ["spreadsheet", "sourceHandle: data", "a.output -> b.input"],
    ['condition, parameters: { expression: "true" }', 'sourceHandle: "false"', "a.false -> b.input"],
    ["log", "", "a.output -> b.input"],
  ])("%s with %s → %s", (type, handles, expected) => {
    const r = flow(type, handles);
    expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(r.composite?.edges.map(edgeText)).toEqual([expected]);
  });

  test("an unknown handle in an editor file is a located warning and falls back to the primary port", () => {
    const r = flow("log", "sourceHandle: sideways");
    expect(r.ok).toBe(true);
    expect(r.problems.map(where)).toEqual(["W_PORT 6:5"]);
    expect(r.problems[0]?.message).toContain('log has no output port "sideways"; using its primary port "output"');
    expect(r.composite?.edges.map(edgeText)).toEqual(["a.output -> b.input"]);
  });
});

describe("editor leftovers", () => {
  test("W_UNKNOWN_PARAM: a parameter the node does not use is a located warning and is dropped", () => {
    const r = loadCompositeFromText(
      text(
        "type: group",
        "nodes:",
        "  - id: shout",
        "    type: log",
        "    parameters:",
        "      message: hi",
        "      colour: red",
      ),
      { file: "flow.yaml" },
    );
    expect(r.ok).toBe(true);
    expect(r.problems.map(where)).toEqual(["W_UNKNOWN_PARAM 7:7"]);
    expect(r.problems[0]).toMatchObject({ severity: "warning", file: "flow.yaml", path: "nodes[0].parameters.colour" });
    expect(r.problems[0]?.message).toBe('node "shout": parameter `colour` is not used by log and is ignored');
    expect(r.composite?.nodes[0]?.parameters).toEqual({ message: "hi" });
  });

  test("W_UNKNOWN_PARAM inside data: points at the data: key", () => {
    const r = loadCompositeFromText(
      text("type: composite", "nodes:", "  - id: shout", "    type: log", "    data:", "      level: warn", "      volume: 11"),
      { file: "flow.yaml" },
    );
    expect(r.problems.map(where)).toEqual(["W_UNKNOWN_PARAM 7:7"]);
    expect(r.problems[0]?.path).toBe("nodes[0].data.volume");
  });

  test("W_EDITOR_SETTING: settings.runtime keys other than timeout are ignored with a located warning", () => {
    const r = loadCompositeFromText(
      text("type: group", "nodes: []", "settings:", "  runtime:", "    timeout: 60000", "    parallel: true", "  ui:", '    color: "#9C27B0"'),
      { file: "flow.yaml" },
    );
    expect(r.ok).toBe(true);
    expect(r.problems.map(where)).toEqual(["W_EDITOR_SETTING 6:5"]);
    expect(r.problems[0]?.message).toBe("settings.runtime.parallel is an editor setting and is ignored");
    expect(r.composite?.settings).toEqual({ timeout: 60_000 });
  });

  test("settings.timeout wins over settings.runtime.timeout", () => {
    const r = loadCompositeFromText(text("type: group", "nodes: []", "settings:", "  timeout: 5s", "  runtime:", "    timeout: 60000"));
    expect(r.composite?.settings.timeout).toBe(5000);
  });

  test("when both filePath and path are set, path wins", () => {
    const r = loadCompositeFromText(
      text("type: group", "nodes:", "  - id: f", "    type: file-system", "    parameters: { operation: read, filePath: a.txt, path: b.txt }"),
    );
    expect(r.ok).toBe(true);
    expect(r.composite?.nodes[0]?.parameters).toEqual({ operation: "read", path: "b.txt" });
  });
});

describe("editor loop bodies: nodes hanging off a loop's item port move into its body", () => {
  test("a small flow-era loop", () => {
    const r = loadCompositeFromText(
      text(
        "type: group",
        "nodes:",
        "  - { id: list, type: file-system, parameters: { operation: list, path: . } }",
        "  - { id: each, type: loop }",
        "  - { id: resize, type: log }",
        "  - { id: save, type: log }",
        "  - { id: done, type: log }",
        "edges:",
        "  - { source: list, target: each, sourceHandle: output, targetHandle: input }",
        "  - { source: each, target: resize, sourceHandle: item, targetHandle: input }",
        "  - { source: resize, target: save, sourceHandle: output, targetHandle: input }",
        "  - { source: each, target: done, sourceHandle: complete, targetHandle: input }",
      ),
    );
    expect(r.problems).toEqual([]);
    const c = r.composite!;
    expect(c.nodes.map((n) => n.id)).toEqual(["list", "each", "done"]);
    expect(c.edges.map(edgeText)).toEqual(["list.output -> each.input", "each.results -> done.input"]);
    const each = byId(c, "each");
    expect(each.body?.nodes.map((n) => n.id)).toEqual(["resize", "save"]);
    expect(each.body?.edges.map(edgeText)).toEqual(["resize.output -> save.input"]);
  });

  test("the concise form never moves nodes (a loop there declares its body with nodes:)", () => {
    const r = loadCompositeFromText(
      text("nodes:", "  - { id: each, type: loop, nodes: [{ id: inner, type: log }] }", "  - { id: after, type: log }", "edges:", "  - each -> after"),
    );
    expect(r.ok).toBe(true);
    expect(r.composite?.nodes.map((n) => n.id)).toEqual(["each", "after"]);
    expect(r.composite?.nodes[0]?.body?.nodes.map((n) => n.id)).toEqual(["inner"]);
  });
});
