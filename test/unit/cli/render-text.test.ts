import { stripVTControlCharacters } from "node:util";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { RunEvent } from "../../../src/events/event-map.js";
import { createBuiltinCatalog, createCatalog } from "../../../src/nodes/catalog.js";
import { builtinNodes } from "../../../src/nodes/builtin/index.js";
import { defineNode } from "../../../src/nodes/define-node.js";
import { createStyle } from "../../../src/reporters/style.js";
import { describeNode, describeSchemaType, renderNodeDoc, renderNodeTable, type JsonSchemaLike } from "../../../src/cli/render-node-doc.js";
import { renderPlan } from "../../../src/cli/render-plan.js";
import { renderTable } from "../../../src/cli/render-table.js";
import { truncate } from "../../../src/terminal-width.js";
import stringWidth from "string-width";
import { buildTimeline, renderTimeline } from "../../../src/cli/render-timeline.js";
import { parseEventLog } from "../../../src/cli/commands/runs.js";

const plain = createStyle({ interactive: false, color: false, colorLevel: 0, unicode: true, columns: 80 });
const ascii = createStyle({ interactive: false, color: false, colorLevel: 0, unicode: false, columns: 80 });
const colored = createStyle({ interactive: true, color: true, colorLevel: 1, unicode: true, columns: 80 });
const catalog = createBuiltinCatalog();

describe("describeSchemaType", () => {
  test.each<[string, JsonSchemaLike, string]>([
    ["string", { type: "string" }, "string"],
    ["enum", { type: "string", enum: ["a", "b"] }, '"a" | "b"'],
    ["integer range", { type: "integer", minimum: 1, maximum: 9007199254740991 }, "integer ≥ 1"],
    ["union", { anyOf: [{ type: "number" }, { type: "string" }] }, "number | string"],
    ["array of strings", { type: "array", items: { type: "string" } }, "string[]"],
    ["array of a union", { type: "array", items: { type: ["string", "number"] } }, "(string | number)[]"],
    ["record", { type: "object", additionalProperties: { type: "string" } }, "record<string, string>"],
    ["object with properties", { type: "object", properties: { a: {}, b: {} } }, "{ a, b }"],
    ["unknown", { description: "anything" }, "any"],
  ])("%s", (_name, schema, expected) => {
    expect(describeSchemaType(schema)).toBe(expected);
  });

  test("a $ref to a shared definition is followed (every duration parameter is one)", () => {
    const defs = { duration: { anyOf: [{ type: "number", minimum: 0 }, { type: "string" }] } };
    expect(describeSchemaType({ $ref: "#/$defs/duration", default: 1000 }, defs)).toBe("number ≥ 0 | string");
    expect(describeSchemaType({ type: "array", items: { $ref: "#/$defs/duration" } }, defs)).toBe("(number ≥ 0 | string)[]");
    for (const [type, name] of [["delay", "duration"], ["shell-command", "timeout"], ["http-request", "timeout"]] as const) {
      expect(describeNode(catalog.get(type)!, "builtin").parameters.find((p) => p.name === name)?.type, `${type}.${name}`).toBe("number ≥ 0 | string");
    }
  });
});

describe("node docs", () => {
  test("describeNode reads types, defaults, required and docs from the zod schema", () => {
    const doc = describeNode(catalog.get("log")!, "builtin");
    expect(doc.parameters).toEqual([
      { name: "message", type: "any", required: false, description: expect.any(String) },
      { name: "level", type: '"debug" | "info" | "warn" | "error"', required: false, default: "info", description: "Log level" },
    ]);
    const condition = describeNode(catalog.get("condition")!, "builtin");
    expect(condition.parameters[0]).toMatchObject({ name: "expression", type: "string", required: true });
  });

  test("every built-in node documents without throwing and lists its ports", () => {
    for (const def of builtinNodes) {
      const text = renderNodeDoc(describeNode(def, "builtin"), plain, 100);
      expect(text).toContain(`${def.type} — ${def.title}`);
      for (const p of [...def.inputs, ...def.outputs]) expect(text).toContain(`  ${p.id}`);
    }
  });

  test("renderNodeDoc shows parameters, ports, aliases and the example", () => {
    const text = renderNodeDoc(describeNode(catalog.get("spreadsheet")!, "builtin"), plain, 100);
    expect(text).toMatch(/Parameters\n {2}operation +"read" \| "write", default "read"\n/);
    expect(text).toContain("Aliases\n  type        csv-reader → spreadsheet\n  parameters  filePath → path");
    expect(text).toMatch(/Example\n {2}- id: /);
    expect(text).toMatch(/Outputs\n {2}\S+ +\(primary\)/);
  });

  test("the catalog table lists types and aliases, and custom nodes with their source", () => {
    const greet = defineNode({
      type: "greet",
      title: "Greet",
      description: "Say hello",
      category: "custom",
      parameters: z.object({ name: z.string().default("world").describe("Who") }),
      inputs: [{ id: "input" }],
      outputs: [{ id: "output" }],
      execute: () => "hi",
    });
    const withCustom = createCatalog([...builtinNodes.map((definition) => ({ definition, source: "builtin" })), { definition: greet, source: "nodes/greet.ts" }]);
    const text = renderNodeTable(withCustom, plain);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TYPE +CATEGORY +SOURCE +DESCRIPTION$/);
    expect(lines).toHaveLength(builtinNodes.length + 2);
    expect(text).toMatch(/\ngreet +custom +nodes\/greet\.ts +Say hello\n/);
    expect(text).toContain("(alias csv-reader)");
    expect(renderNodeTable(catalog, plain).split("\n")[0]).toMatch(/^TYPE +CATEGORY +DESCRIPTION$/);
  });
});

describe("renderTable", () => {
  test("aligns columns, right-aligns numbers, ignores ANSI in widths and truncates the shrink column", () => {
    const rows = [
      ["a", colored.chalk.green("ok"), "5", "a long description that will not fit"],
      ["bbbb", "failed", "120", "short"],
    ];
    const text = renderTable([{ header: "ID" }, { header: "STATUS" }, { header: "N", align: "right" }, { header: "DESC", shrink: true }], rows, { maxWidth: 40 });
    const lines = stripVTControlCharacters(text).trimEnd().split("\n");
    expect(lines).toEqual(["ID    STATUS    N  DESC", "a     ok        5  a long description t…", "bbbb  failed  120  short"]);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
  });

  test.each([
    ["abc", 5, "abc"],
    ["abcdef", 4, "abc…"],
    ["abcdef", 1, "a"],
  ])("truncate(%j, %d)", (text, width, expected) => {
    expect(truncate(text, width)).toBe(expected);
  });
});

describe("renderPlan", () => {
  test("levels with types, notes and nested bodies", () => {
    const r = loadCompositeFromText(
      `name: p
settings: { concurrency: 3 }
nodes:
  - { id: a, type: log }
  - { id: b, type: delay, retry: 3, timeout: 2s }
  - { id: c, type: log, enabled: false }
  - id: l
    type: loop
    nodes:
      - { id: x, type: log }
      - { id: y, type: log }
    edges: [x -> y]
edges: [a -> b, a -> c, b -> l]
`,
      { catalog },
    );
    expect(r.ok).toBe(true);
    expect(renderPlan(r.composite!, plain)).toBe(
      [
        "Plan for p (4 nodes + 2 in bodies, 3 levels, concurrency 3)",
        "level 0: a (log)",
        "level 1: b (delay) [3 attempts, timeout 2.00s], c (log) [disabled]",
        "level 2: l (loop)",
        "  body of l:",
        "    level 0: x (log)",
        "    level 1: y (log)",
        "dry run: nothing was run or saved",
        "",
      ].join("\n"),
    );
  });
});

describe("timeline", () => {
  const t0 = 1_000_000;
  const events = [
    { type: "run:start", runId: "r", ts: t0, composite: { id: "c", name: "c" }, nodes: [{ id: "a", type: "delay" }, { id: "b", type: "delay" }, { id: "s", type: "log" }], plan: [["a"], ["b"], ["s"]] },
    { type: "node:start", runId: "r", ts: t0, nodeId: "a", attempt: 1 },
    { type: "node:finish", runId: "r", ts: t0 + 500, nodeId: "a", status: "succeeded", durationMs: 500, attempt: 1 },
    { type: "node:start", runId: "r", ts: t0 + 500, nodeId: "b", attempt: 1 },
    { type: "node:finish", runId: "r", ts: t0 + 1000, nodeId: "b", status: "failed", durationMs: 500, attempt: 1, error: { code: "E_NODE", message: "x", retryable: false } },
    { type: "node:finish", runId: "r", ts: t0 + 1000, nodeId: "s", status: "skipped", durationMs: 0, attempt: 0, reason: "upstream failed" },
    { type: "run:finish", runId: "r", ts: t0 + 1000, status: "failed", durationMs: 1000, counts: { succeeded: 1, failed: 1, skipped: 1, cancelled: 0 } },
  ] as RunEvent[];

  test("buildTimeline: spans relative to run start, in start order", () => {
    expect(buildTimeline(events)).toEqual({
      durationMs: 1000,
      spans: [
        { nodeId: "a", start: 0, end: 500, status: "succeeded", iterations: 0 },
        { nodeId: "b", start: 500, end: 1000, status: "failed", iterations: 0 },
        { nodeId: "s", end: 1000, status: "skipped", iterations: 0 },
      ],
    });
  });

  test.each([40, 80, 120])("bars scale to a width of %d", (width) => {
    const lines = renderTimeline(buildTimeline(events), { width, style: plain }).trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
    const bar = (l: string) => {
      const from = l.indexOf("█");
      return { from, len: l.lastIndexOf("█") - from + 1 };
    };
    const a = bar(lines[1]!);
    const b = bar(lines[2]!);
    // a covers the first half, b the second: same length, b starts where a ends.
    expect(Math.abs(a.len - b.len)).toBeLessThanOrEqual(1);
    expect(b.from).toBe(a.from + a.len);
    expect(lines[1]).toMatch(/^a +█+ +500ms$/);
    expect(lines[3]).toMatch(/^s +·/);
  });

  test("node ids of wide characters (CJK, emoji) are cut and padded in terminal columns: the bars line up", () => {
    const ids: Record<string, string> = { a: "取得🚀", b: "変換する処理".repeat(5), s: "s" };
    const wide = events.map((e) => ("nodeId" in e ? { ...e, nodeId: ids[e.nodeId]! } : e)) as RunEvent[];
    const lines = renderTimeline(buildTimeline(wide), { width: 60, style: plain }).trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(stringWidth(l), l).toBeLessThanOrEqual(60);
    expect(lines[2]).toContain("…");
    // a's bar starts at the axis' 0; a's and b's rows (both 500ms) end at the same column.
    const startColumn = (l: string) => stringWidth(l.slice(0, l.search(/[█0]/)));
    expect(startColumn(lines[1]!)).toBe(startColumn(lines[0]!));
    expect(stringWidth(lines[1]!)).toBe(stringWidth(lines[2]!));
  });

  test("ASCII terminals get # and X", () => {
    const text = renderTimeline(buildTimeline(events), { width: 60, style: ascii });
    expect(text).toMatch(/\na +#+ /);
    expect(text).toMatch(/\nb +X+ /);
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
  });

  test("parseEventLog skips torn and foreign lines", () => {
    const text = `${events.map((e) => JSON.stringify(e)).join("\n")}\n{"type":"node:start","runId":"r","ts":1\n{"type":"other","ts":1}\nnot json\n`;
    expect(parseEventLog(text)).toEqual(events);
  });
});
