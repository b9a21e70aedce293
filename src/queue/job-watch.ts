import { AtomitonError, ErrorCode } from "../errors.js";
import type { RunRecord } from "../conductor/run-recorder.js";
import type { RunEventMap } from "../events/event-map.js";
import type { QueueClient } from "./client.js";

/**
 * Watches a queued run's BullMQ job between reads of its event stream, for a follower that must
 * never wait forever (`run --queue`, `serve --redis`). Called when a read brought nothing:
 * - failed in the queue (its workers kept dying): its record is ended `failed`, and that error thrown;
 * - completed, or gone from the queue, and still no `run:finish` on the stream at the next idle
 *   read: the events were lost, so the run's final record is returned for the follower to end with;
 *   without one either, `E_QUEUE_UNAVAILABLE` (Redis lost the queue: restarted without its
 *   append-only file);
 * - waiting, or active under an expired lock (its worker died or froze; only a live worker's
 *   stalled-job check moves it on): `E_QUEUE_UNAVAILABLE` once no live worker has been seen for the
 *   queue timeout;
 * - active under a lock, a worker runs it: undefined, read on.
 */
export class JobWatch {
  private waitingSince = Date.now();
  private idleEnded = 0;
  /** The job's state at the last check. */
  state = "unknown";
  /** At the last check: active under an expired lock (no worker holds it; `withdraw` can take it off). */
  stalled = false;

  constructor(
    private readonly client: QueueClient,
    private readonly runId: string,
    private readonly hint?: string,
  ) {}

  /** Lines came in: a run:finish may follow them, so an ended job waits for two idle reads again. */
  sawLines(): void {
    this.idleEnded = 0;
  }

  async check(): Promise<RunRecord | undefined> {
    const { state, failedReason, locked } = await this.client.jobState(this.runId);
    this.state = state;
    this.stalled = state === "active" && locked !== true;
    if (state === "failed") {
      const error = new AtomitonError(ErrorCode.QUEUE_UNAVAILABLE, `run ${this.runId} failed in the queue: ${failedReason ?? "no reason given"}`, {
        retryable: false,
        ...(this.hint !== undefined ? { hint: this.hint } : {}),
      });
      await this.client.endFailedInQueue(this.runId, error).catch(() => undefined);
      throw error;
    }
    if (state === "completed" || state === "unknown") {
      // Its run:finish may still be on its way: only the next idle read settles it.
      if (++this.idleEnded < 2) return undefined;
      const record = await this.client.finalRecord(this.runId);
      if (record !== undefined) return record;
      throw this.client.unavailable(
        state === "completed"
          ? `run ${this.runId} finished on its worker, but neither its run:finish nor its final record can be read`
          : `run ${this.runId} is gone from the queue and has no final record (did Redis restart without its append-only file? it then loses the queue and the records)`,
      );
    }
    this.idleEnded = 0;
    if (state === "active" && locked === true) {
      this.waitingSince = Date.now();
      return undefined;
    }
    await this.client.assertWorkersAlive(this.runId, this.waitingSince, state === "active");
    return undefined;
  }
}

/** The run:finish (payload) a final record stands for: a follower whose stream lost it ends with this. */
export function finishOfRecord(record: RunRecord): RunEventMap["run:finish"] {
  return {
    runId: record.runId,
    ts: Date.parse(record.finishedAt ?? "") || Date.now(),
    status: record.status as RunEventMap["run:finish"]["status"],
    durationMs: record.durationMs ?? 0,
    counts: record.counts ?? { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
    ...(record.output !== undefined ? { output: record.output } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
  };
}
