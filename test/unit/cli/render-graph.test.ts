import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { Composite } from "../../../src/composite/model.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { renderAsciiGraph } from "../../../src/cli/render-ascii-graph.js";
import { renderDot } from "../../../src/cli/render-dot.js";
import { escapeMermaidText, mermaidId, renderMermaid } from "../../../src/cli/render-mermaid.js";
import { checkMermaidFlowchart } from "./mermaid-grammar.js";

const catalog = createBuiltinCatalog();
const ROOT = path.resolve(import.meta.dirname, "../../..");

function load(yaml: string): Composite {
  const r = loadCompositeFromText(yaml, { catalog });
  if (!r.ok || !r.composite) throw new Error(r.problems.map((p) => `${p.code} ${p.message}`).join("\n"));
  return r.composite;
}

const hello = load(readFileSync(path.join(ROOT, "examples/hello.yaml"), "utf8"));

// A condition with both branches, a loop with a body, a node id that is a mermaid keyword, and
// a name full of characters mermaid treats specially.
const BRANCHY = `
name: branchy
nodes:
  - id: start
    type: edit-fields
    parameters: { values: { items: [1, 2, 3] } }
  - id: check
    type: condition
    parameters: { expression: "$input.items.length > 0" }
  - id: each
    type: loop
    parameters: { concurrency: 2 }
    nodes:
      - id: double
        type: code
        parameters: { code: "return $item * 2" }
      - id: end
        type: log
        name: 'Say "done" #1 <b> \`x\` direction LR'
    edges:
      - double -> end
  - id: style-it
    type: log
edges:
  - start -> check
  - check.true -> each
  - check.false -> style-it
`;
const branchy = load(BRANCHY);

describe("renderMermaid", () => {
  test("examples/hello.yaml gives exactly this flowchart", () => {
    expect(renderMermaid(hello, catalog)).toBe(
      [
        "flowchart TD",
        '  n_greet["greet (edit-fields)"]',
        '  n_shout["shout (transform)"]',
        '  n_whisper["whisper (transform)"]',
        '  n_join["join (code)"]',
        "  n_greet --> n_shout",
        "  n_greet --> n_whisper",
        "  n_shout --> n_join",
        "  n_whisper --> n_join",
        "",
      ].join("\n"),
    );
  });

  test.each([
    ["examples/hello.yaml", hello],
    ["a condition with a loop body", branchy],
  ])("%s passes the strict grammar", (_name, composite) => {
    expect(checkMermaidFlowchart(renderMermaid(composite, catalog))).toEqual([]);
  });

  test("draws condition branches with port labels and the loop body as a subgraph", () => {
    const out = renderMermaid(branchy, catalog);
    expect(out).toContain('  n_check -- "true" --> n_each\n');
    expect(out).toContain('  n_check -- "false" --> n_style_it\n');
    expect(out).toMatch(/ {2}subgraph n_each\["each \(loop\)"\]\n {4}n_double\["double \(code\)"\]\n {4}n_end\[.*\]\n {4}n_double --> n_end\n {2}end\n/);
    expect(out).toContain("#quot;done#quot; #35;1 #lt;b#gt; #96;x#96; #100;irection LR");
  });

  test("ids are sanitized and stay unique when sanitizing makes them equal", () => {
    const c = load("nodes:\n  - { id: a-b, type: log }\n  - { id: a_b, type: log }\nedges:\n  - a-b -> a_b\n");
    const out = renderMermaid(c, catalog);
    expect(out).toContain('n_a_b["a-b (log)"]');
    expect(out).toContain('n_a_b_2["a_b (log)"]');
    expect(out).toContain("n_a_b --> n_a_b_2");
    expect(checkMermaidFlowchart(out)).toEqual([]);
  });

  test("any node ids and names give valid syntax (property)", () => {
    // Every id the format allows (letters, digits, `_` and `-`; not `__proto__`).
    const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/).filter((s) => s !== "__proto__");
    fc.assert(
      fc.property(fc.uniqueArray(id, { minLength: 1, maxLength: 8 }), fc.array(fc.string({ maxLength: 30 }), { maxLength: 8 }), (ids, names) => {
        const lines = ids.map((nid, i) => `  - id: ${JSON.stringify(nid)}\n    type: log${names[i] === undefined ? "" : `\n    name: ${JSON.stringify(names[i])}`}`);
        const edges = ids.slice(1).map((nid, i) => `  - { source: ${JSON.stringify(ids[i])}, target: ${JSON.stringify(nid)} }`);
        const c = load(`nodes:\n${lines.join("\n")}\nedges:\n${edges.join("\n") || "  []"}\n`.replace("edges:\n  []", "edges: []"));
        expect(checkMermaidFlowchart(renderMermaid(c, catalog))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  test.each([
    ["end", "n_end"],
    ["style", "n_style"],
    ["a.b c", "n_a_b_c"],
  ])("mermaidId(%j) = %j", (id, expected) => {
    expect(mermaidId(id)).toBe(expected);
  });

  test("escapeMermaidText leaves no quote, newline or stray #", () => {
    expect(escapeMermaidText('a "b"\n#c')).toBe("a #quot;b#quot; #35;c");
  });
});

describe("checkMermaidFlowchart (the grammar itself)", () => {
  const ok = 'flowchart TD\n  n_a["a"]\n  n_b["b"]\n  n_a --> n_b\n';
  test("accepts a valid flowchart", () => {
    expect(checkMermaidFlowchart(ok)).toEqual([]);
  });
  test.each([
    ["a missing header", ok.replace("flowchart TD\n", "")],
    ["a graph header", ok.replace("flowchart", "graph")],
    ["an undeclared id", `${ok}  n_a --> n_c\n`],
    ["a raw quote in a label", ok.replace('n_a["a"]', 'n_a["a"b"]')],
    ["a stray #", ok.replace('n_a["a"]', 'n_a["#1"]')],
    ["a keyword id", ok.replace(/n_a/g, "end")],
    ["a keyword-prefixed id", ok.replace(/n_a/g, "styled")],
    ["an unclosed subgraph", 'flowchart TD\n  subgraph s["s"]\n    n_a["a"]\n'],
    ["an extra end", `${ok}end\n`],
    ["a pipe-style edge label", `${ok}  n_a -->|x| n_b\n`],
    ["a duplicate declaration", `${ok}  n_a["again"]\n`],
    ["a direction statement hidden in a label", ok.replace('n_a["a"]', 'n_a["direction LR"]')],
  ])("rejects %s", (_name, source) => {
    expect(checkMermaidFlowchart(source)).not.toEqual([]);
  });
});

describe("renderDot", () => {
  test("hello is a digraph with quoted ids and plain edges", () => {
    const out = renderDot(hello, catalog);
    expect(out.startsWith('digraph "hello" {\n')).toBe(true);
    expect(out).toContain('  "greet" [label="greet\\n(edit-fields)"];');
    expect(out).toContain('  "whisper" -> "join";');
    expect(out.trimEnd().endsWith("}")).toBe(true);
  });

  test("clusters bodies, labels branches and escapes quotes; braces balance", () => {
    const out = renderDot(branchy, catalog);
    expect(out).toContain('subgraph "cluster_0" {');
    expect(out).toContain('"check" -> "style-it" [label="false"];');
    expect(out).toContain('"each" -> "double" [style=dashed, label="body"];');
    expect(out).toContain('label="Say \\"done\\" #1');
    const stripped = out.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    expect(stripped.split("{").length).toBe(stripped.split("}").length);
  });
});

describe("renderAsciiGraph", () => {
  test("hello by levels, then the edges", () => {
    expect(renderAsciiGraph(hello, catalog, { unicode: true })).toBe(
      [
        "hello: 4 nodes — Greet someone, shout it and whisper it in parallel, then join both.",
        "",
        "level 0  greet (edit-fields)",
        "      ↓",
        "level 1  shout (transform)  whisper (transform)",
        "      ↓",
        "level 2  join (code)",
        "",
        "edges",
        "  greet → shout",
        "  greet → whisper",
        "  shout → join",
        "  whisper → join",
        "",
      ].join("\n"),
    );
  });

  test("plain ASCII: nested body behind a rule, branch ports in shorthand", () => {
    const out = renderAsciiGraph(branchy, catalog, { unicode: false });
    expect(out).toMatch(/^[\x20-\x7e\n]*$/);
    // Counted as validate and run count: top level, then the body nodes apart.
    expect(out.split("\n")[0]).toBe("branchy: 4 nodes + 2 in bodies");
    expect(out).toContain("level 2  each (loop)  style-it (log)\n         | + body of each\n         | level 0  double (code)\n");
    expect(out).toContain("  check.true -> each\n  check.false -> style-it\n");
  });

  test("wraps a wide level to the width", () => {
    const nodes = Array.from({ length: 12 }, (_, i) => `  - { id: node-${i}, type: log }`).join("\n");
    const out = renderAsciiGraph(load(`nodes:\n${nodes}\n`), catalog, { width: 60 });
    const levelLines = out.split("\n").filter((l) => l.includes("node-"));
    expect(levelLines.length).toBeGreaterThan(1);
    for (const l of levelLines) expect(l.length).toBeLessThanOrEqual(60);
    expect(levelLines.join(" ").match(/node-\d+/g)).toHaveLength(12);
  });
});
