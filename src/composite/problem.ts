import type { SourceLocation } from "./model.js";

export const Severity = { error: "error", warning: "warning" } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** One validation finding: a stable code, where it is and how to fix it (SPEC §2.3). */
export interface Problem {
  code: string;
  severity: Severity;
  message: string;
  hint?: string;
  file?: string;
  line: number;
  col: number;
  /** Dotted path into the document, e.g. `nodes[2].parameters.url`. */
  path?: string;
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}

export function makeProblem(
  code: string,
  message: string,
  loc: SourceLocation | undefined,
  extra: { hint?: string | undefined; path?: readonly (string | number)[] } = {},
): Problem {
  const p: Problem = {
    code,
    severity: code.startsWith("W_") ? "warning" : "error",
    message,
    line: loc?.line ?? 1,
    col: loc?.col ?? 1,
  };
  if (loc?.file !== undefined) p.file = loc.file;
  if (extra.hint) p.hint = extra.hint;
  if (extra.path && extra.path.length > 0) p.path = formatPath(extra.path);
  return p;
}

export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => (a.file ?? "").localeCompare(b.file ?? "") || a.line - b.line || a.col - b.col);
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}

/** `file:line:col` */
export function formatLocation(p: Pick<Problem, "file" | "line" | "col">): string {
  return `${p.file ?? "<input>"}:${p.line}:${p.col}`;
}
