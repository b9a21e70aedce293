import type { SpanStatus } from "./build-profile.js";

/** What a bar shows: an attempt's status, or a retry delay. */
export type BarKind = SpanStatus | "retry-wait";

/** Fill colours; the legend and the tests read them from here. */
export const COLORS: Record<BarKind, string> = {
  succeeded: "#34a853",
  failed: "#d93025",
  skipped: "#9aa0a6",
  cancelled: "#f9ab00",
  running: "#4285f4",
  retried: "#f28b82",
  "retry-wait": "url(#retry-wait)",
};

/** Text drawn on a bar of that colour. */
export const LABEL_COLORS: Record<BarKind, string> = {
  succeeded: "#ffffff",
  failed: "#ffffff",
  skipped: "#202124",
  cancelled: "#202124",
  running: "#ffffff",
  retried: "#202124",
  "retry-wait": "#202124",
};

export const INK = "#202124";
export const MUTED = "#5f6368";
export const GRID = "#e8eaed";
/** The outline of bars on the critical path. */
export const CRITICAL = "#202124";

/** Bars that cover a lower one keep the more telling status on top (a skip mark over running bars). */
export const PAINT_ORDER: readonly BarKind[] = ["succeeded", "running", "skipped", "retry-wait", "retried", "cancelled", "failed"];

/** `<defs>`: the hatch of retry delays. */
export const DEFS = `<defs><pattern id="retry-wait" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fce8e6"/><rect width="2" height="6" fill="#d93025"/></pattern></defs>`;

/**
 * Text for an SVG text node or attribute value: `& < > " '` escaped, and characters XML 1.0 cannot
 * hold (control characters, lone surrogates) replaced, so any node id or message stays well-formed.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** A number for an attribute: at most two decimals, no trailing zeros. */
export function num(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Average advance of a character at font-size 11 (sans-serif), to fit labels without measuring. */
const CHAR_WIDTH = 6.4;

/** `text` cut with an ellipsis to fit `width` px at font-size 11; "" when not even 3 characters fit. */
export function fitText(text: string, width: number): string {
  const room = Math.floor(width / CHAR_WIDTH);
  const chars = Array.from(text);
  if (chars.length <= room) return text;
  if (room < 3) return "";
  return `${chars.slice(0, room - 1).join("")}…`;
}

/** A tick step of 1, 2 or 5 × 10^k ms giving at most `maxTicks` ticks over `totalMs`. */
export function tickStep(totalMs: number, maxTicks: number): number {
  const raw = Math.max(totalMs, 0.001) / maxTicks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** A tick label: `0`, `0.5ms`, `250ms`, `1.5s`, `2m 30s`. */
export function formatTick(ms: number): string {
  if (ms === 0) return "0";
  if (ms < 1) return `${Number(ms.toFixed(3))}ms`;
  if (ms < 1000) return `${Number(ms.toFixed(1))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${s % 60 === 0 ? "" : ` ${String(s % 60).padStart(2, "0")}s`}`;
}

/** A byte count: `812 B`, `1.2 kB`, `3.4 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
