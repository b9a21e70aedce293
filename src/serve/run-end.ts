import { runRecordKey } from "../conductor/run-recorder.js";
import { shownStatus } from "../conductor/run-liveness.js";
import type { Storage } from "../storage/types.js";

/** How a run's events end without its `run:finish`: the `events.end` notification's `status` and `message`. */
export interface RunEnd {
  status: string;
  message: string;
}

/**
 * A run this server does not run, whose stored log has no `run:finish` (yet): `undefined` while it
 * may still be going (another process or host writes it: follow its log), else how its events end.
 * `final` is the record's status once it has finished, for the caller to read the log once more
 * (the recorder writes the log's last lines before the final record).
 */
export async function endOfStoredRun(storage: Storage, runId: string): Promise<{ going: true } | { final: string } | RunEnd> {
  const record = (await storage.load(runRecordKey(runId)).catch(() => undefined)) as { runId?: unknown; status?: unknown } | undefined;
  if (typeof record !== "object" || record === null || typeof record.status !== "string") {
    return { status: "unknown", message: `run ${runId} has no readable record, and its event log ends without run:finish` };
  }
  const status = await shownStatus(storage, { ...record, runId, status: record.status });
  if (status === "running") return { going: true };
  if (status === "abandoned") return { status, message: `run ${runId} was abandoned: its process died before the run finished (killed, or its host went down); its event log ends here, without run:finish` };
  return { final: status };
}
