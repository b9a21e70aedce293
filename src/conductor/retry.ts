import type { RetryPolicy } from "../composite/model.js";
import type { SerializedError } from "../errors.js";

/** Whether a failed attempt may be retried under the node's policy (reads codes, never messages). */
export function shouldRetry(policy: RetryPolicy | undefined, attempt: number, error: SerializedError): boolean {
  if (!policy || attempt >= policy.attempts) return false;
  if (!error.retryable) return false;
  if (policy.on && policy.on.length > 0) return policy.on.includes(error.code);
  return true;
}

/**
 * Delay before attempt `next` (2, 3, …): fixed or exponential from `delay`, with jitter, never over
 * `maxDelay` (the jitter spreads the delay around the capped value, then the cap holds again).
 */
export function retryDelay(policy: RetryPolicy, next: number, random: () => number = Math.random): number {
  const base = policy.backoff === "exponential" ? policy.delay * 2 ** (next - 2) : policy.delay;
  const capped = policy.maxDelay === undefined ? base : Math.min(base, policy.maxDelay);
  const jitter = policy.jitter > 0 ? capped * policy.jitter * (random() * 2 - 1) : 0;
  const delay = Math.max(0, Math.round(capped + jitter));
  return policy.maxDelay === undefined ? delay : Math.min(delay, policy.maxDelay);
}
