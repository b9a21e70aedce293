import { statSync } from "node:fs";
import { computeLevels } from "../../composite/levels.js";
import { loadComposite, loadCompositeFromText } from "../../composite/load-composite.js";
import type { CompositeBody } from "../../composite/model.js";
import type { RunStartEvent } from "../../events/event-map.js";
import type { Storage } from "../../storage/types.js";

/** Top-level node id → the ids of the nodes it waits for (the sources of its incoming edges). */
export function predecessorsOf(body: CompositeBody): Map<string, string[]> {
  const map = new Map<string, string[]>(body.nodes.map((n) => [n.id, []]));
  for (const e of body.edges) {
    const list = map.get(e.target);
    if (list && !list.includes(e.source)) list.push(e.source);
  }
  return map;
}

/** The plan levels (ids per level) these edges give: what run:start's `plan` holds for the same graph. */
export function planLevelsOf(body: CompositeBody): string[][] {
  const index = new Map(body.nodes.map((n, i) => [n.id, i]));
  const successors: number[][] = body.nodes.map(() => []);
  for (const e of body.edges) {
    const from = index.get(e.source);
    const to = index.get(e.target);
    if (from !== undefined && to !== undefined && !successors[from]!.includes(to)) successors[from]!.push(to);
  }
  return computeLevels(body.nodes.length, successors).map((level) => level.map((i) => body.nodes[i]!.id));
}

/**
 * The edges a stored run ran with, for an exact critical path and queue waits: read from the
 * composite's file (or the stored composite of its id), and used only when they give exactly the
 * plan levels the run recorded, so a file edited since the run is not believed. Undefined
 * otherwise: the caller then infers dependencies from the levels.
 */
export async function loadRunPredecessors(runStart: RunStartEvent | undefined, storage: Storage): Promise<Map<string, string[]> | undefined> {
  if (!runStart) return undefined;
  const candidates: (() => Promise<CompositeBody | undefined>)[] = [];
  const file = runStart.composite.file;
  // A regular file only: a run read from a pipe (`run <(…)`) recorded a path that, opened now, would
  // wait for a writer that never comes.
  if (file !== undefined && statSync(file, { throwIfNoEntry: false })?.isFile() === true) candidates.push(async () => (await loadComposite(file)).composite);
  const key = `composites/${runStart.composite.id}.yaml`;
  candidates.push(async () => {
    const text = await storage.loadText(key).catch(() => undefined);
    return text === undefined ? undefined : loadCompositeFromText(text, { file: key }).composite;
  });
  const recorded = JSON.stringify(runStart.plan ?? []);
  for (const load of candidates) {
    const body = await load().catch(() => undefined);
    if (body && JSON.stringify(planLevelsOf(body)) === recorded) return predecessorsOf(body);
  }
  return undefined;
}
