import { describe, expect, test } from "vitest";
import { eventLogKey } from "../../../src/conductor/run-recorder.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap } from "../../../src/events/event-map.js";
import { Connection, type Transport } from "../../../src/serve/connection.js";
import { RunStreams } from "../../../src/serve/run-streams.js";
import { createStorage } from "../../../src/storage/create-storage.js";

// A replay (events.subscribe with fromSeq) of a long stored log sends at the pace the client reads.
// It wrote the whole log into the socket at once, so even a client reading at full speed passed the
// soft limit and lost thousands of node:log events to events:dropped.

/** A socket whose client reads `perTick` bytes every millisecond or so. */
function readingTransport(perTick: number): Transport & { messages: string[]; stop(): void } {
  let buffered = 0;
  const messages: string[] = [];
  const reader = setInterval(() => (buffered = Math.max(0, buffered - perTick)), 1);
  return {
    messages,
    send(text) {
      buffered += text.length;
      messages.push(text);
    },
    bufferedAmount: () => buffered,
    close: () => clearInterval(reader),
    stop: () => clearInterval(reader),
  };
}

describe("replay from the stored log", () => {
  test("a client that reads steadily gets every one of 20,000 stored events, in order, with no events:dropped", async () => {
    const storage = createStorage({ type: "memory" });
    const runId = "r-chatty";
    const lines = [`{"type":"run:start","runId":"${runId}","ts":0}`];
    for (let i = 1; i < 20_000; i++) lines.push(`{"type":"node:log","runId":"${runId}","ts":${i},"nodeId":"loop","level":"info","message":"line ${i} ${"x".repeat(40)}"}`);
    // A finished run's log: it ends with run:finish (one without it ends with events.end).
    lines[lines.length - 1] = `{"type":"run:finish","runId":"${runId}","ts":20000,"status":"succeeded"}`;
    await storage.saveText(eventLogKey(runId), `${lines.join("\n")}\n`);
    const streams = new RunStreams({ bus: createEventBus<RunEventMap>(), storage });
    const transport = readingTransport(16 * 1024);
    const connection = new Connection(transport, { softLimit: 64 * 1024, hardLimit: 512 * 1024, fullTimeoutMs: 10_000 });
    try {
      const { start } = await streams.subscribe(connection, { runId, fromSeq: 0 });
      start();
      await expect.poll(() => transport.messages.length, { timeout: 20_000, interval: 20 }).toBe(lines.length);
      const seqs = transport.messages.map((m) => (JSON.parse(m) as { params: { seq: number } }).params.seq);
      expect(seqs).toEqual(lines.map((_, i) => i));
      expect(connection.droppedTotal).toBe(0);
      expect(transport.messages.some((m) => m.includes("events:dropped"))).toBe(false);
    } finally {
      transport.stop();
      streams.close();
    }
  });

  test("twelve subscriptions replaying one stored log at once share one loaded copy of it", async () => {
    // Each replay loaded the whole log and kept it: 12 subscriptions to a 71 MB log peaked at 1.65 GB.
    const real = createStorage({ type: "memory" });
    const runId = "r-shared";
    const lines = [`{"type":"run:start","runId":"${runId}","ts":0}`];
    for (let i = 1; i < 2_000; i++) lines.push(`{"type":"node:log","runId":"${runId}","ts":${i},"nodeId":"n","level":"info","message":"${"x".repeat(500)}"}`);
    lines[lines.length - 1] = `{"type":"run:finish","runId":"${runId}","ts":2000,"status":"succeeded"}`;
    await real.saveText(eventLogKey(runId), `${lines.join("\n")}\n`);
    // The real storage, with the bytes read of this log counted (whole, or from an offset on).
    const logBytes = Buffer.byteLength(`${lines.join("\n")}\n`);
    let bytes = 0;
    const storage = new Proxy(real, {
      get(target, name, receiver) {
        if (name === "loadText") return async (key: string) => ((text) => ((bytes += key === eventLogKey(runId) && text ? Buffer.byteLength(text) : 0), text))(await target.loadText(key));
        if (name === "loadBytesFrom") return async (key: string, start: number) => ((data) => ((bytes += key === eventLogKey(runId) && data ? data.length : 0), data))(await target.loadBytesFrom(key, start));
        const value = Reflect.get(target, name, receiver) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const streams = new RunStreams({ bus: createEventBus<RunEventMap>(), storage });
    const transports = Array.from({ length: 12 }, () => readingTransport(64 * 1024));
    try {
      for (const transport of transports) {
        const connection = new Connection(transport, { softLimit: 256 * 1024, hardLimit: 1024 * 1024, fullTimeoutMs: 10_000 });
        const { start } = await streams.subscribe(connection, { runId, fromSeq: 0 });
        start();
      }
      for (const transport of transports) await expect.poll(() => transport.messages.length, { timeout: 20_000, interval: 20 }).toBe(lines.length);
      expect(bytes).toBe(logBytes);
      // Once every replay is done, the copy is let go: a later subscription loads the log again.
      const late = readingTransport(64 * 1024);
      transports.push(late);
      const { start } = await streams.subscribe(new Connection(late), { runId, fromSeq: 1_990 });
      start();
      await expect.poll(() => late.messages.length, { timeout: 20_000, interval: 20 }).toBe(10);
      expect(bytes).toBe(2 * logBytes);
    } finally {
      for (const transport of transports) transport.stop();
      streams.close();
    }
  });
});
