import type { NodeProfile, RunProfile, SpanStatus } from "./build-profile.js";

/** One entry of the Trace Event Format's `traceEvents`. */
export interface TraceEvent {
  name: string;
  ph: "X" | "M" | "i";
  /** Microseconds since the run started. */
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  cat?: string;
  s?: "t" | "p" | "g";
  cname?: string;
  args?: Record<string, unknown>;
}

const PID = 1;
/** tid 0 is the run itself; slot k is tid k + 1. */
const RUN_TID = 0;

/** chrome://tracing's reserved colour names per status (Perfetto and speedscope pick their own). */
const CNAMES: Record<SpanStatus, string> = {
  succeeded: "good",
  failed: "terrible",
  skipped: "grey",
  cancelled: "yellow",
  running: "generic_work",
  retried: "bad",
};

const us = (ms: number): number => Math.round(ms * 1000);

/**
 * A run as Chrome Trace Event JSON (`{"traceEvents": […]}`), which Perfetto, chrome://tracing and
 * speedscope open: one `ph: "X"` span per attempt of every node execution (each loop iteration
 * too) on the `tid` of the concurrency slot it held, retry delays as `retry delay` spans, nodes that
 * never ran as instant events on the run's thread, and the node's profile (queue wait, wall time,
 * output size, critical path) in `args`. Times are microseconds since the run started; spans on
 * one `tid` never overlap.
 *
 * @example
 * writeFileSync("run.trace.json", renderTrace(buildRunProfile(events)));
 */
export function renderTrace(profile: RunProfile): string {
  const meta: TraceEvent[] = [
    { name: "process_name", ph: "M", ts: 0, pid: PID, tid: RUN_TID, args: { name: `atomiton ${profile.composite.name || profile.composite.id} (run ${profile.runId})` } },
    { name: "thread_name", ph: "M", ts: 0, pid: PID, tid: RUN_TID, args: { name: "run" } },
    { name: "thread_sort_index", ph: "M", ts: 0, pid: PID, tid: RUN_TID, args: { sort_index: 0 } },
  ];
  for (let lane = 0; lane < profile.lanes; lane++) {
    meta.push({ name: "thread_name", ph: "M", ts: 0, pid: PID, tid: lane + 1, args: { name: `slot ${lane + 1}` } });
    meta.push({ name: "thread_sort_index", ph: "M", ts: 0, pid: PID, tid: lane + 1, args: { sort_index: lane + 1 } });
  }
  const spans: TraceEvent[] = [
    { name: `run ${profile.composite.name || profile.composite.id}`, cat: "run", ph: "X", ts: 0, dur: us(profile.durationMs), pid: PID, tid: RUN_TID, args: { runId: profile.runId, status: profile.status } },
  ];
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const x of profile.executions) {
    const node = byId.get(x.nodeId);
    const tid = x.lane + 1;
    x.attempts.forEach((a, i) => {
      const args: Record<string, unknown> = { nodeId: x.nodeId, status: a.status, attempt: a.attempt };
      if (x.iteration !== undefined) args.iteration = x.iteration;
      if (node && i === x.attempts.length - 1 && x.iteration === undefined) Object.assign(args, nodeArgs(node));
      const ts = us(a.start);
      spans.push({ name: x.nodeId, cat: "node", ph: "X", ts, dur: us(a.end) - ts, pid: PID, tid, cname: CNAMES[a.status], args });
    });
    for (const w of x.waits) {
      const ts = us(w.start);
      const args: Record<string, unknown> = { nodeId: x.nodeId };
      if (x.iteration !== undefined) args.iteration = x.iteration;
      spans.push({ name: "retry delay", cat: "retry", ph: "X", ts, dur: us(w.end) - ts, pid: PID, tid, cname: "grey", args });
    }
  }
  for (const n of profile.nodes) {
    if (n.executions.length > 0 || n.decidedAt === undefined) continue;
    const args: Record<string, unknown> = { nodeId: n.id, status: n.status };
    if (n.reason !== undefined) args.reason = n.reason;
    spans.push({ name: `${n.id} ${n.status ?? ""}`.trim(), cat: "not-run", ph: "i", s: "t", ts: us(n.decidedAt), pid: PID, tid: RUN_TID, args });
  }
  // By time, so per thread timestamps never go back. At one time: on a slot the shorter first (a
  // zero-length attempt ends where the next begins); on the run's thread the run span first, as it
  // contains the instants.
  const tieKey = (e: TraceEvent) => (e.tid === RUN_TID ? -(e.dur ?? 0) : (e.dur ?? 0));
  spans.sort((a, b) => a.ts - b.ts || tieKey(a) - tieKey(b));
  const otherData: Record<string, unknown> = { runId: profile.runId, composite: profile.composite, status: profile.status, durationMs: round(profile.durationMs), dependencies: profile.dependencies };
  const path = profile.criticalPath;
  if (path) otherData.criticalPath = { nodes: path.nodes, busyMs: round(path.busyMs), endMs: round(path.endMs) };
  // One event per line: diffable, and a big trace does not become one huge line.
  return `{"displayTimeUnit":"ms","otherData":${JSON.stringify(otherData)},"traceEvents":[\n${[...meta, ...spans].map((e) => JSON.stringify(e)).join(",\n")}\n]}\n`;
}

/** The node's profile, on the span of its last attempt. */
function nodeArgs(n: NodeProfile): Record<string, unknown> {
  const args: Record<string, unknown> = { type: n.type, wallMs: round(n.wallMs), attempts: n.attempts };
  if (n.queueWaitMs !== undefined) args.queueWaitMs = round(n.queueWaitMs);
  if (n.outputBytes !== undefined) args.outputBytes = n.outputBytes;
  if (n.cpuTimeMs !== undefined) args.cpuTimeMs = round(n.cpuTimeMs);
  if (n.heapGrowthBytes !== undefined) args.heapGrowthBytes = n.heapGrowthBytes;
  if (n.critical) args.critical = true;
  return args;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
