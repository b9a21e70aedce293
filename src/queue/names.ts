import type { MethodParams } from "../serve/protocol.js";
import { DEFAULT_REDIS_PREFIX } from "../storage/redis.js";

/** The namespace when neither `--queue` nor `ATOMITON_QUEUE` names one. */
export const DEFAULT_QUEUE = DEFAULT_REDIS_PREFIX;

/** Redis unreachable, or no live worker, for this long fails a submitter (E_QUEUE_UNAVAILABLE). */
export const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;

/** BullMQ's queue name inside a namespace. */
export const BULL_QUEUE = "runs";

/**
 * Every Redis key of one namespace (`--queue <name>`): BullMQ's keys under `<ns>:bull`, the shared
 * storage under `<ns>:v|s|keys` (see storage/redis.ts), workers' heartbeats and cancel requests.
 * Two namespaces on one Redis never see each other.
 */
export function queueKeys(namespace: string) {
  return {
    namespace,
    bullPrefix: `${namespace}:bull`,
    /** Sorted set: worker id → last heartbeat (ms). */
    workers: `${namespace}:workers`,
    /** Hash: one worker's facts (see WorkerInfo). */
    worker: (id: string) => `${namespace}:worker:${id}`,
    /** Set while a cancel of the run is pending (a job not started yet sees it when it starts). */
    cancel: (runId: string) => `${namespace}:cancel:${runId}`,
    /** Pub/sub channel: a run id to cancel, for the worker running it. */
    cancelChannel: `${namespace}:cancel`,
  };
}

/** The run request of `run.start` (SPEC §9): the one shape a run is asked for, over a socket or a queue. */
export type RunRequest = Omit<MethodParams<"run.start">, "subscribe">;

/**
 * A BullMQ job: one whole run (SPEC §10). `request` is exactly `run.start`'s params (the composite
 * text with its `ref:` files, input, vars, set, concurrency, timeout); the job id is the run id.
 */
export interface RunJob {
  runId: string;
  request: RunRequest;
  /** Node types the composite uses: a worker without one fails the job at once (E_UNKNOWN_TYPE). */
  nodeTypes: string[];
  /** `secrets`: the names of the composite's `secrets:` (never values), for a record written before it loads. */
  composite: { id: string; name: string; secrets?: string[] };
  submittedAt: number;
  /** Who submitted it, for `workers` and logs: `run --queue` on host:pid, or a serve. */
  submitter: string;
}

/** How a job ended on a worker (the job's return value). */
export interface RunOutcome {
  runId: string;
  status: "succeeded" | "failed" | "cancelled";
  /** The run had already finished before this attempt (its worker died after the final record). */
  alreadyFinished?: boolean;
  /** Nodes reused from the last checkpoint of an earlier attempt. */
  resumedNodes?: number;
}

/** What `workers` shows of one worker, from its heartbeat hash. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  inFlight: number;
  runs: string[];
  lastJob?: string;
  lastJobAt?: number;
  /** When its fetch loop last asked Redis for a job (blocking waits included). */
  lastFetchAt: number;
  heartbeatAt: number;
  startedAt: number;
  heartbeatMs: number;
  state: "running" | "draining";
}
