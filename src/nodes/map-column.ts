/**
 * The column in `original` of what sits at `line:col` (1-based) of `transformed`, the same module
 * after a transform that keeps lines but not columns (jiti rewrites `export`, `import` and type
 * annotations in place, so a stack frame's column points into the rewritten line). Found by
 * looking up the text at that column in the original line; undefined when it is not there.
 *
 * @example
 * mapTransformedColumn('export const y = f();', 'const y = exports.y = f();', 1, 23); // 18
 */
export function mapTransformedColumn(original: string, transformed: string, line: number, col: number): number | undefined {
  const source = original.split(/\r?\n/)[line - 1];
  const rewritten = transformed.split(/\r?\n/)[line - 1];
  if (source === undefined || rewritten === undefined || col < 1) return undefined;
  if (source === rewritten) return col;
  const at = col - 1;
  // The longest snippet from the column (down to 3 characters) that the original line holds; when it
  // occurs several times, the same occurrence as in the rewritten line.
  for (let length = Math.min(40, rewritten.length - at); length >= 3; length--) {
    const snippet = rewritten.slice(at, at + length);
    const nth = occurrences(rewritten.slice(0, at + length), snippet) - 1;
    const found = nthIndexOf(source, snippet, nth) ?? nthIndexOf(source, snippet, 0);
    if (found !== undefined) return found + 1;
  }
  return undefined;
}

function occurrences(text: string, snippet: string): number {
  let count = 0;
  for (let i = text.indexOf(snippet); i !== -1; i = text.indexOf(snippet, i + 1)) count++;
  return count;
}

function nthIndexOf(text: string, snippet: string, nth: number): number | undefined {
  let i = text.indexOf(snippet);
  for (let k = 0; k < nth && i !== -1; k++) i = text.indexOf(snippet, i + 1);
  return i === -1 ? undefined : i;
}
