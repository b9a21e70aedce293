import type { RunStartEvent } from "../events/event-map.js";

/**
 * JSON of the parts of a run that depend only on its composite: `run:start`'s node list and plan
 * (made once per composite and frozen by the conductor) and the record's node map before any node
 * ran. A 100k-node composite serializes them once, not at every run; anything not frozen is
 * serialized afresh, so a caller's own mutable payload is never served stale.
 */
const arrays = new WeakMap<readonly unknown[], string>();
const initialMaps = new WeakMap<readonly unknown[], string>();

function frozenJson(list: readonly unknown[]): string {
  if (!Object.isFrozen(list)) return JSON.stringify(list);
  let json = arrays.get(list);
  if (json === undefined) {
    json = JSON.stringify(list);
    arrays.set(list, json);
  }
  return json;
}

/** `run:start` as JSON (the same text `JSON.stringify(event)` gives), with its big lists cached. */
export function runStartJson(event: RunStartEvent): string {
  const { nodes, plan, ...head } = event;
  const start = JSON.stringify(head);
  return `${start.length > 2 ? `${start.slice(0, -1)},` : "{"}"nodes":${frozenJson(nodes)},"plan":${frozenJson(plan)}}`;
}

/** `{ [id]: { type, attempts: 0 } }` as compact JSON: a record's nodes before any node ran. */
export function initialNodesJson(nodes: readonly { id: string; type: string }[]): string {
  const cached = Object.isFrozen(nodes) ? initialMaps.get(nodes) : undefined;
  if (cached !== undefined) return cached;
  const map: Record<string, { type: string; attempts: number }> = {};
  for (const n of nodes) map[n.id] = { type: n.type, attempts: 0 };
  const json = JSON.stringify(map);
  if (Object.isFrozen(nodes)) initialMaps.set(nodes, json);
  return json;
}
