import { eventBody } from "../conductor/event-json.js";
import { runStartJson } from "../conductor/frozen-json.js";
import type { RunEventMap } from "../events/event-map.js";

/**
 * One event as the JSON text of SPEC §5 (`{"type":…,"runId":…,"ts":…,…payload}`): the same text the
 * stored event log holds, so a live event and its replay from `fromSeq` are the same bytes. The
 * payload's JSON is the one the run recorder renders for the log (`eventBody` keeps it), not a
 * second rendering.
 */
export function renderEventJson(type: string, payload: object): string {
  const body = type === "run:start" ? runStartJson(payload as RunEventMap["run:start"]) : eventBody(payload);
  // Event names are `subject:verb`: nothing in them needs escaping.
  return `{"type":"${type}",${body.slice(1)}`;
}
