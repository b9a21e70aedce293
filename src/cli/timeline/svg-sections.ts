import type { NodeProfile, RunProfile } from "./build-profile.js";
import { executionSegments, formatMs, renderBars, renderMarker, renderQueueWait, type Scale, type Segment } from "./svg-bars.js";
import { COLORS, CRITICAL, escapeXml, fitText, formatBytes, MUTED, PAINT_ORDER, type BarKind } from "./svg.js";

/** Geometry shared by every part of the picture. */
export const LAYOUT = { width: 1200, labelX: 12, x0: 240, right: 150, rowH: 20, barH: 14, titleH: 26 } as const;
export const PLOT_WIDTH = LAYOUT.width - LAYOUT.x0 - LAYOUT.right;

/** A block of rows: its height, and its SVG once placed at `y`. */
export interface Section {
  height: number;
  render(y: number): string;
}

/** A node's row and how deep it sits in loop/group bodies. */
export interface NodeRow {
  node: NodeProfile;
  depth: number;
}

const RIGHT_X = LAYOUT.x0 + PLOT_WIDTH + 10;
const BAR_OFFSET = (LAYOUT.rowH - LAYOUT.barH) / 2;

function sectionTitle(text: string, y: number): string {
  return `<text x="${LAYOUT.labelX}" y="${y + 18}" font-size="12" font-weight="bold">${escapeXml(text)}</text>`;
}

function rightText(text: string, y: number): string {
  return `<text x="${RIGHT_X}" y="${y + LAYOUT.rowH / 2 + 4}" fill="${MUTED}">${escapeXml(fitText(text, LAYOUT.right - 12))}</text>`;
}

/**
 * One row per concurrency slot, each execution on the slot it held (attempts and retry delays);
 * with `coverage` (a big run) the bars of a slot merge by status, without labels or tooltips.
 */
export function lanesSection(profile: RunProfile, scale: Scale, coverage: boolean): Section {
  const lanes: Segment[][] = Array.from({ length: profile.lanes }, () => []);
  const critical = new Set(profile.criticalPath?.nodes ?? []);
  const busy = new Array<number>(profile.lanes).fill(0);
  for (const x of profile.executions) {
    const label = x.iteration === undefined ? x.nodeId : `${x.nodeId}[${x.iteration}]`;
    lanes[x.lane]!.push(...executionSegments(x, { label, critical: x.iteration === undefined && critical.has(x.nodeId) }));
    busy[x.lane]! += x.end - x.start;
  }
  const height = LAYOUT.titleH + profile.lanes * LAYOUT.rowH;
  return {
    height,
    render(y) {
      const out = [sectionTitle(`Concurrency slots (${profile.lanes})`, y)];
      lanes.forEach((segments, i) => {
        const rowY = y + LAYOUT.titleH + i * LAYOUT.rowH;
        out.push(`<text x="${LAYOUT.labelX + 10}" y="${rowY + LAYOUT.rowH / 2 + 4}" fill="${MUTED}">slot ${i + 1}</text>`);
        out.push(renderBars(segments, scale, rowY + BAR_OFFSET, LAYOUT.barH, { labels: true, coverage }));
        out.push(rightText(`${Math.round((busy[i]! / scale.totalMs) * 100)}% busy`, rowY));
      });
      return `<g id="lanes">${out.join("")}</g>`;
    },
  };
}

const HISTOGRAM_H = 100;
const BUCKET_PX = 4;

/** Too many slots for a row each: how many executions ran at once over time, stacked by status. */
export function concurrencySection(profile: RunProfile, scale: Scale): Section {
  const buckets = Math.floor(PLOT_WIDTH / BUCKET_PX);
  const bucketMs = scale.totalMs / buckets;
  const kinds = PAINT_ORDER;
  const acc = new Float64Array(buckets * kinds.length);
  const add = (start: number, end: number, kind: BarKind) => {
    const k = kinds.indexOf(kind);
    const last = Math.min(buckets - 1, Math.floor(end / bucketMs));
    for (let b = Math.max(0, Math.floor(start / bucketMs)); b <= last; b++) {
      const overlap = Math.min(end, (b + 1) * bucketMs) - Math.max(start, b * bucketMs);
      if (overlap > 0) acc[b * kinds.length + k]! += overlap / bucketMs;
    }
  };
  for (const x of profile.executions) {
    for (const a of x.attempts) add(a.start, a.end, a.status);
    for (const w of x.waits) add(w.start, w.end, "retry-wait");
  }
  let max = 0;
  for (let b = 0; b < buckets; b++) {
    let sum = 0;
    for (let k = 0; k < kinds.length; k++) sum += acc[b * kinds.length + k]!;
    max = Math.max(max, sum);
  }
  return {
    height: LAYOUT.titleH + HISTOGRAM_H + 8,
    render(y) {
      const out = [sectionTitle(`Running at once (${profile.lanes} slots, too many for a row each)`, y)];
      const base = y + LAYOUT.titleH + HISTOGRAM_H;
      out.push(`<line x1="${LAYOUT.x0}" y1="${base}" x2="${LAYOUT.x0 + PLOT_WIDTH}" y2="${base}" stroke="${MUTED}"/>`);
      out.push(`<text x="${LAYOUT.labelX + 10}" y="${y + LAYOUT.titleH + 12}" fill="${MUTED}">${Math.round(max)} at once</text>`);
      for (let b = 0; b < buckets && max > 0; b++) {
        let top = base;
        for (let k = 0; k < kinds.length; k++) {
          const h = Math.round((acc[b * kinds.length + k]! / max) * HISTOGRAM_H);
          if (h < 1) continue;
          top -= h;
          out.push(`<rect x="${LAYOUT.x0 + b * BUCKET_PX}" y="${top}" width="${BUCKET_PX}" height="${h}" fill="${COLORS[kinds[k]!]}"/>`);
        }
      }
      out.push(rightText(`max ${Math.round(max)}`, y + LAYOUT.titleH));
      return `<g id="concurrency">${out.join("")}</g>`;
    },
  };
}

/** A row per node: queue wait, attempts, retry delays, iterations of a loop body together; a tooltip with its profile. */
export function nodeRowsSection(title: string, rows: readonly NodeRow[], scale: Scale, id: string): Section {
  return {
    height: LAYOUT.titleH + rows.length * LAYOUT.rowH,
    render(y) {
      const out = [sectionTitle(title, y)];
      rows.forEach((row, i) => out.push(renderNodeRow(row, scale, y + LAYOUT.titleH + i * LAYOUT.rowH)));
      return `<g id="${id}">${out.join("")}</g>`;
    },
  };
}

function renderNodeRow({ node: n, depth }: NodeRow, scale: Scale, y: number): string {
  const barY = y + BAR_OFFSET;
  const out: string[] = [`<title>${escapeXml(profileText(n))}</title>`];
  const labelX = LAYOUT.labelX + 10 + depth * 12;
  if (n.critical) out.push(`<rect x="${LAYOUT.labelX}" y="${barY}" width="4" height="${LAYOUT.barH}" fill="${CRITICAL}"/>`);
  const label = fitText(n.iterations > 0 ? `${n.id} ×${n.iterations}` : n.id, LAYOUT.x0 - 10 - labelX);
  out.push(`<text x="${labelX}" y="${y + LAYOUT.rowH / 2 + 4}"${n.critical ? ' font-weight="bold"' : ""}>${escapeXml(label)}</text>`);
  if (n.queueWaitMs !== undefined && n.start !== undefined) out.push(renderQueueWait(scale, n.start - n.queueWaitMs, n.start, barY, LAYOUT.barH));
  const segments = n.executions.flatMap((x) => executionSegments(x, { critical: n.critical }));
  out.push(renderBars(segments, scale, barY, LAYOUT.barH));
  if (n.executions.length === 0 && n.decidedAt !== undefined && n.status !== undefined) {
    out.push(renderMarker(scale, n.decidedAt, n.status, barY, LAYOUT.barH, `${n.id}: ${n.status}${n.reason ? ` (${n.reason})` : ""}`));
  }
  const attempts = n.attempts > n.executions.length ? `, ${n.attempts} attempts` : "";
  const total = n.iterations > 0 ? " total" : "";
  out.push(rightText(n.executions.length > 0 ? `${formatMs(n.wallMs)}${total}${attempts}` : (n.status ?? ""), y));
  return `<g>${out.join("")}</g>`;
}

/** A node's profile for its tooltip. */
export function profileText(n: NodeProfile): string {
  const parts = [`${n.id}${n.type ? ` (${n.type})` : ""}: ${n.status ?? "pending"}`];
  if (n.executions.length > 0) parts.push(`wall ${formatMs(n.wallMs)}`);
  if (n.queueWaitMs !== undefined) parts.push(`queue wait ${formatMs(n.queueWaitMs)}`);
  if (n.attempts > n.executions.length) parts.push(`${n.attempts} attempts`);
  if (n.iterations > 0) parts.push(`${n.iterations} iterations`);
  if (n.outputBytes !== undefined) parts.push(`output ${formatBytes(n.outputBytes)}`);
  if (n.cpuTimeMs !== undefined) parts.push(`CPU ${formatMs(n.cpuTimeMs)}`);
  if (n.heapGrowthBytes !== undefined) parts.push(`heap ${n.heapGrowthBytes < 0 ? "−" : "+"}${formatBytes(Math.abs(n.heapGrowthBytes))}`);
  if (n.reason) parts.push(n.reason);
  if (n.critical) parts.push("on the critical path");
  return parts.join(" · ");
}

const MAX_GROUP_ROWS = 24;

/** Too many nodes for a row each: one row per plan level (or run of levels), its nodes' bars as coverage. */
export function levelGroupsSection(profile: RunProfile, scale: Scale): Section {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const levelOf = (n: NodeProfile): number => {
    let top = n;
    for (let hops = 0; top.parent !== undefined && byId.has(top.parent) && hops < 64; hops++) top = byId.get(top.parent)!;
    return top.level ?? -1;
  };
  const groups = new Map<number, NodeProfile[]>();
  for (const n of profile.nodes) {
    const l = levelOf(n);
    const group = groups.get(l);
    if (group) group.push(n);
    else groups.set(l, [n]);
  }
  const levels = [...groups.keys()].sort((a, b) => a - b);
  const per = Math.ceil(levels.length / MAX_GROUP_ROWS);
  const rows: { label: string; nodes: NodeProfile[] }[] = [];
  for (let i = 0; i < levels.length; i += per) {
    const chunk = levels.slice(i, i + per);
    const first = chunk[0]!;
    const lastLevel = chunk.at(-1)!;
    const name = first < 0 ? "not in the plan" : chunk.length === 1 ? `level ${first}` : `levels ${first}–${lastLevel}`;
    const nodes = chunk.flatMap((l) => groups.get(l)!);
    rows.push({ label: `${name} · ${nodes.length} node${nodes.length === 1 ? "" : "s"}`, nodes });
  }
  return {
    height: LAYOUT.titleH + rows.length * LAYOUT.rowH,
    render(y) {
      const out = [sectionTitle(`Nodes by plan level (${profile.nodes.length} nodes: too many for a row each)`, y)];
      rows.forEach((row, i) => {
        const rowY = y + LAYOUT.titleH + i * LAYOUT.rowH;
        const segments: Segment[] = [];
        const walls: number[] = [];
        for (const n of row.nodes) {
          for (const x of n.executions) segments.push(...executionSegments(x));
          if (n.executions.length > 0) walls.push(n.wallMs);
          else if (n.decidedAt !== undefined && n.status !== undefined) segments.push({ start: n.decidedAt, end: n.decidedAt, kind: n.status });
        }
        out.push(`<text x="${LAYOUT.labelX + 10}" y="${rowY + LAYOUT.rowH / 2 + 4}">${escapeXml(fitText(row.label, LAYOUT.x0 - 20 - LAYOUT.labelX))}</text>`);
        out.push(renderBars(segments, scale, rowY + BAR_OFFSET, LAYOUT.barH, { coverage: true }));
        walls.sort((a, b) => a - b);
        if (walls.length > 0) out.push(rightText(`p50 ${formatMs(walls[Math.ceil(walls.length / 2) - 1]!)} · max ${formatMs(walls.at(-1)!)}`, rowY));
      });
      return `<g id="levels">${out.join("")}</g>`;
    },
  };
}
