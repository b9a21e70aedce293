import { runRecordKey, type RunRecord } from "../conductor/run-recorder.js";
import { shownStatus, type LivenessFields } from "../conductor/run-liveness.js";
import { mapBounded } from "../storage/map-bounded.js";
import type { Storage } from "../storage/types.js";

export interface RunSummary {
  runId: string;
  name: string;
  status: string;
  startedAt: string;
  durationMs?: number;
}

/**
 * `runs.list`: stored runs newest first by `startedAt` (then run id), as `atomiton runs` lists them,
 * at most `limit` (default 20). A queued run's id is taken when it is submitted and its `startedAt`
 * when a worker starts it, so the two orders differ: every record is read to sort them.
 * `live` are the runs in flight on this server: one whose first record is not saved yet is listed from it.
 * A `running` record whose run is known to be dead (its process is gone, or its heartbeat stopped) is
 * listed as `abandoned` (run-liveness.ts).
 */
export async function listRuns(storage: Storage, params: { limit?: number | undefined; status?: string | undefined }, live: readonly RunRecord[] = []): Promise<RunSummary[]> {
  const limit = params.limit ?? 20;
  const unsaved = new Map(live.map((r) => [runRecordKey(r.runId), r]));
  const keys = [...new Set([...(await storage.list("runs/")).filter((k) => k.endsWith(".json")), ...unsaved.keys()])];
  // Only what the answer shows is kept of each record (a record may be many MiB).
  // A few records at a time, as `atomiton runs` reads them (mapBounded).
  const read = await mapBounded(
    keys,
    async (key) => ((await storage.load(key).catch(() => undefined)) ?? unsaved.get(key)) as Partial<RunRecord> | undefined,
    (record) => {
      if (typeof record.runId !== "string" || typeof record.status !== "string") return undefined;
      const summary: RunSummary = { runId: record.runId, name: record.composite?.name ?? "", status: record.status, startedAt: typeof record.startedAt === "string" ? record.startedAt : "" };
      if (typeof record.durationMs === "number") summary.durationMs = record.durationMs;
      const { runId, status, startedAt, pid, pidStart, host, refreshedAt, heartbeatMs } = record as LivenessFields;
      return { liveness: { runId, status, startedAt, pid, pidStart, host, refreshedAt, heartbeatMs } as LivenessFields, summary };
    },
  );
  const found = keys.flatMap((key, i) => (read[i] === undefined ? [] : [{ key, ...read[i] }]));
  found.sort((a, b) => b.summary.startedAt.localeCompare(a.summary.startedAt) || b.summary.runId.localeCompare(a.summary.runId));
  const out: RunSummary[] = [];
  for (const { key, liveness, summary } of found) {
    if (out.length >= limit) break;
    const status = unsaved.has(key) ? liveness.status : await shownStatus(storage, liveness);
    if (params.status !== undefined && status !== params.status) continue;
    out.push({ ...summary, status });
  }
  return out;
}
