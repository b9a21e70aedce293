import { createBuiltinCatalog, type Catalog } from "../nodes/catalog.js";
import type { CliIO } from "./io.js";

/** The catalog for a command: built-ins plus custom nodes from --nodes (custom-node loading comes with watch mode). */
export async function loadCatalogForCli(nodePaths: readonly string[], io: CliIO): Promise<Catalog> {
  if (nodePaths.length === 0) return createBuiltinCatalog();
  const { loadCustomNodes } = await import("../nodes/load-custom-nodes.js");
  const entries = await loadCustomNodes(nodePaths, io.cwd);
  return createBuiltinCatalog(entries);
}
