import type { RunStartEvent } from "../events/event-map.js";

/**
 * JSON of the parts of a run that depend only on its composite: `run:start`'s node list and plan
 * (made once per composite and frozen by the conductor) and the record's node map before any node
 * ran. A 100k-node composite serializes them once, not at every run; anything not frozen is
 * serialized afresh, so a caller's own mutable payload is never served stale.
 */
const listJson = new WeakMap<readonly unknown[], string>();
const initialNodes = new WeakMap<readonly unknown[], string>();

/** `compute()`, remembered in `cache` under `list` when the list is frozen (so it cannot change). */
function cachedOn(cache: WeakMap<readonly unknown[], string>, list: readonly unknown[], compute: () => string): string {
  if (!Object.isFrozen(list)) return compute();
  let json = cache.get(list);
  if (json === undefined) {
    json = compute();
    cache.set(list, json);
  }
  return json;
}

/**
 * `JSON.stringify` of an object whose keys are `before`'s, then `fields` (already JSON:
 * `"k":v,…`), then `after`'s: how a big part is spliced in without serializing it again.
 */
export function spliceJson(before: object, fields: string, after: object = {}): string {
  const head = JSON.stringify(before);
  const tail = JSON.stringify(after);
  return `${head.length > 2 ? `${head.slice(0, -1)},` : "{"}${fields}${tail.length > 2 ? `,${tail.slice(1)}` : "}"}`;
}

/** `run:start` as JSON (the same text `JSON.stringify(event)` gives), with its big lists cached. */
export function runStartJson(event: RunStartEvent): string {
  const { nodes, plan, ...head } = event;
  const json = (list: readonly unknown[]) => cachedOn(listJson, list, () => JSON.stringify(list));
  return spliceJson(head, `"nodes":${json(nodes)},"plan":${json(plan)}`);
}

/** A record's node map before any node ran (`compute`), cached on run:start's frozen node list. */
export function initialNodesJson(nodes: readonly unknown[], compute: () => string): string {
  return cachedOn(initialNodes, nodes, compute);
}
