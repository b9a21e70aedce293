import { existsSync, readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { parseYaml } from "../composite/parse-yaml.js";
import { TOO_DEEP } from "../composite/yaml-hints.js";
import { didYouMean } from "../composite/suggest.js";
import { AtomitonError, ErrorCode } from "../errors.js";
import { isThenable, jitiTransform, moduleLoadError, settledOrStuck, type NodeSpec } from "../nodes/load-custom-nodes.js";

/** Config file names, in the order they win when a directory holds several. */
export const CONFIG_FILE_NAMES = [
  "atomiton.config.ts",
  "atomiton.config.mts",
  "atomiton.config.js",
  "atomiton.config.mjs",
  "atomiton.config.cjs",
  "atomiton.config.json",
  "atomiton.config.yaml",
  "atomiton.config.yml",
] as const;

const configSchema = z
  .object({
    $schema: z.string().optional().describe("JSON Schema for editors (ignored)"),
    nodes: z
      .array(z.string().min(1, "a node path cannot be empty"))
      .default([])
      .describe("Custom node modules: files, directories or package names, relative to the config file"),
  })
  .strict();

/** What `atomiton.config.*` holds, validated. */
export type AtomitonConfigFile = z.output<typeof configSchema>;

export interface AtomitonConfig {
  /** Absolute path of the config file. */
  file: string;
  /** `nodes:` entries, resolving against the config file's directory. */
  nodes: NodeSpec[];
}

/** The nearest `atomiton.config.*`, searching from `cwd` up to the filesystem root. */
export function findConfigFile(cwd: string): string | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const file = path.join(dir, name);
      if (existsSync(file) && statSync(file).isFile()) return file;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Find and load the nearest config file. Undefined when there is none; an `AtomitonError` with
 * the file and line when it cannot be read or does not match the schema.
 *
 * @example
 * const config = await loadConfig(process.cwd()); // { file, nodes: [{ spec: "./nodes", base, origin }] }
 */
export async function loadConfig(cwd: string): Promise<AtomitonConfig | undefined> {
  const file = findConfigFile(cwd);
  return file === undefined ? undefined : loadConfigFile(file, cwd);
}

/** Load one config file: TS/JS through jiti (default export), JSON/YAML parsed with positions. */
export async function loadConfigFile(file: string, cwd: string = path.dirname(file)): Promise<AtomitonConfig> {
  const shown = displayPath(file, cwd);
  const isData = /\.(json|ya?ml)$/.test(file);
  const { value, locate } = isData ? await readDataConfig(file, shown) : { value: await importConfig(file, shown, cwd), locate: locateInSource(file, shown) };
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const unknown = issue.code === "unrecognized_keys" ? issue.keys : [];
    // An unknown key is located at the key itself, not at the mapping that holds it (1:1).
    const at = unknown.length > 0 ? locate([...(issue.path as (string | number)[]), unknown[0]!], { key: true }) : locate(issue.path as (string | number)[]);
    const where = issue.path.length > 0 ? `${formatIssuePath(issue.path)}: ` : "";
    const message = unknown.length > 0 ? `unknown key${unknown.length === 1 ? "" : "s"} ${unknown.map((k) => `"${k}"`).join(", ")}` : issue.message;
    const guess = unknown.length > 0 ? didYouMean(unknown[0]!, Object.keys(configSchema.shape).filter((k) => k !== "$schema")) : "";
    throw new AtomitonError(ErrorCode.SCHEMA, `${at}: ${where}${message}`, {
      retryable: false,
      hint: `${guess ? `${guess} ` : ""}the config takes \`nodes: ["./nodes", …]\` (files, directories or packages, relative to the config file)`,
      details: { file },
    });
  }
  const base = path.dirname(file);
  return {
    file,
    nodes: parsed.data.nodes.map((spec, i) => ({ spec, base, origin: `${locate(["nodes", i])}: nodes[${i}] "${spec}"` })),
  };
}

type LocateConfig = (p: (string | number)[], options?: { key?: boolean }) => string;

/** For a JS/TS config: `file:line:col` of the first `key:` named by the path's last key in the source, else the file. */
function locateInSource(file: string, shown: string): LocateConfig {
  return (p) => {
    const key = [...p].reverse().find((seg): seg is string => typeof seg === "string");
    if (key === undefined) return shown;
    let source: string;
    try {
      // Without a byte order mark: it is not a column.
      source = readFileSync(file, "utf8").replace(/^\uFEFF/, "");
    } catch {
      return shown;
    }
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const match = new RegExp(`(?:^|[\\s{,])(["']?)${escaped}\\1\\s*:`).exec(source);
    if (!match) return shown;
    const before = source.slice(0, match.index + match[0].indexOf(key) - match[1]!.length).split("\n");
    return `${shown}:${before.length}:${before.at(-1)!.length + 1}`;
  };
}

async function readDataConfig(file: string, shown: string): Promise<{ value: unknown; locate: LocateConfig }> {
  // A byte order mark (editors on Windows write one) is not part of the JSON or YAML.
  const text = (
    await readFile(file, "utf8").catch((error: Error) => {
      throw new AtomitonError(ErrorCode.SCHEMA, `${shown}: cannot read the config file: ${error.message}`, { retryable: false, details: { file } });
    })
  ).replace(/^\uFEFF/, "");
  if (file.endsWith(".json")) checkJson(text, shown, file);
  // JSON is YAML's flow syntax, so one parser gives positions for both.
  const parsed = parseYaml(text, shown);
  const problem = parsed.problems.find((p) => p.severity === "error");
  if (problem) {
    throw new AtomitonError(ErrorCode.YAML, `${shown}:${problem.line}:${problem.col}: ${problem.message}`, {
      retryable: false,
      // The composite parser's hint for too-deep YAML speaks of composites.
      hint: problem.message === TOO_DEEP ? "a config file holds settings a level or two deep: give it fewer lists or mappings inside each other" : (problem.hint ?? `fix the ${file.endsWith(".json") ? "JSON" : "YAML"} syntax of the config file`),
      details: { file },
    });
  }
  const locate: LocateConfig = (p, options) => {
    const loc = parsed.locate(p, options);
    return `${shown}:${loc.line}:${loc.col}`;
  };
  return { value: parsed.value ?? {}, locate };
}

async function importConfig(file: string, shown: string, cwd: string): Promise<unknown> {
  const { createFreshJiti } = await import("../nodes/fresh-jiti.js");
  const jiti = createFreshJiti(pathToFileURL(file).href, { moduleCache: false, fsCache: false, interopDefault: false });
  let mod: { default?: unknown; __esModule?: boolean } | undefined;
  try {
    mod = (await jiti.import(file)) as { default?: unknown; __esModule?: boolean } | undefined;
  } catch (error) {
    throw moduleLoadError(error, file, cwd, { code: ErrorCode.USAGE, kind: "config file", transform: jitiTransform(jiti) });
  }
  // An ES module's default export, or a CommonJS file's `module.exports` (jiti hands that over as is).
  // (A module with no exports at all, `{}`, has neither.)
  const value = mod?.default ?? (mod !== undefined && mod !== null && !mod.__esModule && Object.keys(mod).length > 0 ? mod : undefined);
  if (value === undefined) {
    throw new AtomitonError(ErrorCode.USAGE, `${shown}: no default export`, { retryable: false, hint: 'export default { nodes: ["./nodes"] } (in CommonJS: module.exports = { nodes: ["./nodes"] })', details: { file } });
  }
  if (typeof value !== "function") return isThenable(value) ? settledOrStuck(value, "the default export (a promise)").catch((error: unknown) => Promise.reject(moduleLoadError(error, file, cwd, { code: ErrorCode.USAGE, kind: "config file", transform: jitiTransform(jiti) }))) : value;
  try {
    const made = (value as () => unknown)();
    return isThenable(made) ? await settledOrStuck(made, "the promise its default export returned") : made;
  } catch (error) {
    throw moduleLoadError(error, file, cwd, { code: ErrorCode.USAGE, kind: "config file", transform: jitiTransform(jiti) });
  }
}

/** JSON's own syntax message, located (`position N` → line:col). */
function checkJson(text: string, shown: string, file: string): void {
  try {
    JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    // Older messages ("Unexpected token ']', …") carry no position: find the token (a trailing comma's bracket first).
    const token = /^Unexpected token '(.)'/.exec(message)?.[1];
    const trailing = token === "]" || token === "}" ? /,\s*[\]}]/.exec(text) : null;
    const offset = position !== undefined ? Number(position) : trailing ? trailing.index + trailing[0].length - 1 : token ? Math.max(0, text.indexOf(token)) : 0;
    const before = text.slice(0, offset).split("\n");
    const what = (message.split("\n")[0] ?? message).replace(/, ".*$|, \.\.\..*$/, "").replace(/\s*(?:in JSON )?at position \d+.*$/, "");
    throw new AtomitonError(ErrorCode.YAML, `${shown}:${before.length}:${before.at(-1)!.length + 1}: invalid JSON: ${what}`, {
      retryable: false,
      hint: "JSON needs double-quoted keys and strings, commas between items and none after the last",
      details: { file },
    });
  }
}

function formatIssuePath(p: readonly PropertyKey[]): string {
  return p.map((seg, i) => (typeof seg === "number" ? `[${seg}]` : i === 0 ? String(seg) : `.${String(seg)}`)).join("");
}

function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}
