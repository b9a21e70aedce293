import { describe, expect, test } from "vitest";
import { buildRunProfile, type Execution } from "../../../../src/cli/timeline/build-profile.js";
import { buildRunEvents, EventsBuilder } from "../../reporters/events-fixture.js";

const counts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };

/** No two executions on one lane overlap. */
function expectLanesDisjoint(executions: readonly Execution[]): void {
  const byLane = new Map<number, Execution[]>();
  for (const x of executions) byLane.set(x.lane, [...(byLane.get(x.lane) ?? []), x]);
  for (const list of byLane.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) expect(list[i]!.start, `${list[i - 1]!.nodeId} then ${list[i]!.nodeId}`).toBeGreaterThanOrEqual(list[i - 1]!.end);
  }
}

describe("buildRunProfile", () => {
  test("attempts, retry delays, loop iterations, lanes and nodes that never ran", () => {
    const p = buildRunProfile(buildRunEvents());
    expect(p).toMatchObject({ runId: "run-1", status: "failed", durationMs: 850, lanes: 2, dependencies: "inferred" });
    const fetch = p.executions.find((x) => x.nodeId === "fetch")!;
    // attempt 1 from 1 ms until node:retry at 12 ms, the 500 ms delay, attempt 2 until its finish
    // (stamped 812 ms; its duration of 812 ms from 1 ms places it at 813, within that millisecond)
    expect(fetch).toMatchObject({
      lane: 0,
      start: 1,
      end: 813,
      status: "succeeded",
      attempts: [
        { attempt: 1, start: 1, end: 12, status: "retried" },
        { attempt: 2, start: 512, end: 813, status: "succeeded" },
      ],
      waits: [{ start: 12, end: 512 }],
    });
    // The loop holds slot 0 while its iterations run, one after another, on slot 1.
    const body = p.executions.filter((x) => x.nodeId === "each-body");
    expect(body.map((x) => [x.iteration, x.lane, x.start, x.end])).toEqual([
      [0, 1, 814, 819],
      [1, 1, 820, 825],
      [2, 1, 826, 831],
    ]);
    expect(p.executions.find((x) => x.nodeId === "each")!.lane).toBe(0);
    const node = (id: string) => p.nodes.find((n) => n.id === id)!;
    expect(node("fetch")).toMatchObject({ type: "http-request", level: 0, attempts: 2, wallMs: 812, queueWaitMs: 1, outputBytes: JSON.stringify([{ title: "a" }]).length, critical: true });
    expect(node("each-body")).toMatchObject({ parent: "each", iterations: 3, wallMs: 15, outputBytes: 3 * JSON.stringify("- 0").length, critical: false });
    expect(node("notify")).toMatchObject({ status: "skipped", decidedAt: 836, executions: [], reason: 'upstream "write" failed' });
    expect(node("write")).toMatchObject({ status: "failed", start: 833, end: 836 });
    // Without the composite's edges only roots have a known queue wait.
    expect(node("each").queueWaitMs).toBeUndefined();
    expect(p.criticalPath?.nodes).toEqual(["fetch", "each", "write"]);
    expectLanesDisjoint(p.executions);
  });

  test("with the composite's edges: exact queue waits and critical path", () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "q", name: "q" }, nodes: ["a", "b", "c"].map((id) => ({ id, type: "delay" })), plan: [["a", "b"], ["c"]] });
    b.wait(2).add("node:start", { nodeId: "a", attempt: 1 });
    b.wait(10).add("node:finish", { nodeId: "a", status: "succeeded", durationMs: 10, attempt: 1 });
    // c waits for a only, but with one slot it had to wait for b too
    b.add("node:start", { nodeId: "b", attempt: 1 });
    b.wait(20).add("node:finish", { nodeId: "b", status: "succeeded", durationMs: 20, attempt: 1 });
    b.add("node:start", { nodeId: "c", attempt: 1 });
    b.wait(5).add("node:finish", { nodeId: "c", status: "succeeded", durationMs: 5, attempt: 1 });
    b.add("run:finish", { status: "succeeded", durationMs: 37, counts });
    const p = buildRunProfile(b.events, { predecessors: new Map([["c", ["a"]]]) });
    expect(p.dependencies).toBe("composite");
    expect(p.nodes.map((n) => [n.id, n.queueWaitMs])).toEqual([
      ["a", 2],
      ["b", 12],
      ["c", 20],
    ]);
    expect(p.criticalPath?.nodes).toEqual(["a", "c"]);
    expect(p.lanes).toBe(1);
  });

  test("sub-millisecond nodes stamped with one time stay on one lane, placed by their measured durations", () => {
    const b = new EventsBuilder();
    const ids = ["n1", "n2", "n3", "n4"];
    b.add("run:start", { composite: { id: "c", name: "c" }, nodes: ids.map((id) => ({ id, type: "log" })), plan: ids.map((id) => [id]) });
    for (const id of ids) {
      b.add("node:start", { nodeId: id, attempt: 1 });
      b.add("node:finish", { nodeId: id, status: "succeeded", durationMs: 0.2, attempt: 1 });
    }
    b.add("run:finish", { status: "succeeded", durationMs: 0.9, counts });
    const p = buildRunProfile(b.events);
    expect(p.lanes).toBe(1);
    expect(p.executions.map((x) => [x.start, x.end].map((t) => Number(t.toFixed(3))))).toEqual([
      [0, 0.2],
      [0.2, 0.4],
      [0.4, 0.6],
      [0.6, 0.8],
    ]);
    expect(p.criticalPath?.nodes).toEqual(ids);
  });

  test("nodes that started before another finished never share its lane, even within one millisecond", () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "c", name: "c" }, nodes: [{ id: "a", type: "log" }, { id: "b", type: "log" }], plan: [["a", "b"]] });
    b.add("node:start", { nodeId: "a", attempt: 1 });
    b.add("node:start", { nodeId: "b", attempt: 1 });
    b.add("node:finish", { nodeId: "a", status: "succeeded", durationMs: 0.3, attempt: 1 });
    b.add("node:finish", { nodeId: "b", status: "succeeded", durationMs: 0.4, attempt: 1 });
    const p = buildRunProfile(b.events);
    expect(p.lanes).toBe(2);
    expect(p.executions.map((x) => [x.nodeId, x.lane, x.start])).toEqual([
      ["a", 0, 0],
      ["b", 1, 0],
    ]);
  });

  test("a finish keeps within the millisecond it names, even when the duration counted setup before node:start", () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "c", name: "c" }, nodes: [{ id: "t", type: "log" }], plan: [["t"]] });
    b.wait(3).add("node:start", { nodeId: "t", attempt: 1 });
    b.wait(2).add("node:finish", { nodeId: "t", status: "succeeded", durationMs: 9, attempt: 1 });
    const x = buildRunProfile(b.events).executions[0]!;
    expect([x.start, x.end]).toEqual([3, 6]);
  });

  test("cancelled during a retry delay; concurrent iterations; an abandoned run's open executions", () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "c", name: "c" }, nodes: [{ id: "r", type: "http-request" }, { id: "loop", type: "loop" }, { id: "body", type: "code", parent: "loop" }], plan: [["r", "loop"]] });
    b.wait(1).add("node:start", { nodeId: "r", attempt: 1 });
    b.add("node:start", { nodeId: "loop", attempt: 1 });
    b.add("node:start", { nodeId: "body", attempt: 1, iteration: 0 });
    b.add("node:start", { nodeId: "body", attempt: 1, iteration: 1 });
    b.wait(4).add("node:retry", { nodeId: "r", attempt: 2, delayMs: 1000, error: { code: "E_HTTP", message: "x", retryable: true } });
    b.add("node:finish", { nodeId: "body", status: "succeeded", durationMs: 4, attempt: 1, iteration: 1 });
    b.wait(6).add("node:finish", { nodeId: "r", status: "cancelled", durationMs: 10, attempt: 1, reason: "interrupted by SIGINT" });
    // no finish for the loop and iteration 0: the process died (an abandoned run)
    const p = buildRunProfile(b.events);
    const r = p.executions.find((x) => x.nodeId === "r")!;
    expect(r).toMatchObject({ status: "cancelled", attempts: [{ attempt: 1, start: 1, end: 5, status: "retried" }], waits: [{ start: 5, end: 11 }] });
    const body = p.executions.filter((x) => x.nodeId === "body");
    expect(body.map((x) => [x.iteration, x.status, x.end])).toEqual([
      [0, "running", 11],
      [1, "succeeded", 5],
    ]);
    expect(p.status).toBe("running");
    expect(p.lanes).toBe(4);
    expectLanesDisjoint(p.executions);
  });
});
