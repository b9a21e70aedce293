import type { NodeStatus } from "../events/event-map.js";
import type { SerializedError } from "../errors.js";

/** Internal node states, one byte per node in `GraphRun.status`. */
export const PENDING = 0;
export const RUNNING = 1;
export const SUCCEEDED = 2;
/** Failed with `onError: fail`. */
export const FAILED = 3;
/** Failed with `onError: continue`: passes `null` on. */
export const CONTINUED = 4;
/** Failed with `onError: route`: only the error port fires. */
export const ROUTED = 5;
export const SKIPPED = 6;
export const CANCELLED = 7;

/** The public status of each internal state. */
export const STATUS_NAME: readonly NodeStatus[] = ["cancelled", "cancelled", "succeeded", "failed", "failed", "failed", "skipped", "cancelled"];

/** Marks an input edge whose value never came (skipped source, unfired port). */
export const INACTIVE = Symbol("inactive");

/** `gatherInputs`' answer when no incoming edge carries a value. */
export const SKIP_ALL = Object.freeze({}) as Record<string, unknown>;

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" && typeof (v as PromiseLike<unknown>).then === "function";
}

/** Events and outcomes carry errors without their stack. */
export function withoutStack(e: SerializedError): SerializedError {
  if (e.stack === undefined) return e;
  const { stack: _stack, ...rest } = e;
  return rest;
}

/** Durations in events and results: milliseconds to three decimals. */
export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
