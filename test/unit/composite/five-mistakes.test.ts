import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { renderCodeFrame } from "../../../src/composite/code-frame.js";
import { displayName, loadComposite } from "../../../src/composite/load-composite.js";

const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/composite/five-mistakes.yaml");

describe("five-mistakes.yaml: five different mistakes are all reported at once", async () => {
  const result = await loadComposite(FILE);

  test("each with its code, file:line:col, message and hint, in file order", () => {
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => [p.code, `${p.file}:${p.line}:${p.col}`, p.message, p.hint])).toEqual([
      ["E_UNKNOWN_TYPE", `${displayName(FILE)}:5:11`, 'node "fetch": unknown node type "htp-request"', 'did you mean "http-request"?'],
      ["E_SCHEMA", `${displayName(FILE)}:10:14`, 'nodes[1].timeout: expected duration (ms number or "250ms", "30s", "5m", "1h"), got "fast"', 'durations are milliseconds or strings like "250ms", "30s", "5m", "1h"'],
      ["E_PARAM", `${displayName(FILE)}:14:14`, 'node "shout": level: Invalid option: expected one of "debug"|"info"|"warn"|"error"', "level: Log level"],
      ["E_EDGE", `${displayName(FILE)}:21:5`, 'edge pause.output -> shuot: target node "shuot" does not exist', 'did you mean "shout"?'],
      ["E_CYCLE", `${displayName(FILE)}:22:5`, "cycle: ping -> pong -> ping", "remove one of these edges; composites must be acyclic (use a loop node to repeat work)"],
    ]);
    expect(result.problems.every((p) => p.severity === "error")).toBe(true);
    // SPEC §2.3: every problem carries a fix hint.
    expect(result.problems.every((p) => typeof p.hint === "string" && p.hint.length > 0)).toBe(true);
  });

  test("every location points at the offending text in the source", async () => {
    const source = await readFile(FILE, "utf8");
    expect(result.sources.get(displayName(FILE))).toBe(source);
    const lines = source.split("\n");
    const at = result.problems.map((p) => lines[p.line - 1]!.slice(p.col - 1));
    expect(at).toEqual(["htp-request", "fast", "loud", "pause -> shuot", "ping -> pong"]);
    const frame = renderCodeFrame(source, result.problems[0]!.line, result.problems[0]!.col, { context: 0 });
    expect(frame).toBe(["> 5 |     type: htp-request", "    |           ^"].join("\n"));
  });
});

describe("keys written under another name", () => {
  test("`retries` on a node points to `retry` (too far apart for did-you-mean)", async () => {
    const { loadCompositeFromText } = await import("../../../src/composite/load-composite.js");
    const loaded = loadCompositeFromText("nodes:\n  - { id: a, type: log, retries: 3, parameters: { message: hi } }\n", { file: "r.yaml" });
    expect(loaded.problems).toEqual([expect.objectContaining({ code: "W_UNKNOWN_KEY", line: 2, hint: 'did you mean "retry"?' })]);
    // Dependencies are edges of the graph, not a node key (a node's own `edges:` is a container's body).
    const needs = loadCompositeFromText("nodes:\n  - { id: a, type: log, parameters: { message: hi } }\n  - { id: b, type: log, dependsOn: [a], parameters: { message: hi } }\n", { file: "r.yaml" });
    expect(needs.problems[0]?.hint).toBe("a node's dependencies are edges of its graph: `edges: [a -> b]` beside `nodes:`");
  });
});
