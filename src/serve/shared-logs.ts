import { eventLogKey } from "../conductor/run-recorder.js";
import { ndjsonLines } from "../events/ndjson-lines.js";
import type { Storage } from "../storage/types.js";

interface SharedLog {
  /** Replays reading this log now. */
  users: number;
  /** The complete lines read so far, and how many bytes of the log they span. */
  readonly lines: string[];
  bytes: number;
  /** The latest read (it resolves to `lines`) and when it started (a generation number: reads started later have higher ones). */
  reading: Promise<string[]> | undefined;
  generation: number;
}

/**
 * The stored event logs that replays (`events.subscribe` with `fromSeq`) are reading, one loaded copy
 * per run however many replays read it at once: twelve subscriptions to a 71 MB log held twelve
 * copies (1.65 GB). A live run's log grows while it is replayed: each look reads only what was
 * appended since the last one (`Storage.loadBytesFrom`), where each 50 ms poll used to read the whole
 * log again (quadratic in the length of a long run).
 */
export class SharedLogs {
  private readonly logs = new Map<string, SharedLog>();
  private nextGeneration = 1;

  constructor(private readonly storage: Storage) {}

  /** A replay starts reading `runId`'s log; `release` when it is done. */
  acquire(runId: string): void {
    const log = this.logs.get(runId) ?? { users: 0, lines: [], bytes: 0, reading: undefined, generation: 0 };
    log.users++;
    this.logs.set(runId, log);
  }

  release(runId: string): void {
    const log = this.logs.get(runId);
    if (log === undefined) return;
    if (--log.users <= 0) this.logs.delete(runId);
  }

  /** A mark for `read`: reads started after this call have a generation at least this high. */
  mark(): number {
    return this.nextGeneration;
  }

  /**
   * The complete lines of the log, as of a read that started at or after `since` (a `mark()`): a
   * finished run's log never changes (0 takes any read); a live run's replay asks for a read newer
   * than its own last look, and replays asking at once share it. The array only grows: later reads
   * append to it.
   */
  read(runId: string, since = 0): Promise<string[]> {
    const log = this.logs.get(runId);
    if (log === undefined) return this.readWhole(runId);
    if (log.reading === undefined || log.generation < since) {
      log.generation = this.nextGeneration++;
      // One read at a time per log: each starts where the one before it ended.
      const reading = (log.reading ?? Promise.resolve()).catch(() => undefined).then(() => this.readMore(runId, log));
      log.reading = reading;
      // A failed read is not kept: the next read tries again, from where the last good one ended.
      reading.catch(() => {
        if (log.reading === reading) log.reading = undefined;
      });
    }
    return log.reading;
  }

  /** Adds the complete lines appended since the last read (a line still being written waits for the next). */
  private async readMore(runId: string, log: SharedLog): Promise<string[]> {
    const data = await this.storage.loadBytesFrom(eventLogKey(runId), log.bytes);
    if (data === undefined) return log.lines;
    const read = ndjsonLines(data, true);
    for (const line of read.lines) log.lines.push(line);
    log.bytes += read.bytes;
    return log.lines;
  }

  private async readWhole(runId: string): Promise<string[]> {
    // From bytes, line by line: a log over 512 MiB cannot be read as one text.
    const data = await this.storage.loadBytesFrom(eventLogKey(runId), 0);
    return data === undefined ? [] : ndjsonLines(data, true).lines;
  }
}
