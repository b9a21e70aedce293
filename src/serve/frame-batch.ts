import type { WebSocket } from "ws";

/** Text gathered at most (UTF-16 units) before it is written (then gathering starts again). */
const BATCH_UNITS = 64 * 1024;

/** A text sender for one server-side WebSocket that writes the frames of one tick in one socket write. */
export interface FrameBatch {
  /** Sends one text message (in order with every other `send`). */
  send(text: string): void;
  /** Text gathered and not yet handed to the socket (it counts as buffered for backpressure). */
  pending(): number;
  /** Writes what is gathered now (before a close frame, so no message is lost behind it). */
  flush(): void;
}

/**
 * A run emits its events in bursts, and with one `ws.send` per event on a corked socket each frame
 * was two chunks (header, text) of the socket's `writev`, which Node walks chunk by chunk. Here the
 * messages of a tick (up to 64 Ki units) are encoded into one Buffer: the unmasked text frames a
 * server sends (RFC 6455 §5.2: FIN + opcode 1, then a 7-bit, 16-bit or 64-bit length, no mask),
 * handed to the socket in one `write`. See docs/performance.md ("serve: one write per tick").
 *
 * Only for what ws itself would send the same way: a server socket without extensions (the server
 * turns permessage-deflate off). ws keeps the handshake, reading, control frames (ping, pong,
 * close) and `bufferedAmount`, which counts these writes as it counts its own.
 */
export function frameBatch(ws: WebSocket): FrameBatch {
  const socket = (ws as unknown as { _socket?: BatchSocket })._socket;
  if (socket === undefined || typeof socket.write !== "function" || ws.extensions !== "") {
    return { send: (text) => ws.send(text), pending: () => 0, flush: () => undefined };
  }
  let texts: string[] = [];
  let units = 0;
  let scheduled = false;
  let waiting = false;
  const flush = (): void => {
    const list = texts;
    if (list.length === 0) return;
    texts = [];
    units = 0;
    if (ws.readyState !== ws.OPEN) return;
    socket.write(encodeFrames(list));
  };
  // While the socket holds more than it can pass on (a client reading slowly, or not at all), the
  // texts wait here, unencoded, until it drains: a client that never reads then costs a run no
  // UTF-8 encoding and no Buffers (bench/serve.js, "a client that never reads"). They still count
  // in `pending`, so the connection's backpressure limits hold them as they held the socket's bytes.
  const write = (): void => {
    if (waiting) return;
    if (socket.writableNeedDrain === true) {
      waiting = true;
      socket.once("drain", onDrain);
      return;
    }
    flush();
  };
  const onDrain = (): void => {
    waiting = false;
    write();
  };
  const onTick = (): void => {
    scheduled = false;
    write();
  };
  return {
    send(text) {
      texts.push(text);
      units += text.length;
      if (units >= BATCH_UNITS) write();
      else if (!scheduled && !waiting) {
        scheduled = true;
        process.nextTick(onTick);
      }
    },
    pending: () => units,
    flush,
  };
}

/** The part of ws's socket a batch uses. */
interface BatchSocket {
  write(chunk: Buffer): boolean;
  readonly writableNeedDrain?: boolean;
  once(event: "drain", listener: () => void): unknown;
}

/** Where a batch is encoded before its exact bytes are copied out; grows up to SCRATCH_MAX bytes. */
let scratch = Buffer.allocUnsafe(0);
const SCRATCH_MAX = 1024 * 1024;

/**
 * The frames of `texts` as one Buffer. A text's UTF-8 length is known only once it is encoded, and
 * it decides the header's size; `Buffer.byteLength` first would read each text twice (a third of
 * this function's time in a profile). So each text is encoded into `scratch` after a header whose
 * size its UTF-16 length already settles (UTF-8 takes 1 to 3 bytes per UTF-16 unit): 4 bytes for
 * 126 to 21,845 units, the usual event. Only a text near a boundary, or a batch too big for the
 * scratch, is measured first.
 */
function encodeFrames(texts: readonly string[]): Buffer {
  let bound = 0;
  for (const t of texts) bound += t.length * 3 + 10;
  if (bound > SCRATCH_MAX) return exactFrames(texts);
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX, Math.max(bound, 256 * 1024)));
  const out = scratch;
  let at = 0;
  for (const t of texts) {
    const units = t.length;
    const headerBytes = units >= 126 && units * 3 < 65536 ? 4 : units * 3 < 126 ? 2 : headerSize(Buffer.byteLength(t));
    const n = out.write(t, at + headerBytes, "utf8");
    writeHeader(out, at, n);
    at += headerBytes + n;
  }
  return Buffer.from(out.subarray(0, at));
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
