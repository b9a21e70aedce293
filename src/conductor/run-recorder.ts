import type { Composite } from "../composite/model.js";
import type { EventBus } from "../events/create-event-bus.js";
import { isUnrecorded, type RunEvent, type RunEventMap } from "../events/event-map.js";
import { AtomitonError, ErrorCode } from "../errors.js";
import { defineLazyNodes, startingRecord, type RunRecord } from "./run-record.js";
import { toJsonSafe } from "../events/json-safe.js";
import type { Storage } from "../storage/types.js";
import { EventLogWriter } from "./event-log-writer.js";
import { jsonSafeError, NodeTable } from "./node-table.js";
import { jsonWithinCap, omittedOutput } from "./output-cap.js";
import { eventBody, fastJson } from "./event-json.js";
import { initialNodesJson, spliceJson } from "./frozen-json.js";
import { RecordHeartbeat } from "./record-heartbeat.js";

export { fastJson };
export { heartbeatMsOf } from "./run-liveness.js";

export type { NodeProfileRecord, NodeRecord, RunRecord } from "./run-record.js";

const unredacted = (text: string): string => text;
/** Waits for both writes; rejects with the first one's failure, else the second's. */
const bothSettled = async (first: Promise<void>, second: Promise<void>): Promise<void> => {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === "rejected") throw a.reason;
  if (b.status === "rejected") throw b.reason;
};
const hasSecret = (json: string, redact: (text: string) => string): boolean => redact(json) !== json;
const outOfSpace = (error: unknown): boolean => {
  for (let e = error; e instanceof Error; e = e.cause) if (["ENOSPC", "EDQUOT", "EFBIG"].includes((e as NodeJS.ErrnoException).code ?? "")) return true;
  return false;
};

export const runRecordKey = (runId: string): string => `runs/${runId}.json`;

export const eventLogKey = (runId: string): string => `runs/${runId}.ndjson`;

const CHECKPOINT_MS = 2_000;
/**
 * Checkpoints of a run on a followed store (queue mode): a run whose worker dies resumes from its
 * last checkpoint, so they come often; Redis writes of a small record cost well under a millisecond.
 */
const FOLLOWED_CHECKPOINT_MS = 250;
/** The first node start is checkpointed this soon (records of ≤ QUICK_FIRST_CHECKPOINT_NODES nodes): a run killed in its first seconds shows its started nodes as interrupted. */
const FIRST_START_CHECKPOINT_MS = 200;
const QUICK_FIRST_CHECKPOINT_NODES = 2_000;
/** A checkpoint waits at least this many times as long as the last record took to serialize. */
const CHECKPOINT_COST_FACTOR = 10;

/**
 * Builds the run record and the NDJSON event log from the bus, and saves both through storage:
 * at run start, every couple of seconds while running, and at the end. The record is saved with an
 * atomic replace, so a crash (even SIGKILL) leaves the previous complete version. The event log is
 * replaced at run start, then appended in batches (`EventLogWriter`), so memory stays bounded and a
 * run costs O(events); each batch is one append (one write(2) on the filesystem), so a crash leaves
 * whole lines, and readers skip any line that does not parse all the same.
 */
export class RunRecorder {
  /** The event log; how far behind it is (`congested`, `drained`) is the run's `LogPressure`. */
  readonly log: EventLogWriter;
  private readonly record: RunRecord;
  /** Per-node facts while the run goes; `record.nodes` is built from it when the record is saved. */
  private readonly table = new NodeTable();
  private readonly off: () => void;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;
  /** CHECKPOINT_MS, or longer for records so big that serializing them every 2 s would dominate the run. */
  private checkpointMs = CHECKPOINT_MS;
  private readonly baseCheckpointMs: number;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private failure: unknown;
  /** Write the log every tick (storage.followable), not in batches. */
  private readonly liveLog: boolean;
  private logTick = false;
  private readonly heartbeat: RecordHeartbeat;

  constructor(
    private readonly storage: Storage,
    private readonly bus: EventBus<RunEventMap>,
    init: { runId: string; composite: Composite; input: unknown; vars: Record<string, unknown>; replayOf?: { runId: string; from: string }; continuesLog?: boolean; secretNames?: readonly string[]; heartbeatMs?: number },
    private readonly redact: (text: string) => string = unredacted,
  ) {
    this.record = startingRecord(init);
    // A resume or replay must not take `***` for the real value: it asks for it again instead.
    const redacted = redact === unredacted ? [] : (["input", "vars"] as const).filter((k) => this.record[k] !== undefined && hasSecret(JSON.stringify(this.record[k]), redact));
    if (redacted.length > 0) this.record.redacted = redacted;
    this.log = new EventLogWriter(storage, eventLogKey(init.runId), init.continuesLog === true);
    this.liveLog = storage.followable === true;
    this.baseCheckpointMs = this.liveLog ? FOLLOWED_CHECKPOINT_MS : CHECKPOINT_MS;
    this.checkpointMs = this.baseCheckpointMs;
    this.heartbeat = new RecordHeartbeat(storage, init.runId, this.record.heartbeatMs ?? 10_000, (write) => void (this.saving = this.saving.then(() => write().catch(() => undefined))));
    // One bus may carry several concurrent runs: record only this one's events.
    this.off = bus.onAny((type, payload) => {
      if (payload.runId !== init.runId) return;
      // begin() already took this run's run:start.
      if (type === "run:start" && this.begun) return;
      this.onEvent(type, payload as never);
    });
  }

  private onEvent(type: RunEvent["type"], payload: Omit<RunEvent, "type">): void {
    // Left out of the log while it was behind; a node:log warning that counts them stands in for them.
    if (isUnrecorded(payload)) return;
    // `{"type":…,` + the payload's own JSON: no copy of every event (worth about 30% of the
    // `chain 10k · event log` bench row). Only outputs and error details can hold values plain JSON
    // mishandles (BigInt, bytes, cycles); other events skip the replacer.
    const p = payload as { output?: unknown };
    let body: string;
    if (p.output === undefined) body = eventBody(payload);
    else {
      // An output over the cap is kept out of the record and the log (see output-cap.ts).
      const within = jsonWithinCap(p, eventBody);
      body = within.json;
      if (within.omitted) {
        payload = within.capped as typeof payload;
        if (type === "node:finish") this.omitted.push((payload as RunEventMap["node:finish"]).nodeId);
      }
    }
    // Event types are `subject:verb` names: nothing in them needs escaping.
    const line = `{"type":"${type}",${body.slice(1)}`;
    const redactedLine = this.redact(line);
    if (this.log.push(redactedLine)) this.writeLog();
    else if (this.liveLog && !this.logTick) {
      // A followed store (a Redis stream the submitter reads): this tick's lines go out together, now.
      this.logTick = true;
      setImmediate(() => {
        this.logTick = false;
        this.writeLog();
      });
    }
    const r = this.record;
    if (type !== "run:start") this.pristineNodes = undefined;
    switch (type) {
      case "run:start": {
        const event = payload as RunEventMap["run:start"];
        for (const n of event.nodes) this.table.add(n.id, n.type);
        this.pristineNodes = event.nodes;
        this.schedule(true);
        break;
      }
      case "node:start": {
        const event = payload as RunEventMap["node:start"];
        this.table.start(event.nodeId, event.attempt, event.ts);
        if (!this.startCheckpointed && this.table.size <= QUICK_FIRST_CHECKPOINT_NODES) {
          this.startCheckpointed = true;
          this.schedule(false, FIRST_START_CHECKPOINT_MS);
        }
        break;
      }
      case "node:finish": {
        const event = payload as RunEventMap["node:finish"];
        this.table.finish(event);
        if (this.omitted.at(-1) === event.nodeId) this.warnOmitted(event);
        // Its output held a secret: the record keeps `***`, so `--resume` re-runs it. (The line also
        // changes when only the node's id holds a secret: the output itself is checked then.)
        else if (redactedLine !== line && event.output !== undefined && event.iteration === undefined && hasSecret(JSON.stringify(toJsonSafe(event.output)), this.redact)) this.table.notReusable(event.nodeId, true);
        this.schedule(false);
        break;
      }
      case "run:finish": {
        const event = payload as RunEventMap["run:finish"];
        r.status = event.status;
        r.finishedAt = new Date(event.ts).toISOString();
        r.durationMs = event.durationMs;
        r.counts = event.counts;
        if (event.output !== undefined) r.output = toJsonSafe(event.output);
        if (event.error) r.error = jsonSafeError(event.error);
        break;
      }
      default:
        this.schedule(false);
    }
  }

  private begun = false;

  /**
   * Takes run:start before it is emitted and resolves once the first record is saved (a failed save
   * is kept for `finish`, like any other): the run is on disk before its first node starts.
   */
  begin(start: RunEventMap["run:start"]): Promise<void> {
    this.onEvent("run:start", start);
    this.begun = true;
    // Memory storage: no other process reads it, so nothing to show.
    if (this.record.heartbeatMs !== undefined && this.storage.type !== "memory") this.heartbeat.start();
    return this.saving;
  }

  /** Node ids whose output was too large for the record (each warned about once). */
  private readonly omitted: string[] = [];
  private readonly warned = new Set<string>();

  private warnOmitted(event: RunEventMap["node:finish"]): void {
    if (event.iteration === undefined) this.table.notReusable(event.nodeId);
    if (this.warned.has(event.nodeId)) return;
    this.warned.add(event.nodeId);
    const marker = event.output as { $omitted: string };
    this.bus.emit("node:log", { runId: event.runId, ts: Date.now(), nodeId: event.nodeId, level: "warn", message: `${marker.$omitted}; the record keeps a marker, and --resume re-runs this node` });
  }

  /** An event time as ISO text; nodes of a fast run share milliseconds, so one string per distinct time. */
  private iso(ms: number): string {
    if (ms !== this.isoMs) {
      this.isoMs = ms;
      this.isoText = new Date(ms).toISOString();
    }
    return this.isoText;
  }
  private isoMs = Number.NaN;
  private isoText = "";

  private startCheckpointed = false;
  /** Save now (run start) or within `checkpointMs`. */
  private schedule(now: boolean, within = this.checkpointMs): void {
    this.dirty = true;
    if (now) {
      this.flush();
      return;
    }
    // A sooner checkpoint (the first node start) moves a later one forward: nodes reused by
    // --resume finish before any start, and their 2 s checkpoint made the 200 ms one wait.
    const due = performance.now() + within;
    if (this.timer) {
      if (due >= this.timerDue) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, within);
    this.timer.unref();
  }

  /** Write the log lines queued so far (after every earlier write). */
  private writeLog(): void {
    const write = this.log.take();
    if (write) this.enqueue(write);
  }

  /**
   * A checkpoint: the queued log lines, then the whole record (an atomic replace). The node map is
   * built for the JSON and, until the final save, dropped again: the run keeps columns, not objects.
   */
  private flush(final = false): Promise<void> {
    if (!this.dirty) return this.saving;
    this.dirty = false;
    this.record.refreshedAt = new Date().toISOString();
    this.heartbeat.refreshed();
    // Pretty for people; compact for big runs, where the size and the time matter more.
    const compact = this.table.size > 2_000;
    const started = performance.now();
    let json: string;
    try {
      json = this.recordJson(compact, final);
    } catch (error) {
      // Outputs each under the cap, together longer than one string can be: keep markers for all.
      if (!(error instanceof RangeError)) throw error;
      this.table.replaceOutputs((output) => omittedOutput(output, null));
      if (this.record.output !== undefined) this.record.output = omittedOutput(this.record.output, null);
      json = this.recordJson(compact, final);
    }
    // Each save is O(nodes): spacing them by their cost keeps all checkpoints together O(run time), not O(nodes × run time).
    this.checkpointMs = Math.max(this.baseCheckpointMs, (performance.now() - started) * CHECKPOINT_COST_FACTOR);
    const key = runRecordKey(this.record.runId);
    const text = `${json}\n`;
    let save = () => this.storage.saveText(key, text);
    if (final) {
      this.finalSaved = undefined;
      const plain = save;
      save = () =>
        plain().then(
          () => void (this.finalSaved = true),
          (error: unknown) => {
            this.finalSaved = false;
            throw error;
          },
        );
    }
    const log = this.log.take();
    if (log === undefined) return this.enqueue(save);
    // Storage that applies writes in the order they are issued (Redis): the log's lines and the record
    // go out together, one round trip instead of two, the lines first (a reader that finds the record
    // final finds the log's run:finish too). Measured: queue rows of `npm run bench`, docs/performance.md.
    if (this.storage.ordered) return this.enqueue(() => bothSettled(log(), save()));
    this.enqueue(log);
    return this.enqueue(save);
  }

  private recordJson(compact: boolean, final: boolean): string {
    if (compact) {
      const json = this.redact(this.compactJson());
      if (final) this.lazyNodes();
      return json;
    }
    this.record.nodes = this.table.toRecords((ms) => this.iso(ms));
    try {
      return this.redact(JSON.stringify(this.record, null, 2));
    } finally {
      if (!final) this.record.nodes = {};
    }
  }

  /**
   * The record as compact JSON (the text `JSON.stringify(record)` gives) with its node map spliced
   * in. Until a node event arrives the map depends only on the composite (`run:start`'s frozen node
   * list), so the first save of every run of a big composite reuses one text: without it the
   * `grid 10k · event log` A/B against b0f036b was +12% (bench/ab-loop.js, docs/performance.md).
   */
  private compactJson(): string {
    const record = this.record as unknown as Record<string, unknown>;
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    let seen = false;
    for (const key of Object.keys(record)) {
      if (key === "nodes") seen = true;
      else (seen ? after : before)[key] = record[key];
    }
    const tableJson = () => JSON.stringify(this.table.toRecords((ms) => this.iso(ms)));
    const nodes = this.pristineNodes === undefined ? tableJson() : initialNodesJson(this.pristineNodes, tableJson);
    return spliceJson(before, `"nodes":${nodes}`, after);
  }
  /** run:start's node list while no other event has come (see `compactJson`). */
  private pristineNodes: readonly unknown[] | undefined;

  /** The final record's `nodes`: built from the table when first read (most callers never read it). */
  private lazyNodes(): void {
    defineLazyNodes(this.record, () => this.table.toRecords((ms) => this.iso(ms)));
  }

  /** Runs `write` after every earlier one; the first failure is kept for `finish`. */
  private enqueue(write: () => Promise<void>): Promise<void> {
    this.saving = this.saving.then(write).catch((error: unknown) => {
      this.failure ??= error;
    });
    return this.saving;
  }

  /**
   * Stop listening and write the final record and log, `last` (the run's run:finish, which the
   * conductor emits only once this settled) included. Rejects if any save failed.
   */
  async finish(last?: RunEventMap["run:finish"]): Promise<RunRecord> {
    this.off();
    if (last) this.onEvent("run:finish", last);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = true;
    try {
      void this.flush(true);
    } finally {
      // After the final save: the heartbeat's key goes (the chain then holds both). Stopped even when
      // the record cannot be built: a beating timer would show a dead run alive for ever.
      this.heartbeat.stop();
    }
    await this.saving;
    if (this.failure !== undefined && this.finalSaved === false && outOfSpace(this.failure)) await this.saveWithoutOutputs();
    else if (this.failure !== undefined && this.finalSaved === true && !(this.failure instanceof AtomitonError && this.failure.details?.recordSaved === true)) {
      // An earlier write failed (the log, a checkpoint), the final record did not: it is complete.
      this.failure = new AtomitonError(ErrorCode.STORAGE, `a write of its event log or of a checkpoint failed (${(this.failure as Error).message}); its final record is complete`, {
        retryable: false,
        cause: this.failure,
        hint: this.storage.type === "redis" ? "check that Redis is reachable and has memory left (its maxmemory)" : "free space on the disk, or check that the data directory is writable",
        details: { recordSaved: true },
      });
    }
    if (this.failure) throw this.failure;
    return this.record;
  }

  /** Whether the final record write succeeded (undefined until it ran). */
  private finalSaved: boolean | undefined;

  /**
   * A full disk (or a file size limit) took the final save: the run's status matters more than its
   * outputs, so the record is saved again with markers in their place instead of being left `running`.
   */
  private async saveWithoutOutputs(): Promise<void> {
    const first = this.failure;
    this.failure = undefined;
    const marker = { $omitted: "output not saved: no space was left for it when the run ended" };
    this.table.replaceOutputs(() => marker);
    if (this.record.output !== undefined) this.record.output = marker;
    this.dirty = true;
    await this.flush(true);
    this.failure = this.failure
      ? first
      : new AtomitonError(ErrorCode.STORAGE, `its node outputs and event log were not saved (${(first as Error).message}); its record keeps the status without them`, {
          retryable: false,
          cause: first,
          hint: "free space on the disk (or raise the file size limit) before the next run",
          details: { recordSaved: true },
        });
  }
}
