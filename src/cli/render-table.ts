import { stripVTControlCharacters } from "node:util";
import { truncate, visibleWidth } from "../terminal-width.js";

export interface TableColumn {
  header: string;
  align?: "left" | "right";
  /** This column gives up width (truncated with an ellipsis) when the table is wider than `maxWidth`. */
  shrink?: boolean;
}

export interface RenderTableOptions {
  /** Total width to fit in (the terminal's columns); unset: never truncate. */
  maxWidth?: number;
  /** Paints the header row (e.g. chalk.bold); receives the padded text. */
  header?: (text: string) => string;
  /** "…" or "..." for truncated cells. */
  ellipsis?: string;
  gap?: number;
}

/**
 * Render rows as aligned columns separated by spaces, one line per row, no borders (grep- and
 * `cut`-friendly). Cells may carry ANSI colour; truncation only applies to uncoloured cells of
 * `shrink` columns.
 *
 * @example
 * renderTable([{ header: "TYPE" }, { header: "DESCRIPTION", shrink: true }], [["log", "Print a message"]]);
 */
export function renderTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[], options: RenderTableOptions = {}): string {
  const gap = options.gap ?? 2;
  const ellipsis = options.ellipsis ?? "…";
  const widths = columns.map((c, i) => Math.max(visibleWidth(c.header), ...rows.map((r) => visibleWidth(r[i] ?? ""))));
  if (options.maxWidth !== undefined) {
    const total = () => widths.reduce((a, b) => a + b, 0) + gap * (columns.length - 1);
    let excess = total() - options.maxWidth;
    for (let i = columns.length - 1; i >= 0 && excess > 0; i--) {
      if (!columns[i]!.shrink) continue;
      const min = Math.max(visibleWidth(columns[i]!.header), 8);
      const cut = Math.min(excess, widths[i]! - min);
      if (cut > 0) {
        widths[i]! -= cut;
        excess -= cut;
      }
    }
  }
  const line = (cells: readonly string[], paint?: (t: string) => string): string => {
    const out = columns.map((c, i) => {
      let cell = cells[i] ?? "";
      if (visibleWidth(cell) > widths[i]!) cell = truncate(stripVTControlCharacters(cell), widths[i]!, ellipsis);
      const pad = " ".repeat(Math.max(0, widths[i]! - visibleWidth(cell)));
      const last = i === columns.length - 1;
      return c.align === "right" ? pad + cell : last ? cell : cell + pad;
    });
    const text = out.join(" ".repeat(gap)).replace(/\s+$/, "");
    return paint ? paint(text) : text;
  };
  return [line(columns.map((c) => c.header), options.header), ...rows.map((r) => line(r))].join("\n") + "\n";
}
