import { describe, expect, test } from "vitest";
import { renderCodeFrame } from "../../../src/composite/code-frame.js";
import { isDescriptor, resolveParameterValues } from "../../../src/composite/descriptors.js";
import { parseDuration } from "../../../src/js/duration.js";
import { adjacency, findCycle } from "../../../src/composite/find-cycle.js";
import { computeLevels } from "../../../src/composite/levels.js";
import { detectDialect } from "../../../src/composite/normalize.js";
import { parseEdgeShorthand } from "../../../src/composite/parse-edge.js";
import { formatLocation, formatPath, makeProblem, sortProblems } from "../../../src/composite/problem.js";
import { didYouMean, editDistance, suggest } from "../../../src/composite/suggest.js";

/** findCycle over ids: edges as `"a>b"` pairs (an edge to an undeclared id is left out, as validation does). */
function cycleOf(ids: string[], edges: string[]): string[] | undefined {
  const index = new Map(ids.map((id, i) => [id, i]));
  const pairs = edges.map((e) => e.split(">").map((id) => index.get(id))).filter((p): p is [number, number] => p[0] !== undefined && p[1] !== undefined);
  const { start, list } = adjacency(ids.length, pairs.map((p) => p[0]), pairs.map((p) => p[1]), pairs.length);
  return findCycle(ids.length, start, list)?.map((i) => ids[i]!);
}

describe("findCycle", () => {
  test.each([
    { name: "empty graph", ids: [], edges: [], cycle: undefined },
    { name: "single node", ids: ["a"], edges: [], cycle: undefined },
    { name: "chain", ids: ["a", "b", "c"], edges: ["a>b", "b>c"], cycle: undefined },
    { name: "diamond", ids: ["a", "b", "c", "d"], edges: ["a>b", "a>c", "b>d", "c>d"], cycle: undefined },
    { name: "self loop", ids: ["a"], edges: ["a>a"], cycle: ["a", "a"] },
    { name: "two-node cycle", ids: ["a", "b"], edges: ["a>b", "b>a"], cycle: ["a", "b", "a"] },
    { name: "three-node cycle", ids: ["a", "b", "c"], edges: ["a>b", "b>c", "c>a"], cycle: ["a", "b", "c", "a"] },
    { name: "cycle after a tail", ids: ["s", "a", "b", "c"], edges: ["s>a", "a>b", "b>c", "c>a"], cycle: ["a", "b", "c", "a"] },
    { name: "cycle in a later component", ids: ["x", "y", "p", "q"], edges: ["x>y", "p>q", "q>p"], cycle: ["p", "q", "p"] },
    { name: "cycle through a second successor", ids: ["a", "b", "c", "d"], edges: ["a>b", "a>c", "c>d", "d>a"], cycle: ["a", "c", "d", "a"] },
    { name: "the same edge twice", ids: ["a", "b"], edges: ["a>b", "a>b"], cycle: undefined },
    { name: "edge to an undeclared id", ids: ["a"], edges: ["a>ghost"], cycle: undefined },
  ])("$name", ({ ids, edges, cycle }) => {
    expect(cycleOf(ids, edges)).toEqual(cycle);
  });

  test("handles a 50 000-node chain without blowing the stack", () => {
    const n = 50_000;
    const ids = Array.from({ length: n }, (_, i) => `n${i}`);
    const edges = ids.slice(0, -1).map((id, i) => `${id}>n${i + 1}`);
    expect(cycleOf(ids, edges)).toBeUndefined();
    const cycle = cycleOf(ids, [...edges, `n${n - 1}>n0`]);
    expect(cycle).toHaveLength(n + 1);
    expect(cycle?.[0]).toBe("n0");
    expect(cycle?.at(-1)).toBe("n0");
  });
});

describe("computeLevels", () => {
  test.each([
    { name: "no nodes", count: 0, succ: [], levels: [] },
    { name: "independent nodes share level 0", count: 3, succ: [[], [], []], levels: [[0, 1, 2]] },
    { name: "chain", count: 3, succ: [[1], [2], []], levels: [[0], [1], [2]] },
    { name: "diamond", count: 4, succ: [[1, 2], [3], [3], []], levels: [[0], [1, 2], [3]] },
    { name: "waits for its slowest parent", count: 4, succ: [[1, 3], [2], [3], []], levels: [[0], [1], [2], [3]] },
    { name: "declaration order inside a level", count: 4, succ: [[3], [], [], [2, 1]], levels: [[0], [3], [1, 2]] },
  ])("$name", ({ count, succ, levels }) => {
    expect(computeLevels(count, succ)).toEqual(levels);
  });

  test("leaves the nodes of a cycle out (callers check for cycles first)", () => {
    expect(computeLevels(3, [[1], [2], [1]])).toEqual([[0]]);
  });
});

describe("editDistance", () => {
  test.each([
    ["", "", 0],
    ["abc", "", 3],
    ["", "abc", 3],
    ["abc", "abc", 0],
    ["kitten", "sitting", 3],
    ["htp-request", "http-request", 1],
    ["flaw", "lawn", 2],
    ["abc", "acb", 1],
    ["nmae", "name", 1],
    ["ca", "abc", 3],
  ])("%j ↔ %j = %i", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe("suggest / didYouMean", () => {
  const types = ["http-request", "file-system", "transform", "edit-fields", "log", "loop", "delay"];
  test.each([
    ["htp-request", types, "http-request"],
    ["HTTP-Request", types, "http-request"],
    ["transfrom", types, "transform"],
    ["file", types, "file-system"],
    // A typo in the first part of a compound name (it found nothing: the whole name is too far).
    ["htpp", types, "http-request"],
    ["fiel", types, "file-system"],
    ["lgo", types, "log"],
    ["nmae", ["id", "name", "type"], "name"],
    ["timout", ["timeout", "retry"], "timeout"],
    ["paramters", ["parameters", "data"], "parameters"],
    ["zzzzzzzz", types, undefined],
    ["completely-unrelated", types, undefined],
    ["x", [], undefined],
  ])("suggest(%j) = %j", (word, candidates, expected) => {
    expect(suggest(word, candidates)).toBe(expected);
  });

  test("didYouMean formats a hint, or returns an empty string", () => {
    expect(didYouMean("htp-request", types)).toBe('did you mean "http-request"?');
    expect(didYouMean("zzzzzzzz", types)).toBe("");
  });

  test("prefers the closest of several candidates", () => {
    expect(suggest("dela", ["data", "delay"])).toBe("delay");
    expect(suggest("dealy", ["data", "delay"])).toBe("delay");
    expect(suggest("parameter", ["parallel", "parameters"])).toBe("parameters");
  });
});

describe("parseDuration", () => {
  test.each([
    [500, 500],
    [0, 0],
    [1.5, 1.5],
    ["500", 500],
    ["250ms", 250],
    ["30s", 30_000],
    ["1.5s", 1500],
    ["2m", 120_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    [" 30s ", 30_000],
    ["2 m", 120_000],
  ])("%j → %j ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  test.each([["fast"], [""], ["1d"], ["5M"], ["-1s"], [-1], [Number.NaN], [Number.POSITIVE_INFINITY], [null], [undefined], [true], [{}], [[]], ["1s2"]])(
    "%j is not a duration",
    (input) => {
      expect(parseDuration(input)).toBeUndefined();
    },
  );
});

describe("parseEdgeShorthand", () => {
  test.each([
    ["a -> b", { source: "a", target: "b" }],
    ["a->b", { source: "a", target: "b" }],
    ["  a   ->   b  ", { source: "a", target: "b" }],
    ["fetch-data -> write_out", { source: "fetch-data", target: "write_out" }],
    ["a.out -> b.in", { source: "a", sourcePort: "out", target: "b", targetPort: "in" }],
    ["a.x->b.y", { source: "a", sourcePort: "x", target: "b", targetPort: "y" }],
    ["check.true -> next", { source: "check", sourcePort: "true", target: "next" }],
    ["fetch -> write.content", { source: "fetch", target: "write", targetPort: "content" }],
    ["n1-2 -> n-3", { source: "n1-2", target: "n-3" }],
  ])("%j", (text, ends) => {
    expect(parseEdgeShorthand(text)).toEqual(ends);
  });

  test.each([["a"], ["a -> "], [" -> b"], ["a -> b -> c"], ["a b -> c"], ["a. -> b"], ["a -> .b"], ["a => b"], [""]])("%j is rejected", (text) => {
    expect(parseEdgeShorthand(text)).toBeUndefined();
  });
});

describe("renderCodeFrame", () => {
  const source = ["line one", "line two", "  bad: here", "line four", "line five", "line six"].join("\n");

  /** The column of the caret in the frame, relative to the start of the code (after `| `). */
  function caretUnder(frame: string): { marked: string; caretColumn: number; codeLine: string } {
    const rows = frame.split("\n");
    const markedIndex = rows.findIndex((r) => r.startsWith(">"));
    const marked = rows[markedIndex]!;
    const caretRow = rows[markedIndex + 1]!;
    const codeStart = marked.indexOf("| ") + 2;
    return { marked, codeLine: marked.slice(codeStart), caretColumn: caretRow.indexOf("^") - codeStart + 1 };
  }

  test.each([
    { line: 3, col: 3, under: "b" },
    { line: 3, col: 8, under: "h" },
    { line: 1, col: 1, under: "l" },
    { line: 6, col: 6, under: "s" },
  ])("caret at $line:$col sits under $under", ({ line, col, under }) => {
    const frame = renderCodeFrame(source, line, col);
    const { marked, codeLine, caretColumn } = caretUnder(frame);
    expect(marked).toContain(`${line} | `);
    expect(caretColumn).toBe(col);
    expect(codeLine[caretColumn - 1]).toBe(under);
  });

  test("shows two lines of context either side by default, clipped at the file's edges", () => {
    expect(renderCodeFrame(source, 3, 3)).toBe(
      ["  1 | line one", "  2 | line two", "> 3 |   bad: here", "    |   ^", "  4 | line four", "  5 | line five"].join("\n"),
    );
    expect(renderCodeFrame(source, 1, 1, { context: 1 })).toBe(["> 1 | line one", "    | ^", "  2 | line two"].join("\n"));
  });

  test("pads the gutter to the widest line number", () => {
    const long = Array.from({ length: 12 }, (_, i) => `l${i + 1}`).join("\n");
    expect(renderCodeFrame(long, 10, 2, { context: 1 })).toBe(["   9 | l9", "> 10 | l10", "     |  ^", "  11 | l11"].join("\n"));
  });

  test("handles CRLF line endings", () => {
    expect(renderCodeFrame("a: 1\r\nb: 2\r\n", 2, 4, { context: 0 })).toBe(["> 2 | b: 2", "    |    ^"].join("\n"));
  });

  test("keeps the caret under the column when tabs come before it", () => {
    const frame = renderCodeFrame("key:\tvalue", 1, 6, { context: 0 });
    const { codeLine, caretColumn } = caretUnder(frame);
    expect(codeLine[caretColumn - 1]).toBe("v");
  });

  test("decorates with mark and dim", () => {
    const frame = renderCodeFrame("a\nb\nc", 2, 1, { context: 1, mark: (s) => `<${s}>`, dim: (s) => `~${s}~` });
    expect(frame).toBe(["~  1 | a~", "<>> 2 | b", "    | <^>", "~  3 | c~"].join("\n"));
  });
});

describe("descriptors", () => {
  test.each([
    [{ type: "string", default: "x", control: "text" }, true],
    [{ type: "string", required: true, control: "file-picker", fileTypes: [".csv"] }, true],
    [{ type: "boolean", default: false }, true],
    [{ type: "string", default: "any", options: ["any", "string"] }, true],
    [{ type: "string" }, false],
    [{ message: "hi", description: "x" }, false],
    [{ type: "user", name: "Ada" }, false],
    [{}, false],
    [["type", "default"], false],
    ["text", false],
    [null, false],
  ])("isDescriptor(%j) = %j", (value, expected) => {
    expect(isDescriptor(value)).toBe(expected);
  });

  test("values come from data when present; descriptors unwrap to default or drop", () => {
    const parameters = {
      filePath: { type: "string", required: true, control: "file-picker" },
      hasHeaders: { type: "boolean", default: true, control: "checkbox" },
      delimiter: { type: "string", default: ",", control: "select" },
      stale: "ignored because data is present",
    };
    expect(resolveParameterValues(parameters, { filePath: "/data/a.csv", delimiter: ";" })).toEqual({
      values: { hasHeaders: true, delimiter: ";", filePath: "/data/a.csv" },
      fromData: true,
    });
    expect(resolveParameterValues(parameters, undefined)).toEqual({
      values: { hasHeaders: true, delimiter: ",", stale: "ignored because data is present" },
      fromData: false,
    });
    expect(resolveParameterValues(null, null)).toEqual({ values: {}, fromData: false });
  });
});

describe("detectDialect", () => {
  test.each([
    [{ nodes: [] }, "concise"],
    [{ type: "composite", nodes: [] }, "composite-era"],
    [{ type: "group", nodes: [] }, "flow-era"],
    [{ nodes: [{ id: "a", type: "log", data: {} }] }, "composite-era"],
    [{ nodes: [{ id: "a", type: "log", position: { x: 0, y: 0 } }] }, "composite-era"],
    [{ nodes: [{ id: "a", type: "log", parameters: {} }] }, "concise"],
    [{ nodes: "not a list" }, "concise"],
  ])("%j → %s", (doc, dialect) => {
    expect(detectDialect(doc as Record<string, unknown>)).toBe(dialect);
  });
});

describe("problems", () => {
  test.each([
    [[], ""],
    [["nodes"], "nodes"],
    [["nodes", 2, "timeout"], "nodes[2].timeout"],
    [["nodes", 0, "parameters", "headers", "x-a"], "nodes[0].parameters.headers.x-a"],
    [[3, "a"], "[3].a"],
  ])("formatPath(%j) = %j", (path, text) => {
    expect(formatPath(path)).toBe(text);
  });

  test("makeProblem derives severity from the code and defaults the location to 1:1", () => {
    expect(makeProblem("W_UNKNOWN_KEY", "m", undefined)).toEqual({ code: "W_UNKNOWN_KEY", severity: "warning", message: "m", line: 1, col: 1 });
    expect(makeProblem("E_SCHEMA", "m", { file: "f.yaml", line: 3, col: 7 }, { hint: "h", path: ["nodes", 1] })).toEqual({
      code: "E_SCHEMA",
      severity: "error",
      message: "m",
      hint: "h",
      file: "f.yaml",
      line: 3,
      col: 7,
      path: "nodes[1]",
    });
    expect(formatLocation({ file: "f.yaml", line: 3, col: 7 })).toBe("f.yaml:3:7");
    expect(formatLocation({ line: 1, col: 2 })).toBe("<input>:1:2");
  });

  test("sortProblems orders by file, line, then column", () => {
    const at = (file: string, line: number, col: number) => makeProblem("E_X", `${file}:${line}:${col}`, { file, line, col });
    const sorted = sortProblems([at("b.yaml", 1, 1), at("a.yaml", 9, 2), at("a.yaml", 9, 1), at("a.yaml", 2, 5)]);
    expect(sorted.map((p) => p.message)).toEqual(["a.yaml:2:5", "a.yaml:9:1", "a.yaml:9:2", "b.yaml:1:1"]);
  });
});
