import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { CatalogEntry } from "./catalog.js";
import { withDefaults, type AnyNodeDefinition } from "./define-node.js";
import { mapTransformedColumn } from "./map-column.js";
import { settledExports } from "./settled-exports.js";

export { isThenable, settledOrStuck } from "./settled-exports.js";

const NODE_FILE = /\.(m?[jt]s|cjs|cts|mts)$/;
const SKIP_FILE = /\.(test|spec|d)\.[cm]?[jt]s$/;

/** True for a file name that `--nodes <dir>` loads (not tests, not declaration files). */
export function isNodeFileName(file: string): boolean {
  return NODE_FILE.test(file) && !SKIP_FILE.test(file);
}

/** Where custom nodes come from: a `--nodes` argument, or an entry of a config file's `nodes:` list. */
export interface NodeSpec {
  /** A file, a directory or a package name. */
  spec: string;
  /** Directory `spec` resolves against (the cwd for `--nodes`, the config file's directory for `nodes:`). */
  base: string;
  /** How messages name the spec: `--nodes ./x`, or `atomiton.config.json:3:5: nodes[0] "./x"`. */
  origin: string;
}

/** A loaded module: its file and the local files it imports (recursively), for watch mode. */
export interface LoadedNodeModule {
  file: string;
  imports: string[];
}

export interface CustomNodesLoadResult {
  entries: CatalogEntry[];
  modules: LoadedNodeModule[];
}

/** Files a `--nodes` argument stands for: a file, every node file in a directory, or a package's entry. */
export function resolveNodePaths(spec: string | NodeSpec, cwd?: string): string[] {
  const s = toNodeSpec(spec, cwd);
  // `--nodes ""` resolved to the directory it was given in, and loaded every module there.
  if (s.spec.trim() === "") throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${s.origin}: an empty path`, { retryable: false, hint: "give a .js, .mjs or .ts file, a directory of them, or a package" });
  const abs = path.resolve(s.base, s.spec);
  const details = { file: abs };
  if (existsSync(abs)) {
    const info = statSync(abs);
    if (info.isDirectory()) {
      // Files only: a directory named `x.ts` is not a module, and a link to nothing is said to be one.
      const files: string[] = [];
      for (const entry of readdirSync(abs, { withFileTypes: true })) {
        if (!isNodeFileName(entry.name)) continue;
        const file = path.join(abs, entry.name);
        const target = entry.isSymbolicLink() ? statSync(file, { throwIfNoEntry: false }) : entry;
        if (target === undefined) throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${s.origin}: ${entry.name} is a symbolic link to nothing`, { retryable: false, hint: "remove the link, or make what it points to", details: { file } });
        if (!target.isDirectory()) files.push(file);
      }
      return files.sort();
    }
    // A pipe or a device would hold the module loader (or never end): a node module is a file.
    if (!info.isFile()) throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${s.origin}: not a regular file (a pipe, a socket or a device)`, { retryable: false, hint: "give a .js, .mjs or .ts file, or a directory of them", details });
    // Only the extensions the loader takes: `n.txt` failed inside Node's loader, and a file without one was run as JavaScript.
    if (!NODE_FILE.test(abs)) throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${s.origin}: not a module file (${path.extname(abs) ? `"${path.extname(abs)}"` : "no extension"})`, { retryable: false, hint: "custom node modules are .ts, .mts, .cts, .js, .mjs or .cjs files", details });
    return [abs];
  }
  if (s.spec.startsWith(".") || path.isAbsolute(s.spec)) {
    throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${s.origin}: no such file or directory`, { retryable: false, hint: `resolved to ${abs}`, details });
  }
  try {
    return [createRequire(path.join(s.base, "noop.js")).resolve(s.spec)];
  } catch {
    throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${s.origin}: not a file, a directory or an installed package`, {
      retryable: false,
      hint: "install the package, or give a path like ./nodes",
    });
  }
}

/**
 * Import custom node modules (TypeScript loads without a build step, through jiti) and check
 * that each exports `defineNode(...)` values. Every import is fresh (no module cache), so watch
 * mode sees edits. A file named by several specs is loaded once.
 */
export async function loadCustomNodes(specs: readonly (string | NodeSpec)[], cwd: string): Promise<CatalogEntry[]> {
  return (await loadCustomNodeModules(specs, cwd)).entries;
}

/** Like `loadCustomNodes`, and also lists each module's local imports (what watch mode watches). */
export async function loadCustomNodeModules(specs: readonly (string | NodeSpec)[], cwd: string): Promise<CustomNodesLoadResult> {
  const files: string[] = [];
  const fromDirectory = new Set<string>();
  for (const spec of specs) {
    const s = toNodeSpec(spec, cwd);
    const resolved = resolveNodePaths(s);
    const abs = path.resolve(s.base, s.spec);
    const isDir = existsSync(abs) && statSync(abs).isDirectory();
    for (const file of resolved) {
      if (files.includes(file)) continue;
      files.push(file);
      if (isDir) fromDirectory.add(file);
    }
  }
  const entries: CatalogEntry[] = [];
  const modules: LoadedNodeModule[] = [];
  if (files.length === 0) return { entries, modules };
  const imports = new Map(files.map((file) => [file, findLocalImports(file)]));
  // A file of a node directory that another node file imports may be a helper (no default export).
  const imported = new Set([...imports.values()].flat());
  const { importModule, transform } = await createModuleImporter(cwd);
  let lastYield = performance.now();
  for (const file of files) {
    const where = relativeTo(cwd, file);
    // jiti evaluates a module synchronously: after a slow one, give the event loop a few turns
    // (timers, I/O: the CLI's delayed "loading custom nodes" spinner imports ora meanwhile; signal
    // handlers) before the next. Fast loads never wait; slow ones wait YIELD_MS per YIELD_AFTER_MS.
    if (performance.now() - lastYield > YIELD_AFTER_MS) {
      await new Promise((resolve) => setTimeout(resolve, YIELD_MS));
      lastYield = performance.now();
    }
    let mod: unknown;
    try {
      mod = await settledExports(await importModule(file));
    } catch (error) {
      throw moduleLoadError(error, file, cwd, { transform });
    }
    if (fromDirectory.has(file) && imported.has(file) && !hasNodeExport(mod)) continue;
    const source = readSource(file);
    for (const definition of definitionsOf(mod, where, source, file)) entries.push({ definition, source: where });
    modules.push({ file, imports: imports.get(file) ?? [] });
  }
  return { entries, modules };
}

/** Loading longer than this without a break lets the event loop run before the next module. */
const YIELD_AFTER_MS = 50;
const YIELD_MS = 10;


function hasNodeExport(mod: unknown): boolean {
  return exportedValue(mod) !== undefined;
}

/** The default export, else `nodes`, else the module itself when it is a definition (CommonJS `module.exports = defineNode(…)`). */
function exportedValue(mod: unknown): unknown {
  const m = mod as { default?: unknown; nodes?: unknown; type?: unknown; execute?: unknown } | undefined;
  if (m?.default !== undefined) return m.default;
  if (m?.nodes !== undefined) return m.nodes;
  return typeof m?.type === "string" && typeof m.execute === "function" ? m : undefined;
}

/**
 * A fresh jiti importer. Node modules get this very atomiton and its zod as `atomiton` and `zod`
 * (so `instanceof AtomitonError` holds and schemas are the zod the runner validates with), even
 * where neither is installed (a scaffolded project before `npm install`).
 */
async function createModuleImporter(cwd: string): Promise<{ importModule: (file: string) => Promise<unknown>; transform: (source: string, file: string) => string }> {
  const [{ createFreshJiti }, atomiton, zod] = await Promise.all([import("./fresh-jiti.js"), import("../index.js"), import("zod")]);
  const jiti = createFreshJiti(pathToFileURL(path.join(cwd, "atomiton-nodes.js")).href, {
    moduleCache: false,
    fsCache: false,
    interopDefault: false,
    virtualModules: { atomiton, zod, "zod/v4": zod },
  });
  return { importModule: (file) => jiti.import(file), transform: jitiTransform(jiti) };
}

/** jiti's transform of a file as its import does it (same lines, rewritten columns). */
export function jitiTransform(jiti: { transform: (options: { source: string; filename: string; ts: boolean; async: boolean }) => string }): (source: string, file: string) => string {
  return (source, file) => jiti.transform({ source, filename: file, ts: /\.[cm]?tsx?$/i.test(file), async: true });
}

function toNodeSpec(spec: string | NodeSpec, cwd: string | undefined): NodeSpec {
  if (typeof spec !== "string") return spec;
  return { spec, base: cwd ?? ".", origin: `--nodes ${spec}` };
}

/** The largest module whose imports are followed (for watch mode): bigger ones are not scanned. */
const MAX_MODULE_BYTES = 16 * 1024 * 1024;

function relativeTo(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel !== "" && !rel.startsWith("..") ? rel : file;
}

function readSource(file: string): string {
  try {
    // Only a regular file of a sane size: a pipe or a device would block this read, or never end.
    const info = statSync(file);
    if (!info.isFile() || info.size > MAX_MODULE_BYTES) return "";
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** What a module that failed to load is: a custom node module or a config file (for messages). */
export interface ModuleLoadErrorOptions {
  code?: string;
  /** "custom node module" (default) or "config file". */
  kind?: string;
  /** The loader's transform (jiti keeps lines, not columns): maps a stack frame's column back to the source. */
  transform?: (source: string, file: string) => string;
}

/**
 * A module that failed to import, as an `AtomitonError` that points at the syntax error, the
 * line that threw (also in a file it imports) or the import that could not be found.
 */
export function moduleLoadError(error: unknown, file: string, cwd: string, options: ModuleLoadErrorOptions = {}): AtomitonError {
  const code = options.code ?? ErrorCode.CUSTOM_NODE;
  const kind = options.kind ?? "custom node module";
  const e = error instanceof Error ? error : new Error(String(error));
  const where = relativeTo(cwd, file);
  const details = { file };
  const firstLine = e.message.split("\n")[0]?.trim() ?? "";
  // jiti reports syntax errors as "ParseError: <message>\n <file>:<line>:<col>", the column 0-based
  // (Babel's): shown 1-based, as every other file:line:col of ours and as editors read it.
  const parse = /^(?:ParseError|SyntaxError):\s*(.*)$/.exec(firstLine);
  const parseAt = /(\/[^\s:]+|[A-Za-z]:\\[^\s:]+):(\d+):(\d+)/.exec(e.message);
  if (parse && parseAt) {
    return new AtomitonError(code, `${relativeTo(cwd, parseAt[1]!)}:${parseAt[2]}:${Number(parseAt[3]) + 1}: syntax error: ${parse[1]!.trim()}`, {
      retryable: false,
      cause: error,
      hint: `fix the syntax; ${where} is loaded as a ${kind}`,
      details,
    });
  }
  const errno = (e as { code?: unknown }).code;
  if (errno === "MODULE_NOT_FOUND" || errno === "ERR_MODULE_NOT_FOUND") {
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec(e.message)?.[1];
    return new AtomitonError(code, `${where}: cannot load: ${firstLine}`, {
      retryable: false,
      cause: error,
      hint: missing && !missing.startsWith(".") && !path.isAbsolute(missing) ? `install it (npm install ${packageName(missing)}) in the project that holds ${where}` : "check the import path (relative imports resolve against the importing file)",
      details,
    });
  }
  const frame = userFrame(e.stack ?? "");
  const col = frame ? sourceColumn(frame, options.transform) : undefined;
  const at = frame ? `${relativeTo(cwd, frame.file)}:${frame.line}${col === undefined ? "" : `:${col}`}` : where;
  return new AtomitonError(code, `${at}: the ${kind} threw while loading: ${firstLine || e.name}`, {
    retryable: false,
    cause: error,
    hint: frame && frame.file !== file ? `thrown in a file that ${where} imports; fix it there` : `code at the top level of a ${kind} runs when it loads${kind === "custom node module" ? "; move work into execute(ctx)" : ""}`,
    details,
  });
}

/** The frame's column in the file as written; undefined (say only the line) when it cannot be told. */
function sourceColumn(frame: { file: string; line: string; col: string }, transform: ModuleLoadErrorOptions["transform"]): number | undefined {
  const line = Number(frame.line);
  const col = Number(frame.col);
  if (transform === undefined) return col;
  try {
    const source = readFileSync(frame.file, "utf8");
    return mapTransformedColumn(source, transform(source, frame.file), line, col);
  } catch {
    return undefined;
  }
}

function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** The first stack frame in user code (not node internals, not node_modules). */
function userFrame(stack: string): { file: string; line: string; col: string } | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^():]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const file = m[1]!.replace(/^file:\/\//, "");
    if (file.includes(`${path.sep}node_modules${path.sep}`) || file.startsWith("node:")) continue;
    return { file, line: m[2]!, col: m[3]! };
  }
  return undefined;
}

function definitionsOf(mod: unknown, where: string, source: string, file: string): AnyNodeDefinition[] {
  const m = mod as Record<string, unknown> | undefined;
  const value = exportedValue(mod);
  const list = Array.isArray(value) ? value : [value];
  if (value === undefined || list.length === 0) {
    const named = m && typeof m === "object" ? Object.keys(m).filter((k) => k !== "default") : [];
    throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${where}: no default export${named.length > 0 ? ` (it exports ${named.map((n) => `\`${n}\``).join(", ")})` : ""}`, {
      retryable: false,
      hint: "export default defineNode({ type, execute }) (parameters, inputs, outputs are optional), or an array of them as default (or as `nodes`); a helper file in a node directory is fine when a node file imports it",
      details: { file },
    });
  }
  return list.map((def, i) => checkDefinition(def, list.length > 1 ? `${where}[${i}]` : where, source, file));
}

/** `file:line:col` of the first `key:` (or `key(`) in the source, else just the file. */
function locateKey(where: string, source: string, key: string): string {
  const match = new RegExp(`\\b${key}\\s*[:(]`).exec(source);
  if (!match) return where;
  const before = source.slice(0, match.index).split("\n");
  return `${where}:${before.length}:${before.at(-1)!.length + 1}`;
}

function checkDefinition(def: unknown, where: string, source: string, file: string): AnyNodeDefinition {
  const fail = (what: string, hint: string, key?: string): never => {
    const at = key === undefined || where.endsWith("]") ? where : locateKey(where, source, key);
    throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${at}: ${what}`, { retryable: false, hint, details: { file } });
  };
  if (!def || typeof def !== "object") return fail(`the default export is not a node definition (got ${def === null ? "null" : typeof def})`, "export default defineNode({ ... })");
  const d = def as Partial<Record<keyof AnyNodeDefinition, unknown>>;
  if (typeof d.type !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(d.type)) fail(`\`type\` must be a kebab-case string, got ${JSON.stringify(d.type)}`, 'e.g. type: "slugify"', "type");
  const params = d.parameters as { shape?: unknown; safeParse?: unknown; _zod?: { def?: { type?: unknown } } } | undefined;
  if (params === undefined) {
    // No parameters: the default, z.object({}).
  } else if (!params || typeof params.safeParse !== "function" || typeof params.shape !== "object") {
    fail("`parameters` must be a zod object schema (z.object({...}))", 'import { z } from "zod" and write parameters: z.object({ name: z.string() })', "parameters");
  } else if (params._zod?.def?.type !== "object") {
    fail("`parameters` is not a zod 4 object schema (zod 3 or another library?)", 'import { z } from "zod" (atomiton provides zod 4 to node modules)', "parameters");
  }
  if (typeof d.execute !== "function") fail("`execute` must be a function", "execute(ctx) { return … }", "execute");
  for (const key of ["inputs", "outputs"] as const) {
    const ports = d[key];
    if (ports === undefined) continue; // the default port
    if (!Array.isArray(ports) || ports.some((p) => typeof (p as { id?: unknown } | null)?.id !== "string")) {
      fail(`\`${key}\` must be an array of ports ({ id: string, description?: string })`, `${key}: [{ id: "${key === "inputs" ? "input" : "output"}" }]`, key);
    }
    // Two ports of one id: edges to either would be the same port, and the node's docs would list it twice.
    const ids = (ports as { id: string }[]).map((p) => p.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice !== undefined) fail(`\`${key}\` has two ports "${twice}"`, "give each port its own id", key);
  }
  if (d.override !== undefined && typeof d.override !== "boolean") fail("`override` must be true or false", "override: true replaces a built-in of the same type", "override");
  for (const key of ["title", "description", "category"] as const) {
    if (d[key] !== undefined && typeof d[key] !== "string") fail(`\`${key}\` must be a string`, `${key}: "…"`, key);
  }
  return withDefaults(d as AnyNodeDefinition);
}

// Local imports: `import … from "./x"`, `export … from "./x"`, `import "./x"`, `import("./x")`, `require("./x")`.
const IMPORT_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(["'])(\.{1,2}\/[^"'\n]*)\1/g;
const SOURCE_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".jsx", ".json"];
// TypeScript lets `./x.js` name `./x.ts` (NodeNext); try the TS twins first.
const TS_TWINS: Readonly<Record<string, readonly string[]>> = { ".js": [".ts", ".tsx"], ".mjs": [".mts"], ".cjs": [".cts"], ".jsx": [".tsx"] };

/**
 * The local files `file` imports, recursively (relative specifiers only; packages are not
 * followed). A static scan: no code runs, so it also works on a module that fails to load.
 * Watch mode watches these so an edit to a helper re-runs the flow.
 */
export function findLocalImports(file: string, limit = 1000): string[] {
  const seen = new Set<string>([file]);
  const found: string[] = [];
  const queue = [file];
  while (queue.length > 0 && found.length < limit) {
    const current = queue.shift()!;
    if (current.endsWith(".json")) continue;
    const source = stripComments(readSource(current));
    for (const match of source.matchAll(IMPORT_SPECIFIER)) {
      const target = resolveLocal(path.dirname(current), match[2]!);
      if (target === undefined || seen.has(target) || target.includes(`${path.sep}node_modules${path.sep}`)) continue;
      seen.add(target);
      found.push(target);
      queue.push(target);
    }
  }
  return found;
}

function stripComments(source: string): string {
  // Good enough for import scanning: drop block comments and line comments that start a line.
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

function resolveLocal(dir: string, specifier: string): string | undefined {
  const base = path.resolve(dir, specifier.split(/[?#]/)[0]!);
  const ext = path.extname(base);
  const candidates = [
    ...(TS_TWINS[ext] ?? []).map((twin) => base.slice(0, -ext.length) + twin),
    base,
    ...SOURCE_EXTENSIONS.map((e) => base + e),
    ...SOURCE_EXTENSIONS.map((e) => path.join(base, `index${e}`)),
  ];
  return candidates.find(isFile);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
