import { performance } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import type { NodeProfileFacts } from "../events/event-map.js";
import { round } from "./node-state.js";
import type { GraphRun } from "./run-graph.js";

/**
 * Per-node profile of a profiled run (`execute({ profile: true })`, `run --profile`): three slots per
 * node in `GraphRun.profile`. Slot 0 holds the time the node became ready, then (from its start)
 * its queue wait; slots 1 and 2 add up the CPU time (µs) and the heap growth (bytes) of its attempts'
 * synchronous parts.
 *
 * CPU time is `process.cpuUsage()` (the whole process, every thread) read before and after the
 * synchronous part of each attempt: `execute` up to its first `await`, with the parameters resolved
 * and the context built. What a node does after an `await` interleaves with other nodes and is not
 * counted (its wall time covers it). Heap growth is V8's used heap size over the same span: what
 * that code allocated and kept, less any garbage a collection freed meanwhile, so it can be negative.
 * Two syscalls and two heap reads per attempt (~5 µs) are why it is opt-in.
 */
export const PROFILE_SLOTS = 3;

// Out of line, so the scheduler's hot loops stay small (see `GraphRun.pump`).
/** Node `i` became ready (at `now`, or -1: read the clock). */
export function markReady(p: Float64Array, i: number, now: number): void {
  p[i * PROFILE_SLOTS] = now >= 0 ? now : performance.now();
}

/** Node `i` starts at `now`: its ready time becomes its queue wait. */
export function markStarted(p: Float64Array, i: number, now: number): void {
  p[i * PROFILE_SLOTS] = now - p[i * PROFILE_SLOTS]!;
}

const heapUsed = (): number => getHeapStatistics().used_heap_size;

/** `run()` is one attempt's synchronous part: add its CPU time and heap growth to node `i`. */
export function profileAttempt<T>(p: Float64Array, i: number, run: () => T): T {
  const cpu = process.cpuUsage();
  const heap = heapUsed();
  try {
    return run();
  } finally {
    const used = process.cpuUsage(cpu);
    p[i * PROFILE_SLOTS + 1]! += used.user + used.system;
    p[i * PROFILE_SLOTS + 2]! += heapUsed() - heap;
  }
}

/** The `profile` of node `i`'s `node:finish`, once it ran at least one attempt. */
export function profileFacts(g: GraphRun, i: number): NodeProfileFacts | undefined {
  const p = g.profile;
  if (p === undefined || g.attempts[i] === 0) return undefined;
  const k = i * PROFILE_SLOTS;
  return { queueWaitMs: round(Math.max(0, p[k]!)), cpuTimeMs: round(p[k + 1]! / 1000), heapGrowthBytes: p[k + 2]! };
}
