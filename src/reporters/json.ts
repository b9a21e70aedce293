import { guard } from "./guard.js";
import { stringifyJsonSafe } from "../events/json-safe.js";
import type { Reporter, ReporterOptions } from "./types.js";

/**
 * NDJSON on stdout: one event per line, `{"type":"node:finish","runId":…,"ts":…,…}`, every event
 * in order (progress and logs included). Values JSON cannot hold go through `toJsonSafe`:
 * BigInt → string, binary → `"<Buffer N bytes>"`, cycles → `"[Circular]"`.
 *
 * @example
 * createJsonReporter({ stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export function createJsonReporter(options: ReporterOptions): Reporter {
  const out = options.stdout;
  return {
    onEvent: guard(options.stderr, (event) => {
      out.write(`${stringifyJsonSafe(event)}\n`);
    }),
    close: async () => {},
  };
}
