import { eventText, type EventJson, type EventParts } from "./event-json.js";
import { renderRunEvent } from "./json-rpc.js";
import { CloseCode } from "./protocol.js";

/** What a connection writes to: a WebSocket or a stdio pipe. */
export interface Transport {
  /** Sends one message (a frame, or a line). */
  send(text: string): void;
  /**
   * Optional: sends the `run.event` notification of an event given in parts, the same message as
   * `send(renderRunEvent(runId, seq, eventText(event)))`, without joining it into a string first.
   */
  sendRunEvent?(runId: string, seq: number, event: EventParts): void;
  /** Bytes handed to `send` that the peer has not taken yet (the user-space send buffer). */
  bufferedAmount(): number;
  /** Closes with a code (WebSocket close code; stdio ends its output). */
  close(code: number, reason: string): void;
}

export interface ConnectionOptions {
  /** Above this many buffered bytes, node:progress and node:log events are dropped. Default 1 MiB. */
  softLimit?: number;
  /** Above this, every event is dropped (memory stays bounded even if the client never reads). Default 8 MiB. */
  hardLimit?: number;
  /** A connection still full after this long is closed with 4408. Default 10 000 ms. */
  fullTimeoutMs?: number;
  /** How often a full connection checks whether it drained. Default 100 ms. */
  pollMs?: number;
}

interface DropRange {
  fromSeq: number;
  toSeq: number;
  count: number;
}

const DROPPABLE = new Set(["node:progress", "node:log"]);

let nextConnectionId = 1;

/**
 * One client: a transport with a bounded send buffer (SPEC §9 "Backpressure"). A slow client never
 * slows a run: when its buffer passes the soft limit, its node:progress/node:log events are dropped
 * and one `events:dropped` marker per run takes their place (sent before that run's next delivered
 * event, or once the buffer drains); past the hard limit every event is dropped; a client still
 * full after `fullTimeoutMs` is closed with 4408.
 */
export class Connection {
  readonly id = nextConnectionId++;
  private readonly soft: number;
  private readonly hard: number;
  private readonly fullTimeoutMs: number;
  private readonly pollMs: number;
  private readonly drops = new Map<string, DropRange>();
  private fullSince: number | undefined;
  private poll: NodeJS.Timeout | undefined;
  private closeListeners: (() => void)[] = [];
  /** Replies waiting for the buffer to drain below the hard limit (see `send`). */
  private parked: string[] = [];
  private parkedChars = 0;
  closed = false;
  /** Events dropped over the connection's life (for logs and tests). */
  droppedTotal = 0;

  constructor(
    private readonly transport: Transport,
    options: ConnectionOptions = {},
  ) {
    this.soft = options.softLimit ?? 1024 * 1024;
    this.hard = Math.max(options.hardLimit ?? 8 * 1024 * 1024, this.soft);
    this.fullTimeoutMs = options.fullTimeoutMs ?? 10_000;
    this.pollMs = options.pollMs ?? 100;
  }

  /**
   * A reply or other control message. Never dropped, but it counts against the same bound as
   * events: above the hard limit it waits (in order) until the buffer drains below it; replies
   * waiting past the hard limit themselves, or a buffer full for `fullTimeoutMs`, close with 4408.
   */
  send(text: string): void {
    if (this.closed) return;
    const buffered = this.transport.bufferedAmount();
    if (buffered >= this.soft) this.markFull();
    if (this.parked.length === 0 && buffered < this.hard) {
      this.transport.send(text);
      return;
    }
    this.parked.push(text);
    this.parkedChars += text.length;
    if (this.parkedChars > this.hard) this.close(CloseCode.slowClient, "replies not read: read your answers, then resume with events.subscribe fromSeq");
  }

  /** One run event, already serialized; dropped as described above when the client is not keeping up. */
  sendEvent(runId: string, seq: number, type: string, event: EventJson): void {
    if (this.closed) return;
    const buffered = this.transport.bufferedAmount();
    if (buffered >= this.soft) {
      this.markFull();
      if (DROPPABLE.has(type) || buffered >= this.hard) {
        this.recordDrop(runId, seq);
        return;
      }
    }
    if (this.parked.length > 0) {
      // Replies waiting for room go first; while they wait, events are dropped like any past the hard limit.
      this.flushParked();
      if (this.parked.length > 0) {
        this.recordDrop(runId, seq);
        return;
      }
    }
    this.flushDrop(runId);
    if (typeof event !== "string" && this.transport.sendRunEvent) this.transport.sendRunEvent(runId, seq, event);
    else this.transport.send(renderRunEvent(runId, seq, eventText(event)));
  }

  /**
   * True when `sendEvent` would drop an event of this type right now: the caller may skip
   * serializing it and call `dropEvent` instead (a stalled client then costs no garbage).
   */
  wouldDrop(type: string): boolean {
    if (this.closed || this.parked.length > 0) return true;
    const buffered = this.transport.bufferedAmount();
    return buffered >= this.hard || (buffered >= this.soft && DROPPABLE.has(type));
  }

  /** Whether the client keeps up well enough for a replay to send more now (under half the soft limit buffered). */
  hasRoom(): boolean {
    return !this.closed && this.transport.bufferedAmount() < this.soft / 2;
  }

  /**
   * Resolves once `hasRoom()`: true; false when the connection closed, or stayed full for
   * `fullTimeoutMs` (a client that stopped reading: the usual drops and 4408 then apply). A replay
   * has the whole stored log at hand and would otherwise flood even a client reading at full speed
   * past the soft limit, which drops events it did not fall behind on.
   */
  async waitForRoom(): Promise<boolean> {
    const started = Date.now();
    while (!this.hasRoom()) {
      if (this.closed || Date.now() - started >= this.fullTimeoutMs) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.pollMs, 10)));
    }
    return true;
  }

  /** Counts an event as dropped for this client (after `wouldDrop` said so). */
  dropEvent(runId: string, seq: number): void {
    if (this.closed) return;
    this.markFull();
    this.recordDrop(runId, seq);
  }

  /** Closes the connection (idempotent); `onClose` listeners run once. */
  close(code: number = CloseCode.normal, reason = ""): void {
    if (this.closed) return;
    this.transport.close(code, reason);
    this.closedByPeer();
  }

  /** The transport went away on its own. */
  closedByPeer(): void {
    if (this.closed) return;
    this.closed = true;
    this.parked = [];
    this.parkedChars = 0;
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const l of listeners) l();
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  private recordDrop(runId: string, seq: number): void {
    this.droppedTotal++;
    const range = this.drops.get(runId);
    if (range === undefined) this.drops.set(runId, { fromSeq: seq, toSeq: seq, count: 1 });
    else {
      range.toSeq = seq;
      range.count++;
    }
  }

  /** The marker for a run's dropped events, put where they were: before its next delivered event. */
  private flushDrop(runId: string): void {
    if (this.drops.size === 0) return;
    const range = this.drops.get(runId);
    if (range === undefined) return;
    this.drops.delete(runId);
    const marker = `{"type":"events:dropped","count":${range.count},"fromSeq":${range.fromSeq},"toSeq":${range.toSeq}}`;
    this.transport.send(renderRunEvent(runId, range.toSeq, marker));
  }

  private markFull(): void {
    if (this.fullSince !== undefined) return;
    this.fullSince = Date.now();
    this.poll = setInterval(() => this.check(), this.pollMs);
    this.poll.unref();
  }

  /** Sends the waiting replies while the buffer is below the hard limit. */
  private flushParked(): void {
    while (this.parked.length > 0 && this.transport.bufferedAmount() < this.hard) {
      const text = this.parked.shift()!;
      this.parkedChars -= text.length;
      this.transport.send(text);
    }
  }

  /** While full: waiting replies go out as room frees; drained → send the pending markers; full for too long → 4408. */
  private check(): void {
    if (this.closed) return;
    this.flushParked();
    if (this.parked.length === 0 && this.transport.bufferedAmount() < this.soft) {
      this.fullSince = undefined;
      clearInterval(this.poll);
      this.poll = undefined;
      for (const runId of [...this.drops.keys()]) this.flushDrop(runId);
      return;
    }
    if (Date.now() - this.fullSince! >= this.fullTimeoutMs) {
      this.close(CloseCode.slowClient, "send buffer full for too long: read faster, then resume with events.subscribe fromSeq");
    }
  }
}
