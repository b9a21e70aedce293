import { AtomitonError, CancelledError, TimeoutError } from "../../errors.js";
import { raceSignal } from "../../race-signal.js";
import { setLongTimeout } from "../../js/duration.js";

/**
 * The error an aborted I/O node rejects with. The conductor aborts with an AtomitonError
 * (TimeoutError, CancelledError…) as the reason, which is rethrown unchanged; anything else
 * becomes a CancelledError (or a TimeoutError for `AbortSignal.timeout`) naming `what` stopped.
 */
export function abortError(signal: AbortSignal, what: string): AtomitonError {
  const reason: unknown = signal.reason;
  if (reason instanceof AtomitonError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new TimeoutError(`${what} timed out`, { retryable: true, cause: reason });
  }
  const text = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "";
  return new CancelledError(text ? `${what} was cancelled: ${text}` : `${what} was cancelled`, { cause: reason });
}

/** Throw the abort error when the signal is already aborted. */
export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw abortError(signal, what);
}

/**
 * Settle with `promise`, or reject with the abort error as soon as the signal aborts (work that
 * cannot itself be interrupted, such as a libvips pipeline, keeps running but is ignored).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return raceSignal(promise, signal, (s) => abortError(s, what));
}

/** Wait `ms`, rejecting with the abort error when the signal aborts first. */
export function sleep(ms: number, signal: AbortSignal, what: string): Promise<void> {
  return raceAbort(
    new Promise<void>((resolve) => {
      const timer = setLongTimeout(resolve, ms);
      signal.addEventListener("abort", () => timer.clear(), { once: true });
    }),
    signal,
    what,
  );
}
