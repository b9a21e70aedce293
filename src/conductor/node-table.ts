import type { NodeFinishEvent, NodeStatus } from "../events/event-map.js";
import type { SerializedError } from "../errors.js";
import { stringifyJsonSafe, toJsonSafe } from "../events/json-safe.js";
import { isJsonFaithful } from "./node-hash.js";
import type { NodeProfileRecord, NodeRecord } from "./run-recorder.js";

/** Status codes in `NodeTable.status`; 0 = no status yet. */
const STATUS: readonly (NodeStatus | undefined)[] = [undefined, "succeeded", "failed", "skipped", "cancelled"];
const CODE: Readonly<Record<NodeStatus, number>> = { succeeded: 1, failed: 2, skipped: 3, cancelled: 4 };
const FAILED = CODE.failed;

/** Facts few nodes have. */
interface Extra {
  output?: unknown;
  error?: SerializedError;
  reason?: string;
  reusable?: boolean;
  redacted?: true;
  iterations?: Partial<Record<NodeStatus, number>>;
  profile?: NodeProfileRecord;
}

/**
 * The per-node facts of a run record, kept in columns (typed arrays, one slot per node) while the
 * run goes; `NodeRecord` objects are built only when the record is serialized. A 100k-node run then
 * holds a few flat arrays instead of 100k objects that every event writes fresh values into: those
 * old-to-young pointers made each garbage collection slower the bigger the run.
 */
export class NodeTable {
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly types: string[] = [];
  private readonly hashes: (string | undefined)[] = [];
  private readonly extras = new Map<number, Extra>();
  private status: Uint8Array;
  private attempts: Int32Array;
  /** Epoch ms; NaN = not yet. */
  private started: Float64Array;
  private finished: Float64Array;
  /** ms; NaN = none. */
  private duration: Float64Array;
  private lastId: string | undefined;
  private lastIndex = -1;

  constructor(capacity = 16) {
    this.status = new Uint8Array(capacity);
    this.attempts = new Int32Array(capacity);
    this.started = new Float64Array(capacity).fill(Number.NaN);
    this.finished = new Float64Array(capacity).fill(Number.NaN);
    this.duration = new Float64Array(capacity).fill(Number.NaN);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Lists a node (run:start order is the record's order); a listed id only gets its type updated. */
  add(id: string, type: string): number {
    const known = this.index.get(id);
    if (known !== undefined) {
      this.types[known] = type;
      return known;
    }
    const i = this.ids.length;
    if (i === this.status.length) this.grow();
    this.index.set(id, i);
    this.ids.push(id);
    this.types.push(type);
    this.hashes.push(undefined);
    return i;
  }

  /** node:start */
  start(id: string, attempt: number, ts: number): void {
    const i = this.slot(id);
    if (attempt > this.attempts[i]!) this.attempts[i] = attempt;
    if (Number.isNaN(this.started[i]!)) this.started[i] = ts;
  }

  /** node:finish: loop-body nodes (with `iteration`) tally their iterations and add up durations. */
  finish(event: NodeFinishEvent): void {
    const i = this.slot(event.nodeId);
    let extra = this.extras.get(i);
    if (event.iteration !== undefined) {
      const it = ((extra ??= this.extra(i)).iterations ??= {});
      it[event.status] = (it[event.status] ?? 0) + 1;
      if (this.status[i] !== FAILED) this.status[i] = CODE[event.status];
    } else {
      this.status[i] = CODE[event.status];
    }
    this.finished[i] = event.ts;
    const before = this.duration[i]!;
    this.duration[i] = (!Number.isNaN(before) && event.iteration !== undefined ? before : 0) + event.durationMs;
    if (event.attempt > this.attempts[i]!) this.attempts[i] = event.attempt;
    if (event.output !== undefined) {
      (extra ??= this.extra(i)).output = toJsonSafe(event.output);
      if (event.iteration === undefined && !isJsonFaithful(event.output)) extra.reusable = false;
    }
    if (event.hash !== undefined) this.hashes[i] = event.hash;
    if (event.error) (extra ??= this.extra(i)).error = jsonSafeError(event.error);
    if (event.reason !== undefined) (extra ??= this.extra(i)).reason = event.reason;
    if (event.profile !== undefined) addProfile((extra ??= this.extra(i)), event);
  }

  /** The recorded output is not the node's real output (omitted for size, or a secret redacted): `--resume` re-runs it. */
  notReusable(id: string, redacted = false): void {
    const i = this.slot(id);
    const extra = this.extras.get(i) ?? this.extra(i);
    extra.reusable = false;
    if (redacted) extra.redacted = true;
  }

  /** Replaces every stored output with `replace(output)`: the last resort when the record is too long for one string. */
  replaceOutputs(replace: (output: unknown) => unknown): void {
    for (const x of this.extras.values()) {
      if (x.output === undefined) continue;
      x.output = replace(x.output);
      x.reusable = false;
    }
  }

  /** The node map of a run record, in listing order; `iso` turns epoch ms into the record's text. */
  toRecords(iso: (ms: number) => string, from = 0, to = this.ids.length): Record<string, NodeRecord> {
    const out: Record<string, NodeRecord> = {};
    for (let i = from; i < to; i++) {
      const x = this.extras.get(i);
      const started = this.started[i]!;
      const finished = this.finished[i]!;
      const duration = this.duration[i]!;
      // Every field in place, in one order (undefined ones are left out of the JSON): one shape for all.
      out[this.ids[i]!] = {
        type: this.types[i]!,
        status: STATUS[this.status[i]!],
        attempts: this.attempts[i]!,
        startedAt: Number.isNaN(started) ? undefined : iso(started),
        finishedAt: Number.isNaN(finished) ? undefined : iso(finished),
        durationMs: Number.isNaN(duration) ? undefined : duration,
        output: x?.output,
        error: x?.error,
        reason: x?.reason,
        hash: this.hashes[i],
        reusable: x?.reusable,
        redacted: x?.redacted,
        iterations: x?.iterations,
        profile: x?.profile,
      };
    }
    return out;
  }

  private slot(id: string): number {
    // A node's events usually come together (start, then finish): one map lookup for both.
    if (id === this.lastId) return this.lastIndex;
    // run:start listed every node it knew with its type; any other id is one it did not describe.
    const i = this.index.get(id) ?? this.add(id, "unknown");
    this.lastId = id;
    this.lastIndex = i;
    return i;
  }

  private extra(i: number): Extra {
    const x: Extra = {};
    this.extras.set(i, x);
    return x;
  }

  private grow(): void {
    const size = this.status.length * 2;
    const widen = <T extends Uint8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T, fill?: number): T => {
      const b = make(size);
      if (fill !== undefined) b.fill(fill, a.length);
      b.set(a);
      return b;
    };
    this.status = widen(this.status, (n) => new Uint8Array(n));
    this.attempts = widen(this.attempts, (n) => new Int32Array(n));
    this.started = widen(this.started, (n) => new Float64Array(n), Number.NaN);
    this.finished = widen(this.finished, (n) => new Float64Array(n), Number.NaN);
    this.duration = widen(this.duration, (n) => new Float64Array(n), Number.NaN);
  }
}

/** A profiled `node:finish`: add its facts to the node's (loop-body nodes: one per iteration). */
function addProfile(extra: Extra, event: NodeFinishEvent): void {
  const f = event.profile!;
  const outputBytes = event.output === undefined ? 0 : Buffer.byteLength(stringifyJsonSafe(event.output));
  const p = (extra.profile ??= { queueWaitMs: 0, wallTimeMs: 0, cpuTimeMs: 0, heapGrowthBytes: 0, outputBytes: 0 });
  p.queueWaitMs = round3(p.queueWaitMs + f.queueWaitMs);
  p.wallTimeMs = round3(p.wallTimeMs + event.durationMs);
  p.cpuTimeMs = round3(p.cpuTimeMs + f.cpuTimeMs);
  p.heapGrowthBytes += f.heapGrowthBytes;
  p.outputBytes += outputBytes;
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** An error as a record keeps it: its `details` come from node code (a BigInt, a cycle), so they are made JSON-safe, like outputs. */
export function jsonSafeError(error: SerializedError): SerializedError {
  return error.details === undefined ? error : { ...error, details: toJsonSafe(error.details) as Record<string, unknown> };
}
