import { hostname } from "node:os";
import { ownStartMark } from "../storage/process-alive.js";
import type { Composite } from "../composite/model.js";
import { toJsonSafe } from "../events/json-safe.js";
import { hashComposite } from "./composite-hash.js";
import type { NodeStatus, RunStatus, StatusCounts } from "../events/event-map.js";
import type { SerializedError } from "../errors.js";

/** Per-node facts in a run record. */
export interface NodeRecord {
  type: string;
  status?: NodeStatus;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  output?: unknown;
  error?: SerializedError;
  reason?: string;
  /** Cache key of type, parameters and inputs (for `--resume`). */
  hash?: string;
  /** False when the output cannot be restored exactly from JSON (binary data, a secret redacted): `--resume` re-runs the node. */
  reusable?: boolean;
  /** The output held a secret's value, which the record keeps only as `***`. */
  redacted?: true;
  /** Loop-body nodes: how many iterations ended in each status. */
  iterations?: Partial<Record<NodeStatus, number>>;
  /** Profiled runs (`run --profile`): what the node cost, summed over its iterations. */
  profile?: NodeProfileRecord;
}

/** A node's profile in the record (SPEC §11): queue wait, wall time, CPU time, heap growth, output size. */
export interface NodeProfileRecord {
  /** From ready (its last dependency finished, or its graph started) to its start. */
  queueWaitMs: number;
  /** Its `durationMs`: first attempt's start to its finish (retry delays included). */
  wallTimeMs: number;
  /** `process.cpuUsage()` over the synchronous part of its attempts. */
  cpuTimeMs: number;
  /** V8's used heap size over those synchronous parts (negative when a collection freed more). */
  heapGrowthBytes: number;
  /** UTF-8 bytes of its output's JSON as the event log holds it (binary data as its size summary); 0 without output. */
  outputBytes: number;
}

/** `runs/<runId>.json`: what happened in one run. */
export interface RunRecord {
  runId: string;
  status: RunStatus | "running";
  composite: { id: string; name: string; file?: string; hash: string };
  input: unknown;
  vars: Record<string, unknown>;
  startedAt: string;
  /** The process that wrote it: `atomiton runs` marks a "running" record whose process is gone as abandoned. */
  pid: number;
  /** When that process started (`processStartMark`): a later process that got the same pid is not it. */
  pidStart?: string;
  host: string;
  /**
   * While running: how often (ms) the recorder shows it is alive, by a checkpoint (`refreshedAt`) or
   * a heartbeat (`runs/<runId>.heartbeat`). Readers on other hosts show the record as abandoned once
   * both are `STALE_HEARTBEATS` heartbeats old (run-liveness.ts).
   */
  heartbeatMs?: number;
  /** When this version of the record was saved. */
  refreshedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  output?: unknown;
  error?: SerializedError;
  counts?: StatusCounts;
  /** `replay <runId> --from <nodeId>`: the run this one re-ran, and from which node. */
  replayOf?: { runId: string; from: string };
  /** The run's input or variables held a secret's value, which the record keeps only as `***`. */
  redacted?: ("input" | "vars")[];
  /** The env vars named with `--secret` (names only): `--resume` and `replay` redact them again. */
  secretNames?: string[];
  nodes: Record<string, NodeRecord>;
}

/**
 * This machine's name, read once: `os.hostname()` is a system call, about 8 µs of a queued no-op
 * 10-node run's ~165 µs in-process cost (docs/performance.md, "7 December 2026, fourth session").
 */
let host: string | undefined;

/** A run's first record, `running` with no nodes yet: what the recorder saves at run:start (and `serve` answers before that). */
export function startingRecord(init: { runId: string; composite: Composite; input: unknown; vars: Record<string, unknown>; replayOf?: { runId: string; from: string }; secretNames?: readonly string[]; heartbeatMs?: number }): RunRecord {
  return {
    runId: init.runId,
    status: "running",
    composite: { id: init.composite.id, name: init.composite.name, hash: hashComposite(init.composite), ...(init.composite.file ? { file: init.composite.file } : {}) },
    // No input stays absent (not null), so `--resume` hands root nodes the same undefined and their cache keys match.
    input: init.input === undefined ? undefined : toJsonSafe(init.input),
    vars: toJsonSafe(init.vars) as Record<string, unknown>,
    startedAt: new Date().toISOString(),
    pid: process.pid,
    ...(ownStartMark() === undefined ? {} : { pidStart: ownStartMark() }),
    host: (host ??= hostname()),
    ...(init.heartbeatMs === undefined ? {} : { heartbeatMs: init.heartbeatMs }),
    ...(init.replayOf ? { replayOf: init.replayOf } : {}),
    ...(init.secretNames?.length ? { secretNames: [...init.secretNames] } : {}),
    nodes: {},
  };
}

/** Makes `record.nodes` an own enumerable property that `build`s the node map when first read (then a plain value). */
export function defineLazyNodes(record: RunRecord, build: () => Record<string, NodeRecord>): void {
  Object.defineProperty(record, "nodes", {
    enumerable: true,
    configurable: true,
    get() {
      const nodes = build();
      Object.defineProperty(record, "nodes", { value: nodes, enumerable: true, configurable: true, writable: true });
      return nodes;
    },
    set(value: Record<string, NodeRecord>) {
      Object.defineProperty(record, "nodes", { value, enumerable: true, configurable: true, writable: true });
    },
  });
}
