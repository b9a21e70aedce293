import { runStartJson } from "../conductor/frozen-json.js";
import type { RunEventMap } from "../events/event-map.js";
import { stringifyJsonSafe } from "../events/json-safe.js";

/**
 * One event as the JSON text of SPEC §5 (`{"type":…,"runId":…,"ts":…,…payload}`): the same text the
 * stored event log and `--reporter json` hold. Plain `JSON.stringify` unless the payload carries an
 * output or error details (the only places values JSON mishandles can hide), as the recorder does.
 */
export function renderEventJson(type: string, payload: object): string {
  const p = payload as { output?: unknown; error?: { details?: unknown } };
  const body =
    type === "run:start"
      ? runStartJson(payload as RunEventMap["run:start"])
      : p.output === undefined && p.error?.details === undefined
        ? JSON.stringify(payload)
        : stringifyJsonSafe(payload);
  // Event names are `subject:verb`: nothing in them needs escaping.
  return `{"type":"${type}",${body.slice(1)}`;
}
