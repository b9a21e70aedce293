import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { CatalogEntry } from "./catalog.js";
import type { AnyNodeDefinition } from "./define-node.js";

const NODE_FILE = /\.(m?[jt]s|cjs|cts|mts)$/;
const SKIP_FILE = /\.(test|spec|d)\.[cm]?[jt]s$/;

/** Files a `--nodes` argument stands for: a file, every node file in a directory, or a package's entry. */
export function resolveNodePaths(spec: string, cwd: string): string[] {
  const abs = path.resolve(cwd, spec);
  if (existsSync(abs)) {
    if (statSync(abs).isDirectory()) {
      return readdirSync(abs)
        .filter((f) => NODE_FILE.test(f) && !SKIP_FILE.test(f))
        .sort()
        .map((f) => path.join(abs, f));
    }
    return [abs];
  }
  if (spec.startsWith(".") || path.isAbsolute(spec)) {
    throw new AtomitonError(ErrorCode.CUSTOM_NODE, `--nodes ${spec}: no such file or directory`, { retryable: false, hint: `resolved to ${abs}` });
  }
  try {
    return [createRequire(path.join(cwd, "noop.js")).resolve(spec)];
  } catch {
    throw new AtomitonError(ErrorCode.CUSTOM_NODE, `--nodes ${spec}: not a file, a directory or an installed package`, { retryable: false, hint: "install the package, or pass a path like ./nodes" });
  }
}

/**
 * Import custom node modules (TypeScript loads without a build step, through jiti) and check
 * that each exports `defineNode(...)` values. Every import is fresh (no module cache), so watch
 * mode sees edits.
 */
export async function loadCustomNodes(specs: readonly string[], cwd: string): Promise<CatalogEntry[]> {
  const { createJiti } = await import("jiti");
  const jiti = createJiti(pathToFileURL(path.join(cwd, "atomiton-nodes.js")).href, { moduleCache: false, fsCache: false, interopDefault: true });
  const entries: CatalogEntry[] = [];
  for (const spec of specs) {
    for (const file of resolveNodePaths(spec, cwd)) {
      let mod: unknown;
      try {
        mod = await jiti.import(file);
      } catch (error) {
        const e = error as Error;
        throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${path.relative(cwd, file) || file}: the module threw while loading: ${e.message.split("\n")[0]}`, {
          retryable: false,
          cause: error,
          hint: "fix the error in the node module (run it with node to see the stack)",
        });
      }
      for (const definition of definitionsOf(mod, file, cwd)) entries.push({ definition, source: path.relative(cwd, file) || file });
    }
  }
  return entries;
}

function definitionsOf(mod: unknown, file: string, cwd: string): AnyNodeDefinition[] {
  const where = path.relative(cwd, file) || file;
  const m = mod as { default?: unknown; nodes?: unknown } | undefined;
  const value = m?.default ?? m?.nodes ?? mod;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || value === undefined) {
    throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${where}: no default export`, { retryable: false, hint: "export default defineNode({ type, parameters, execute, … })" });
  }
  return list.map((def, i) => checkDefinition(def, `${where}${list.length > 1 ? `[${i}]` : ""}`));
}

function checkDefinition(def: unknown, where: string): AnyNodeDefinition {
  const d = def as Partial<AnyNodeDefinition> | undefined;
  const fail = (what: string, hint: string): never => {
    throw new AtomitonError(ErrorCode.CUSTOM_NODE, `${where}: ${what}`, { retryable: false, hint });
  };
  if (!d || typeof d !== "object") fail("the default export is not a node definition", "export default defineNode({ ... })");
  if (typeof d!.type !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(d!.type)) fail(`\`type\` must be a kebab-case string, got ${JSON.stringify(d!.type)}`, 'e.g. type: "slugify"');
  const params = d!.parameters as { shape?: unknown; safeParse?: unknown } | undefined;
  if (!params || typeof params.safeParse !== "function" || typeof params.shape !== "object") fail("`parameters` must be a zod object schema (z.object({...}))", "import { z } from \"zod\" and use z.object");
  if (typeof d!.execute !== "function") fail("`execute` must be a function", "execute(ctx) { return … }");
  if (!Array.isArray(d!.inputs) || !Array.isArray(d!.outputs)) fail("`inputs` and `outputs` must be arrays of ports", 'inputs: [{ id: "input" }], outputs: [{ id: "output" }]');
  return {
    title: d!.type!,
    description: "",
    category: "custom",
    ...d,
  } as AnyNodeDefinition;
}
