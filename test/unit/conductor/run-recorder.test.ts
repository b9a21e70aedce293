import { describe, expect, test } from "vitest";
import { z } from "zod";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { Composite } from "../../../src/composite/model.js";
import { createConductor, type RunResult } from "../../../src/conductor/create-conductor.js";
import { EVENT_LOG_BATCH_LINES } from "../../../src/conductor/event-log-writer.js";
import { eventLogKey, runRecordKey } from "../../../src/conductor/run-recorder.js";
import { AtomitonError, ErrorCode } from "../../../src/errors.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEvent, RunEventMap } from "../../../src/events/event-map.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { defineNode } from "../../../src/nodes/define-node.js";
import { createStorage } from "../../../src/storage/create-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import { tempDir } from "../../helpers/cli.js";

const valueNode = defineNode({
  type: "test-value",
  title: "value",
  description: "test",
  category: "test",
  parameters: z.object({ value: z.unknown().optional() }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  execute: (ctx) => ctx.parameters.value,
});

const SECRET = "s3cr3t-token-value";

/** A chain of `size` nodes; node n1 outputs the secret. */
function chain(size: number): Composite {
  const ids = Array.from({ length: size }, (_, i) => `n${i}`);
  const nodes = ids.map((id) => `  - { id: ${id}, type: test-value, parameters: { value: ${id === "n1" ? JSON.stringify(SECRET) : 1} } }`);
  const edges = ids.slice(1).map((id, i) => `${ids[i]} -> ${id}`);
  const yaml = `nodes:\n${nodes.join("\n")}\nedges: [${edges.join(", ")}]\n`;
  const catalog = createBuiltinCatalog([{ definition: valueNode, source: "test" }]);
  const loaded = loadCompositeFromText(yaml, { catalog, file: "chain.yaml" });
  if (!loaded.ok || !loaded.composite) throw new Error(JSON.stringify(loaded.problems));
  return loaded.composite;
}

interface Calls {
  saveText: string[];
  /** Lines per appendLines call. */
  appendLines: number[];
}

/** The real storage, with its log writes counted and, from the `failAppend`-th append on, refused. */
function counting(storage: Storage, failAppend = Infinity): { storage: Storage; calls: Calls } {
  const calls: Calls = { saveText: [], appendLines: [] };
  return {
    calls,
    storage: {
      ...storage,
      saveText: (key, text) => {
        calls.saveText.push(key);
        return storage.saveText(key, text);
      },
      appendLines: async (key, lines) => {
        calls.appendLines.push(lines.length);
        if (calls.appendLines.length >= failAppend) throw new AtomitonError(ErrorCode.STORAGE, `cannot append to ${key}: disk full`, { retryable: false });
        return storage.appendLines(key, lines);
      },
    },
  };
}

async function runChain(storage: Storage, size: number, runId = "r1"): Promise<{ events: RunEvent[]; run: Promise<RunResult> }> {
  const bus = createEventBus<RunEventMap>();
  const events: RunEvent[] = [];
  bus.onAny((type, payload) => events.push({ type, ...payload } as RunEvent));
  const conductor = createConductor({ storage, events: bus, nodes: [valueNode] });
  const run = conductor.execute({ composite: chain(size), runId, secretValues: [SECRET] });
  await run.catch(() => undefined);
  return { events, run };
}

const lineIds = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((line) => {
      const e = JSON.parse(line) as { type: string; nodeId?: string };
      return `${e.type}${e.nodeId ? ` ${e.nodeId}` : ""}`;
    });
const eventIds = (events: RunEvent[]) => events.map((e) => `${e.type}${"nodeId" in e ? ` ${e.nodeId}` : ""}`);

const backends = [
  { name: "memory", open: async () => ({ storage: createStorage({ type: "memory" }), cleanup: async () => {} }) },
  {
    name: "filesystem",
    open: async () => {
      const { dir, cleanup } = await tempDir("atomiton-recorder-");
      return { storage: createStorage({ type: "filesystem", dir }), cleanup };
    },
  },
];

describe.each(backends)("run recorder event log ($name storage)", ({ open }) => {
  test("a run with more events than one batch appends them: every line once, in order, secrets redacted", async () => {
    const { storage: real, cleanup } = await open();
    try {
      const { storage, calls } = counting(real);
      const size = Math.ceil(EVENT_LOG_BATCH_LINES * 1.25);
      const { events, run } = await runChain(storage, size);
      await expect(run).resolves.toMatchObject({ status: "succeeded" });
      expect(events).toHaveLength(2 * size + 2);

      // The first write replaces the log (run:start); then appends: a write takes every line queued
      // when it starts, so this chain (all synchronous) comes in fewer appends than batches.
      expect(calls.saveText[0]).toBe(eventLogKey("r1"));
      expect(calls.saveText.filter((k) => k === eventLogKey("r1"))).toHaveLength(1);
      expect(calls.appendLines.length).toBeGreaterThanOrEqual(1);
      expect(calls.appendLines.reduce((a, b) => a + b, 0)).toBe(events.length - 1);

      const log = (await real.loadText(eventLogKey("r1")))!;
      expect(lineIds(log)).toEqual(eventIds(events));
      expect(log).not.toContain(SECRET);
      expect(log).toContain('"output":"***"');

      const record = (await real.load(runRecordKey("r1"))) as { status: string; nodes: Record<string, { startedAt: unknown; finishedAt: unknown }> };
      expect(record.status).toBe("succeeded");
      expect(Object.keys(record.nodes)).toHaveLength(size);
      const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
      for (const n of Object.values(record.nodes)) {
        expect(n.startedAt).toMatch(iso);
        expect(n.finishedAt).toMatch(iso);
      }
    } finally {
      await cleanup();
    }
  });

  test("a reused run id replaces the stale log instead of appending to it", async () => {
    const { storage, cleanup } = await open();
    try {
      await storage.saveText(eventLogKey("again"), `{"type":"run:start","runId":"again","ts":1,"stale":true}\n{"type":"node:sta`);
      const { events } = await runChain(storage, 3, "again");
      const log = (await storage.loadText(eventLogKey("again")))!;
      expect(log).not.toContain("stale");
      expect(lineIds(log)).toEqual(eventIds(events));
    } finally {
      await cleanup();
    }
  });

  test("an append that fails is the run's recordError, and nothing is appended after the gap", async () => {
    const { storage: real, cleanup } = await open();
    try {
      const { storage, calls } = counting(real, 2);
      const { events, run } = await runChain(storage, EVENT_LOG_BATCH_LINES * 2);
      // The run resolves; its one run:finish and its result carry the storage's error.
      const result = await run;
      expect(result.recordError).toMatchObject({ code: "E_STORAGE", message: expect.stringContaining("disk full") });
      expect(events.filter((e) => e.type === "run:finish")).toMatchObject([{ recordError: { code: "E_STORAGE" } }]);
      expect(calls.appendLines.length).toBeGreaterThanOrEqual(2);

      // The log holds what was written before the failed append: a prefix of the run, never a run with a hole.
      const logged = lineIds((await real.loadText(eventLogKey("r1")))!);
      expect(logged.length).toBeGreaterThan(1);
      expect(logged.length).toBeLessThan(events.length);
      expect(logged).toEqual(eventIds(events).slice(0, logged.length));
      // The record, the source of truth, is still saved at the end.
      expect(await real.load(runRecordKey("r1"))).toMatchObject({ status: "succeeded" });
    } finally {
      await cleanup();
    }
  });
});

test("a big composite's first record save reuses the text of its pending node map, and each run's save is its own", async () => {
  // Over 2,000 nodes a record is saved compact, and until a node event comes its node map depends
  // only on the composite, so its text is kept per composite (frozen-json.ts): the second run's
  // first save must still be that run's record, with no node started.
  const composite = chain(2_100);
  const storage = createStorage({ type: "memory" });
  const saves = new Map<string, string[]>();
  const observed: Storage = {
    ...storage,
    saveText: (key, text) => {
      saves.set(key, [...(saves.get(key) ?? []), text]);
      return storage.saveText(key, text);
    },
  };
  const conductor = createConductor({ storage: observed, nodes: [valueNode] });
  for (const runId of ["first", "second"]) expect((await conductor.execute({ composite, runId, secretValues: [SECRET] })).status).toBe("succeeded");

  const [a, b] = ["first", "second"].map((runId) => saves.get(runRecordKey(runId))!);
  expect(a!.length).toBeGreaterThanOrEqual(2);
  expect(b!.length).toBeGreaterThanOrEqual(2);
  const firstOf = (texts: string[]) => JSON.parse(texts[0]!) as { runId: string; status: string; nodes: Record<string, { status?: string; attempts: number; startedAt?: string }> };
  const [ra, rb] = [firstOf(a!), firstOf(b!)];
  expect(rb.runId).toBe("second");
  expect(rb.status).toBe("running");
  expect(Object.keys(rb.nodes)).toHaveLength(2_100);
  expect(Object.values(rb.nodes).every((n) => n.status === undefined && n.attempts === 0 && n.startedAt === undefined)).toBe(true);
  expect(rb.nodes).toEqual(ra.nodes);
  // The same text JSON.stringify gives for the record, key order included (the map is spliced in).
  expect(b![0]).toBe(`${JSON.stringify(rb)}\n`);
  // The final save is the run's own: every node succeeded, the secret redacted.
  const last = JSON.parse(b!.at(-1)!) as typeof rb;
  expect(Object.values(last.nodes).every((n) => n.status === "succeeded")).toBe(true);
  expect(b!.at(-1)).not.toContain(SECRET);
});

test("an error whose details JSON cannot hold (a BigInt, a cycle) is recorded as JSON can hold it, and the record is saved", async () => {
  const details: Record<string, unknown> = { n: 5n };
  details.self = details;
  const thrower = defineNode({ type: "test-throw", execute: () => { throw new AtomitonError("E_X", "big", { retryable: false, details }); } });
  const storage = createStorage({ type: "memory" });
  const catalog = createBuiltinCatalog([{ definition: thrower, source: "test" }]);
  const loaded = loadCompositeFromText("nodes:\n  - { id: t, type: test-throw }\n", { catalog, file: "t.yaml" });
  const result = await createConductor({ storage, nodes: [thrower] }).execute({ composite: loaded.composite!, runId: "details" });
  expect(result.status).toBe("failed");
  expect(result.recordError).toBeUndefined();
  const record = (await storage.load(runRecordKey("details"))) as { status: string; error: { details: Record<string, unknown> }; nodes: Record<string, { error: { details: Record<string, unknown> } }> };
  expect(record.status).toBe("failed");
  expect(record.nodes.t!.error.details.n).toBe("5");
  expect(record.error.details.n).toBe("5");
});

describe("run recorder on a storage that applies writes in the order issued", () => {
  /** Memory storage marked `ordered`, noting how many writes were in flight at once and in what order they were issued. */
  function orderedStorage() {
    const real = createStorage({ type: "memory" });
    let inFlight = 0;
    const seen = { most: 0, issued: [] as string[] };
    const track =
      <A extends unknown[]>(name: string, op: (key: string, ...args: A) => Promise<void>) =>
      async (key: string, ...args: A): Promise<void> => {
        seen.issued.push(`${name} ${key}`);
        seen.most = Math.max(seen.most, ++inFlight);
        try {
          await new Promise((r) => setTimeout(r, 5)); // a round trip
          await op(key, ...args);
        } finally {
          inFlight--;
        }
      };
    const storage: Storage = { ...real, ordered: true, saveText: track("save", real.saveText.bind(real)), appendLines: track("append", real.appendLines.bind(real)) };
    return { real, storage, seen };
  }

  test("the log's lines and the record go out together, lines first; every line lands once, in order", async () => {
    const { real, storage, seen } = orderedStorage();
    const { events, run } = await runChain(storage, 5, "o1");
    await expect(run).resolves.toMatchObject({ status: "succeeded" });
    // Together: two writes in flight at once (one round trip instead of two)…
    expect(seen.most).toBe(2);
    // …and the lines issued before the record each time (a reader that finds the record final finds run:finish).
    const start = seen.issued.indexOf(`save ${runRecordKey("o1")}`);
    expect(seen.issued[start - 1]).toBe(`save ${eventLogKey("o1")}`);
    expect(seen.issued.at(-1)).toBe(`save ${runRecordKey("o1")}`);
    expect(seen.issued.at(-2)).toMatch(new RegExp(`^(append|save) ${eventLogKey("o1").replace(/\./g, "\\.")}$`));
    expect(lineIds((await real.loadText(eventLogKey("o1")))!)).toEqual(eventIds(events));
    expect(await real.load(runRecordKey("o1"))).toMatchObject({ status: "succeeded" });
  });

  test("a storage that is not ordered gets one write at a time", async () => {
    const { storage, seen } = orderedStorage();
    const { run } = await runChain({ ...storage, ordered: false }, 5, "o2");
    await expect(run).resolves.toMatchObject({ status: "succeeded" });
    expect(seen.most).toBe(1);
  });
});
