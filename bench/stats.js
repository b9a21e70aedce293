// Small statistics and formatting helpers.

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds since `start` (a process.hrtime.bigint()). */
export function msSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Time an async function: milliseconds. */
export async function timeAsync(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return msSince(start);
}

export function round(value, digits = 3) {
  if (!Number.isFinite(value)) return value;
  const p = 10 ** Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(value) || 1)));
  return Math.round(value * p) / p;
}

/** Counts like 1k, 10k, 100k. */
export function short(n) {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}
