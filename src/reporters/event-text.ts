import type { SerializedError } from "../errors.js";
import type { NodeRetryEvent } from "../events/event-map.js";
import { formatDuration } from "./format-duration.js";

/**
 * `E_HTTP_STATUS: 404 Not Found`: the first line of the message. A first line that ends in `:`
 * announces the lines after it (a command's stderr), so the last of them is added:
 * `E_COMMAND: command \`make\` exited with code 2: make: *** [all] Error 1`.
 */
export function errorText(error: SerializedError | undefined): string {
  if (error === undefined) return "";
  const firstLine = firstLineOf(error.message);
  const last = firstLine.endsWith(":") ? errorDetailLines(error, 1)[0] : undefined;
  const text = last === undefined ? firstLine : `${firstLine} ${last.trim()}`;
  return error.code ? `${error.code}: ${text}` : text;
}

/** The non-empty lines after the message's first (a command's last stderr lines), at most `max`, the last ones. */
export function errorDetailLines(error: SerializedError | undefined, max = 5): string[] {
  if (error === undefined) return [];
  const lines = error.message.split(/\r?\n/).slice(1).filter((line) => line.trim() !== "");
  return lines.slice(-max);
}

/** A few words for a narrow place (a live row): `exit 3`, `SIGKILL`, `HTTP 503`, else the code. */
export function shortErrorText(error: SerializedError | undefined): string {
  const details = error?.details;
  if (typeof details?.exitCode === "number") return `exit ${details.exitCode}`;
  if (typeof details?.signal === "string") return details.signal;
  if (typeof details?.status === "number") return `HTTP ${details.status}`;
  return error?.code ?? "";
}

export function firstLineOf(text: string): string {
  const i = text.search(/\r?\n/);
  return i === -1 ? text : text.slice(0, i);
}

/**
 * `retry 2/3` — the attempt about to start, over the maximum when the event carries it
 * (`maxAttempts`, read only if the conductor sends it; SPEC §5 does not list it), else `retry 2`.
 */
export function retryText(event: Pick<NodeRetryEvent, "attempt">): string {
  const max = maxAttemptsOf(event);
  return max === undefined ? `retry ${event.attempt}` : `retry ${event.attempt}/${max}`;
}

export function maxAttemptsOf(event: object): number | undefined {
  const max = (event as { maxAttempts?: unknown }).maxAttempts;
  return typeof max === "number" && Number.isFinite(max) ? max : undefined;
}

/** `retry 2/3 in 500ms: E_HTTP: socket hang up` */
export function retryLine(event: NodeRetryEvent): string {
  return `${retryText(event)} in ${formatDuration(event.delayMs)}: ${errorText(event.error)}`;
}

/** Splits a log message into lines, dropping one trailing newline and CRs. */
export function logLines(message: string): string[] {
  const trimmed = message.endsWith("\n") ? message.slice(0, message.endsWith("\r\n") ? -2 : -1) : message;
  return trimmed.split(/\r?\n/);
}
