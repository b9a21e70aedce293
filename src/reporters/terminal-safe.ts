import type { RunEvent } from "../events/event-map.js";
import { escapeControlDeep } from "../terminal-text.js";
import { report, type Reporter } from "./types.js";

// A run's and a node's output are data (printed, if at all, as JSON): they are never escaped here.
const DATA_KEYS: ReadonlySet<string> = new Set(["output"]);

/**
 * The one gate between a run's events and a reporter that writes for people (tty, plain, github):
 * every string in an event (composite and node names, log lines, error messages, reasons) has its
 * control characters shown as escapes (`\x1b[2J`), so a composite or a node cannot clear the
 * screen, move the cursor or set the window title. Our own colours are added after, by the
 * reporter. An event without control characters is passed on as it is, uncopied.
 */
export function withTerminalSafeText(reporter: Reporter): Reporter {
  const safe: Reporter = { onEvent: (event: RunEvent) => report(reporter, escapeControlDeep(event, DATA_KEYS)) };
  if (reporter.close) safe.close = () => reporter.close!();
  if (reporter.pause) safe.pause = () => reporter.pause!();
  if (reporter.resume) safe.resume = () => reporter.resume!();
  return safe;
}
