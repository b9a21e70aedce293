import { randomUUID } from "node:crypto";
import { eventLogKey } from "../conductor/run-recorder.js";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { EventBus } from "../events/create-event-bus.js";
import { isUnrecorded, type RunEventMap } from "../events/event-map.js";
import type { Storage } from "../storage/types.js";
import type { Connection } from "./connection.js";
import { toRpcError } from "./dispatch.js";
import { renderEventJson, renderEventParts, type EventJson } from "./event-json.js";
import { renderNotification } from "./json-rpc.js";
import { SharedLogs } from "./shared-logs.js";
import { endOfStoredRun, type RunEnd } from "./run-end.js";

/** One client's interest in one run's events, or (runId undefined) in every run's. */
interface Subscription {
  readonly id: string;
  readonly connection: Connection;
  readonly runId: string | undefined;
  /** Events below this seq are not for this subscription (a `fromSeq` ahead of the run). */
  readonly fromSeq: number;
  /** While the stored log is replayed, live events wait here; undefined once live. */
  pending: { seq: number; type: string; json: EventJson }[] | undefined;
  active: boolean;
}

/** A run this server executes: its next `seq` and who follows it. */
interface RunStream {
  nextSeq: number;
  readonly subs: Set<Subscription>;
  /** This run's redaction (the server's secrets and the composite's); else the server's. */
  readonly redact: ((json: string) => string) | undefined;
}

export interface RunStreamsOptions {
  bus: EventBus<RunEventMap>;
  /** Where the event logs are (`runs/<id>.ndjson`): replay reads them. */
  storage: Storage;
  /** Replaces secret values in live events (the stored log is redacted by the recorder). */
  redact?: ((text: string) => string) | undefined;
  /** How often a replay looks again at a log that has not caught up with the live run yet (reading only what was appended). Default 50 ms. */
  replayPollMs?: number;
  /** How often a replay following a run of another process (or host) looks again at its log; its record is read every 8th look. Default 250 ms. */
  followPollMs?: number;
}

/**
 * Numbers each run's events (`seq` from 0, no gaps, in bus order: the order of the stored log's
 * lines) and fans them out to subscriptions. Each event is serialized once, however many clients
 * follow it, and only when someone does. A subscription with `fromSeq` replays the stored log,
 * holding live events back meanwhile, then goes on live: no gap, no duplicate.
 */
export class RunStreams {
  private readonly runs = new Map<string, RunStream>();
  private readonly everything = new Set<Subscription>();
  private readonly byId = new Map<string, Subscription>();
  private readonly off: () => void;
  private readonly logs: SharedLogs;

  constructor(private readonly options: RunStreamsOptions) {
    this.logs = new SharedLogs(options.storage);
    this.off = options.bus.onAny((type, payload) => this.onEvent(type, payload));
  }

  /** Starts numbering a run's events; call before the run emits anything. */
  open(runId: string, redact?: (json: string) => string): void {
    this.runs.set(runId, { nextSeq: 0, subs: new Set(), redact: redact ?? this.options.redact });
  }

  /** The run finished and its log is complete: later subscriptions replay from storage only. */
  finish(runId: string): void {
    const stream = this.runs.get(runId);
    if (!stream) return;
    this.runs.delete(runId);
    for (const sub of stream.subs) if (sub.pending === undefined) this.remove(sub);
  }

  isLive(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** Subscribes from seq 0 before the run starts (`run.start` with `subscribe`). */
  subscribeFromStart(connection: Connection, runId: string): string {
    const stream = this.runs.get(runId);
    if (!stream || stream.nextSeq !== 0) throw new Error(`run ${runId} is not waiting to start`);
    const sub = this.add(connection, runId, 0);
    sub.pending = undefined;
    stream.subs.add(sub);
    return sub.id;
  }

  /**
   * `events.subscribe`. Returns the subscription id and `start`, to call once the answer is sent:
   * replayed events then follow the answer, never precede it.
   */
  async subscribe(connection: Connection, params: { runId: string; fromSeq?: number | undefined } | { all: true }): Promise<{ subscription: string; start: () => void }> {
    if ("all" in params) {
      const sub = this.add(connection, undefined, 0);
      return { subscription: sub.id, start: () => this.goLive(sub) };
    }
    const { runId } = params;
    const stream = this.runs.get(runId);
    if (!stream && !(await this.storedLogExists(runId))) {
      throw new AtomitonError(ErrorCode.NOT_FOUND, `no run "${runId}" on this server`, { retryable: false, hint: "list runs with runs.list" });
    }
    const live = this.runs.get(runId);
    const fromSeq = params.fromSeq ?? live?.nextSeq ?? 0;
    const sub = this.add(connection, runId, fromSeq);
    live?.subs.add(sub);
    const liveFrom = live ? live.nextSeq : Number.POSITIVE_INFINITY;
    if (fromSeq >= liveFrom) return { subscription: sub.id, start: () => this.goLive(sub) };
    return { subscription: sub.id, start: () => void this.replay(sub, runId, fromSeq, liveFrom, live !== undefined) };
  }

  /** Whether a run has a stored log; a run id that is no valid key (`../x`) names no run, as in runs.get. */
  private async storedLogExists(runId: string): Promise<boolean> {
    try {
      return await this.options.storage.exists(eventLogKey(runId));
    } catch (error) {
      if (error instanceof AtomitonError && error.code === ErrorCode.STORAGE_KEY) return false;
      throw error;
    }
  }

  unsubscribe(connection: Connection, id: string): boolean {
    const sub = this.byId.get(id);
    if (!sub || sub.connection !== connection) return false;
    this.remove(sub);
    return true;
  }

  /** A client left: its subscriptions end (its runs go on). */
  dropConnection(connection: Connection): void {
    for (const sub of [...this.byId.values()]) if (sub.connection === connection) this.remove(sub);
  }

  close(): void {
    this.off();
  }

  private add(connection: Connection, runId: string | undefined, fromSeq: number): Subscription {
    const sub: Subscription = { id: randomUUID(), connection, runId, fromSeq, pending: [], active: true };
    this.byId.set(sub.id, sub);
    if (runId === undefined) this.everything.add(sub);
    return sub;
  }

  private remove(sub: Subscription): void {
    sub.active = false;
    sub.pending = undefined;
    this.byId.delete(sub.id);
    this.everything.delete(sub);
    if (sub.runId !== undefined) this.runs.get(sub.runId)?.subs.delete(sub);
  }

  private onEvent(type: string, payload: { runId: string }): void {
    const stream = this.runs.get(payload.runId);
    // An event the run's log left out has no seq: seqs number the log's lines, which replays read.
    if (stream === undefined || isUnrecorded(payload)) return;
    const seq = stream.nextSeq++;
    if (stream.subs.size === 0 && this.everything.size === 0) return;
    // Nobody able to take it (every follower stalled): count the drop without serializing.
    if (this.allWouldDrop(stream, type)) {
      for (const sub of stream.subs) if (seq >= sub.fromSeq) sub.connection.dropEvent(payload.runId, seq);
      for (const sub of this.everything) sub.connection.dropEvent(payload.runId, seq);
      return;
    }
    // Redaction reads the event's whole text; without it the event stays in parts (EventParts).
    const json: EventJson = stream.redact ? stream.redact(renderEventJson(type, payload)) : renderEventParts(type, payload);
    for (const sub of stream.subs) this.deliver(sub, payload.runId, seq, type, json);
    for (const sub of this.everything) this.deliver(sub, payload.runId, seq, type, json);
  }

  private allWouldDrop(stream: RunStream, type: string): boolean {
    for (const sub of stream.subs) if (sub.pending !== undefined || !sub.connection.wouldDrop(type)) return false;
    for (const sub of this.everything) if (sub.pending !== undefined || !sub.connection.wouldDrop(type)) return false;
    return true;
  }

  private deliver(sub: Subscription, runId: string, seq: number, type: string, json: EventJson): void {
    if (seq < sub.fromSeq) return;
    if (sub.pending !== undefined) sub.pending.push({ seq, type, json });
    else sub.connection.sendEvent(runId, seq, type, json);
  }

  private goLive(sub: Subscription): void {
    const pending = sub.pending;
    sub.pending = undefined;
    if (!sub.active || pending === undefined) return;
    for (const e of pending) sub.connection.sendEvent(sub.runId ?? "", e.seq, e.type, e.json);
  }

  /**
   * Sends the stored lines `fromSeq`… up to the first live seq, re-reading the log while the
   * recorder has not written them yet (it writes at least every 2 s and at the end), then the
   * live events held back meanwhile. A log that cannot be read, or that lacks lines the live run
   * has already emitted, ends the subscription with `events.error` rather than a hole or silence.
   */
  private async replay(sub: Subscription, runId: string, fromSeq: number, liveFrom: number, wasLive: boolean): Promise<void> {
    const pollMs = this.options.replayPollMs ?? 50;
    let cursor = fromSeq;
    let failure: string | undefined;
    // A run another process (or host) writes: followed until its run:finish, or until it is known dead.
    let ending: RunEnd | undefined;
    let looks = 0;
    let finalSeen = false;
    this.logs.acquire(runId);
    try {
      for (;;) {
        if (!sub.active || sub.connection.closed) return;
        // Read whether the run is still going before reading the log: a run that ended before the
        // read has a complete log. So the lines are those of a read started from now on (shared with
        // the replays asking at the same time; each read adds only what was appended since the last).
        const since = this.logs.mark();
        const ended = !wasLive || !this.runs.has(runId);
        const lines = await this.logs.read(runId, since);
        const end = Math.min(lines.length, liveFrom);
        for (; cursor < end; cursor++) {
          // At the pace the client reads: the stored log is all at hand (see Connection.waitForRoom).
          if (!sub.connection.hasRoom()) {
            await sub.connection.waitForRoom();
            if (!sub.active || sub.connection.closed) return;
          }
          const line = lines[cursor]!;
          sub.connection.sendEvent(runId, cursor, typeOf(line), line);
        }
        if (cursor >= liveFrom) break;
        if (ended && wasLive) {
          // The run ended and its log is complete, yet it stops short of the live events: going live now would leave a hole.
          failure = `its stored event log has ${lines.length} events, the run had emitted ${liveFrom} when the subscription started`;
          break;
        }
        if (ended) {
          if (lines.length > 0 && typeOf(lines.at(-1)!) === "run:finish") break;
          if (looks++ % 8 === 0) {
            const state = await endOfStoredRun(this.options.storage, runId);
            if ("final" in state) {
              // The recorder writes the log's last lines before the final record: one more read has them.
              if (finalSeen) ending = { status: state.final, message: `run ${runId} ended ${state.final}, but its event log ends without run:finish (a write of the log failed)` };
              finalSeen = true;
              looks = 0;
            } else if (!("going" in state)) ending = state;
            if (ending) break;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, ended ? (this.options.followPollMs ?? 250) : pollMs));
      }
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    } finally {
      this.logs.release(runId);
    }
    if (failure !== undefined) return this.endWithError(sub, runId, cursor, failure);
    if (ending !== undefined) {
      // No run:finish will come: say so, and how the run ended.
      this.remove(sub);
      return sub.connection.send(renderNotification("events.end", { subscription: sub.id, runId, seq: cursor, ...ending }));
    }
    this.goLive(sub);
    // A finished run sends nothing more: the subscription is done.
    if (!this.runs.has(runId)) this.remove(sub);
  }

  /** The replay could not go on: the client is told from which seq (`events.error`), and the subscription ends. */
  private endWithError(sub: Subscription, runId: string, seq: number, why: string): void {
    this.remove(sub);
    const error = new AtomitonError(ErrorCode.STORAGE, `cannot replay run ${runId} from seq ${seq}: ${why}`, {
      retryable: true,
      hint: `this subscription has ended; subscribe again with events.subscribe { runId, fromSeq: ${seq} } once the storage is readable, or read the run's record with runs.get`,
    });
    const { code, message, data } = toRpcError(error);
    sub.connection.send(renderNotification("events.error", { subscription: sub.id, runId, seq, error: { code, message, data } }));
  }
}

/** The `type` of a stored event line, without parsing the whole line. */
function typeOf(line: string): string {
  const m = /^\{"type":"([^"]+)"/.exec(line);
  return m?.[1] ?? "";
}
