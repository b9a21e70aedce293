import { z } from "zod";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/;

/** A value as an error message shows it: strings quoted (and cut at 40 characters), lists and mappings named. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "a mapping" : String(v);
}

/**
 * The one duration schema (composite timeouts and retry delays, node parameters such as `delay`'s
 * `duration` or `http-request`'s `timeout`, the serve protocol): milliseconds (a number ≥ 0) or a
 * string that `parseDuration` reads. The value stays as written; `durationMsSchema` turns it into ms.
 * Its JSON Schema (`atomiton schema`) is the same union with the string's pattern.
 */
const durationError = { error: (iss: { input?: unknown }) => `expected duration (ms number or "250ms", "30s", "5m", "1h"), got ${describeValue(iss.input)}` };
export const durationSchema = z
  .union([z.number().min(0, durationError), z.string().regex(PATTERN, durationError)], durationError)
  .meta({ id: "duration", description: 'Milliseconds, or a string such as "250ms", "30s", "5m", "1h"' });

/** `durationSchema`, parsed to milliseconds. */
export const durationMsSchema = durationSchema.transform((v) => parseDuration(v)!);

/**
 * Parse a duration: a number of milliseconds, or a string such as `250ms`, `30s`, `5m`, `1h`
 * (a bare numeric string is milliseconds). Returns undefined when the value is not a duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = PATTERN.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? "ms"] ?? 1));
}

/** The longest delay `setTimeout` honours; above it Node fires the timer at once (after 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** A timer from `setLongTimeout`. */
export interface LongTimer {
  clear(): void;
}

/**
 * `setTimeout` for any finite delay: above `MAX_TIMER_MS` (about 24.8 days) it chains timers, so a
 * `delay` of `1e12` or a `--timeout 600h` waits as long as it says instead of firing at once.
 * `unref` timers do not keep the process alive.
 */
export function setLongTimeout(fn: () => void, ms: number, options: { unref?: boolean } = {}): LongTimer {
  let left = Math.max(0, ms);
  let timer: NodeJS.Timeout;
  const arm = () => {
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    timer = setTimeout(() => (left > 0 ? arm() : fn()), step);
    if (options.unref) timer.unref();
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

/** Wait `ms` (any finite length, see `setLongTimeout`); rejects with the signal's reason when it aborts first. */
export function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      timer.clear();
      reject(signal!.reason);
    };
    const timer = setLongTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A timeout from the command line or a composite: 0 means "no timeout" (undefined). */
export function timeoutOrNone(ms: number | undefined): number | undefined {
  return ms === undefined || ms === 0 ? undefined : ms;
}
