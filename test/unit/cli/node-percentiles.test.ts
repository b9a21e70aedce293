import { describe, expect, test } from "vitest";
import { computeNodePercentiles, percentile, type RunSample } from "../../../src/cli/node-percentiles.js";

const run = (runId: string, nodes: Record<string, number | { durationMs?: number; status?: string; reason?: string }>): RunSample => ({
  runId,
  nodes: Object.fromEntries(Object.entries(nodes).map(([id, v]) => [id, typeof v === "number" ? { type: "delay", status: "succeeded", durationMs: v } : { type: "delay", ...v }])),
});

describe("percentile (nearest rank)", () => {
  test.each([
    [[5], 50, 5],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 95, 4],
    [Array.from({ length: 20 }, (_, i) => i + 1), 95, 19],
    [Array.from({ length: 100 }, (_, i) => i + 1), 50, 50],
  ])("%j p%i = %i", (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe("computeNodePercentiles", () => {
  const earlier = [100, 110, 120, 130].map((ms, i) => run(`r${i}`, { fetch: ms, parse: 20, flaky: { durationMs: 5, status: "failed" } }));

  test("p50/p95 over every run; the newest run regressed when above the earlier p95 by the floor", () => {
    const stats = computeNodePercentiles([...earlier, run("r4", { fetch: 400, parse: 25, flaky: 5 })], { minDeltaMs: 10 });
    expect(stats).toEqual([
      { nodeId: "fetch", type: "delay", runs: 5, p50: 120, p95: 400, last: 400, earlierP95: 130, regression: true },
      // 5 ms over the earlier p95 is under the 10 ms floor
      { nodeId: "parse", type: "delay", runs: 5, p50: 20, p95: 25, last: 25, earlierP95: 20, regression: false },
      { nodeId: "flaky", type: "delay", runs: 5, p50: 5, p95: 5, last: 5, earlierP95: 5, regression: false },
    ]);
  });

  test("skipped, cancelled and reused nodes are no samples; too few earlier runs judge nothing", () => {
    const runs = [
      run("a", { fetch: 100, gone: { status: "skipped", durationMs: 0 } }),
      run("b", { fetch: 100, gone: { status: "cancelled", durationMs: 3 } }),
      run("c", { fetch: { status: "succeeded", durationMs: 0, reason: "reused from run b" } }),
      run("d", { fetch: 900 }),
    ];
    const stats = computeNodePercentiles(runs, { minDeltaMs: 0 });
    expect(stats).toEqual([{ nodeId: "fetch", type: "delay", runs: 3, p50: 100, p95: 900, last: 900, regression: false }]);
    expect(computeNodePercentiles(runs, { minDeltaMs: 0, minEarlierRuns: 2 })[0]).toMatchObject({ earlierP95: 100, regression: true });
  });
});
