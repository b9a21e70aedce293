import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { eventText } from "../../../src/serve/event-json.js";
import { frameBatch, type FrameBatch } from "../../../src/serve/frame-batch.js";
import { renderRunEvent } from "../../../src/serve/json-rpc.js";

// A real ws server and client on 127.0.0.1: what `frameBatch` writes must be what ws's own
// receiver reads as the same messages, in order, at every length where the frame header changes.

let server: WebSocketServer | undefined;
afterEach(async () => {
  for (const c of server?.clients ?? []) c.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A connected pair: the server side's batch, and the messages (and close) the client receives. */
async function pair(): Promise<{ batch: FrameBatch; serverWs: WebSocket; client: WebSocket; received: string[]; closed: Promise<{ code: number; reason: string }> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  server = wss;
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const port = (wss.address() as { port: number }).port;
  const serverSide = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  const received: string[] = [];
  client.on("message", (data, isBinary) => {
    expect(isBinary).toBe(false);
    received.push((data as Buffer).toString("utf8"));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => client.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve) => client.once("open", resolve));
  const serverWs = await serverSide;
  return { batch: frameBatch(serverWs), serverWs, client, received, closed };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe("frameBatch", () => {
  it("sends messages of every header size, ASCII and multi-byte, in order and intact", async () => {
    const { batch, received } = await pair();
    const texts: string[] = [""];
    // Around the 7-bit/16-bit/64-bit length boundaries (125/126 and 65535/65536 bytes), in
    // ASCII, 2-byte (é), 3-byte (€) and 4-byte (😀, two UTF-16 units) characters.
    for (const n of [1, 41, 42, 43, 125, 126, 127, 21_845, 21_846, 65_535, 65_536, 65_537]) {
      texts.push("a".repeat(n));
      texts.push("é".repeat(Math.ceil(n / 2)));
      texts.push("€".repeat(Math.ceil(n / 3)));
      texts.push(`${"😀".repeat(Math.floor(n / 4))}x`);
    }
    for (const t of texts) batch.send(t);
    await until(() => received.length === texts.length);
    expect(received).toEqual(texts);
  });

  it("keeps order across ticks, across the 64 Ki flush inside a tick, and past the 1 MiB scratch", async () => {
    const { batch, received } = await pair();
    const expected: string[] = [];
    const send = (t: string) => {
      expected.push(t);
      batch.send(t);
    };
    for (let i = 0; i < 2_000; i++) send(`{"seq":${i},"pad":"${"p".repeat(i % 300)}"}`);
    await new Promise((r) => setImmediate(r));
    send("next tick");
    send("ü".repeat(600_000)); // one batch over the scratch's cap: measured the exact way
    await until(() => received.length === expected.length);
    expect(received).toEqual(expected);
  });

  it("sends run events given in parts as the same messages as their joined text, at every header size", async () => {
    const { batch, received } = await pair();
    const expected: string[] = [];
    // Payload bodies around the frame header's boundaries, ASCII and multi-byte, between plain texts;
    // run ids with characters JSON escapes or encodes in several bytes; seqs of 1 to 7 digits.
    const runIds = ["20261207T190031-f2959a", 'r"\\é€😀'];
    const seqs = [0, 7, 10, 99, 1_000, 65_535, 1_234_567];
    let k = 0;
    for (const n of [0, 1, 30, 60, 125, 126, 127, 1_000, 21_780, 21_800, 21_846, 65_536, 70_000]) {
      for (const fill of ["a", "é", "€", "😀"]) {
        const runId = runIds[k % runIds.length]!;
        const seq = seqs[k % seqs.length]!;
        const event = { type: k % 2 ? "node:finish" : "node:log", body: `{"runId":${JSON.stringify(runId)},"message":"${fill.repeat(Math.ceil(n / fill.length))}"}` };
        batch.sendRunEvent(runId, seq, event);
        expected.push(renderRunEvent(runId, seq, eventText(event)));
        batch.send(`plain ${k}`);
        expected.push(`plain ${k}`);
        k++;
      }
    }
    await until(() => received.length === expected.length);
    expect(received).toEqual(expected);
  });

  it("never encodes a batch over bytes a socket still holds (another client's batch shares the scratch)", async () => {
    const held = await pair();
    const other = await pair();
    const socket = (held.serverWs as unknown as { _socket: { writableNeedDrain: boolean } })._socket;
    held.client.pause();
    const expected: string[] = [];
    const pad = "h".repeat(1000);
    // Batches the socket queues (the kernel's buffers are full), each written from the shared scratch.
    for (let i = 0; !socket.writableNeedDrain && i < 200_000; i++) {
      expected.push(sendEither(held.batch, `${i} ${pad}`, i));
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    expect(socket.writableNeedDrain).toBe(true);
    // Meanwhile another client's batches are encoded, and this one's is flushed before a close.
    const others: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      others.push(`other ${i} ${"o".repeat(300)}`);
      other.batch.send(others.at(-1)!);
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    expected.push("flushed while held");
    held.batch.send("flushed while held");
    held.batch.flush();
    for (let i = 0; i < 500; i++) other.batch.send(others[i]!);
    others.push(...others.slice(0, 500));
    held.client.resume();
    await until(() => received(held) === expected.length && received(other) === others.length);
    expect(held.received).toEqual(expected);
    expect(other.received).toEqual(others);
  });

  it("counts gathered text as pending until the tick ends, and flushes before a close", async () => {
    const { batch, serverWs, received, closed } = await pair();
    batch.send("one");
    batch.send("two");
    expect(batch.pending()).toBe(6);
    batch.flush();
    expect(batch.pending()).toBe(0);
    batch.send("last words");
    batch.flush();
    serverWs.close(4408, "slow");
    await expect(closed).resolves.toEqual({ code: 4408, reason: "slow" });
    expect(received).toEqual(["one", "two", "last words"]);
  });

  it("drops what is gathered once the socket is no longer open", async () => {
    const { batch, serverWs, received, closed } = await pair();
    batch.send("before");
    batch.flush();
    batch.send("after close");
    serverWs.close(1000, "");
    await closed;
    await new Promise((r) => setImmediate(r));
    expect(received).toEqual(["before"]);
  });

  it("holds texts unencoded while the socket waits to drain, then sends them all in order", async () => {
    const { batch, serverWs, client, received, closed } = await pair();
    const socket = (serverWs as unknown as { _socket: { writableNeedDrain: boolean; writableLength: number } })._socket;
    // The client stops reading: the kernel's buffers fill, then the server socket's own.
    client.pause();
    const expected: string[] = [];
    const pad = "x".repeat(1000);
    for (let i = 0; !socket.writableNeedDrain && i < 200_000; i++) {
      expected.push(`${i} ${pad}`);
      batch.send(expected.at(-1)!);
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    expect(socket.writableNeedDrain).toBe(true);
    await new Promise((r) => setImmediate(r));
    const socketHeld = socket.writableLength;
    const pendingBefore = batch.pending();
    for (let i = 0; i < 300; i++) {
      expected.push(`late ${i} ${pad}`);
      batch.send(expected.at(-1)!);
    }
    await new Promise((r) => setImmediate(r));
    // Nothing more went to the socket: the late texts wait in the batch and count as pending.
    expect(socket.writableLength).toBe(socketHeld);
    expect(batch.pending()).toBeGreaterThanOrEqual(pendingBefore + 300 * 1000);
    client.resume();
    await until(() => received.length === expected.length);
    expect(received).toEqual(expected);
    expect(batch.pending()).toBe(0);
    // A close while texts wait goes out after them.
    client.pause();
    for (let i = 0; !socket.writableNeedDrain && i < 200_000; i++) {
      expected.push(`again ${i} ${pad}`);
      batch.send(expected.at(-1)!);
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    expected.push("held, then closed");
    batch.send("held, then closed");
    batch.flush();
    serverWs.close(4408, "slow");
    client.resume();
    await expect(closed).resolves.toEqual({ code: 4408, reason: "slow" });
    expect(received).toEqual(expected);
  });
});

/** Sends a plain text or, every other time, a run event in parts; returns the message the client must get. */
function sendEither(b: FrameBatch, text: string, i: number): string {
  if (i % 2 === 0) {
    b.send(text);
    return text;
  }
  const event = { type: "node:log", body: `{"t":${JSON.stringify(text)}}` };
  b.sendRunEvent("r1", i, event);
  return renderRunEvent("r1", i, eventText(event));
}

function received(p: { received: string[] }): number {
  return p.received.length;
}
