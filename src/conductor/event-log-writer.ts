import type { Storage } from "../storage/types.js";

/** Lines kept before they are written: a batch per write, and the memory bound of the log. */
export const EVENT_LOG_BATCH_LINES = 2_000;
/** Characters kept before they are written, for runs whose events carry large outputs. */
export const EVENT_LOG_BATCH_CHARS = 256 * 1024;

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
  private created = false;
  private broken = false;

  /** `continues`: the log of an earlier attempt of this same run is kept and the lines follow it. */
  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    private readonly continues = false,
  ) {}

  /** Queues one line (without `\n`); true when the queue is full and should be written now. */
  push(line: string): boolean {
    this.pending.push(line);
    this.pendingChars += line.length;
    return this.pending.length >= EVENT_LOG_BATCH_LINES || this.pendingChars >= EVENT_LOG_BATCH_CHARS;
  }

  /** Takes the queued lines and returns the write that stores them, or undefined when there is nothing to write. */
  take(): (() => Promise<void>) | undefined {
    if (this.created && this.pending.length === 0) return undefined;
    const lines = this.pending;
    const first = !this.created;
    this.pending = [];
    this.pendingChars = 0;
    this.created = true;
    return async () => {
      if (this.broken) return;
      try {
        if (first && !this.continues) await this.storage.saveText(this.key, lines.length > 0 ? `${lines.join("\n")}\n` : "");
        else if (lines.length > 0) await this.storage.appendLines(this.key, lines);
      } catch (error) {
        this.broken = true;
        throw error;
      }
    };
  }
}
