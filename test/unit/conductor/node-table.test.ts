import { describe, expect, test } from "vitest";
import { NodeTable } from "../../../src/conductor/node-table.js";

const iso = (ms: number) => new Date(ms).toISOString();

function filled(ids: string[]): NodeTable {
  const table = new NodeTable(4); // small capacity: adding grows the columns
  ids.forEach((id, k) => table.add(id, k % 2 ? "odd" : "even"));
  ids.forEach((id, k) => {
    if (k % 3 === 0) return; // never started
    table.start(id, 1, 1_700_000_000_000 + k);
    table.finish({ runId: "r", ts: 1_700_000_000_100 + k, nodeId: id, status: k % 5 === 0 ? "failed" : "succeeded", durationMs: k / 10, attempt: 1, ...(k % 4 === 0 ? { output: { k } } : {}), ...(k % 7 === 0 ? { hash: `h${k}` } : {}) });
  });
  return table;
}

describe("NodeTable", () => {
  test("records keep listing order and hold each node's facts", () => {
    const ids = Array.from({ length: 2_500 }, (_, k) => `node-${k}`);
    const table = filled(ids);
    expect(table.size).toBe(2_500);
    const records = table.toRecords(iso);
    expect(Object.keys(records)).toEqual(ids);
    expect(records["node-1"]).toEqual({ type: "odd", status: "succeeded", attempts: 1, startedAt: iso(1_700_000_000_001), finishedAt: iso(1_700_000_000_101), durationMs: 0.1 });
    expect(records["node-3"]).toEqual({ type: "odd", attempts: 0 });
    expect(records["node-4"]!.output).toEqual({ k: 4 });
    expect(records["node-14"]!.hash).toBe("h14");
  });

  test("array-index ids (listed first by objects) are listed as one object lists them", () => {
    const table = filled(["b", "10", "a", "2", "0", "c"]);
    expect(Object.keys(table.toRecords(iso))).toEqual(["0", "2", "10", "b", "a", "c"]);
  });

  test("loop-body nodes tally iterations, keep failed, add up durations; unknown ids are appended", () => {
    const table = new NodeTable();
    table.add("body", "code");
    const base = { runId: "r", ts: 1, nodeId: "body", attempt: 1 };
    table.finish({ ...base, status: "succeeded", durationMs: 2, iteration: 0 });
    table.finish({ ...base, status: "failed", durationMs: 3, iteration: 1 });
    table.finish({ ...base, status: "succeeded", durationMs: 4, iteration: 2 });
    table.finish({ ...base, nodeId: "stray", status: "skipped", durationMs: 0, attempt: 0, reason: "why" });
    const records = table.toRecords(iso);
    expect(records.body).toMatchObject({ status: "failed", durationMs: 9, iterations: { succeeded: 2, failed: 1 } });
    expect(records.stray).toMatchObject({ type: "unknown", status: "skipped", reason: "why" });
  });
});
