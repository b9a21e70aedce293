import { runRecordKey, type RunRecord } from "../conductor/run-recorder.js";
import { shownStatus } from "../conductor/run-liveness.js";
import type { Storage } from "../storage/types.js";

export interface RunSummary {
  runId: string;
  name: string;
  status: string;
  startedAt: string;
  durationMs?: number;
}

/**
 * `runs.list`: stored runs newest first (run ids sort by start time), at most `limit` (default 20).
 * `live` are the runs in flight on this server: one whose first record is not saved yet is listed from it.
 * A `running` record whose run is known to be dead (its process is gone, or its heartbeat stopped) is
 * listed as `abandoned` (run-liveness.ts).
 */
export async function listRuns(storage: Storage, params: { limit?: number | undefined; status?: string | undefined }, live: readonly RunRecord[] = []): Promise<RunSummary[]> {
  const limit = params.limit ?? 20;
  const unsaved = new Map(live.map((r) => [runRecordKey(r.runId), r]));
  const keys = [...new Set([...(await storage.list("runs/")).filter((k) => k.endsWith(".json")), ...unsaved.keys()])].sort().reverse();
  const out: RunSummary[] = [];
  for (const key of keys) {
    if (out.length >= limit) break;
    const record = ((await storage.load(key).catch(() => undefined)) ?? unsaved.get(key)) as Partial<RunRecord> | undefined;
    if (!record || typeof record.runId !== "string" || typeof record.status !== "string") continue;
    const status = unsaved.has(key) ? record.status : await shownStatus(storage, record as RunRecord);
    if (params.status !== undefined && status !== params.status) continue;
    const summary: RunSummary = { runId: record.runId, name: record.composite?.name ?? "", status, startedAt: record.startedAt ?? "" };
    if (typeof record.durationMs === "number") summary.durationMs = record.durationMs;
    out.push(summary);
  }
  return out;
}
