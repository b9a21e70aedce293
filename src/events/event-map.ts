import type { SerializedError } from "../errors.js";

/** Final state of a node. */
export const NodeStatus = {
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
} as const;
export type NodeStatus = (typeof NodeStatus)[keyof typeof NodeStatus];

/** Final state of a run. */
export const RunStatus = {
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export const LogLevel = { debug: "debug", info: "info", warn: "warn", error: "error" } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

export interface EventBase {
  runId: string;
  /** Epoch milliseconds. */
  ts: number;
}

export interface PlanNodeInfo {
  id: string;
  type: string;
  name?: string;
  /** 1-based line of the node in its YAML file, when known. */
  line?: number;
  /** Nodes inside a container (loop/group body) carry the container id. */
  parent?: string;
  /** Set when a failure of this node does not fail the run: `continue` passes null on, `route` fires its error port. */
  onError?: "continue" | "route";
}

export interface RunStartEvent extends EventBase {
  composite: { id: string; name: string; file?: string };
  nodes: PlanNodeInfo[];
  /** Node ids grouped by dependency level (level 0 = roots). */
  plan: string[][];
  /** Parent run id when this is a nested execution. */
  parentRunId?: string;
}

export interface NodeStartEvent extends EventBase {
  nodeId: string;
  attempt: number;
  /** Set for nodes inside a loop body. */
  iteration?: number;
}

export interface NodeProgressEvent extends EventBase {
  nodeId: string;
  progress: number;
  message?: string;
  iteration?: number;
}

export interface NodeLogEvent extends EventBase {
  nodeId: string;
  level: LogLevel;
  message: string;
  iteration?: number;
  /** On the warning that stands in the event log for this many of the node's `node:log`/`node:progress` events it left out (its storage fell behind). */
  unrecorded?: number;
}

/**
 * Set (to true) on a `node:log` or `node:progress` payload that the run's event log leaves out
 * because its storage fell behind: live listeners (reporters) still get it; the recorder and
 * anything that numbers the log's lines (serve's `seq`) skip it, and one `node:log` warning with
 * `unrecorded: n` takes the place of the node's left-out events.
 */
export const UNRECORDED: unique symbol = Symbol("atomiton.unrecorded");

/** Whether an event payload carries the `UNRECORDED` mark. */
export function isUnrecorded(payload: object): boolean {
  return (payload as { [UNRECORDED]?: boolean })[UNRECORDED] === true;
}

export interface NodeRetryEvent extends EventBase {
  nodeId: string;
  /** The attempt that is about to start. */
  attempt: number;
  /** Attempts allowed by the node's retry policy. */
  maxAttempts?: number;
  delayMs: number;
  error: SerializedError;
  iteration?: number;
}

/**
 * What a profiled run (`run --profile`, `execute({ profile: true })`) measured of one node execution
 * (summed over its attempts). See docs/debugging.md, "Per-node profile".
 */
export interface NodeProfileFacts {
  /** From ready (its last dependency finished, or its graph started) to its start. */
  queueWaitMs: number;
  /** `process.cpuUsage()` over the synchronous part of its attempts (the whole process's CPU meanwhile). */
  cpuTimeMs: number;
  /** V8's used heap size after minus before those synchronous parts (negative when a collection freed more). */
  heapGrowthBytes: number;
}

export interface NodeFinishEvent extends EventBase {
  nodeId: string;
  status: NodeStatus;
  durationMs: number;
  attempt: number;
  output?: unknown;
  error?: SerializedError;
  /** Why a node was skipped or cancelled, or which run its output was reused from. */
  reason?: string;
  /** The output was reused from an earlier run (`--resume`); the node did not execute. */
  reused?: boolean;
  /** Cache key of the node's type, parameters and inputs (used by `--resume`). */
  hash?: string;
  /** Profiled runs only, for a node that ran. */
  profile?: NodeProfileFacts;
  iteration?: number;
}

export type StatusCounts = Record<NodeStatus, number>;

export interface RunFinishEvent extends EventBase {
  status: RunStatus;
  durationMs: number;
  output?: unknown;
  error?: SerializedError;
  counts: StatusCounts;
  /** The final run record could not be saved (the storage's error); `status` is still the run's own. */
  recordError?: SerializedError;
}

/** The events of SPEC §5, keyed by name. */
export interface RunEventMap {
  "run:start": RunStartEvent;
  "node:start": NodeStartEvent;
  "node:progress": NodeProgressEvent;
  "node:log": NodeLogEvent;
  "node:retry": NodeRetryEvent;
  "node:finish": NodeFinishEvent;
  "run:finish": RunFinishEvent;
}

export type RunEventName = keyof RunEventMap;

/** One event as it appears in NDJSON and in the stored event log. */
export type RunEvent = { [K in RunEventName]: { type: K } & RunEventMap[K] }[RunEventName];

export const RUN_EVENT_NAMES: readonly RunEventName[] = [
  "run:start",
  "node:start",
  "node:progress",
  "node:log",
  "node:retry",
  "node:finish",
  "run:finish",
];
