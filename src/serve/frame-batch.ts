import type { WebSocket } from "ws";
import { encodeFrames, leaveScratchTo, type Message, messageUnits, runEventMessage } from "./encode-frames.js";
import { eventText, type EventParts } from "./event-json.js";
import { renderRunEvent } from "./json-rpc.js";

/** Text gathered at most (UTF-16 units) before it is written (then gathering starts again). */
const BATCH_UNITS = 64 * 1024;

/** A text sender for one server-side WebSocket that writes the frames of one tick in one socket write. */
export interface FrameBatch {
  /** Sends one text message (in order with every other `send`). */
  send(text: string): void;
  /** Sends a `run.event` notification given in parts (`Transport.sendRunEvent`), in order with `send`. */
  sendRunEvent(runId: string, seq: number, event: EventParts): void;
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
 * handed to the socket in one `write`. See docs/performance.md ("serve: one write per tick"). A run
 * event's notification comes in parts (`sendRunEvent`) and is written from them (encode-frames.ts).
 *
 * Only for what ws itself would send the same way: a server socket without extensions (the server
 * turns permessage-deflate off). ws keeps the handshake, reading, control frames (ping, pong,
 * close) and `bufferedAmount`, which counts these writes as it counts its own.
 */
export function frameBatch(ws: WebSocket): FrameBatch {
  const socket = (ws as unknown as { _socket?: BatchSocket })._socket;
  if (socket === undefined || typeof socket.write !== "function" || ws.extensions !== "") {
    return { send: (text) => ws.send(text), sendRunEvent: (runId, seq, event) => ws.send(renderRunEvent(runId, seq, eventText(event))), pending: () => 0, flush: () => undefined };
  }
  let texts: Message[] = [];
  let units = 0;
  let scheduled = false;
  let waiting = false;
  const flush = (): void => {
    const list = texts;
    if (list.length === 0) return;
    texts = [];
    units = 0;
    if (ws.readyState !== ws.OPEN) return;
    const frames = encodeFrames(list);
    socket.write(frames);
    // A write the socket queued still points into the scratch: leave the scratch to it. Otherwise the
    // kernel has the bytes, and the next batch is encoded over them.
    if (socket.writableLength > 0) leaveScratchTo(frames);
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
  const add = (message: Message): void => {
    texts.push(message);
    units += messageUnits(message);
    if (units >= BATCH_UNITS) write();
    else if (!scheduled && !waiting) {
      scheduled = true;
      process.nextTick(onTick);
    }
  };
  return {
    send: add,
    sendRunEvent: (runId, seq, event) => add(runEventMessage(runId, seq, event)),
    pending: () => units,
    flush,
  };
}

/** The part of ws's socket a batch uses. */
interface BatchSocket {
  write(chunk: Buffer): boolean;
  /** Bytes handed to `write` that the kernel has not taken yet. */
  readonly writableLength: number;
  readonly writableNeedDrain?: boolean;
  once(event: "drain", listener: () => void): unknown;
}
