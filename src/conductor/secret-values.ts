import type { Composite } from "../composite/model.js";

/** The given secret values and those of the composite's `secrets:` (every caller gets them: CLI, serve, queue workers). */
export function secretValuesOf(composite: Composite, given: readonly string[] | undefined, env: Record<string, string | undefined>): string[] {
  const values = [...(given ?? [])];
  for (const name of composite.secrets) {
    const value = env[name];
    if (typeof value === "string" && value.length > 0 && !values.includes(value)) values.push(value);
  }
  return values;
}
