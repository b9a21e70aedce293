import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { loadComposite } from "../../composite/load-composite.js";
import type { CompositeBody } from "../../composite/model.js";
import { findConfigFile, loadConfig } from "../config.js";
import { findLocalImports, resolveNodePaths, type NodeSpec } from "../../nodes/load-custom-nodes.js";

/** What watch mode watches: files whose change re-runs, and node directories (a file added to one re-runs). */
export interface WatchPaths {
  /** Absolute paths, the composite first. Some may not exist yet (a missing `ref:`). */
  files: string[];
  /** Directories given as node specs; events for node files directly inside them count. */
  dirs: string[];
}

export interface CollectWatchPathsOptions {
  /** Absolute path of the composite file. */
  composite: string;
  /** `--nodes` arguments (relative to `cwd`). */
  nodes: readonly string[];
  cwd: string;
}

/**
 * Everything a run reads from disk: the composite, every `ref:` file (recursively, missing ones
 * too so creating them re-runs), the config file, the custom node files and their local imports.
 * Never throws: a broken file is still watched, so fixing it re-runs.
 */
export async function collectWatchPaths(options: CollectWatchPathsOptions): Promise<WatchPaths> {
  const files = new Set<string>([options.composite]);
  const dirs = new Set<string>();
  for (const file of await compositeFiles(options.composite)) files.add(file);

  const specs: NodeSpec[] = [];
  const configFile = findConfigFile(options.cwd);
  if (configFile !== undefined) {
    files.add(configFile);
    const config = await loadConfig(options.cwd).catch(() => undefined);
    if (config) specs.push(...config.nodes);
  }
  specs.push(...options.nodes.map((spec) => ({ spec, base: options.cwd, origin: `--nodes ${spec}` })));
  for (const spec of specs) {
    const abs = path.resolve(spec.base, spec.spec);
    if (isDirectory(abs)) dirs.add(abs);
    let nodeFiles: string[];
    try {
      nodeFiles = resolveNodePaths(spec);
    } catch {
      // Not there yet: watch the path, so creating it re-runs.
      if (spec.spec.startsWith(".") || path.isAbsolute(spec.spec)) files.add(abs);
      continue;
    }
    for (const file of nodeFiles) {
      files.add(file);
      for (const imported of findLocalImports(file)) files.add(imported);
    }
  }
  return { files: [...files], dirs: [...dirs] };
}

/** The `ref:` files a composite pulls in, resolved like load-composite does (against the file holding the ref). */
async function compositeFiles(file: string): Promise<string[]> {
  const loaded = await loadComposite(file);
  // `sources` has every file that was read (display names resolve against the process cwd, as load-composite made them).
  const out = new Set<string>([...loaded.sources.keys()].map((name) => path.resolve(name)));
  const visit = (body: CompositeBody, from: string): void => {
    for (const node of body.nodes) {
      if (node.ref !== undefined) {
        const target = path.resolve(path.dirname(from), node.ref);
        out.add(target);
        if (node.body) visit(node.body, target);
      } else if (node.body) {
        visit(node.body, from);
      }
    }
  };
  if (loaded.composite) visit(loaded.composite, file);
  out.delete(file);
  return [...out];
}

function isDirectory(p: string): boolean {
  try {
    return existsSync(p) && statSync(p).isDirectory();
  } catch {
    return false;
  }
}
