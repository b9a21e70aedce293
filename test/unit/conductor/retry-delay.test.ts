import { describe, expect, test } from "vitest";
import type { RetryPolicy } from "../../../src/composite/model.js";
import { retryDelay } from "../../../src/conductor/retry.js";

const policy = (over: Partial<RetryPolicy>): RetryPolicy => ({ attempts: 12, delay: 200, backoff: "exponential", jitter: 0, ...over }) as RetryPolicy;

describe("retryDelay", () => {
  test("exponential from delay, capped by maxDelay", () => {
    expect([2, 3, 4, 5].map((n) => retryDelay(policy({ maxDelay: 1000 }), n))).toEqual([200, 400, 800, 1000]);
  });

  test("jitter spreads the delay around the capped value, and maxDelay still holds", () => {
    const high = () => 1; // the largest jitter upwards
    const low = () => 0; // the largest downwards
    expect(retryDelay(policy({ maxDelay: 200, jitter: 1 }), 5, high)).toBe(200);
    expect(retryDelay(policy({ maxDelay: 200, jitter: 0.5 }), 5, low)).toBe(100);
    // Without maxDelay the jitter may go above the base delay.
    expect(retryDelay(policy({ jitter: 0.5, backoff: "fixed" }), 2, high)).toBe(300);
  });
});
