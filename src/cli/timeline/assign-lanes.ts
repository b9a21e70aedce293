import type { Execution } from "./build-profile.js";

/** Event times are whole milliseconds: an event happened less than this long after its stamp. */
const CLOCK_SLACK_MS = 1;

/**
 * Puts each execution on the lowest lane (concurrency slot) free when it starts, sorting them by
 * start in place; returns the number of lanes. Executions on one lane never overlap; a chain of
 * nodes, each starting as the one before finishes, stays on one lane.
 *
 * Event times are whole milliseconds, but `node:finish` carries the measured duration: an
 * execution ends at `start + duration`, kept within the millisecond its finish time names. When an
 * execution starts in the millisecond in which one that finished before it (in the event log's
 * order) ends, it starts when that one ends and takes its lane, so a chain of sub-millisecond
 * nodes stays on one lane, and nodes that really ran at once never share one.
 */
export function assignLanes(executions: (Execution & { durationMs?: number; startSeq: number; finishSeq: number })[]): number {
  const order = new Map(executions.map((x, i) => [x, i]));
  executions.sort((a, b) => a.start - b.start || order.get(a)! - order.get(b)!);
  const laneEnds: number[] = [];
  // Where in the event log each lane's last execution finished: a lane whose execution finished
  // before this one started is free, even when its measured end falls later in that millisecond.
  const laneFinished: number[] = [];
  for (const x of executions) {
    let lane = laneEnds.findIndex((end, i) => end <= x.start || laneFinished[i]! < x.startSeq);
    if (lane < 0) lane = laneEnds.push(0) - 1;
    else x.start = Math.max(x.start, laneEnds[lane]!);
    // The finish happened within the millisecond its time names; the duration (counted from
    // dispatch, a little before node:start) places it inside that millisecond.
    if (x.durationMs !== undefined && x.status !== "running") x.end = Math.min(Math.max(x.end, x.start + x.durationMs), x.end + CLOCK_SLACK_MS);
    x.end = Math.max(x.end, x.start);
    keepInOrder(x);
    x.lane = lane;
    laneEnds[lane] = x.end;
    laneFinished[lane] = x.finishSeq;
  }
  return laneEnds.length;
}

/** Attempts and retry delays in time order between the execution's start and end, after moving either. */
function keepInOrder(x: Execution): void {
  let t = x.start;
  x.attempts.forEach((a, i) => {
    a.start = Math.max(a.start, t);
    if (i === x.attempts.length - 1 && x.waits.length < x.attempts.length) a.end = x.end;
    a.end = Math.min(Math.max(a.end, a.start), x.end);
    t = a.end;
    const wait = x.waits[i];
    if (wait) {
      wait.start = Math.max(wait.start, t);
      wait.end = Math.min(Math.max(wait.end, wait.start), x.end);
      t = wait.end;
    }
  });
}
