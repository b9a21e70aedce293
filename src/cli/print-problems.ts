import { renderCodeFrame } from "../composite/code-frame.js";
import { formatLocation, type Problem } from "../composite/problem.js";
import type { Style } from "../reporters/style.js";
import { escapeControlCharacters } from "../terminal-text.js";

/**
 * Render problems for people: one coloured line with the code and location, the code frame
 * of the YAML, and the hint. Returns the text (commands write it to stderr).
 */
export function renderProblems(problems: readonly Problem[], sources: ReadonlyMap<string, string>, style: Style): string {
  const c = style.chalk;
  const out: string[] = [];
  for (const p of problems) {
    const isError = p.severity === "error";
    const paint = isError ? c.red : c.yellow;
    const label = isError ? `${style.symbols.failed} error` : `${style.symbols.warning} warning`;
    // Messages quote the file (a name, a key, a value): its control characters show as escapes.
    out.push(`${paint(`${label} ${p.code}`)} ${c.bold(escapeControlCharacters(formatLocation(p)))} ${escapeControlCharacters(p.message)}`);
    const source = p.file === undefined ? undefined : sources.get(p.file);
    if (source !== undefined) {
      out.push(indent(renderCodeFrame(source, p.line, p.col, { mark: paint, dim: c.dim }), "  "));
    }
    if (p.hint) out.push(`  ${c.cyan("hint:")} ${escapeControlCharacters(p.hint)}`);
    out.push("");
  }
  return out.join("\n");
}

export function summarizeProblems(problems: readonly Problem[]): string {
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
}

function indent(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");
}
