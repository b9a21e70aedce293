import type { Execution } from "./build-profile.js";
import { COLORS, CRITICAL, escapeXml, fitText, LABEL_COLORS, MUTED, PAINT_ORDER, type BarKind } from "./svg.js";

/** Something to draw on a row, on the run's clock (ms). */
export interface Segment {
  start: number;
  end: number;
  kind: BarKind;
  /** Outline it: on the critical path. */
  critical?: boolean;
  /** Text inside the bar when it fits. */
  label?: string;
  /** Tooltip. */
  title?: string;
}

/** Maps run time to x; pixel edges are whole numbers, so bar interiors keep their exact colour. */
export interface Scale {
  x0: number;
  width: number;
  totalMs: number;
}

export function px(scale: Scale, t: number): number {
  return Math.round(scale.x0 + (Math.min(Math.max(t, 0), scale.totalMs) / scale.totalMs) * scale.width);
}

/** Bars narrower than this are drawn merged with their neighbours of the same kind. */
const MIN_BAR_PX = 3;
/** A zero-length execution or a decision still gets this many pixels. */
const MIN_MARK_PX = 2;
/** Past this many segments a row is drawn as coverage per kind (bounded by its width in pixels). */
const MAX_INDIVIDUAL_BARS = 120;
/** Bars at least this wide carry their label. */
const MIN_LABEL_PX = 24;

/**
 * One row of bars at `y`, `height` tall. Bars at least 3 px wide are drawn one by one (with a
 * tooltip, a label when `labels` and room allow, an outline on the critical path); thinner ones
 * merge with touching ones of the same kind, so the output grows with the width, not the count.
 * A row of more than 120 segments, or with `coverage`, is drawn as coverage only (no tooltips).
 * Failed bars paint over the rest.
 */
export function renderBars(segments: readonly Segment[], scale: Scale, y: number, height: number, options: { labels?: boolean; coverage?: boolean } = {}): string {
  const individual = !options.coverage && segments.length <= MAX_INDIVIDUAL_BARS;
  const labels = options.labels ?? false;
  const out: string[] = [];
  const narrow = new Map<BarKind, [number, number][]>();
  const sorted = [...segments].sort((a, b) => PAINT_ORDER.indexOf(a.kind) - PAINT_ORDER.indexOf(b.kind) || a.start - b.start);
  for (const s of sorted) {
    const x1 = px(scale, s.start);
    const x2 = Math.max(x1 + MIN_MARK_PX, px(scale, s.end));
    if (!individual || x2 - x1 < MIN_BAR_PX) {
      let runs = narrow.get(s.kind);
      if (!runs) narrow.set(s.kind, (runs = []));
      runs.push([x1, x2]);
      continue;
    }
    // A 1 px gap at the end keeps back-to-back bars apart.
    const w = x2 - x1 - (x2 - x1 >= 4 ? 1 : 0);
    const stroke = s.critical ? ` stroke="${CRITICAL}" stroke-width="2"` : "";
    const title = s.title === undefined ? "" : `<title>${escapeXml(s.title)}</title>`;
    out.push(`<rect x="${x1}" y="${y}" width="${w}" height="${height}" fill="${COLORS[s.kind]}"${stroke}>${title}</rect>`);
    const text = labels && s.label !== undefined && w >= MIN_LABEL_PX ? fitText(s.label, w - 6) : "";
    if (text !== "") out.push(`<text x="${x1 + 3}" y="${y + height / 2 + 4}" fill="${LABEL_COLORS[s.kind]}">${escapeXml(text)}</text>`);
  }
  // Narrow bars were added in paint order: draw their runs in the same order.
  for (const kind of PAINT_ORDER) {
    const runs = narrow.get(kind);
    if (!runs) continue;
    for (const [x1, x2] of mergeRuns(runs)) out.push(`<rect x="${x1}" y="${y}" width="${x2 - x1}" height="${height}" fill="${COLORS[kind]}"/>`);
  }
  return out.join("");
}

/** Touching or overlapping pixel ranges as one. */
function mergeRuns(runs: [number, number][]): [number, number][] {
  runs.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [a, b] of runs) {
    const last = merged.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

/** A dashed line from `from` to `to` through the row's middle: waiting for a slot after being ready. */
export function renderQueueWait(scale: Scale, from: number, to: number, y: number, height: number): string {
  const x1 = px(scale, from);
  const x2 = px(scale, to);
  if (x2 - x1 < 2) return "";
  const mid = y + height / 2;
  return `<line x1="${x1}" y1="${mid}" x2="${x2}" y2="${mid}" stroke="${MUTED}" stroke-width="1.5" stroke-dasharray="3 2"/>`;
}

/** The segments an execution draws: its attempts, then its retry delays. */
export function executionSegments(x: Execution, options: { label?: string; critical?: boolean } = {}): Segment[] {
  const name = x.iteration === undefined ? x.nodeId : `${x.nodeId}[${x.iteration}]`;
  const segments: Segment[] = [];
  for (const a of x.attempts) {
    const s: Segment = { start: a.start, end: a.end, kind: a.status, title: `${name} attempt ${a.attempt}: ${a.status}, ${formatMs(a.end - a.start)}` };
    if (options.label !== undefined) s.label = options.label;
    if (options.critical) s.critical = true;
    segments.push(s);
  }
  for (const w of x.waits) segments.push({ start: w.start, end: w.end, kind: "retry-wait", title: `${name} retry delay ${formatMs(w.end - w.start)}` });
  return segments;
}

/** `0.42ms`, `2.5ms`, `12ms`, `1.50s` for tooltips and row notes. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Number(ms.toFixed(2))}ms`;
  if (ms < 10) return `${Number(ms.toFixed(1))}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/** A node that never ran (skipped, cancelled while pending, reused): a 4 px mark where that was decided. */
export function renderMarker(scale: Scale, t: number, kind: BarKind, y: number, height: number, title: string): string {
  const x = Math.min(px(scale, t), scale.x0 + scale.width - 4);
  return `<rect x="${x}" y="${y}" width="4" height="${height}" fill="${COLORS[kind]}"><title>${escapeXml(title)}</title></rect>`;
}
