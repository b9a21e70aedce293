import type { Composite } from "../composite/model.js";
import { createJsonRedactor } from "../events/redact.js";

/** The given secret values and those of the composite's `secrets:` (every caller gets them: CLI, serve, queue workers). */
export function secretValuesOf(composite: Pick<Composite, "secrets">, given: readonly string[] | undefined, env: Record<string, string | undefined>): string[] {
  const values = [...(given ?? [])];
  for (const name of composite.secrets) {
    const value = env[name];
    if (typeof value === "string" && value.length > 0 && !values.includes(value)) values.push(value);
  }
  return values;
}

/**
 * A record's node map with each node under its own id again. The record is redacted as text, so a
 * node whose id holds a secret's value (`fetch-abc`, secret `abc`) is kept under `fetch-***`; a
 * resume or a replay, which has the composite and the secrets, finds it there. An id that two
 * nodes' ids redact to is left as it is: which node it was cannot be told.
 */
export function nodesUnderTheirIds<T>(nodes: Record<string, T>, ids: readonly string[], secretValues: readonly string[]): Record<string, T> {
  const redact = createJsonRedactor(secretValues);
  if (redact === undefined) return nodes;
  const shownAs = new Map<string, string | undefined>();
  for (const id of ids) {
    if (Object.hasOwn(nodes, id)) continue;
    const shown = JSON.parse(redact(JSON.stringify(id))) as string;
    if (shown === id || !Object.hasOwn(nodes, shown)) continue;
    shownAs.set(shown, shownAs.has(shown) ? undefined : id);
  }
  if (shownAs.size === 0) return nodes;
  const out = { ...nodes };
  for (const [shown, id] of shownAs) {
    if (id === undefined) continue;
    out[id] = out[shown]!;
    delete out[shown];
  }
  return out;
}
