import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { LocateOptions, SourceLocation, YamlPath } from "./model.js";
import { scalarSourceOffset } from "./scalar-position.js";
import { formatPath, makeProblem, type Problem } from "./problem.js";
import { ErrorCode } from "../errors.js";
import { explainYamlErrors } from "./yaml-hints.js";

export interface ParsedYaml {
  /** The plain JS value (undefined when the YAML could not be parsed at all). */
  value: unknown;
  problems: Problem[];
  /**
   * Keys that an unquoted comma in a `{ … }` value made (`{ description: a,b }` has a key `b`): one
   * warning per value that names the fix, and the paths of those keys (`variables.source.b`), which
   * need no "unknown key" warning of their own. Computed on the first call (a walk of the document).
   */
  commaSplits(): { problems: Problem[]; keys: Set<string> };
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
  const syntax = doc.errors.map((err) => {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    const message = (err.message.split("\n")[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, "");
    return { code: err.code, message, line, col };
  });
  for (const e of explainYamlErrors(syntax, text)) {
    problems.push(makeProblem(ErrorCode.YAML, e.message, file === undefined ? { line: e.line, col: e.col } : { file, line: e.line, col: e.col }, { hint: e.hint }));
  }
  for (const w of doc.warnings) {
    problems.push(makeProblem("W_YAML", w.message.split("\n")[0] ?? w.message, toLoc(w.pos[0])));
  }
  let value: unknown;
  const endless = doc.errors.length === 0 && text.includes("*") ? selfAliases(doc) : [];
  for (const alias of endless) {
    problems.push(makeProblem(ErrorCode.YAML, `alias *${alias.source} refers to a node that contains it, so its value would never end`, toLoc(alias.offset), { hint: `an alias repeats a node defined before it and outside it; write the inner value out instead of *${alias.source}` }));
  }
  if (doc.errors.length === 0 && endless.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // yaml's "Excessive alias count indicates a resource exhaustion attack", at 1:1: said plainly, at the first alias.
      const aliases = /alias count/i.test((error as Error).message);
      const message = aliases ? "the aliases (*name) here would repeat their values too many times: the value would be enormous (a \"YAML bomb\")" : (error as Error).message;
      problems.push(makeProblem(ErrorCode.YAML, message, toLoc(aliases ? firstAlias(doc) : 0), aliases ? { hint: "write the values out, or use fewer aliases of aliases" } : {}));
    }
  }
  const commaSplits = (): { problems: Problem[]; keys: Set<string> } => {
    const found = { problems: [] as Problem[], keys: new Set<string>() };
    for (const split of findCommaSplits(doc.contents, [], text)) {
      const keys = split.keys.map((k) => `\`${k}\``).join(", ");
      const quoted = `${split.valueKey}: "${split.original.replace(/"/g, '\\"')}"`;
      found.problems.push(
        makeProblem("W_YAML", `${keys} ${split.keys.length === 1 ? "is a key" : "are keys"} without a value: the unquoted comma${split.keys.length === 1 ? "" : "s"} in the value of \`${split.valueKey}\` inside { … } ended it early`, toLoc(split.offset), {
          hint: `quote the value: ${quoted.length > 100 ? `${split.valueKey}: "${split.original.slice(0, 60)}…"` : quoted}`,
          path: split.path,
        }),
      );
      for (const key of split.keys) found.keys.add(formatPath([...split.path, key]));
    }
    return found;
  };
  return { value, problems, commaSplits, locate: (path, options) => locateIn(doc, text, path, options ?? {}, toLoc) };
}

/** The offset of the first alias (`*name`) of a document. */
function firstAlias(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, alias) {
      offset = alias.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** Aliases inside the node their anchor names (`a: &x [*x]`): a value that contains itself. */
function selfAliases(doc: Document): { source: string; offset: number }[] {
  const found: { source: string; offset: number }[] = [];
  visit(doc, {
    Alias(_key, alias, path) {
      if (path.some((ancestor) => (ancestor as { anchor?: string }).anchor === alias.source)) found.push({ source: alias.source, offset: alias.range?.[0] ?? 0 });
    },
  });
  return found;
}

interface CommaSplit {
  path: YamlPath;
  valueKey: string;
  keys: string[];
  /** The text from the cut value to the last key it lost, as written. */
  original: string;
  offset: number;
}

/** In `{ description: a,b,c }`, `b` and `c` are keys with no value after a plain scalar: a comma that needed quotes. */
function findCommaSplits(node: unknown, path: YamlPath, text: string, out: CommaSplit[] = []): CommaSplit[] {
  if (isSeq(node)) node.items.forEach((item, i) => findCommaSplits(item, [...path, i], text, out));
  if (!isMap(node)) return out;
  let current: CommaSplit | undefined;
  let previous: { key: string; start: number } | undefined;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined) continue;
    const keyRange = (pair.key as Node).range;
    if (node.flow && pair.value === null && previous && keyRange && isScalar(pair.key) && pair.key.type === "PLAIN") {
      current ??= { path, valueKey: previous.key, keys: [], original: "", offset: keyRange[0] };
      current.keys.push(key);
      current.original = text.slice(previous.start, keyRange[1]);
      continue;
    }
    if (current) out.push(current);
    current = undefined;
    const value = pair.value;
    previous = node.flow && isScalar(value) && value.type === "PLAIN" && value.range ? { key, start: value.range[0] } : undefined;
    findCommaSplits(value, [...path, key], text, out);
  }
  if (current) out.push(current);
  return out;
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
