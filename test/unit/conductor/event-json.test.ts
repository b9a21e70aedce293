import { describe, expect, test } from "vitest";
import { z } from "zod";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor } from "../../../src/conductor/create-conductor.js";
import type { CompiledNode } from "../../../src/conductor/compile-graph.js";
import { eventBody } from "../../../src/conductor/event-json.js";
import { nodeHash } from "../../../src/conductor/node-hash.js";
import { eventLogKey } from "../../../src/conductor/run-recorder.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap } from "../../../src/events/event-map.js";
import { stringifyJsonSafe } from "../../../src/events/json-safe.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { defineNode } from "../../../src/nodes/define-node.js";
import { createStorage } from "../../../src/storage/create-storage.js";
import { renderEventJson } from "../../../src/serve/event-json.js";

/** What JSON.stringify alone writes as `{}`, or cannot write. */
const awkward = () => ({ map: new Map<string, unknown>([["a", 1]]), pairs: new Map([[1, "one"]]), set: new Set([1, 2]), error: new TypeError("boom"), big: 10n, bytes: Buffer.from("hi"), date: new Date(0) });

const awkwardNode = defineNode({
  type: "test-awkward",
  title: "awkward",
  description: "outputs values plain JSON mishandles",
  category: "test",
  parameters: z.object({}),
  inputs: [],
  outputs: [{ id: "output" }],
  execute: () => awkward(),
});

describe("event JSON", () => {
  test("an output's Map, Set, Error, BigInt and bytes are written as --reporter json writes them", () => {
    const payload = { runId: "r", ts: 1, nodeId: "a", status: "succeeded", output: awkward() };
    const body = eventBody(payload);
    expect(JSON.parse(body)).toEqual(JSON.parse(stringifyJsonSafe(payload)));
    expect(JSON.parse(body).output).toMatchObject({ map: { a: 1 }, pairs: [[1, "one"]], set: [1, 2], error: { name: "TypeError", message: "boom" }, big: "10", bytes: "<Buffer 2 bytes>" });
  });

  test("bytes never reach a Buffer's toJSON (an array of every byte: 50 MB took 20 s) in an event's JSON or a node's cache key", () => {
    let calls = 0;
    const bytes = (fill: number): Buffer => {
      const b = Buffer.alloc(1024, fill);
      b.toJSON = function (this: Buffer) {
        calls++;
        return Buffer.prototype.toJSON.call(this);
      };
      return b;
    };
    const body = eventBody({ runId: "r", ts: 1, nodeId: "a", status: "succeeded", output: { items: [{ name: "a.png", data: bytes(1) }] } });
    expect(JSON.parse(body).output).toEqual({ items: [{ name: "a.png", data: "<Buffer 1024 bytes>" }] });
    const cn = { node: { parameters: {}, enabled: true, onError: "fail" }, def: { type: "t" } } as unknown as CompiledNode;
    const key = nodeHash(cn, { input: bytes(1) });
    // Equal bytes, equal key; other bytes, another key.
    expect(nodeHash(cn, { input: bytes(1) })).toBe(key);
    expect(nodeHash(cn, { input: bytes(2) })).not.toBe(key);
    expect(calls).toBe(0);
  });

  test("the same payload object renders once; another object with equal fields renders again", () => {
    let reads = 0;
    const payload = {
      runId: "r",
      get ts() {
        reads++;
        return 1;
      },
    };
    const first = eventBody(payload);
    expect(eventBody(payload)).toBe(first);
    expect(reads).toBe(1);
    const other = { runId: "r", ts: 2 };
    expect(eventBody(other)).toBe('{"runId":"r","ts":2}');
  });

  test("the stored log line, the live serve event and --reporter json agree on an awkward output", async () => {
    const catalog = createBuiltinCatalog([{ definition: awkwardNode, source: "test" }]);
    const loaded = loadCompositeFromText("nodes:\n  - { id: a, type: test-awkward }\n", { catalog, file: "a.yaml" });
    expect(loaded.problems).toEqual([]);
    const storage = createStorage({ type: "memory" });
    const bus = createEventBus<RunEventMap>();
    const live: string[] = [];
    const reporter: string[] = [];
    // As `serve` does: a bus listener rendering each event before the run's recorder does.
    bus.onAny((type, payload) => {
      live.push(renderEventJson(type, payload));
      reporter.push(stringifyJsonSafe({ type, ...payload }));
    });
    const conductor = createConductor({ storage, nodes: catalog, events: bus });
    const result = await conductor.execute({ composite: loaded.composite! });
    expect(result.status).toBe("succeeded");
    const stored = ((await storage.loadText(eventLogKey(result.runId))) ?? "").trim().split("\n");
    const finish = (lines: string[]) => lines.find((l) => l.startsWith('{"type":"node:finish"'))!;
    expect(finish(live)).toBe(finish(stored));
    expect(JSON.parse(finish(stored))).toEqual(JSON.parse(finish(reporter)));
  });
});
