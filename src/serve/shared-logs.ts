import { eventLogKey } from "../conductor/run-recorder.js";
import type { Storage } from "../storage/types.js";

interface SharedLog {
  /** Replays reading this log now. */
  users: number;
  /** The latest load and when it started (a generation number: loads started later have higher ones). */
  lines: Promise<string[]> | undefined;
  generation: number;
}

/**
 * The stored event logs that replays (`events.subscribe` with `fromSeq`) are reading, one loaded copy
 * per run however many replays read it at once: twelve subscriptions to a 71 MB log held twelve
 * copies (1.65 GB), and each replay of a live run re-read the whole log on its own every 50 ms.
 */
export class SharedLogs {
  private readonly logs = new Map<string, SharedLog>();
  private nextGeneration = 1;

  constructor(private readonly storage: Storage) {}

  /** A replay starts reading `runId`'s log; `release` when it is done. */
  acquire(runId: string): void {
    const log = this.logs.get(runId) ?? { users: 0, lines: undefined, generation: 0 };
    log.users++;
    this.logs.set(runId, log);
  }

  release(runId: string): void {
    const log = this.logs.get(runId);
    if (log === undefined) return;
    if (--log.users <= 0) this.logs.delete(runId);
  }

  /** A mark for `read`: loads started after this call have a generation at least this high. */
  mark(): number {
    return this.nextGeneration;
  }

  /**
   * The complete lines of the log, from a load that started at or after `since` (a `mark()`): a
   * finished run's log never changes (0 takes any copy); a live run's replay asks for a load newer
   * than its own last look, and replays asking at once share it.
   */
  read(runId: string, since = 0): Promise<string[]> {
    const log = this.logs.get(runId);
    if (log === undefined) return this.load(runId);
    if (log.lines === undefined || log.generation < since) {
      log.generation = this.nextGeneration++;
      log.lines = this.load(runId);
      // A failed load is not kept: the next read tries again.
      const failed = log.lines;
      failed.catch(() => {
        if (log.lines === failed) log.lines = undefined;
      });
    }
    return log.lines;
  }

  private async load(runId: string): Promise<string[]> {
    return completeLines((await this.storage.loadText(eventLogKey(runId))) ?? "");
  }
}

/** The complete lines of an NDJSON text (a line still being written is left out). */
function completeLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  lines.pop(); // after the final "\n", or a partial line
  return lines;
}
