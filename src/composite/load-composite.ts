import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ErrorCode } from "../errors.js";
import { relativeInside } from "../relative-path.js";
import { createBuiltinCatalog, type Catalog } from "../nodes/catalog.js";
import type { Composite, CompositeBody, CompositeNode, Locator, SourceLocation } from "./model.js";
import { decodeSource } from "./decode-source.js";
import { allNodes, normalizeComposite } from "./normalize.js";
import { parseYamlFast, type FastYaml } from "./fast-yaml.js";
import { parseYaml, type ParsedYaml } from "./parse-yaml.js";
import { formatLocation, formatPath, hasErrors, makeProblem, sortProblems, type Problem } from "./problem.js";
import { validateComposite } from "./validate.js";
import { didYouMean, suggest } from "./suggest.js";
import { MAX_STREAMED_BYTES, readUserFile, StreamTooLargeError } from "../read-file.js";

/** `--set node.param=value`: replace one parameter before validation. */
export interface ParameterOverride {
  nodeId: string;
  /** Parameter name, or a dotted path into an object parameter. */
  param: string;
  value: unknown;
}

export interface LoadOptions {
  /** The catalog to validate against (default: the built-in nodes). */
  catalog?: Catalog;
  /** File name used in locations; also the base for `ref:` paths. */
  file?: string;
  overrides?: readonly ParameterOverride[];
  /** Variable names given on the command line (count as declared). */
  variables?: readonly string[];
  /** Treat warnings as errors. */
  strict?: boolean;
}

export interface LoadResult {
  /** The validated, canonical composite; undefined when the text could not be read as one. */
  composite?: Composite;
  /** Errors and warnings, sorted by location. */
  problems: Problem[];
  /** True when there are no errors (warnings allowed unless `strict`). */
  ok: boolean;
  /** Source text per file, for code frames. */
  sources: Map<string, string>;
}

/**
 * Load a composite file: parse YAML with positions, normalize any dialect, resolve `ref:` files,
 * apply `--set` overrides, and validate against the catalog and as a graph. Never throws for bad input.
 *
 * @example
 * const { ok, composite, problems } = await loadComposite("flow.yaml");
 */
export async function loadComposite(file: string, options: Omit<LoadOptions, "file"> = {}): Promise<LoadResult> {
  const abs = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = await readUserFile(abs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // As the other messages name it: relative to the current directory when inside it.
    const shown = displayName(abs);
    const missing = code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR";
    const message = code === "ENOENT" || code === "ENOTDIR" ? `file not found: ${shown}` : code === "EISDIR" ? `${shown} is a directory, not a composite file` : `cannot read ${shown}: ${(error as Error).message}`;
    // A file that is there but cannot be read (permissions, I/O) is not a wrong path.
    const problem = missing
      ? makeProblem(ErrorCode.NOT_FOUND, message, { file: shown, line: 1, col: 1 }, { hint: code === "EISDIR" ? "give the composite file inside it, e.g. flow.yaml" : missingFileHint(abs) })
      : makeProblem(ErrorCode.FILE, message, { file: shown, line: 1, col: 1 }, { hint: code === "EACCES" || code === "EPERM" ? "check the file's permissions: the user running atomiton must be able to read it" : "check the file and the disk it is on" });
    return { problems: [problem], ok: false, sources: new Map() };
  }
  return loadCompositeFromBytes(bytes, { ...options, file: abs });
}

/**
 * Like `loadComposite`, from bytes already read (a composite piped in on stdin): the same encoding
 * checks, then `loadCompositeFromText`. `options.file` names it in problems and is the base of its
 * `ref:` paths.
 */
export function loadCompositeFromBytes(bytes: Buffer, options: LoadOptions & { file: string }): LoadResult {
  const decoded = decodeSource(bytes, displayName(options.file));
  if (!decoded.ok) return { problems: [decoded.problem], ok: false, sources: decoded.text === undefined ? new Map() : new Map([[displayName(options.file), decoded.text]]) };
  return loadCompositeFromText(decoded.text, options);
}

/** A missing composite file: the YAML file of a close name beside it (`hello.yml` → `hello.yaml`), else what to check. */
function missingFileHint(abs: string): string {
  const dir = path.dirname(abs);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? `check the path: there is no directory ${displayName(dir)}` : "check the path";
  }
  const guess = suggest(path.basename(abs), names);
  return guess === undefined ? "check the path" : `did you mean ${displayName(path.join(dir, guess))}?`;
}

/**
 * Like `loadComposite`, from text already in memory. Reads the fast way first (js-yaml, no syntax
 * tree, see fast-yaml.ts); that answer stands only when the fast reader was sure of every file and
 * there is nothing to report. Otherwise the text is read again with `yaml`'s located parser, which
 * gives every problem its exact `file:line:col` (the result is then what the located path alone gives).
 */
export function loadCompositeFromText(text: string, options: LoadOptions = {}): LoadResult {
  return loadWith(text, options, "fast") ?? loadWith(text, options, "located")!;
}

/**
 * The text `loadComposite` read from `file` (decoded, without a byte order mark): a caller that needs
 * the text too takes this one, never a second read (a pipe or a terminal gives its text only once).
 */
export function sourceOf(loaded: LoadResult, file: string): string | undefined {
  return loaded.sources.get(displayName(path.resolve(file)));
}

/** The located path alone (what `loadCompositeFromText` falls back to), for tests and comparisons. */
export function loadCompositeLocated(text: string, options: LoadOptions = {}): LoadResult {
  return loadWith(text, options, "located")!;
}

/** How a load reads YAML: `fast` gives up (undefined) where `located` would report anything. */
type Mode = "fast" | "located";

/** Thrown inside a fast load that has to be redone the located way. */
class Decline extends Error {}

function loadWith(text: string, options: LoadOptions, mode: Mode): LoadResult | undefined {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const catalog = options.catalog ?? createBuiltinCatalog();
  const sources = new Map<string, string>();
  const display = options.file === undefined ? undefined : displayName(options.file);
  const fastReads: FastYaml[] = [];
  let read: ReadResult;
  try {
    read = readOne(text, options.file, display, sources, [], mode === "fast" ? fastReads : undefined);
  } catch (error) {
    if (error instanceof Decline) return undefined;
    throw error;
  }
  const problems = read.problems;
  const composite = read.composite;
  // Schema errors do not stop validation: every problem is reported at once (SPEC §2.3).
  if (composite) {
    const overridden = applyOverrides(composite, options.overrides ?? [], problems, display, catalog);
    for (const p of validateComposite(composite, { catalog, locate: read.locate, extraVariables: options.variables ?? [] })) problems.push(fromOverride(p, overridden));
  }
  if (mode === "fast" && (composite === undefined || problems.length > 0 || fastReads.some((f) => f.imprecise))) return undefined;
  if (composite && !hasErrors(problems)) markValidated(composite);
  if (options.strict) for (const p of problems) if (p.severity === "warning") strictError(p);
  sortProblems(problems);
  const result: LoadResult = { problems, ok: composite !== undefined && !hasErrors(problems), sources };
  if (composite) result.composite = composite;
  return result;
}

/** `--strict`: a warning is an error, and a message that says the thing "is ignored" says it is not. */
function strictError(p: Problem): void {
  p.severity = "error";
  if (p.message.endsWith(" is ignored")) p.message = `${p.message.slice(0, -" is ignored".length)} (an error with --strict)`;
}

interface ReadResult {
  composite?: Composite;
  problems: Problem[];
  locate: Locator;
}

/** Read one file; `fast` (the fast reads made so far) reads it with js-yaml, else with `yaml`. */
function readOne(text: string, abs: string | undefined, display: string | undefined, sources: Map<string, string>, stack: string[], fast: FastYaml[] | undefined): ReadResult {
  if (display !== undefined) sources.set(display, text);
  const parsed = fast ? readFast(text, display, fast) : parseYaml(text, display);
  const problems = [...parsed.problems];
  if (hasErrors(problems)) return { problems, locate: parsed.locate };
  const normalized = normalizeComposite(parsed.value, { ...(display === undefined ? {} : { file: display }), locate: parsed.locate });
  // A key without a value may come from an unquoted comma (`{ message: Hello, world }`), which only
  // the located read can tell: it reads such a file.
  if (fast && (normalized.problems.length > 0 || fast.at(-1)!.missingValue)) throw new Decline();
  // An unknown key, or a key without a value, may come from an unquoted comma: then one warning
  // that names the fix stands for the unknown keys.
  const commas = normalized.problems.some((p) => p.code === "W_UNKNOWN_KEY") || holdsNullValue(parsed.value, 0) ? parsed.commaSplits() : undefined;
  if (commas) problems.push(...commas.problems);
  for (const p of normalized.problems) if (!(p.code === "W_UNKNOWN_KEY" && p.path !== undefined && commas?.keys.has(p.path))) problems.push(p);
  const composite = normalized.composite;
  if (composite && abs !== undefined) composite.file = abs;
  if (composite) resolveRefs(composite, abs, parsed.locate, problems, sources, abs === undefined ? stack : [...stack, abs], fast, composite.secrets);
  const out: ReadResult = { problems, locate: parsed.locate };
  if (composite) out.composite = composite;
  return out;
}

/** A mapping anywhere in the document with a key whose value is null (`a:`, `a: ~`, or `{ x, a }`). */
function holdsNullValue(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null || depth > 64) return false;
  if (Array.isArray(value)) return value.some((item) => holdsNullValue(item, depth + 1));
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (v === null || holdsNullValue(v, depth + 1)) return true;
  }
  return false;
}

function readFast(text: string, display: string | undefined, fast: FastYaml[]): Pick<ParsedYaml, "value" | "problems" | "commaSplits" | "locate"> {
  const read = parseYamlFast(text, display);
  if (read === undefined) throw new Decline();
  fast.push(read);
  return { value: read.value, problems: [], commaSplits: () => ({ problems: [], keys: new Set() }), locate: read.locate };
}

/** `secrets`: the including file's (a ref file's secrets are added: a secret named anywhere is redacted). */
function resolveRefs(body: CompositeBody, file: string | undefined, locate: Locator, problems: Problem[], sources: Map<string, string>, stack: string[], fast: FastYaml[] | undefined, secrets: string[]): void {
  for (const node of body.nodes) {
    if (node.body) resolveRefs(node.body, file, body.locate ?? locate, problems, sources, stack, fast, secrets);
    if (node.ref === undefined) continue;
    // Located only for a problem (a fast read places sequence items only).
    const loc = () => (body.locate ?? locate)([...node.path, "ref"]);
    const base = file === undefined ? process.cwd() : path.dirname(file);
    const target = path.resolve(base, node.ref);
    if (stack.includes(target)) {
      const chain = [...stack.slice(stack.indexOf(target)), target].map(displayName).join(" -> ");
      problems.push(makeProblem(ErrorCode.CYCLE, `node "${node.id}": ref cycle: ${chain}`, loc(), { hint: "a composite cannot include itself through ref:", path: [...node.path, "ref"] }));
      continue;
    }
    let bytes: Buffer;
    try {
      // A pipe or a device would block this synchronous read, or never end: a ref names a file.
      const info = statSync(target);
      if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: info.isDirectory() ? "EISDIR" : "ENOTREG" });
      if (info.size > MAX_STREAMED_BYTES) throw new StreamTooLargeError(target, info.size);
      bytes = readFileSync(target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const what =
        code === "ENOENT" ? "ref file not found"
        : code === "EISDIR" ? "ref is a directory, not a composite file"
        : code === "ENOTREG" ? "ref is not a regular file (a pipe, a socket or a device)"
        : error instanceof StreamTooLargeError ? `cannot read the ref file: ${error.message}`
        : `cannot read the ref file (${code ?? (error as Error).message})`;
      problems.push(makeProblem(ErrorCode.REF, `node "${node.id}": ${what}: ${node.ref} (resolved to ${displayName(target)})`, loc(), { hint: "ref: paths are relative to the file that contains them", path: [...node.path, "ref"] }));
      continue;
    }
    const decoded = decodeSource(bytes, displayName(target));
    if (!decoded.ok) {
      problems.push(referredFrom(decoded.problem, node, loc()));
      if (decoded.text !== undefined) sources.set(displayName(target), decoded.text);
      continue;
    }
    const child = readOne(decoded.text, target, displayName(target), sources, stack, fast);
    // A file that is no composite at all (a text file, a JSON array): its problems name the node that refers to it.
    problems.push(...(child.composite ? child.problems : child.problems.map((p) => (p.file === displayName(target) && p.path === undefined ? referredFrom(p, node, loc()) : p))));
    if (child.composite) {
      node.body = { nodes: child.composite.nodes, edges: child.composite.edges, locate: child.locate };
      for (const name of child.composite.secrets) if (!secrets.includes(name)) secrets.push(name);
      problems.push(...unusedInRef(child.composite, child.locate, file));
    }
  }
}

/** A problem of a whole ref file, with the `ref:` that reads it (the problem model has one location). */
function referredFrom(problem: Problem, node: CompositeNode, at: SourceLocation): Problem {
  return { ...problem, message: `${problem.message} (read for the \`ref:\` of node "${node.id}" at ${formatLocation({ ...at, file: at.file ?? "<input>" })})` };
}

/**
 * A ref file's `variables` and `settings` are not used (a group takes its nodes and edges): said at
 * each, so that "$vars.x is not a declared variable" about a variable the ref file declares, or its
 * timeout not applying, is not a mystery.
 */
function unusedInRef(child: Composite, locate: Locator, including: string | undefined): Problem[] {
  const into = including === undefined ? "the including composite" : displayName(including);
  const out: Problem[] = [];
  if (Object.keys(child.variables).length > 0) {
    out.push(makeProblem("W_REF", "`variables` of a ref: file are not used: a group takes only the nodes and edges of the file it refers to", locate(["variables"], { key: true }), { hint: `declare these variables in ${into}`, path: ["variables"] }));
  }
  if (Object.keys(child.settings).length > 0) {
    out.push(makeProblem("W_REF", "`settings` of a ref: file are not used: a group takes only the nodes and edges of the file it refers to", locate(["settings"], { key: true }), { hint: `set them in ${into}, or give the group node a \`timeout\``, path: ["settings"] }));
  }
  return out;
}

/** A parameter `--set` wrote: its path as problems give it (`nodes[0].parameters.level`), and the flag. */
interface Overridden {
  path: string;
  flag: string;
}

/**
 * A problem with a value that came from `--set` says so: the file's line is where the parameter
 * would be, but the value is on the command line.
 */
function fromOverride(problem: Problem, overridden: readonly Overridden[]): Problem {
  const p = problem.path;
  const o = p === undefined ? undefined : overridden.find((x) => p === x.path || p.startsWith(`${x.path}.`) || p.startsWith(`${x.path}[`));
  if (o === undefined) return problem;
  return { ...problem, message: `${o.flag}: ${problem.message}`, hint: `the value comes from ${o.flag} on the command line, not from the file${problem.hint ? `; ${problem.hint}` : ""}` };
}

function applyOverrides(composite: Composite, overrides: readonly ParameterOverride[], problems: Problem[], file: string | undefined, catalog: Catalog): Overridden[] {
  const overridden: Overridden[] = [];
  if (overrides.length === 0) return overridden;
  const byId = new Map<string, CompositeNode>();
  for (const n of allNodes(composite)) byId.set(n.id, n);
  for (const o of overrides) {
    const node = byId.get(o.nodeId);
    if (!node) {
      const hint = didYouMean(o.nodeId, byId.keys()) || `nodes: ${[...byId.keys()].join(", ")}`;
      problems.push(makeProblem(ErrorCode.USAGE, `--set ${o.nodeId}.${o.param}: no node "${o.nodeId}" in the composite`, { ...(file === undefined ? {} : { file }), line: 1, col: 1 }, { hint }));
      continue;
    }
    const segs = o.param.split(".");
    // An override replaces the parameter under any of its names (`filePath` and `path` are one parameter).
    const aliases = catalog.get(node.type)?.parameterAliases ?? {};
    const canonicalOf = (k: string): string => (Object.hasOwn(aliases, k) ? aliases[k]! : k);
    const canonical = canonicalOf(segs[0]!);
    if (segs.length === 1) {
      for (const k of Object.keys(node.parameters)) if (canonicalOf(k) === canonical) delete node.parameters[k];
      segs[0] = canonical;
    }
    // Own properties all the way (`--set a.__proto__=x` names a parameter, never a prototype).
    const own = (obj: Record<string, unknown>, key: string, value: unknown): void => void Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
    let target: Record<string, unknown> = node.parameters;
    for (const seg of segs.slice(0, -1)) {
      const next = Object.hasOwn(target, seg) ? target[seg] : undefined;
      if (typeof next !== "object" || next === null || Array.isArray(next)) own(target, seg, {});
      target = target[seg] as Record<string, unknown>;
    }
    own(target, segs[segs.length - 1]!, o.value);
    overridden.push({ path: formatPath([...node.parametersPath, ...segs]), flag: `--set ${o.nodeId}.${o.param}=${JSON.stringify(o.value)}` });
  }
  return overridden;
}

/** Paths in messages are relative to the cwd when that is shorter. */
export function displayName(file: string): string {
  return relativeInside(process.cwd(), file) ?? file;
}

const validated = new WeakSet<Composite>();

/** Remember that a composite passed validation (the conductor then skips re-validating it). */
export function markValidated(composite: Composite): void {
  validated.add(composite);
}

export function isValidated(composite: Composite): boolean {
  return validated.has(composite);
}
