import type { RunEvent } from "../events/event-map.js";

/**
 * Wraps an event handler so a reporter bug never breaks a run (a `Reporter` hook must not throw);
 * the first failure is noted once on the given stream.
 */
export function guard<E extends RunEvent>(stream: NodeJS.WritableStream, handler: (event: E) => void): (event: E) => void {
  let reported = false;
  return (event) => {
    try {
      handler(event);
    } catch (error) {
      if (reported) return;
      reported = true;
      try {
        stream.write(`atomiton: reporter error on ${event.type}: ${error instanceof Error ? error.message : String(error)}\n`);
      } catch {
        // the stream itself is broken; nothing left to tell
      }
    }
  };
}
