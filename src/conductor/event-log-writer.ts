import type { Storage } from "../storage/types.js";

/** Lines queued before a write is asked for (more join them while an earlier write is going). */
export const EVENT_LOG_BATCH_LINES = 2_000;
/** Characters kept before they are written, for runs whose events carry large outputs. */
export const EVENT_LOG_BATCH_CHARS = 256 * 1024;
/**
 * Characters of lines queued or being written past which the log is `congested`: the run's
 * `node:log`/`node:progress` events are then left out of it (node-events.ts), so a node that logs
 * faster than the storage writes cannot grow the process's memory without bound.
 */
export const EVENT_LOG_MAX_BACKLOG_CHARS = 8 * 1024 * 1024;

/**
 * The NDJSON event log of one run, kept in memory only until it is written: the first write replaces
 * any log a reused run id left behind (`saveText`), later ones append the new lines (`appendLines`).
 * A later attempt of the same run (queue mode, after its worker died) appends from the first write:
 * the earlier attempt's events stay, so a reader that followed them finds them again, in order.
 * Callers run the writes it hands out one after another, so lines land in order and exactly once.
 * After a failed write it writes nothing more: a log with a gap would read as a different run.
 */
export class EventLogWriter {
  private pending: string[] = [];
  private pendingChars = 0;
  /** Characters of the lines being written (taken by a write that has not ended). */
  private writingChars = 0;
  /** A write was handed out and has not started: it will take the lines queued by then. */
  private waiting = false;
  private created = false;
  private broken = false;
  /** `drained()` callers, told when a write ends with the backlog under half the bound. */
  private waiters: (() => void)[] = [];

  /** `continues`: the log of an earlier attempt of this same run is kept and the lines follow it. */
  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    private readonly continues = false,
  ) {}

  /** Queues one line (without `\n`); true when the queue is full and should be written now. */
  push(line: string): boolean {
    // After a failed write nothing more is written: keeping the lines would only fill memory.
    if (this.broken) return false;
    this.pending.push(line);
    this.pendingChars += line.length;
    return this.pending.length >= EVENT_LOG_BATCH_LINES || this.pendingChars >= EVENT_LOG_BATCH_CHARS;
  }

  /**
   * The lines queued and those being written add up to `EVENT_LOG_MAX_BACKLOG_CHARS` or more: the
   * storage is slower than the run's events. Never after a failed write (nothing is kept then).
   */
  get congested(): boolean {
    return !this.broken && this.pendingChars + this.writingChars >= EVENT_LOG_MAX_BACKLOG_CHARS;
  }

  /**
   * While the lines queued and being written are half `EVENT_LOG_MAX_BACKLOG_CHARS` or more, a
   * promise that resolves once a write brought them under it (or writing failed); else undefined.
   * A node that awaits it between chunks of output (shell-command) is slowed to the storage's pace
   * before its lines would be left out.
   */
  drained(): Promise<void> | undefined {
    if (this.broken || this.pendingChars + this.writingChars < EVENT_LOG_MAX_BACKLOG_CHARS / 2) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The write that stores the queued lines, or undefined when there is nothing to write or a write
   * handed out earlier has not started yet (it takes these lines too). A write takes every line
   * queued when it starts: a run that logs faster than its storage writes gets fewer, bigger writes
   * (one in a chain of 2,000-line batches per turn of the event loop fell ever further behind).
   */
  take(): (() => Promise<void>) | undefined {
    if (this.waiting || (this.created && this.pending.length === 0)) return undefined;
    const first = !this.created;
    this.created = true;
    this.waiting = true;
    return async () => {
      this.waiting = false;
      const lines = this.pending;
      const chars = this.pendingChars;
      this.pending = [];
      this.pendingChars = 0;
      this.writingChars += chars;
      try {
        if (this.broken) return;
        if (first && !this.continues) await this.storage.saveText(this.key, lines.length > 0 ? `${lines.join("\n")}\n` : "");
        else if (lines.length > 0) await this.storage.appendLines(this.key, lines);
      } catch (error) {
        this.broken = true;
        throw error;
      } finally {
        this.writingChars -= chars;
        if (this.waiters.length > 0 && (this.broken || this.pendingChars + this.writingChars < EVENT_LOG_MAX_BACKLOG_CHARS / 2)) for (const wake of this.waiters.splice(0)) wake();
      }
    };
  }
}
