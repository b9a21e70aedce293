import { eventBody } from "../conductor/event-json.js";
import { runStartJson } from "../conductor/frozen-json.js";
import type { RunEventMap } from "../events/event-map.js";

/**
 * A live event's JSON in two parts, the way it is rendered: its type and the payload's JSON
 * (`{"runId":…,"ts":…,…}`). Its text is `{"type":"<type>",` followed by `body` after its `{`
 * (`eventText`). A transport that writes bytes puts the parts side by side (frame-batch.ts) instead
 * of joining them into one more string per event.
 */
export interface EventParts {
  readonly type: string;
  readonly body: string;
}

/** An event's JSON text (a stored log line, a redacted event), or its parts. */
export type EventJson = string | EventParts;

/**
 * One event as its parts. The payload's JSON is the one the run recorder renders for the log
 * (`eventBody` keeps it), not a second rendering; `run:start` serves its frozen lists' cached JSON.
 */
export function renderEventParts(type: string, payload: object): EventParts {
  return { type, body: type === "run:start" ? runStartJson(payload as RunEventMap["run:start"]) : eventBody(payload) };
}

/**
 * One event as the JSON text of SPEC §5 (`{"type":…,"runId":…,"ts":…,…payload}`): the same text the
 * stored event log holds, so a live event and its replay from `fromSeq` are the same bytes.
 */
export function renderEventJson(type: string, payload: object): string {
  return eventText(renderEventParts(type, payload));
}

/** The text of an event given as text or as parts. */
export function eventText(event: EventJson): string {
  // Event names are `subject:verb`: nothing in them needs escaping.
  return typeof event === "string" ? event : `{"type":"${event.type}",${event.body.slice(1)}`;
}
