import { stripVTControlCharacters } from "node:util";

// One SGR/CSI sequence at the current position (sticky).
const ANSI_AT = /\u001b\[[0-9;?]*[ -/]*[@-~]/y;

/** Visible length of a string that may contain ANSI sequences (code points, wide glyphs count 1). */
export function visibleLength(text: string): number {
  let n = 0;
  for (const _ of stripVTControlCharacters(text)) n++;
  return n;
}

/**
 * Cuts `text` to `width` visible characters, ending with `ellipsis` when cut; ANSI sequences are
 * kept intact and a reset is appended after a cut so colours never bleed into the next line.
 */
export function truncate(text: string, width: number, ellipsis = "…"): string {
  if (width <= 0) return "";
  if (visibleLength(text) <= width) return text;
  const keep = Math.max(0, width - visibleLength(ellipsis));
  let out = "";
  let visible = 0;
  let sawAnsi = false;
  let i = 0;
  while (i < text.length && visible < keep) {
    ANSI_AT.lastIndex = i;
    const match = ANSI_AT.exec(text);
    if (match !== null) {
      out += match[0];
      sawAnsi = true;
      i += match[0].length;
      continue;
    }
    const cp = text.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    out += ch;
    i += ch.length;
    visible++;
  }
  return sawAnsi ? `${out}\u001b[0m${ellipsis}` : out + ellipsis;
}

/** `1,234` */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Control characters (other than TAB) would move the cursor inside a live frame. */
export function sanitizeLine(text: string): string {
  return stripVTControlCharacters(text).replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, " ");
}
