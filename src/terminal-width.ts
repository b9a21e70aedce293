import { stripVTControlCharacters } from "node:util";

/** Visible width of a cell: ANSI colours do not count. */
export function visibleWidth(text: string): number {
  return [...stripVTControlCharacters(text)].length;
}

/** Cut plain text to `width` visible characters, ending with the ellipsis when cut. */
export function truncate(text: string, width: number, ellipsis = "…"): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= ellipsis.length) return chars.slice(0, width).join("");
  return chars.slice(0, width - [...ellipsis].length).join("") + ellipsis;
}
