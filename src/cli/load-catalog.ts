import { createBuiltinCatalog, type Catalog } from "../nodes/catalog.js";
import type { NodeSpec } from "../nodes/load-custom-nodes.js";
import { loadConfig } from "./config.js";
import type { CliIO } from "./io.js";

/**
 * Where a command's custom nodes come from: the nearest `atomiton.config.*` (`nodes:`, relative to
 * the config file) first, then each `--nodes` (relative to the cwd).
 */
export async function nodeSpecsForCli(nodePaths: readonly string[], io: CliIO): Promise<NodeSpec[]> {
  const config = await loadConfig(io.cwd);
  return [...(config?.nodes ?? []), ...nodePaths.map((spec) => ({ spec, base: io.cwd, origin: `--nodes ${spec}` }))];
}

/** The catalog for a command: built-ins plus custom nodes from the config file and --nodes. */
export async function loadCatalogForCli(nodePaths: readonly string[], io: CliIO): Promise<Catalog> {
  const specs = await nodeSpecsForCli(nodePaths, io);
  if (specs.length === 0) return createBuiltinCatalog();
  const { loadCustomNodes } = await import("../nodes/load-custom-nodes.js");
  const entries = await loadCustomNodes(specs, io.cwd);
  return createBuiltinCatalog(entries);
}
