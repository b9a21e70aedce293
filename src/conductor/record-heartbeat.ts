import type { Storage } from "../storage/types.js";
import { heartbeatKey } from "./run-liveness.js";

/**
 * A running recorder's sign of life for readers on other hosts (run-liveness.ts): every `ms`, one
 * small write of the time to `runs/<runId>.heartbeat`, unless a record save (which carries
 * `refreshedAt`) went out meanwhile. Nothing is written per event, and a run shorter than `ms`
 * writes no heartbeat at all.
 */
export class RecordHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private lastSign = performance.now();
  private waiting = false;
  private written = false;

  /** `queue` runs a write in order with the recorder's other writes; its failure is not the run's. */
  constructor(
    private readonly storage: Storage,
    private readonly runId: string,
    private readonly ms: number,
    private readonly queue: (write: () => Promise<void>) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.beat(), this.ms);
    this.timer.unref();
  }

  /** A record save went out: it is a sign of life of its own. */
  refreshed(): void {
    this.lastSign = performance.now();
  }

  /** The run ended: no more beats, and the heartbeat's key (if one was written) is deleted after the final save. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.written) this.queue(() => this.storage.delete(heartbeatKey(this.runId)).then(() => undefined));
  }

  private beat(): void {
    // A save within the last interval, or a beat still waiting behind a slow write, says enough.
    if (this.waiting || performance.now() - this.lastSign < this.ms) return;
    this.waiting = true;
    this.written = true;
    this.lastSign = performance.now();
    this.queue(() => this.storage.saveText(heartbeatKey(this.runId), new Date().toISOString()).finally(() => (this.waiting = false)));
  }
}
