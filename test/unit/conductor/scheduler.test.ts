import { describe, expect, test } from "vitest";
import { runYaml } from "./harness.js";

describe("scheduler order", () => {
  test("a chain runs strictly in order and events bracket the run", async () => {
    const { result, events, trace } = await runYaml(`
nodes:
  - { id: a, type: test-sleep }
  - { id: b, type: test-sleep }
  - { id: c, type: test-sleep }
edges: [a -> b, b -> c]
`);
    expect(result.status).toBe("succeeded");
    expect(trace).toEqual(["a:start", "a:succeeded", "b:start", "b:succeeded", "c:start", "c:succeeded"]);
    expect(events[0]!.type).toBe("run:start");
    expect(events.at(-1)!.type).toBe("run:finish");
  });

  test("ties in the ready queue go in declaration order, not edge order", async () => {
    const { trace } = await runYaml(`
settings: { concurrency: 1 }
nodes:
  - { id: root, type: test-sleep }
  - { id: z, type: test-sleep }
  - { id: y, type: test-sleep }
  - { id: x, type: test-sleep }
edges: [root -> x, root -> y, root -> z]
`);
    expect(trace).toEqual(["root:start", "root:succeeded", "z:start", "z:succeeded", "y:start", "y:succeeded", "x:start", "x:succeeded"]);
  });

  test("independent nodes run concurrently up to the limit", async () => {
    const yaml = `
nodes:
  - { id: a, type: test-sleep, parameters: { ms: 30 } }
  - { id: b, type: test-sleep, parameters: { ms: 30 } }
  - { id: c, type: test-sleep, parameters: { ms: 30 } }
  - { id: d, type: test-sleep, parameters: { ms: 30 } }
`;
    const limited = await runYaml(yaml, { concurrency: 2 });
    // With a limit of 2 the third node starts only after one of the first two finished.
    expect(limited.trace.slice(0, 2)).toEqual(["a:start", "b:start"]);
    expect(limited.trace.indexOf("c:start")).toBeGreaterThan(limited.trace.findIndex((t) => t.endsWith(":succeeded")));
    let running = 0;
    let peak = 0;
    for (const t of limited.trace) {
      running += t.endsWith(":start") ? 1 : -1;
      peak = Math.max(peak, running);
    }
    expect(peak).toBe(2);

    const open = await runYaml(yaml, { concurrency: 10 });
    expect(open.trace.slice(0, 4)).toEqual(["a:start", "b:start", "c:start", "d:start"]);
  });

  test("run:start carries the plan by levels and every node", async () => {
    const { events } = await runYaml(`
nodes:
  - { id: a, type: test-sleep }
  - { id: b, type: test-sleep }
  - { id: c, type: test-sleep }
edges: [a -> c, b -> c]
`);
    const start = events[0]!;
    expect(start.type).toBe("run:start");
    if (start.type !== "run:start") return;
    expect(start.plan).toEqual([["a", "b"], ["c"]]);
    expect(start.nodes.map((n) => [n.id, n.type, n.line])).toEqual([
      ["a", "test-sleep", 3],
      ["b", "test-sleep", 4],
      ["c", "test-sleep", 5],
    ]);
  });

  test("a 10k-node chain runs without deep recursion", async () => {
    const n = 10_000;
    const nodes = Array.from({ length: n }, (_, i) => `  - { id: n${i}, type: test-echo }`).join("\n");
    const edges = Array.from({ length: n - 1 }, (_, i) => `  - n${i} -> n${i + 1}`).join("\n");
    const { result } = await runYaml(`nodes:\n${nodes}\nedges:\n${edges}\n`);
    expect(result.status).toBe("succeeded");
    expect(result.counts.succeeded).toBe(n);
  });
});

describe("node durations", () => {
  test("a node started after another's long synchronous part does not count that part as its own", async () => {
    // `slow` blocks the thread for 60 ms before it awaits; `quick`, started right after it, does nothing.
    // Before, `quick` took its start time from before `slow` ran and reported about 60 ms.
    const { events } = await runYaml(`
nodes:
  - id: slow
    type: code
    parameters: { code: "const t = Date.now(); while (Date.now() - t < 60) {} await null; return 1" }
  - id: quick
    type: code
    parameters: { code: "return 2" }
`);
    const finish = (id: string) => events.find((e) => e.type === "node:finish" && e.nodeId === id) as { durationMs: number } | undefined;
    expect(finish("slow")!.durationMs).toBeGreaterThanOrEqual(59);
    expect(finish("quick")!.durationMs).toBeLessThan(50);
  });
});
