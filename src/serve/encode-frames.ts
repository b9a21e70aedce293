import { eventText, type EventParts } from "./event-json.js";
import { RUN_EVENT_END, RUN_EVENT_MIDDLE, renderRunEvent, runEventPrefix } from "./json-rpc.js";

/** A message for `encodeFrames`: a text, or a `run.event` notification in parts (`runEventMessage`). */
export type Message = string | RunEventMessage;

export interface RunEventMessage {
  readonly runId: string;
  readonly seq: number;
  readonly event: EventParts;
  /** The UTF-16 length of the message's text (`renderRunEvent`'s). */
  readonly units: number;
}

// `{"type":"` and `",`, around the type at the event's start (see `eventText`).
const TYPE_OPEN = 9;
const TYPE_CLOSE = 2;

/** A `run.event` notification kept in parts: `encodeFrames` writes the same bytes as its text's, without joining it. */
export function runEventMessage(runId: string, seq: number, event: EventParts): RunEventMessage {
  const units = runEventPrefix(runId).length + digitCount(seq) + RUN_EVENT_MIDDLE.length + TYPE_OPEN + event.type.length + TYPE_CLOSE + event.body.length - 1 + RUN_EVENT_END.length;
  return { runId, seq, event, units };
}

export function messageUnits(message: Message): number {
  return typeof message === "string" ? message.length : message.units;
}

function messageText(message: Message): string {
  return typeof message === "string" ? message : renderRunEvent(message.runId, message.seq, eventText(message.event));
}

/** Where batches are encoded and written from; grows up to SCRATCH_MAX bytes. */
let scratch = Buffer.allocUnsafe(0);
const SCRATCH_MAX = 1024 * 1024;

/**
 * The socket kept `frames` (from `encodeFrames`) to write later: the scratch they are in is left to
 * them, and the next batch is encoded in a new one. A write the kernel took whole is done with its
 * bytes, so the scratch serves the next batch as it is: copying each batch out of it cost a run about
 * as much as encoding it (docs/performance.md, "7 December 2026, fourth session: serve").
 */
export function leaveScratchTo(frames: Buffer): void {
  if (frames.buffer === scratch.buffer) scratch = Buffer.allocUnsafe(0);
}

/**
 * The frames of `messages` (the unmasked text frames a server sends, RFC 6455 §5.2) as one Buffer,
 * a view of the scratch unless the batch is bigger than it. A text's UTF-8 length is known only once
 * it is encoded, and it decides the header's size; `Buffer.byteLength` first would read each text
 * twice (a third of this function's time in a profile). So each text is encoded after a header
 * whose size its UTF-16 length already settles (UTF-8 takes 1 to 3 bytes per UTF-16 unit): 4 bytes
 * for 126 to 21,845 units, the usual event. Only a text near a boundary, or a batch too big for the
 * scratch, is measured first.
 */
export function encodeFrames(messages: readonly Message[]): Buffer {
  let bound = 0;
  for (const m of messages) bound += messageUnits(m) * 3 + 10;
  if (bound > SCRATCH_MAX) return exactFrames(messages.map(messageText));
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX, Math.max(bound, 256 * 1024)));
  const out = scratch;
  let at = 0;
  for (const m of messages) {
    const units = messageUnits(m);
    if (units >= 126 && units * 3 < 65536) {
      const n = typeof m === "string" ? out.write(m, at + 4, "utf8") : writeRunEvent(out, at + 4, m);
      writeHeader(out, at, n);
      at += 4 + n;
      continue;
    }
    const t = messageText(m);
    const headerBytes = units * 3 < 126 ? 2 : headerSize(Buffer.byteLength(t));
    const n = out.write(t, at + headerBytes, "utf8");
    writeHeader(out, at, n);
    at += headerBytes + n;
  }
  return out.subarray(0, at);
}

/**
 * A run event's message written from its parts at `at`; returns its length in bytes. Joining the
 * parts into one string first cost a copy (V8 flattens the joined string before encoding it) and
 * the garbage of every event (docs/performance.md, "7 December 2026, fourth session: serve").
 */
function writeRunEvent(out: Buffer, at: number, m: RunEventMessage): number {
  const start = at;
  const prefix = prefixBytes(m.runId);
  out.set(prefix, at);
  at += prefix.length;
  at = writeDigits(out, at, m.seq);
  // `,"event":{"type":"<type>",` then the payload's members: the body's opening `{` is written at
  // the head's last byte, and the head over it.
  const head = headBytes(m.event.type);
  const n = out.write(m.event.body, at + head.length - 1, "utf8");
  out.set(head, at);
  at += head.length - 1 + n;
  out[at++] = 0x7d; // RUN_EVENT_END: }}
  out[at++] = 0x7d;
  return at - start;
}

let lastPrefixRunId: string | undefined;
let lastPrefixBytes = Buffer.alloc(0);
function prefixBytes(runId: string): Buffer {
  if (runId !== lastPrefixRunId) {
    lastPrefixRunId = runId;
    lastPrefixBytes = Buffer.from(runEventPrefix(runId), "utf8");
  }
  return lastPrefixBytes;
}

/** `,"event":{"type":"<type>",` by event type (a handful of §5 names). */
const heads = new Map<string, Buffer>();
function headBytes(type: string): Buffer {
  let head = heads.get(type);
  if (head === undefined) {
    head = Buffer.from(`${RUN_EVENT_MIDDLE}{"type":"${type}",`, "utf8");
    if (heads.size < 64) heads.set(type, head);
  }
  return head;
}

function digitCount(n: number): number {
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
  return digits;
}

/** A non-negative integer's decimal digits at `at`; returns where they end. */
function writeDigits(out: Buffer, at: number, n: number): number {
  const end = at + digitCount(n);
  let v = n;
  for (let i = end - 1; i >= at; i--) {
    out[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return end;
}

/** The frames of a large batch, each text measured first (no scratch kept for them). */
function exactFrames(texts: readonly string[]): Buffer {
  const lengths = texts.map((t) => Buffer.byteLength(t));
  const out = Buffer.allocUnsafe(lengths.reduce((sum, n) => sum + headerSize(n) + n, 0));
  let at = 0;
  texts.forEach((t, i) => {
    at = writeHeader(out, at, lengths[i]!);
    at += out.write(t, at, "utf8");
  });
  return out;
}

function headerSize(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/** A final, unmasked text frame's header for `n` payload bytes at `at`; returns where the payload starts. */
function writeHeader(out: Buffer, at: number, n: number): number {
  out[at++] = 0x81; // FIN, opcode 1 (text)
  if (n < 126) {
    out[at++] = n;
    return at;
  }
  if (n < 65536) {
    out[at++] = 126;
    return out.writeUInt16BE(n, at);
  }
  out[at++] = 127;
  return out.writeBigUInt64BE(BigInt(n), at);
}
