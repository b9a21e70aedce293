import type { NodeStatus, RunEvent, RunStartEvent } from "../../events/event-map.js";
import { stringifyJsonSafe } from "../../events/json-safe.js";
import { findCriticalPath, type CriticalPath, type PathNode } from "../../reporters/critical-path.js";
import { assignLanes } from "./assign-lanes.js";

/** A finished state, `retried` for an attempt that failed and was retried, `running` when no finish came. */
export type SpanStatus = NodeStatus | "retried" | "running";

/** One attempt of an execution, on the run's clock (ms since run start). */
export interface Attempt {
  attempt: number;
  start: number;
  end: number;
  status: SpanStatus;
}

/**
 * One execution of a node: a top-level node runs once, a loop-body node once per iteration. Its
 * attempts and the retry delays between them hold one concurrency slot, so they share a lane.
 */
export interface Execution {
  nodeId: string;
  iteration?: number;
  /** 0-based concurrency slot: the lowest one free when the execution started. */
  lane: number;
  start: number;
  end: number;
  status: SpanStatus;
  attempts: Attempt[];
  /** Retry delays: from `node:retry` to the next attempt's start. */
  waits: { start: number; end: number }[];
}

/** What a run's events tell about one node. */
export interface NodeProfile {
  id: string;
  type: string;
  /** The loop or group whose body holds it. */
  parent?: string;
  /** Plan level (top-level nodes only). */
  level?: number;
  status?: SpanStatus;
  /** First start and last end of its executions. */
  start?: number;
  end?: number;
  /** A node that never started (skipped, reused, cancelled while pending): when that was decided. */
  decidedAt?: number;
  reason?: string;
  /** Sum of its executions' wall time (first attempt's start → last attempt's end). */
  wallMs: number;
  /** From ready (its last dependency finished, or the run started) to its first start; known for roots and with the composite's edges. */
  queueWaitMs?: number;
  /** Attempts over all executions. */
  attempts: number;
  /** Executions that carried an iteration index. */
  iterations: number;
  /** JSON length (UTF-8 bytes) of its output as the event log holds it; summed over iterations. */
  outputBytes?: number;
  /** Profiled runs (`run --profile`): CPU time and heap growth of its attempts' synchronous parts, summed. */
  cpuTimeMs?: number;
  heapGrowthBytes?: number;
  critical: boolean;
  executions: Execution[];
}

export interface RunProfile {
  runId: string;
  composite: RunStartEvent["composite"];
  status: string;
  /** Run length in ms: run:finish's, else up to the last event. */
  durationMs: number;
  /** In run:start order. */
  nodes: NodeProfile[];
  /** Every execution, by start. */
  executions: Execution[];
  /** Concurrency slots used (the most executions at once). */
  lanes: number;
  criticalPath?: CriticalPath;
  /** Where the dependencies behind the critical path and queue waits came from. */
  dependencies: "composite" | "inferred";
}

export interface BuildProfileOptions {
  /** Top-level node id → the ids it depends on (the composite's edges); without it they are inferred. */
  predecessors?: ReadonlyMap<string, readonly string[]>;
}

interface OpenExecution extends Execution {
  waiting: boolean;
  durationMs?: number;
  /** Positions in the event log of its first start and its finish (orders events within a millisecond). */
  startSeq: number;
  finishSeq: number;
}

/**
 * A run's profile from its event log: executions with their attempts and retry delays, lanes,
 * per-node wall time, queue wait and output size, and the critical path.
 */
export function buildRunProfile(events: readonly RunEvent[], options: BuildProfileOptions = {}): RunProfile {
  const startEvent = events.find((e): e is Extract<RunEvent, { type: "run:start" }> => e.type === "run:start");
  const runId = startEvent?.runId ?? events[0]?.runId ?? "";
  const t0 = startEvent?.ts ?? events[0]?.ts ?? 0;
  const nodes = new Map<string, NodeProfile>();
  const node = (id: string): NodeProfile => {
    let n = nodes.get(id);
    if (!n) {
      n = { id, type: "", wallMs: 0, attempts: 0, iterations: 0, critical: false, executions: [] };
      nodes.set(id, n);
    }
    return n;
  };
  if (startEvent) {
    for (const info of startEvent.nodes) Object.assign(node(info.id), { type: info.type }, info.parent === undefined ? {} : { parent: info.parent });
    (startEvent.plan ?? []).forEach((level, l) => level.forEach((id) => (node(id).level = l)));
  }
  const open = new Map<string, OpenExecution[]>();
  const executions: OpenExecution[] = [];
  let last = t0;
  let status = "running";
  let finishedMs: number | undefined;

  for (let seq = 0; seq < events.length; seq++) {
    const e = events[seq]!;
    if (e.runId !== runId) continue;
    last = Math.max(last, e.ts);
    const t = e.ts - t0;
    if (e.type === "node:start") {
      const key = keyOf(e.nodeId, e.iteration);
      const list = open.get(key) ?? [];
      open.set(key, list);
      const resumed = e.attempt > 1 ? list.find((x) => x.waiting) : undefined;
      if (resumed) {
        resumed.waiting = false;
        resumed.waits.at(-1)!.end = t;
        resumed.attempts.push({ attempt: e.attempt, start: t, end: t, status: "running" });
      } else {
        const x: OpenExecution = { nodeId: e.nodeId, lane: 0, start: t, end: t, status: "running", attempts: [{ attempt: e.attempt, start: t, end: t, status: "running" }], waits: [], waiting: false, startSeq: seq, finishSeq: Number.POSITIVE_INFINITY };
        if (e.iteration !== undefined) x.iteration = e.iteration;
        list.push(x);
        executions.push(x);
      }
    } else if (e.type === "node:retry") {
      const x = open.get(keyOf(e.nodeId, e.iteration))?.find((o) => !o.waiting);
      if (!x) continue;
      const attempt = x.attempts.at(-1)!;
      attempt.end = t;
      attempt.status = "retried";
      x.waits.push({ start: t, end: t + e.delayMs });
      x.waiting = true;
    } else if (e.type === "node:finish") {
      const n = node(e.nodeId);
      if (n.status !== "failed") n.status = e.status;
      if (e.reason !== undefined) n.reason = e.reason;
      if (e.output !== undefined) n.outputBytes = (n.outputBytes ?? 0) + Buffer.byteLength(stringifyJsonSafe(e.output));
      if (e.profile !== undefined) {
        n.cpuTimeMs = (n.cpuTimeMs ?? 0) + e.profile.cpuTimeMs;
        n.heapGrowthBytes = (n.heapGrowthBytes ?? 0) + e.profile.heapGrowthBytes;
      }
      const list = open.get(keyOf(e.nodeId, e.iteration));
      const x = list?.shift();
      if (!x) {
        n.decidedAt ??= t;
        continue;
      }
      if (x.waiting) x.waits.at(-1)!.end = t; // cancelled during a retry delay
      else Object.assign(x.attempts.at(-1)!, { end: t, status: e.status });
      x.waiting = false;
      x.status = e.status;
      x.end = t;
      x.durationMs = e.durationMs;
      x.finishSeq = seq;
    } else if (e.type === "run:finish") {
      status = e.status;
      finishedMs = e.durationMs;
    }
  }
  const logEnd = Math.max(finishedMs ?? 0, last - t0);
  for (const x of executions) {
    if (x.status !== "running") continue;
    // No finish came (an abandoned run): it ran until the log ends.
    x.end = logEnd;
    const attempt = x.attempts.at(-1)!;
    if (attempt.status === "running") attempt.end = logEnd;
    else if (x.waiting) x.waits.at(-1)!.end = logEnd;
  }
  const lanes = assignLanes(executions);
  let durationMs = logEnd;
  for (const x of executions) durationMs = Math.max(durationMs, x.end);
  const list = [...nodes.values()];
  for (const x of executions) addExecution(node(x.nodeId), x);
  const predecessors = options.predecessors;
  addQueueWaits(list, predecessors);
  const pathNodes: PathNode[] = list
    .filter((n) => n.level !== undefined && n.start !== undefined)
    .map((n) => ({ id: n.id, level: n.level!, start: n.start!, end: n.end!, ...(n.status === "cancelled" ? { cancelled: true } : {}) }));
  const criticalPath = findCriticalPath(pathNodes, predecessors ? (id) => predecessors.get(id) : undefined);
  for (const id of criticalPath?.nodes ?? []) node(id).critical = true;
  return {
    runId,
    composite: startEvent?.composite ?? { id: "", name: "" },
    status,
    durationMs,
    nodes: list,
    executions: executions.map(({ waiting: _w, durationMs: _d, startSeq: _s, finishSeq: _f, ...x }) => x),
    lanes,
    ...(criticalPath ? { criticalPath } : {}),
    dependencies: predecessors ? "composite" : "inferred",
  };
}

function keyOf(nodeId: string, iteration: number | undefined): string {
  return iteration === undefined ? nodeId : `${nodeId}\u0000${iteration}`;
}

function addExecution(n: NodeProfile, x: Execution): void {
  n.executions.push(x);
  n.start = n.start === undefined ? x.start : Math.min(n.start, x.start);
  n.end = n.end === undefined ? x.end : Math.max(n.end, x.end);
  n.wallMs += x.end - x.start;
  n.attempts += x.attempts.length;
  if (x.iteration !== undefined) n.iterations++;
  if (n.status === undefined || n.status === "running") n.status = x.status;
}

/** Queue wait of top-level nodes: roots were ready at 0; others when their last dependency finished. */
function addQueueWaits(nodes: readonly NodeProfile[], predecessors: ReadonlyMap<string, readonly string[]> | undefined): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const n of nodes) {
    if (n.level === undefined || n.start === undefined) continue;
    const deps = predecessors?.get(n.id) ?? (n.level === 0 ? [] : undefined);
    if (deps === undefined) continue;
    let ready = 0;
    for (const id of deps) {
      const d = byId.get(id);
      const done = d?.end ?? d?.decidedAt;
      if (done !== undefined) ready = Math.max(ready, done);
    }
    n.queueWaitMs = Math.max(0, n.start - ready);
  }
}
