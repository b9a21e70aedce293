import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { LocateOptions, SourceLocation, YamlPath } from "./model.js";
import { scalarSourceOffset } from "./scalar-position.js";
import { makeProblem, type Problem } from "./problem.js";
import { ErrorCode } from "../errors.js";

export interface ParsedYaml {
  /** The plain JS value (undefined when the YAML could not be parsed at all). */
  value: unknown;
  problems: Problem[];
  /**
   * Location of the value (or the key, with `key: true`; or a character of a string value, with
   * `offset`) at a path; falls back to the nearest ancestor.
   */
  locate(path: YamlPath, options?: LocateOptions): SourceLocation;
}

/** Parse YAML text keeping source ranges, so every later problem can point at `file:line:col`. */
export function parseYaml(text: string, file?: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // logLevel "error": yaml would print a process warning (e.g. for a `? [a]` key) straight to stderr; problems come from doc.errors/warnings.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, logLevel: "error" });
  const toLoc = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return file === undefined ? { line, col } : { file, line, col };
  };
  const problems: Problem[] = [];
  for (const err of doc.errors) {
    const loc = toLoc(err.pos[0]);
    const first = err.message.split("\n")[0] ?? err.message;
    problems.push(makeProblem(ErrorCode.YAML, first.replace(/ at line \d+, column \d+:?$/, ""), loc, { hint: yamlHint(err.code) }));
  }
  for (const w of doc.warnings) {
    problems.push(makeProblem("W_YAML", w.message.split("\n")[0] ?? w.message, toLoc(w.pos[0])));
  }
  let value: unknown;
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push(makeProblem(ErrorCode.YAML, (error as Error).message, toLoc(0)));
    }
  }
  return { value, problems, locate: (path, options) => locateIn(doc, text, path, options ?? {}, toLoc) };
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case "DUPLICATE_KEY":
      return "each key may appear once per mapping; remove or rename the duplicate";
    case "TAB_AS_INDENT":
      return "YAML indentation must use spaces, not tabs";
    case "BAD_INDENT":
    case "MISSING_CHAR":
      return "check the indentation and the `key: value` form of this line";
    default:
      return undefined;
  }
}

function locateIn(doc: Document, text: string, path: YamlPath, options: LocateOptions, toLoc: (o: number) => SourceLocation): SourceLocation {
  let node: unknown = doc.contents;
  let best: { range?: [number, number, number] | null } | undefined = node as Node | undefined;
  let found = path.length === 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (last && options.key && isScalar(pair.key)) {
        best = pair.key;
        break;
      }
      node = pair.value;
      best = (pair.value as Node | null) ?? (pair.key as Node);
      found = last && pair.value !== null;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) break;
      node = item;
      best = item as Node;
      found = last;
    } else {
      break;
    }
  }
  if (found && options.offset !== undefined && !options.key && isScalar(node) && typeof node.value === "string") {
    return toLoc(scalarSourceOffset(text, node, options.offset));
  }
  const range = best?.range;
  return toLoc(range ? range[0] : 0);
}
