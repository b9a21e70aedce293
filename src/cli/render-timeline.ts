import type { NodeStatus, RunEvent } from "../events/event-map.js";
import { formatDuration } from "../reporters/format-duration.js";
import type { Style } from "../reporters/style.js";
import { truncate, visibleWidth } from "../terminal-width.js";

/** One node's time on the run's clock (ms since run start). */
export interface TimelineSpan {
  nodeId: string;
  /** First `node:start`; undefined when the node never started (skipped, cancelled while pending). */
  start?: number;
  /** Last `node:finish`. */
  end?: number;
  status?: NodeStatus;
  /** Loop-body nodes: how many iterations finished. */
  iterations: number;
}

export interface Timeline {
  /** Run length in ms (run:finish, else the last event). */
  durationMs: number;
  spans: TimelineSpan[];
}

/** Node spans from an event log: first start to last finish per node, in start order. */
export function buildTimeline(events: readonly RunEvent[]): Timeline {
  const runStart = events.find((e) => e.type === "run:start")?.ts ?? events[0]?.ts ?? 0;
  const spans = new Map<string, TimelineSpan>();
  const order: string[] = [];
  const span = (id: string): TimelineSpan => {
    let s = spans.get(id);
    if (!s) {
      s = { nodeId: id, iterations: 0 };
      spans.set(id, s);
      order.push(id);
    }
    return s;
  };
  let last = runStart;
  let finished: number | undefined;
  for (const e of events) {
    last = Math.max(last, e.ts);
    if (e.type === "run:start") for (const n of e.nodes) span(n.id);
    else if (e.type === "node:start") {
      const s = span(e.nodeId);
      const t = e.ts - runStart;
      s.start = s.start === undefined ? t : Math.min(s.start, t);
    } else if (e.type === "node:finish") {
      const s = span(e.nodeId);
      const t = e.ts - runStart;
      s.end = s.end === undefined ? t : Math.max(s.end, t);
      if (e.iteration !== undefined) s.iterations++;
      if (s.status !== "failed") s.status = e.status;
    } else if (e.type === "run:finish") finished = e.durationMs;
  }
  const list = order.map((id) => spans.get(id)!).filter((s) => s.start !== undefined || s.end !== undefined);
  const at = (s: TimelineSpan) => s.start ?? s.end ?? 0;
  const index = new Map(order.map((id, i) => [id, i]));
  list.sort((a, b) => at(a) - at(b) || index.get(a.nodeId)! - index.get(b.nodeId)!);
  return { durationMs: finished ?? last - runStart, spans: list };
}

export interface RenderTimelineOptions {
  /** Total line width (the terminal's columns). */
  width: number;
  style: Style;
}

/**
 * An ASCII gantt chart of a run: one row per node, a bar from its first start to its last finish
 * scaled to the width, its duration on the right. Nodes that never started show as a dot.
 *
 * @example
 * greet   ██                               3ms
 * shout     ████████████                 120ms
 */
export function renderTimeline(timeline: Timeline, options: RenderTimelineOptions): string {
  const { style } = options;
  const c = style.chalk;
  if (timeline.spans.length === 0) return "no node started\n";
  const labelWidth = Math.min(28, Math.max(4, ...timeline.spans.map((s) => visibleWidth(s.nodeId))));
  const durations = timeline.spans.map((s) => (s.start !== undefined && s.end !== undefined ? formatDuration(s.end - s.start) : s.status ?? ""));
  const durWidth = Math.max(...durations.map((d) => d.length), formatDuration(timeline.durationMs).length);
  const barWidth = Math.max(10, options.width - labelWidth - durWidth - 4);
  const total = Math.max(1, timeline.durationMs, ...timeline.spans.map((s) => s.end ?? 0));
  // One rounding for starts and ends, so a node that starts when another ends starts on the next cell.
  const col = (t: number) => Math.min(barWidth - 1, Math.max(0, Math.round((t / total) * barWidth)));
  const full = style.unicode ? "█" : "#";
  const paint = (status: NodeStatus | undefined) =>
    status === "failed" ? c.red : status === "cancelled" ? c.yellow : status === "skipped" ? c.dim : status === "succeeded" ? c.green : c.cyan;

  const axisEnd = formatDuration(total);
  const axis = `${" ".repeat(labelWidth + 2)}0${" ".repeat(Math.max(1, barWidth - 1 - axisEnd.length))}${axisEnd}`;
  const out = [c.dim(axis)];
  timeline.spans.forEach((s, i) => {
    // In terminal columns: a CJK character or an emoji takes two.
    const cut = truncate(s.nodeId, labelWidth, style.unicode ? "…" : "~");
    const label = cut + " ".repeat(Math.max(0, labelWidth - visibleWidth(cut)));
    let bar: string;
    if (s.start === undefined) {
      const at = col(s.end ?? 0);
      bar = " ".repeat(at) + paint(s.status)(style.unicode ? "·" : ".") + " ".repeat(barWidth - at - 1);
    } else {
      const from = col(s.start);
      const to = Math.max(from + 1, Math.min(barWidth, Math.round(((s.end ?? total) / total) * barWidth)));
      const glyph = s.status === "failed" && !style.unicode ? "X" : full;
      bar = " ".repeat(from) + paint(s.status)(glyph.repeat(to - from)) + " ".repeat(barWidth - to);
    }
    const note = s.iterations > 1 ? c.dim(` ×${s.iterations}`) : "";
    out.push(`${label}  ${bar}  ${durations[i]!.padStart(durWidth)}${note}`);
  });
  return `${out.join("\n")}\n`;
}
