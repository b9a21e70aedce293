import { AtomitonError, ErrorCode } from "../errors.js";
import type { AnyNodeDefinition } from "./define-node.js";
import { builtinNodes } from "./builtin/index.js";

/** The catalog is the registry: every node type atomiton can run, by type name and alias. */
export interface Catalog {
  /** The definition for a type name or alias. */
  get(type: string): AnyNodeDefinition | undefined;
  has(type: string): boolean;
  /** Canonical type names, sorted. */
  types(): string[];
  /** Canonical names and aliases (for "did you mean"). */
  names(): string[];
  all(): AnyNodeDefinition[];
  /** Where a definition came from (`builtin` or a module path). */
  sourceOf(type: string): string | undefined;
}

export interface CatalogEntry {
  definition: AnyNodeDefinition;
  source: string;
}

/**
 * Build a catalog from entries, later entries extending earlier ones. A type that is already
 * defined is an error unless the newcomer sets `override: true`.
 */
export function createCatalog(entries: Iterable<CatalogEntry>): Catalog {
  const byName = new Map<string, AnyNodeDefinition>();
  const canonical = new Map<string, AnyNodeDefinition>();
  const sources = new Map<string, string>();
  for (const { definition, source } of entries) {
    const existing = canonical.get(definition.type) ?? byName.get(definition.type);
    if (existing && !definition.override) {
      throw new AtomitonError(
        ErrorCode.CUSTOM_NODE,
        `node type "${definition.type}" from ${source} clashes with the one from ${sources.get(existing.type) ?? "builtin"}`,
        { hint: "rename the type, or set `override: true` in its defineNode({...}) to replace the existing one", retryable: false },
      );
    }
    if (existing) {
      canonical.delete(existing.type);
      for (const [name, def] of byName) if (def === existing) byName.delete(name);
    }
    // An alias takes no name already in use: it would replace another type without a word (SPEC §3).
    for (const alias of definition.aliases ?? []) {
      const taken = alias === definition.type ? undefined : byName.get(alias);
      if (taken) {
        throw new AtomitonError(
          ErrorCode.CUSTOM_NODE,
          `node type "${definition.type}" from ${source} has the alias "${alias}", which is already ${taken.type === alias ? "the" : "an alias of the"} type "${taken.type}" from ${sources.get(taken.type) ?? "builtin"}`,
          { hint: `remove or rename the alias; to replace "${taken.type}" itself, give the node type: "${taken.type}" and override: true`, retryable: false },
        );
      }
    }
    canonical.set(definition.type, definition);
    sources.set(definition.type, source);
    byName.set(definition.type, definition);
    for (const alias of definition.aliases ?? []) byName.set(alias, definition);
  }
  return {
    get: (type) => byName.get(type),
    has: (type) => byName.has(type),
    types: () => [...canonical.keys()].sort(),
    names: () => [...byName.keys()],
    all: () => [...canonical.values()].sort((a, b) => a.type.localeCompare(b.type)),
    sourceOf: (type) => {
      const def = byName.get(type);
      return def ? sources.get(def.type) : undefined;
    },
  };
}

/** The built-in catalog, optionally extended with custom nodes. */
export function createBuiltinCatalog(extra: Iterable<CatalogEntry> = []): Catalog {
  return createCatalog([...builtinNodes.map((definition) => ({ definition, source: "builtin" })), ...extra]);
}
