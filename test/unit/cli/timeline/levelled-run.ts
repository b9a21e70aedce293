import type { RunEvent } from "../../../../src/events/event-map.js";

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

/**
 * A synthetic run of `levels × width` nodes in plan levels, `concurrency` at a time, level by level
 * in batches: node i takes 1 + i % 5 ms; of every 100 the 51st is skipped, the 97th fails
 * (onError: continue), the 99th is retried once after a 2 ms delay; the last node is cancelled while
 * it runs.
 */
export function levelledRun(levels: number, width: number, concurrency: number): RunEvent[] {
  const runId = "run-levels";
  const id = (l: number, k: number) => `L${l}-n${k}`;
  const events: RunEvent[] = [];
  const plan = Array.from({ length: levels }, (_, l) => Array.from({ length: width }, (_, k) => id(l, k)));
  events.push({ type: "run:start", runId, ts: T0, composite: { id: "levels", name: "levels" }, nodes: plan.flat().map((n) => ({ id: n, type: "delay" })), plan });
  let t = 0;
  let i = 0;
  const total = levels * width;
  for (let l = 0; l < levels; l++) {
    for (let k0 = 0; k0 < width; k0 += concurrency) {
      const batch: { at: number; e: RunEvent }[] = [];
      let end = t;
      for (let k = k0; k < Math.min(width, k0 + concurrency); k++, i++) {
        const nodeId = id(l, k);
        const d = 1 + (i % 5);
        if (i % 100 === 50) {
          batch.push({ at: t, e: { type: "node:finish", runId, ts: 0, nodeId, status: "skipped", durationMs: 0, attempt: 0, reason: "if: false" } });
          continue;
        }
        batch.push({ at: t, e: { type: "node:start", runId, ts: 0, nodeId, attempt: 1 } });
        let finishAt = t + d;
        if (i % 100 === 98) {
          batch.push({ at: t + d, e: { type: "node:retry", runId, ts: 0, nodeId, attempt: 2, delayMs: 2, error: { code: "E_HTTP", message: "503", retryable: true } } });
          batch.push({ at: t + d + 2, e: { type: "node:start", runId, ts: 0, nodeId, attempt: 2 } });
          finishAt = t + 2 * d + 2;
        }
        const status = i === total - 1 ? "cancelled" : i % 100 === 96 ? "failed" : "succeeded";
        batch.push({ at: finishAt, e: { type: "node:finish", runId, ts: 0, nodeId, status, durationMs: finishAt - t, attempt: i % 100 === 98 ? 2 : 1, output: { i } } });
        end = Math.max(end, finishAt);
      }
      batch.sort((a, b) => a.at - b.at);
      for (const { at, e } of batch) events.push({ ...e, ts: T0 + at } as RunEvent);
      t = end;
    }
  }
  events.push({ type: "run:finish", runId, ts: T0 + t, status: "cancelled", durationMs: t, counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 1 } });
  return events;
}
