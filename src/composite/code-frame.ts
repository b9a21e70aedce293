/**
 * Render the lines around `line:col` of `source` with a caret under the column, like a compiler.
 * `mark` decorates the caret line (e.g. chalk.red) — identity by default.
 */
export function renderCodeFrame(
  source: string,
  line: number,
  col: number,
  options: { context?: number; mark?: (s: string) => string; dim?: (s: string) => string } = {},
): string {
  const lines = source.split(/\r?\n/);
  const context = options.context ?? 2;
  const mark = options.mark ?? ((s: string) => s);
  const dim = options.dim ?? ((s: string) => s);
  const start = Math.max(1, line - context);
  const end = Math.min(lines.length, line + context);
  const width = String(end).length;
  const out: string[] = [];
  for (let n = start; n <= end; n++) {
    const text = (lines[n - 1] ?? "").replace(/\t/g, "  ");
    const gutter = `${n === line ? ">" : " "} ${String(n).padStart(width)} | `;
    out.push(n === line ? `${mark(gutter.slice(0, 1))}${gutter.slice(1)}${text}` : dim(`${gutter}${text}`));
    // Tabs are shown as two spaces, so each tab before the column shifts the caret by one more.
    const tabs = (lines[n - 1] ?? "").slice(0, Math.max(0, col - 1)).split("\t").length - 1;
    if (n === line) out.push(`  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, col - 1) + tabs)}${mark("^")}`);
  }
  return out.join("\n");
}
