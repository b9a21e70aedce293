import stringWidth from "string-width";

const graphemes = new Intl.Segmenter();

/**
 * Columns `text` takes on a terminal: ANSI colours take none, a CJK character or an emoji two
 * (string-width, as listr2 and ora measure).
 */
export function visibleWidth(text: string): number {
  return stringWidth(text);
}

/**
 * Cut plain text to `width` terminal columns, ending with the ellipsis when cut. Whole characters
 * only: a wide one that does not fit is left out rather than split.
 */
export function truncate(text: string, width: number, ellipsis = "…"): string {
  if (stringWidth(text) <= width) return text;
  const mark = stringWidth(ellipsis);
  const room = width <= mark ? width : width - mark;
  let out = "";
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > room) break;
    out += segment;
    used += w;
  }
  return width <= mark ? out : out + ellipsis;
}
