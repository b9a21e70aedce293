import type { Scalar } from "yaml";

/**
 * The source offset of character `offset` of a scalar's string value, so a syntax error inside a
 * code block or a template points at its own line and column in the file. Exact for literal
 * blocks (`|`, lines map one to one after the header) and for one-line plain and quoted scalars
 * (escapes and `''` counted); line folding in `>` blocks and multi-line flow scalars is followed
 * as YAML does it for ordinary text, and approximated for more-indented lines.
 */
export function scalarSourceOffset(text: string, scalar: Scalar, offset: number): number {
  const range = scalar.range;
  if (!range) return 0;
  const [start, end] = range;
  switch (scalar.type) {
    case "BLOCK_LITERAL":
    case "BLOCK_FOLDED":
      return blockOffset(text, start, end, String(scalar.value), offset, scalar.type === "BLOCK_FOLDED");
    case "QUOTE_DOUBLE":
      return flowOffset(text, start + 1, end - 1, offset, "double");
    case "QUOTE_SINGLE":
      return flowOffset(text, start + 1, end - 1, offset, "single");
    default:
      return flowOffset(text, start, end, offset, "plain");
  }
}

interface Line {
  start: number;
  text: string;
}

function blockOffset(text: string, start: number, end: number, value: string, offset: number, folded: boolean): number {
  const headerEnd = text.indexOf("\n", start);
  if (headerEnd < 0 || headerEnd >= end) return start;
  const lines: Line[] = [];
  for (let at = headerEnd + 1; at < end; ) {
    const nl = text.indexOf("\n", at);
    const stop = nl < 0 || nl > end ? end : nl;
    lines.push({ start: at, text: text.slice(at, stop).replace(/\r$/, "") });
    at = stop + 1;
  }
  const blank = (l: Line) => l.text.trim() === "";
  const indent = Math.min(...lines.filter((l) => !blank(l)).map((l) => l.text.length - l.text.trimStart().length));
  if (!Number.isFinite(indent)) return start;
  const at = (l: Line, col: number) => l.start + Math.min(indent + col, l.text.length);
  if (!folded) {
    // Literal: value line n is content line n, its column shifted by the indentation.
    const before = value.slice(0, offset);
    const line = before.split("\n").length - 1;
    const col = offset - (before.lastIndexOf("\n") + 1);
    const l = lines[Math.min(line, lines.length - 1)];
    return l === undefined ? start : at(l, col);
  }
  // Folded: a break between two text lines is one space; a run of k blank lines is k newlines.
  let pos = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (blank(l)) continue;
    const length = l.text.length - indent;
    if (offset <= pos + length) return at(l, offset - pos);
    pos += length;
    let k = 0;
    while (i + 1 + k < lines.length && blank(lines[i + 1 + k]!)) k++;
    pos += k === 0 ? 1 : k;
  }
  return at(lines[lines.length - 1]!, 0);
}

function flowOffset(text: string, from: number, to: number, offset: number, kind: "plain" | "single" | "double"): number {
  let v = 0;
  let i = from;
  const isBreak = (c: string | undefined) => c === "\n" || c === "\r";
  const isSpace = (c: string | undefined) => c === " " || c === "\t";
  while (i < to) {
    if (v >= offset) return i;
    const c = text[i];
    if (isBreak(c)) {
      // Folding: this break and the next line's indentation become one space; each further
      // (empty) line is a newline.
      let breaks = 0;
      let j = i;
      while (j < to && (isBreak(text[j]) || isSpace(text[j]))) {
        if (text[j] === "\n") breaks++;
        j++;
      }
      v += breaks > 1 ? breaks - 1 : 1;
      i = j;
      continue;
    }
    if (isSpace(c)) {
      // Spaces before a line break are not part of the value.
      let j = i;
      while (j < to && isSpace(text[j])) j++;
      if (j < to && isBreak(text[j])) {
        i = j;
        continue;
      }
    }
    if (kind === "double" && c === "\\") {
      const next = text[i + 1];
      if (isBreak(next)) {
        // An escaped line break joins the lines with nothing between them.
        let j = i + 1;
        if (text[j] === "\r" && text[j + 1] === "\n") j++;
        j++;
        while (j < to && isSpace(text[j])) j++;
        i = j;
        continue;
      }
      i += next === "x" ? 4 : next === "u" ? 6 : next === "U" ? 10 : 2;
      v++;
      continue;
    }
    if (kind === "single" && c === "'" && text[i + 1] === "'") {
      i += 2;
      v++;
      continue;
    }
    i++;
    v++;
  }
  return Math.min(i, to);
}
