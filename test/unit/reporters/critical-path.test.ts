import { describe, expect, test } from "vitest";
import { findCriticalPath, PathTimes, type PathNode } from "../../../src/reporters/critical-path.js";
import { renderCriticalPathLine, renderSummary, summaryFromStats } from "../../../src/reporters/render-summary.js";
import { RunStats } from "../../../src/reporters/run-stats.js";
import { createStyle } from "../../../src/reporters/style.js";
import { buildRunEvents, EventsBuilder } from "./events-fixture.js";

const plain = createStyle({ interactive: false, color: false, colorLevel: 0, unicode: true, columns: 80 });
const ascii = createStyle({ interactive: false, color: false, colorLevel: 0, unicode: false, columns: 80 });

//   a (0–10) ─┬─> c (30–40)      b finishes later than a, so c waited for b
//   b (0–30) ─┘
//   d (0–35)  ──> e (36–50)      the run ends with e
const diamond: PathNode[] = [
  { id: "a", level: 0, start: 0, end: 10 },
  { id: "b", level: 0, start: 0, end: 30 },
  { id: "d", level: 0, start: 0, end: 35 },
  { id: "c", level: 1, start: 30, end: 40 },
  { id: "e", level: 1, start: 36, end: 50 },
];

describe("findCriticalPath", () => {
  test("with edges: from the last node back through the dependency that finished last", () => {
    const edges = new Map([
      ["c", ["a", "b"]],
      ["e", ["d"]],
    ]);
    expect(findCriticalPath(diamond, (id) => edges.get(id))).toEqual({ nodes: ["d", "e"], busyMs: 49, endMs: 50 });
    // Without e, the path ends at c and goes through b (it finished after a).
    expect(findCriticalPath(diamond.filter((n) => n.id !== "e"), (id) => edges.get(id))?.nodes).toEqual(["b", "c"]);
  });

  test("without edges: the lower-level node that finished last before the node started", () => {
    expect(findCriticalPath(diamond)?.nodes).toEqual(["d", "e"]);
    // c started at 30: d (ended 35) cannot have released it; b (ended 30) can.
    expect(findCriticalPath(diamond.filter((n) => n.id !== "e"))?.nodes).toEqual(["b", "c"]);
  });

  test("two dependencies that finished in the same millisecond: the longer one, with edges and without, in either order", () => {
    // greet → shout (15 ms) and whisper (1 ms), both stamped as finished at 16 → join.
    const nodes: PathNode[] = [
      { id: "greet", level: 0, start: 0, end: 1 },
      { id: "shout", level: 1, start: 1, end: 16 },
      { id: "whisper", level: 1, start: 15, end: 16 },
      { id: "join", level: 2, start: 16, end: 18 },
    ];
    const edges = new Map([
      ["shout", ["greet"]],
      ["whisper", ["greet"]],
    ]);
    for (const order of [["shout", "whisper"], ["whisper", "shout"]]) {
      edges.set("join", order);
      expect(findCriticalPath(nodes, (id) => edges.get(id))?.nodes, order.join()).toEqual(["greet", "shout", "join"]);
    }
    expect(findCriticalPath(nodes)?.nodes).toEqual(["greet", "shout", "join"]);
    expect(findCriticalPath([...nodes].reverse())?.nodes).toEqual(["greet", "shout", "join"]);
  });

  test("without edges, a chain of nodes finishing in the same millisecond is walked link by link (the nearest level first)", () => {
    // n1 ran longer than n2, both stamped as ending at 3: n3 waited for n2, its own dependency.
    const chain: PathNode[] = [
      { id: "n0", level: 0, start: 0, end: 1 },
      { id: "n1", level: 1, start: 1, end: 3 },
      { id: "n2", level: 2, start: 3, end: 3 },
      { id: "n3", level: 3, start: 3, end: 4 },
    ];
    expect(findCriticalPath(chain)?.nodes).toEqual(["n0", "n1", "n2", "n3"]);
  });

  test("PathTimes with the composite's edges takes the exact path", () => {
    const times = new PathTimes((id) => ({ c: ["b"], b: ["a"] })[id]);
    times.plan([["a", "x"], ["b"], ["c"]], 1000);
    for (const [id, start, end] of [["a", 0, 5], ["x", 0, 9], ["b", 9, 12], ["c", 12, 14]] as const) {
      times.start(id, 1000 + start);
      times.finish(id, 1000 + end);
    }
    // Inferred, b would seem to wait for x (it ended last before b started); the edges say a.
    expect(times.criticalPath()?.nodes).toEqual(["a", "b", "c"]);
  });

  test("a 1 ms clock slack: a dependency stamped 1 ms after its dependent started still counts", () => {
    const nodes: PathNode[] = [
      { id: "x", level: 0, start: 0, end: 5 },
      { id: "y", level: 1, start: 4, end: 9 },
    ];
    expect(findCriticalPath(nodes)?.nodes).toEqual(["x", "y"]);
  });

  test("a long chain is walked in one pass", () => {
    const chain = Array.from({ length: 20_000 }, (_, i): PathNode => ({ id: `n${i}`, level: i, start: i, end: i + 1 }));
    const path = findCriticalPath(chain)!;
    expect(path.nodes).toHaveLength(20_000);
    expect(path.nodes[0]).toBe("n0");
    expect(path.busyMs).toBe(20_000);
  });

  test("a node cancelled because another failed does not end the path; the failure does", () => {
    const nodes: PathNode[] = [
      { id: "slow", level: 0, start: 0, end: 720, cancelled: true },
      { id: "prep", level: 0, start: 0, end: 500 },
      { id: "boom", level: 1, start: 500, end: 719 },
    ];
    expect(findCriticalPath(nodes)?.nodes).toEqual(["prep", "boom"]);
    // Only cancelled nodes ran (Ctrl-C): the path is theirs.
    expect(findCriticalPath([nodes[0]!])?.nodes).toEqual(["slow"]);
  });

  test("no node ran: no path", () => {
    expect(findCriticalPath([])).toBeUndefined();
  });
});

describe("PathTimes and the summary line", () => {
  test("only top-level nodes that started are on the path", () => {
    const times = new PathTimes();
    times.plan([["a"], ["b", "skipped"]], 1000);
    times.start("a", 1000);
    times.finish("a", 1010);
    times.finish("skipped", 1010);
    times.start("b", 1011);
    times.finish("b", 1031);
    times.start("body-node", 1012); // not in the plan: a loop body's node
    expect(times.criticalPath()).toEqual({ nodes: ["a", "b"], busyMs: 30, endMs: 31 });
  });

  test("a second run:start (a resumed attempt) starts the path over on the new attempt's clock", () => {
    const times = new PathTimes();
    times.plan([["a"], ["wait"], ["c"]], 1000);
    times.start("a", 1000);
    times.finish("a", 1001);
    times.start("wait", 1001); // its worker dies here
    times.plan([["a"], ["wait"], ["c"]], 3500);
    times.finish("a", 3500); // reused: finished without a start in this attempt
    times.start("wait", 3500);
    times.finish("wait", 9500);
    times.start("c", 9500);
    times.finish("c", 9501);
    expect(times.criticalPath()).toEqual({ nodes: ["wait", "c"], busyMs: 6001, endMs: 6001 });
  });

  test("through RunStats too: a resumed run's summary path is the new attempt's, within the run's duration", () => {
    const stats = new RunStats();
    const runId = "r1";
    const start = (ts: number) => stats.add({ type: "run:start", runId, ts, composite: { id: "q", name: "q" }, nodes: [{ id: "sleepy", type: "shell-command", line: 3 }, { id: "after", type: "log", line: 6 }], plan: [["sleepy"], ["after"]] } as never);
    start(0);
    stats.add({ type: "node:start", runId, ts: 10, nodeId: "sleepy", attempt: 1 } as never); // its worker hands it back
    start(34_000);
    stats.add({ type: "node:start", runId, ts: 34_010, nodeId: "sleepy", attempt: 1 } as never);
    stats.add({ type: "node:finish", runId, ts: 79_000, nodeId: "sleepy", status: "succeeded", durationMs: 44_990, attempt: 1 } as never);
    stats.add({ type: "node:start", runId, ts: 79_000, nodeId: "after", attempt: 1 } as never);
    stats.add({ type: "node:finish", runId, ts: 79_100, nodeId: "after", status: "succeeded", durationMs: 100, attempt: 1 } as never);
    stats.add({ type: "run:finish", runId, ts: 79_100, status: "succeeded", durationMs: 45_100, counts: { succeeded: 2, failed: 0, skipped: 0, cancelled: 0 } } as never);
    const path = summaryFromStats(stats, 0).criticalPath?.();
    expect(path).toEqual({ nodes: ["sleepy", "after"], busyMs: 45_090, endMs: 45_100 });
  });

  test("the summary names the path and its share of the run", () => {
    const stats = new RunStats();
    for (const e of buildRunEvents()) stats.add(e);
    const summary = summaryFromStats(stats, 0);
    expect(summary.criticalPath?.()?.nodes).toEqual(["fetch", "each", "write"]);
    expect(renderSummary(summary, plain, { slowest: true, failures: false }).split("\n")).toContain("Critical path: fetch → each → write 833ms of 850ms (98%)");
    // Also where the slowest nodes are not listed (plain and github without --verbose), just above the summary line.
    const short = renderSummary(summary, plain, { failures: false }).split("\n");
    expect(short.slice(-2)).toEqual(["Critical path: fetch → each → write 833ms of 850ms (98%)", "run failed in 850ms — 2 succeeded, 1 failed, 1 skipped, 3 iterations"]);
    expect(renderSummary(summary, plain, { failures: false, criticalPath: false })).not.toContain("Critical path");
  });

  test("one node is no path worth naming", () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "x", name: "x" }, nodes: [{ id: "only", type: "log" }], plan: [["only"]] });
    b.wait(1).add("node:start", { nodeId: "only", attempt: 1 });
    b.wait(5).add("node:finish", { nodeId: "only", status: "succeeded", durationMs: 5, attempt: 1 });
    b.wait(1).add("run:finish", { status: "succeeded", durationMs: 7, counts: { succeeded: 1, failed: 0, skipped: 0, cancelled: 0 } });
    const stats = new RunStats();
    for (const e of b.events) stats.add(e);
    expect(renderSummary(summaryFromStats(stats, 0), plain, { slowest: true })).not.toContain("Critical path");
  });

  test.each([
    [plain, ["a", "b"], "Critical path: a → b 40ms of 50ms (80%)"],
    [plain, Array.from({ length: 9 }, (_, i) => `n${i}`), "Critical path: n0 → n1 → n2 → … → n7 → n8 (9 nodes) 40ms of 50ms (80%)"],
    [ascii, ["a", "b"], "Critical path: a -> b 40ms of 50ms (80%)"],
  ])("renderCriticalPathLine %#", (style, nodes, line) => {
    expect(renderCriticalPathLine({ nodes, busyMs: 40, endMs: 50 }, 50, style)).toBe(line);
  });
});
