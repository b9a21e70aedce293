import { AtomitonError, CancelledError, ErrorCode } from "../../errors.js";
import { raceSignal } from "../../race-signal.js";

export const RETURN_TYPES = ["any", "string", "number", "boolean", "object", "array"] as const;
export type ReturnType = (typeof RETURN_TYPES)[number];

/** Fail with E_CODE unless `value` has the declared type (`object` excludes null and arrays). */
export function checkReturnType(value: unknown, expected: ReturnType): void {
  if (expected === "any") return;
  const actual = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  if (actual !== expected) {
    let shown: string;
    try {
      shown = JSON.stringify(value)?.slice(0, 120) ?? String(value);
    } catch {
      shown = String(value);
    }
    throw new AtomitonError(ErrorCode.CODE, `expected the code to return ${expected} but got ${actual}: ${shown}`, { retryable: false, hint: "change `returnType` or what the code returns" });
  }
}

/** Await a value but give up when the signal aborts. */
export function awaitWithSignal<T>(value: T | PromiseLike<T>, signal: AbortSignal): Promise<T> {
  return raceSignal(Promise.resolve(value), signal, abortReason);
}

/** The error to throw for an aborted signal: its reason when that is one of ours. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof AtomitonError) return reason;
  if (reason instanceof Error) return new CancelledError(reason.message, { cause: reason });
  return new CancelledError(typeof reason === "string" ? reason : "cancelled");
}

/** A copy that can cross to a worker thread: plain data only (`$nodes` prototypes flattened, functions dropped). */
export function cloneable<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch {
    return JSON.parse(JSON.stringify(value ?? null)) as T;
  }
}
