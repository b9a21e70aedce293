/**
 * A duration for humans: `12ms`, `1.23s`, `2m 03s`, `1h 02m`.
 *
 * @example
 * formatDuration(1234); // "1.23s"
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) {
    const s = Math.floor(ms / 10) / 100; // truncate, so 59_999ms never prints "60.00s"
    return `${s.toFixed(2)}s`;
  }
  const totalSeconds = Math.floor(ms / 1000);
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)}m ${String(totalSeconds % 60).padStart(2, "0")}s`;
  }
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h ${String(totalMinutes % 60).padStart(2, "0")}m`;
}

/** Seconds since run start with millisecond precision, right-aligned: `  0.012s`, `123.456s`. */
export function formatElapsed(ms: number): string {
  const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
  return `${(safe / 1000).toFixed(3).padStart(7)}s`;
}

/** Seconds for JUnit `time` attributes: `0.012`. */
export function formatSeconds(ms: number): string {
  const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
  return (safe / 1000).toFixed(3);
}
