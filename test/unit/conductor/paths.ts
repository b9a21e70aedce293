// Runs one composite on the fast path (the default) and on the full path (FULL_PATH_ONLY, every
// node through every rule), each with an observed bus and without any listener, and gives back
// what a caller can see: results and event sequences with the clock's readings taken out.
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { Composite } from "../../../src/composite/model.js";
import { createConductor, FULL_PATH_ONLY, type ExecuteOptions, type RunResult } from "../../../src/conductor/create-conductor.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap } from "../../../src/events/event-map.js";
import { createBuiltinCatalog, type Catalog } from "../../../src/nodes/catalog.js";
import type { AnyNodeDefinition } from "../../../src/nodes/define-node.js";

export function loadWith(nodes: readonly AnyNodeDefinition[], yaml: string, variables: string[] = []): { catalog: Catalog; composite: Composite } {
  const catalog = createBuiltinCatalog(nodes.map((definition) => ({ definition, source: "test" })));
  const loaded = loadCompositeFromText(yaml, { catalog, file: "paths.yaml", variables });
  if (!loaded.ok || !loaded.composite) throw new Error(`invalid test composite: ${JSON.stringify(loaded.problems)}\n${yaml}`);
  return { catalog, composite: loaded.composite };
}

/** An event as a caller sees it, without `ts`, `durationMs` and `runId` (clock and id readings). */
export type SeenEvent = Record<string, unknown> & { type: string };

export interface PathRun {
  result: RunResult;
  events: SeenEvent[];
}

/** A result without its clock readings and run id, as JSON would carry it. */
export function comparable(result: RunResult): unknown {
  const { durationMs: _d, runId: _r, nodes, ...rest } = result;
  const perNode = Object.fromEntries(Object.entries(nodes).map(([id, { durationMs: _n, ...node }]) => [id, node]));
  return JSON.parse(JSON.stringify({ ...rest, nodes: perNode })) as unknown;
}

/** Run with a listener on every event; `fullPath` forces every node through the full path. */
export async function runObserved(catalog: Catalog, composite: Composite, fullPath: boolean, options: Omit<ExecuteOptions, "composite"> = {}): Promise<PathRun> {
  const bus = createEventBus<RunEventMap>();
  const events: SeenEvent[] = [];
  bus.onAny((type, payload) => {
    const { ts: _t, durationMs: _d, runId: _r, ...rest } = payload as unknown as Record<string, unknown>;
    events.push(JSON.parse(JSON.stringify({ type, ...rest })) as SeenEvent);
  });
  const result = await createConductor({ nodes: catalog, events: bus }).execute({ composite, ...options, ...(fullPath ? { [FULL_PATH_ONLY]: true } : {}) });
  return { result, events };
}

/** Run with no listener at all (no event payload is built). */
export function runSilent(catalog: Catalog, composite: Composite, fullPath: boolean, options: Omit<ExecuteOptions, "composite"> = {}): Promise<RunResult> {
  return createConductor({ nodes: catalog }).execute({ composite, ...options, ...(fullPath ? { [FULL_PATH_ONLY]: true } : {}) });
}

/** The same composite on both paths, observed and silent. */
export async function runPaths(catalog: Catalog, composite: Composite, options: Omit<ExecuteOptions, "composite"> = {}) {
  const fast = await runObserved(catalog, composite, false, options);
  const full = await runObserved(catalog, composite, true, options);
  const fastSilent = await runSilent(catalog, composite, false, options);
  const fullSilent = await runSilent(catalog, composite, true, options);
  return { fast, full, fastSilent, fullSilent };
}
