import { escapeControlCharacters } from "../terminal-text.js";

/** Characters of a source line shown at most; a longer line is cut to a window around the column. */
const MAX_LINE_WIDTH = 120;

/**
 * Render the lines around `line:col` of `source` with a caret under the column, like a compiler.
 * `mark` decorates the caret line (e.g. chalk.red) — identity by default. Tabs show as two spaces.
 * Lines longer than 120 characters (minified JSON, a generated value) show only the window around
 * the column, with `…` where text was cut, so a 300,000-character line prints one screen line.
 */
export function renderCodeFrame(
  source: string,
  line: number,
  col: number,
  options: { context?: number; mark?: (s: string) => string; dim?: (s: string) => string; width?: number } = {},
): string {
  const lines = source.split(/\r?\n/, line + (options.context ?? 2));
  const context = options.context ?? 2;
  const mark = options.mark ?? ((s: string) => s);
  const dim = options.dim ?? ((s: string) => s);
  const maxWidth = Math.max(20, options.width ?? MAX_LINE_WIDTH);
  const start = Math.max(1, line - context);
  const end = Math.min(lines.length, line + context);
  const width = String(end).length;
  // Tabs are shown as two spaces and control characters as escapes (`\x1b`), so the caret is
  // placed by the shown width of the text before the column.
  const raw = lines[line - 1] ?? "";
  const caret = shown(raw.slice(0, Math.max(0, col - 1))).length + Math.max(0, col - 1 - raw.length);
  // One window for every line of the frame, so the lines stay aligned with each other.
  const from = caret < maxWidth - 10 ? 0 : caret - Math.floor(maxWidth / 2);
  const out: string[] = [];
  for (let n = start; n <= end; n++) {
    const full = shown(lines[n - 1] ?? "");
    // A short context line is shown whole: "…" alone would say nothing.
    const text = n !== line && full.length <= maxWidth ? full : clip(full, from, maxWidth);
    const gutter = `${n === line ? ">" : " "} ${String(n).padStart(width)} | `;
    out.push(n === line ? `${mark(gutter.slice(0, 1))}${gutter.slice(1)}${text}` : dim(`${gutter}${text}`));
    if (n === line) out.push(`  ${" ".repeat(width)} | ${" ".repeat(caret - from + (from > 0 ? 1 : 0))}${mark("^")}`);
  }
  return out.join("\n");
}

/** A source line as the frame shows it: a tab as two spaces, a control character as its escape. */
function shown(text: string): string {
  return escapeControlCharacters(text.replace(/\t/g, "  "));
}

/** `text[from, from + width)`, with `…` for the cut parts. */
function clip(text: string, from: number, width: number): string {
  if (from === 0 && text.length <= width) return text;
  const shown = text.slice(from, from + width);
  return `${from > 0 && text.length > 0 ? "…" : ""}${shown}${text.length > from + width ? "…" : ""}`;
}
