import { hostname } from "node:os";
import { AtomitonError, ErrorCode } from "../errors.js";
import { describeValue, parseDuration } from "../js/duration.js";
import { isSameProcess } from "../storage/process-alive.js";
import type { Storage } from "../storage/types.js";

/** How often a running recorder shows it is alive, unless `ATOMITON_HEARTBEAT` says otherwise. */
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** A running record from another host whose last sign of life is this many heartbeats old is abandoned. */
export const STALE_HEARTBEATS = 6;
/** The shortest heartbeat `ATOMITON_HEARTBEAT` may ask for: each one is a storage write. */
const MIN_HEARTBEAT_MS = 100;

/**
 * `runs/<runId>.heartbeat`: the time (ISO text) of the running recorder's last heartbeat. One small
 * write every heartbeat of a run that saved no checkpoint meanwhile (a checkpoint sets the record's
 * `refreshedAt` instead), deleted when the run ends.
 */
export const heartbeatKey = (runId: string): string => `runs/${runId}.heartbeat`;

/** The heartbeat interval in ms: `ATOMITON_HEARTBEAT` (a duration: `10s`, `500ms`) or 10 s. */
export function heartbeatMsOf(env: Record<string, string | undefined>): number {
  const given = env.ATOMITON_HEARTBEAT;
  if (given === undefined || given === "") return DEFAULT_HEARTBEAT_MS;
  const ms = parseDuration(given);
  if (ms === undefined || ms < MIN_HEARTBEAT_MS) {
    throw new AtomitonError(ErrorCode.USAGE, `ATOMITON_HEARTBEAT: expected a duration of at least ${MIN_HEARTBEAT_MS}ms (such as 10s), got ${describeValue(given)}`, {
      retryable: false,
      hint: "unset it for the default (10s)",
    });
  }
  return ms;
}

/** The fields of a stored run record that say whether its run still goes on. */
export interface LivenessFields {
  runId: string;
  status: string;
  startedAt?: string | undefined;
  pid?: number | undefined;
  pidStart?: string | undefined;
  host?: string | undefined;
  refreshedAt?: string | undefined;
  heartbeatMs?: number | undefined;
}

let host: string | undefined;

/**
 * The status a reader shows for a stored record: its own, except `abandoned` for a `running` record
 * whose run is known to be dead (`runLiveness`). The stored record is never changed: a host that was
 * only cut off shows `running` again at its next heartbeat.
 */
export async function shownStatus(storage: Storage, record: LivenessFields, now = Date.now()): Promise<string> {
  if (record.status !== "running") return record.status;
  return (await runLiveness(storage, record, now)) === "dead" ? "abandoned" : "running";
}

/**
 * Whether the run of a `running` record still goes on. On this host its process is checked (pid and
 * start time); on another host, a record whose writer promised a heartbeat (`heartbeatMs`) is dead
 * when its last sign of life (`refreshedAt`, else `startedAt`, or the later heartbeat) is older than
 * `STALE_HEARTBEATS` heartbeats. Records without `heartbeatMs` (older versions) from another host
 * cannot be judged: `unknown`.
 */
export async function runLiveness(storage: Storage, record: LivenessFields, now = Date.now()): Promise<"alive" | "dead" | "unknown"> {
  if (record.host === (host ??= hostname()) && typeof record.pid === "number") return isSameProcess(record.pid, record.pidStart) ? "alive" : "dead";
  if (typeof record.heartbeatMs !== "number" || !(record.heartbeatMs > 0)) return "unknown";
  const window = record.heartbeatMs * STALE_HEARTBEATS;
  if (now - Date.parse(record.refreshedAt ?? record.startedAt ?? "") <= window) return "alive";
  // Only then the extra read: a run that saved a checkpoint lately needs none.
  const beat = Date.parse((await storage.loadText(heartbeatKey(record.runId)).catch(() => undefined)) ?? "");
  return now - beat <= window ? "alive" : "dead";
}
