import { formatDuration } from "../../reporters/format-duration.js";
import type { NodeProfile, RunProfile } from "./build-profile.js";
import type { Scale } from "./svg-bars.js";
import { concurrencySection, LAYOUT, lanesSection, levelGroupsSection, nodeRowsSection, PLOT_WIDTH, type NodeRow, type Section } from "./svg-sections.js";
import { COLORS, CRITICAL, DEFS, escapeXml, fitText, formatTick, GRID, INK, MUTED, tickStep } from "./svg.js";

/** More slots than this: a histogram of how many ran at once instead of a row per slot. */
const MAX_LANES = 24;
/** More node rows than this: rows per plan level, the longest nodes and the critical path instead. */
const MAX_NODE_ROWS = 60;
/** More executions than this: slot rows show coverage by status instead of one bar (and tooltip) each. */
const MAX_DETAILED_EXECUTIONS = 300;
const TOP_NODES = 15;
const HEADER_H = 78;
const AXIS_H = 22;

/**
 * A run as a self-contained SVG Gantt chart: a row per concurrency slot with every execution on
 * the slot it held (attempts coloured by status, retry delays hatched), then a row per node with
 * its queue wait, attempts and loop iterations together; the critical path is outlined. Past 60
 * nodes the node rows become one per plan level plus the 15 longest nodes and the critical path,
 * and past 24 slots the slots become a histogram, so the picture stays readable and its size
 * bounded at any run size. Every text is escaped.
 *
 * @example
 * writeFileSync("run.svg", renderTimelineSvg(buildRunProfile(events)));
 */
export function renderTimelineSvg(profile: RunProfile): string {
  // durationMs covers every execution's end; an empty run still gets a 1 ms axis.
  const totalMs = Math.max(profile.durationMs, 1);
  const scale: Scale = { x0: LAYOUT.x0, width: PLOT_WIDTH, totalMs };
  const coverage = profile.executions.length > MAX_DETAILED_EXECUTIONS;
  const sections: Section[] = [profile.lanes <= MAX_LANES ? lanesSection(profile, scale, coverage) : concurrencySection(profile, scale)];
  const rows = nodeRows(profile.nodes);
  if (rows.length <= MAX_NODE_ROWS) {
    sections.push(nodeRowsSection(`Nodes (${profile.nodes.length})`, rows, scale, "nodes"));
  } else {
    sections.push(levelGroupsSection(profile, scale));
    const longest = profile.nodes.filter((n) => n.executions.length > 0).sort((a, b) => b.wallMs - a.wallMs).slice(0, TOP_NODES);
    sections.push(nodeRowsSection(`Longest ${longest.length} of ${profile.nodes.length} nodes`, longest.map((node) => ({ node, depth: 0 })), scale, "longest"));
    const path = profile.criticalPath?.nodes ?? [];
    if (path.length > 0) {
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const shown = path.length <= TOP_NODES ? path : [...path].sort((a, b) => byId.get(b)!.wallMs - byId.get(a)!.wallMs).slice(0, TOP_NODES).sort((a, b) => path.indexOf(a) - path.indexOf(b));
      const title = shown.length === path.length ? `Critical path (${path.length} nodes)` : `Critical path: its ${shown.length} longest of ${path.length} nodes`;
      sections.push(nodeRowsSection(title, shown.map((id) => ({ node: byId.get(id)!, depth: 0 })), scale, "critical-path"));
    }
  }
  const out: string[] = [];
  let y = HEADER_H + AXIS_H;
  const chartTop = y;
  for (const s of sections) {
    out.push(s.render(y));
    y += s.height + 8;
  }
  const legend = renderLegend(profile, y + 6);
  const height = y + 6 + legend.height + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LAYOUT.width}" height="${height}" viewBox="0 0 ${LAYOUT.width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11" fill="${INK}">`,
    `<title>${escapeXml(`atomiton run ${profile.runId}: ${profile.composite.name}`)}</title>`,
    DEFS,
    `<rect width="${LAYOUT.width}" height="${height}" fill="#ffffff"/>`,
    renderHeader(profile),
    renderAxis(scale, HEADER_H, chartTop, y - 8),
    ...out,
    legend.svg,
    "</svg>",
  ].join("\n");
}

/** Top-level nodes by start (never-started ones where they were decided), each followed by its body's nodes. */
export function nodeRows(nodes: readonly NodeProfile[]): NodeRow[] {
  const ids = new Set(nodes.map((n) => n.id));
  const children = new Map<string | undefined, NodeProfile[]>();
  for (const n of nodes) {
    const parent = n.parent !== undefined && ids.has(n.parent) && n.parent !== n.id ? n.parent : undefined;
    const list = children.get(parent);
    if (list) list.push(n);
    else children.set(parent, [n]);
  }
  const at = (n: NodeProfile) => n.start ?? n.decidedAt ?? Number.POSITIVE_INFINITY;
  const rows: NodeRow[] = [];
  const seen = new Set<string>();
  const visit = (parent: string | undefined, depth: number) => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => at(a) - at(b));
    for (const n of list) {
      if (seen.has(n.id)) continue;
      seen.add(n.id);
      rows.push({ node: n, depth });
      visit(n.id, depth + 1);
    }
  };
  visit(undefined, 0);
  // Nodes in a parent cycle (bad input) still get a row.
  for (const n of nodes) if (!seen.has(n.id)) rows.push({ node: n, depth: 0 });
  return rows;
}

function renderHeader(p: RunProfile): string {
  const counts = new Map<string, number>();
  for (const n of p.nodes) if (n.status !== undefined) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
  const tally = [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
  const facts = `${p.status} in ${formatDuration(p.durationMs)} · ${p.nodes.length} node${p.nodes.length === 1 ? "" : "s"} (${tally || "none ran"}) · ${p.executions.length} executions · ${p.lanes} slot${p.lanes === 1 ? "" : "s"} used`;
  const lines = [
    `<text x="${LAYOUT.labelX}" y="26" font-size="16" font-weight="bold">${escapeXml(fitText(`${p.composite.name || p.composite.id} · run ${p.runId}`, (LAYOUT.width - 24) * 0.7))}</text>`,
    `<text x="${LAYOUT.labelX}" y="46" font-size="12" fill="${MUTED}">${escapeXml(fitText(facts, LAYOUT.width - 24))}</text>`,
  ];
  const path = p.criticalPath;
  if (path && path.nodes.length > 0) {
    const ids = path.nodes.length <= 8 ? path.nodes : [...path.nodes.slice(0, 4), "…", ...path.nodes.slice(-3)];
    const share = p.durationMs > 0 ? ` (${Math.min(100, Math.round((path.busyMs / p.durationMs) * 100))}% of the run)` : "";
    const source = p.dependencies === "composite" ? "dependencies from the composite's edges" : "dependencies inferred from plan levels and times";
    const text = `Critical path: ${ids.join(" → ")} · ${path.nodes.length} node${path.nodes.length === 1 ? "" : "s"}, ${formatDuration(path.busyMs)}${share} · ${source}`;
    lines.push(`<text x="${LAYOUT.labelX}" y="66" font-size="12">${escapeXml(fitText(text, LAYOUT.width - 24))}</text>`);
  }
  return `<g id="header">${lines.join("")}</g>`;
}

/** Tick labels above the chart and light grid lines through it. */
function renderAxis(scale: Scale, y: number, top: number, bottom: number): string {
  const step = tickStep(scale.totalMs, 10);
  const out: string[] = [];
  for (let i = 0; i * step <= scale.totalMs + step * 1e-9; i++) {
    const t = i * step;
    const x = Math.round(scale.x0 + (t / scale.totalMs) * scale.width) + 0.5;
    out.push(`<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${bottom}" stroke="${GRID}"/>`);
    out.push(`<text x="${x}" y="${y + 14}" text-anchor="middle" fill="${MUTED}">${formatTick(t)}</text>`);
  }
  return `<g id="axis">${out.join("")}</g>`;
}

function renderLegend(p: RunProfile, y: number): { svg: string; height: number } {
  const kinds = new Set(p.executions.flatMap((x) => x.attempts.map((a) => a.status)));
  for (const n of p.nodes) if (n.status !== undefined) kinds.add(n.status);
  const swatch = (fill: string, extra = "") => (x: number, sy: number) => `<rect x="${x}" y="${sy}" width="16" height="10" fill="${fill}"${extra}/>`;
  const items: [string, (x: number, y: number) => string][] = [
    ["succeeded", swatch(COLORS.succeeded)],
    ["failed", swatch(COLORS.failed)],
    ["skipped", swatch(COLORS.skipped)],
    ["cancelled", swatch(COLORS.cancelled)],
  ];
  if (kinds.has("running")) items.push(["running (no finish recorded)", swatch(COLORS.running)]);
  items.push(["failed attempt, retried", swatch(COLORS.retried)], ["retry delay", swatch(COLORS["retry-wait"])]);
  items.push(["queue wait (ready, waiting for a slot)", (x, sy) => `<line x1="${x}" y1="${sy + 5}" x2="${x + 16}" y2="${sy + 5}" stroke="${MUTED}" stroke-width="1.5" stroke-dasharray="3 2"/>`]);
  items.push(["critical path", swatch("#ffffff", ` stroke="${CRITICAL}" stroke-width="2"`)]);
  const out: string[] = [];
  let x = 0;
  let row = 0;
  for (const [label, draw] of items) {
    const w = 24 + label.length * 6.4 + 18;
    if (x + w > LAYOUT.width - 24 && x > 0) {
      x = 0;
      row++;
    }
    out.push(draw(x, row * 18), `<text x="${x + 22}" y="${row * 18 + 9}">${escapeXml(label)}</text>`);
    x += w;
  }
  return { svg: `<g id="legend" transform="translate(${LAYOUT.labelX},${y})">${out.join("")}</g>`, height: (row + 1) * 18 };
}
