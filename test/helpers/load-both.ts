import { expect } from "vitest";
import { loadCompositeFromText, loadCompositeLocated, type LoadOptions, type LoadResult } from "../../src/composite/load-composite.js";
import { createBuiltinCatalog } from "../../src/nodes/catalog.js";

// Issue 17: load a composite the fast way first (what users get) and the located way only, and
// require the two to agree to the last field.

const catalog = createBuiltinCatalog();

/** A load result as data: functions (locators) dropped, the sources map as entries. */
export function comparable(result: LoadResult): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v instanceof Map) return [...v.entries()].map(strip);
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x !== "function") out[k] = strip(x);
    return out;
  };
  return strip(result);
}

/** Load both ways; they must agree to the last field. Returns the (fast-first) result. */
export function loadBoth(text: string, options: LoadOptions = {}): LoadResult {
  const opts = { catalog, ...options };
  const fast = loadCompositeFromText(text, opts);
  const located = loadCompositeLocated(text, opts);
  expect(comparable(fast)).toEqual(comparable(located));
  return fast;
}

