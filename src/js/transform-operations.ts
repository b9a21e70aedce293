export const OPERATIONS = ["map", "filter", "reduce", "sort", "group", "flatten", "unique", "reverse", "limit", "skip", "slice"] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface TransformParams {
  operation: Operation;
  sortKey?: string | undefined;
  sortDirection: "asc" | "desc";
  groupKey?: string | undefined;
  reduceInitial?: unknown;
  flattenDepth: number;
  uniqueKey?: string | undefined;
  limitCount: number;
  skipCount: number;
  sliceStart: number;
  sliceEnd?: number | undefined;
}

type Fn = (...args: unknown[]) => unknown;

/** Run one transform operation over `items`. */
export type ApplyOperation = (items: unknown[], params: TransformParams, fn: Fn | undefined) => unknown;

/**
 * Make `applyOperation` for the realm this function runs in. Self-contained (no imports, no outer
 * names): the sandbox evaluates its source inside the vm context, so the operation, its
 * accumulators and group objects are all made by the sandbox's own constructors and a user
 * function never receives a host object.
 */
export function createApplyOperation(): ApplyOperation {
  function parseInitial(v: unknown, numeric: boolean): unknown {
    if (v === undefined) return numeric ? 0 : undefined;
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }

  function pick(item: unknown, path: string | undefined): unknown {
    if (!path) return item;
    let cur: unknown = item;
    for (const seg of path.split(".")) {
      if (cur === null || cur === undefined) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    }
    return cur;
  }

  function compare(a: unknown, b: unknown): number {
    if (a === b) return 0;
    if (a === undefined || a === null) return 1;
    if (b === undefined || b === null) return -1;
    const na = typeof a === "number" ? a : Number(a);
    const nb = typeof b === "number" ? b : Number(b);
    if (!Number.isNaN(na) && !Number.isNaN(nb) && String(a).trim() !== "" && String(b).trim() !== "") return na - nb;
    return String(a).localeCompare(String(b));
  }

  return function applyOperation(items, p, fn) {
    switch (p.operation) {
      case "map":
        return fn ? items.map((item, i) => fn(item, i)) : items.slice();
      case "filter":
        return items.filter(fn ? (item, i) => Boolean(fn(item, i)) : (item) => item !== null && item !== undefined);
      case "reduce": {
        const reducer = fn ?? ((acc: unknown, item: unknown) => Number(acc ?? 0) + (typeof item === "number" ? item : parseFloat(String(item)) || 0));
        // The Atomiton transform called reducers with one `{ acc, item, index }` object; a one-parameter function keeps that form.
        const objectForm = fn !== undefined && fn.length === 1;
        let acc = parseInitial(p.reduceInitial, fn === undefined);
        items.forEach((item, index) => {
          acc = objectForm ? reducer({ acc, item, index }) : reducer(acc, item, index);
        });
        return acc;
      }
      case "sort": {
        const dir = p.sortDirection === "desc" ? -1 : 1;
        if (fn && !p.sortKey) return items.slice().sort((a, b) => dir * Number(fn(a, b)));
        return items.slice().sort((a, b) => dir * compare(pick(a, p.sortKey), pick(b, p.sortKey)));
      }
      case "group": {
        // transform.ts checks that there is a key or a function before it gets here.
        const key = p.groupKey ?? p.sortKey;
        const groups: Record<string, unknown[]> = {};
        items.forEach((item, i) => {
          const k = String(key ? pick(item, key) : fn!(item, i));
          if (!Object.hasOwn(groups, k)) Object.defineProperty(groups, k, { value: [], writable: true, enumerable: true, configurable: true });
          groups[k]!.push(item);
        });
        return groups;
      }
      case "flatten":
        return items.flat(p.flattenDepth);
      case "unique": {
        const seen = new Set<string>();
        return items.filter((item) => {
          const k = JSON.stringify(p.uniqueKey ? pick(item, p.uniqueKey) : item) ?? "undefined";
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        });
      }
      case "reverse":
        return items.slice().reverse();
      case "limit":
        return items.slice(0, p.limitCount);
      case "skip":
        return items.slice(p.skipCount);
      case "slice":
        return items.slice(p.sliceStart, p.sliceEnd);
    }
  };
}
