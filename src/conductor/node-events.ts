import type { SerializedError } from "../errors.js";
import { LogLevel, UNRECORDED, type NodeFinishEvent, type NodeStatus, type RunEventMap } from "../events/event-map.js";
import { stringifyJsonSafe } from "../events/json-safe.js";
import type { GraphRun } from "./run-graph.js";
import { EVENT_LOG_MAX_BACKLOG_CHARS } from "./event-log-writer.js";
import { profileFacts } from "./node-profile.js";
import { RUNNING, round, withoutStack } from "./node-state.js";

type NodeEventName = "node:start" | "node:finish" | "node:retry" | "node:log" | "node:progress";

/** Emit a node event; inside a loop body it carries the iteration. */
function emit<K extends NodeEventName>(g: GraphRun, name: K, event: RunEventMap[K]): void {
  if (g.iteration !== undefined) event.iteration = g.iteration;
  g.run.bus.emit(name, event);
}

/**
 * A node:log or node:progress event, unless the run's event log has fallen behind its storage: the
 * event is then marked `UNRECORDED` (reporters still show it; the log and serve's seq skip it) and
 * counted, and the node's next event once the log caught up (or its node:retry / node:finish) is
 * preceded by one warning that says how many were left out.
 */
function emitDroppable<K extends "node:log" | "node:progress">(g: GraphRun, i: number, name: K, event: RunEventMap[K]): void {
  const run = g.run;
  if (run.logPressure?.congested === true) {
    const counts = ((run.unrecorded ??= new Map()).get(g) ?? run.unrecorded.set(g, new Map()).get(g))!;
    counts.set(i, (counts.get(i) ?? 0) + 1);
    (event as { [UNRECORDED]?: boolean })[UNRECORDED] = true;
  } else if (run.unrecorded !== undefined) emitUnrecorded(g, i);
  emit(g, name, event);
}

/** The warning that stands in the event log for the node's events it left out (if any). */
function emitUnrecorded(g: GraphRun, i: number): void {
  const counts = g.run.unrecorded?.get(g);
  const n = counts?.get(i);
  if (n === undefined) return;
  counts!.delete(i);
  if (counts!.size === 0) g.run.unrecorded!.delete(g);
  if (g.run.unrecorded!.size === 0) g.run.unrecorded = undefined;
  const message = `${n} of this node's log and progress events are not in the run's event log: it fell ${EVENT_LOG_MAX_BACKLOG_CHARS / 1024 / 1024} MiB behind (the storage was slower than the node's output); they were shown live only`;
  emit(g, "node:log", { runId: g.run.runId, ts: Date.now(), nodeId: g.graph.nodes[i]!.node.id, level: "warn", message, unrecorded: n });
}

/** The one `node:finish` literal; the caller adds `output`, `error` or `reason`. */
function finishEvent(g: GraphRun, i: number, status: NodeStatus, durationMs: number): NodeFinishEvent {
  const e: NodeFinishEvent = { runId: g.run.runId, ts: Date.now(), nodeId: g.graph.nodes[i]!.node.id, status, durationMs: round(durationMs), attempt: g.attempts[i]! };
  if (g.profile !== undefined) {
    const profile = profileFacts(g, i);
    if (profile) e.profile = profile;
  }
  return e;
}

export function emitStart(g: GraphRun, i: number, attempt: number): void {
  emit(g, "node:start", { runId: g.run.runId, ts: Date.now(), nodeId: g.graph.nodes[i]!.node.id, attempt });
}

export function emitSucceeded(g: GraphRun, i: number, output: unknown, reused: boolean): void {
  if (g.run.unrecorded !== undefined) emitUnrecorded(g, i);
  const e = finishEvent(g, i, "succeeded", g.times[i]!);
  e.output = output;
  const hash = g.hashes?.[i];
  if (hash !== undefined) e.hash = hash;
  if (reused) e.reused = true;
  // Reused or pinned ("reused from run …", "pinned"), or skipped at the debugger prompt.
  const reason = g.reasons?.[i];
  if (reason !== undefined) e.reason = reason;
  emit(g, "node:finish", e);
}

export function emitFailed(g: GraphRun, i: number, error: SerializedError): void {
  if (g.run.unrecorded !== undefined) emitUnrecorded(g, i);
  const e = finishEvent(g, i, "failed", g.times[i]!);
  e.error = withoutStack(error);
  emit(g, "node:finish", e);
}

/** A skipped node, or a cancelled one (`durationMs` 0 when it never started). */
export function emitEnded(g: GraphRun, i: number, status: "skipped" | "cancelled", reason: string): void {
  if (g.run.unrecorded !== undefined) emitUnrecorded(g, i);
  const e = finishEvent(g, i, status, g.times[i]!);
  e.reason = reason;
  emit(g, "node:finish", e);
}

export function emitRetry(g: GraphRun, i: number, attempt: number, maxAttempts: number, delayMs: number, error: SerializedError): void {
  if (g.run.unrecorded !== undefined) emitUnrecorded(g, i);
  emit(g, "node:retry", { runId: g.run.runId, ts: Date.now(), nodeId: g.graph.nodes[i]!.node.id, attempt, maxAttempts, delayMs, error: withoutStack(error) });
}

/**
 * `ctx.log`: a `node:log` event when anyone listens, while the node runs. A log after its
 * `node:finish` (a cancelled child process's last line) is dropped: it would land after `run:finish`.
 */
export function emitLog(g: GraphRun, i: number, level: LogLevel, message: string): void {
  if (!g.run.emitLog || g.status[i] !== RUNNING) return;
  // Custom nodes are JavaScript: a level or a message of another type must not reach the reporters
  // as such (a message that was an object was lost, with a reporter error in its place).
  const known = Object.hasOwn(LogLevel, level) ? level : "info";
  emitDroppable(g, i, "node:log", { runId: g.run.runId, ts: Date.now(), nodeId: g.graph.nodes[i]!.node.id, level: known, message: typeof message === "string" ? message : logText(message) });
}

/** A log message that is not a string, as text: JSON for an object, an error's message, `String` for the rest. */
function logText(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "object" && value !== null) return stringifyJsonSafe(value);
  return String(value);
}

/** `ctx.progress`: a `node:progress` event (clamped to 0..1) when anyone listens, while the node runs. */
export function emitProgress(g: GraphRun, i: number, progress: number, message?: string): void {
  // A progress that is not a number (NaN, a string) says nothing: no event.
  if (!g.run.emitProgress || g.status[i] !== RUNNING || typeof progress !== "number" || Number.isNaN(progress)) return;
  const e: RunEventMap["node:progress"] = { runId: g.run.runId, ts: Date.now(), nodeId: g.graph.nodes[i]!.node.id, progress: Math.max(0, Math.min(1, progress)) };
  if (message !== undefined && message !== null) e.message = typeof message === "string" ? message : logText(message);
  emitDroppable(g, i, "node:progress", e);
}
