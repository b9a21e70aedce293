import { describe, expect, test } from "vitest";
import { eventLogKey } from "../../../src/conductor/run-recorder.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap } from "../../../src/events/event-map.js";
import { Connection, type Transport } from "../../../src/serve/connection.js";
import { RunStreams } from "../../../src/serve/run-streams.js";
import { createStorage } from "../../../src/storage/create-storage.js";
import type { Storage } from "../../../src/storage/types.js";

// A subscription with `fromSeq` to a run still going replays its stored log while the recorder is
// still appending to it. Each 50 ms poll read the whole log again: quadratic in a long run's length.

/** A client that reads everything at once. */
function readingTransport(): Transport & { messages: string[] } {
  const messages: string[] = [];
  return { messages, send: (text) => void messages.push(text), bufferedAmount: () => 0, close: () => undefined };
}

/** The real storage, with the bytes read from one key counted (whole loads and ranged ones). */
function countingStorage(real: Storage, key: string): { storage: Storage; bytesRead: () => number } {
  let bytes = 0;
  const storage = new Proxy(real, {
    get(target, name, receiver) {
      if (name === "loadText") return async (k: string) => ((text) => ((bytes += k === key && text ? Buffer.byteLength(text) : 0), text))(await target.loadText(k));
      if (name === "loadBytesFrom") return async (k: string, start: number) => ((data) => ((bytes += k === key && data ? data.length : 0), data))(await target.loadBytesFrom(k, start));
      const value = Reflect.get(target, name, receiver) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { storage, bytesRead: () => bytes };
}

describe("replay of a live run's stored log", () => {
  test.each(["memory", "filesystem"] as const)("reads each stored byte about once (%s), and the client sees every seq exactly once", async (type) => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const dir = type === "filesystem" ? await mkdtemp(path.join(tmpdir(), "atomiton-replay-live-")) : undefined;
    const real = dir ? createStorage({ type: "filesystem", dir }) : createStorage({ type: "memory" });
    const runId = "r-live";
    const key = eventLogKey(runId);
    const { storage, bytesRead } = countingStorage(real, key);
    const bus = createEventBus<RunEventMap>();
    const streams = new RunStreams({ bus, storage, replayPollMs: 2 });
    // The run and its recorder: events on the bus at once, their log lines stored in batches, later.
    const total = 3_000;
    const unstored: string[] = [];
    let emitted = 0;
    const emit = (): void => {
      const payload = { runId, ts: emitted, nodeId: `n${emitted}`, level: "info" as const, message: `line ${emitted} ${"x".repeat(60)}` };
      bus.emit("node:log", payload);
      unstored.push(JSON.stringify({ type: "node:log", ...payload }));
      emitted++;
    };
    const store = async (count = unstored.length): Promise<void> => {
      await storage.appendLines(key, unstored.splice(0, count));
    };
    streams.open(runId);
    const transport = readingTransport();
    try {
      for (let i = 0; i < 2_000; i++) emit();
      await store();
      for (let i = 0; i < 200; i++) emit();
      // Subscribed from 0 while 2,200 events are out and 2,000 stored: the replay waits for the rest.
      const { start } = await streams.subscribe(new Connection(transport), { runId, fromSeq: 0 });
      start();
      while (emitted < total) {
        for (let i = 0; i < 20; i++) emit();
        // A recorder lagging behind: a few lines at a time, so the replay polls the log about 20 times.
        await store(10);
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      await store();
      await expect.poll(() => transport.messages.length, { timeout: 20_000, interval: 10 }).toBe(total);
      const seqs = transport.messages.map((m) => (JSON.parse(m) as { params: { seq: number } }).params.seq);
      expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i));
      // The replay needed the stored lines 0…2,199; reading the whole log at each poll read it many times over.
      const logBytes = (await real.loadText(key))!.length;
      expect(bytesRead()).toBeLessThan(logBytes * 1.5);
    } finally {
      streams.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });
});
