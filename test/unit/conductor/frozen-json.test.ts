// The cached JSON of composite-derived parts must be byte-for-byte what JSON.stringify gives.
import { describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor } from "../../../src/conductor/create-conductor.js";
import { runStartJson, spliceJson } from "../../../src/conductor/frozen-json.js";
import { runRecordKey } from "../../../src/conductor/run-recorder.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap, RunStartEvent } from "../../../src/events/event-map.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { createStorage } from "../../../src/storage/create-storage.js";
import { z } from "zod";
import { defineNode } from "../../../src/nodes/define-node.js";

/** Passes its input on, synchronously (a big chain of it runs in milliseconds). */
const pass = defineNode({
  type: "test-pass",
  title: "pass",
  description: "test",
  category: "test",
  parameters: z.object({}),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  execute: (ctx) => ctx.input,
});

const catalog = createBuiltinCatalog([{ definition: pass, source: "test" }]);

function chainYaml(n: number): string {
  const lines = ["name: chain", "nodes:"];
  for (let i = 0; i < n; i++) lines.push(`  - { id: "n${i}", type: test-pass }`);
  lines.push("edges:");
  for (let i = 1; i < n; i++) lines.push(`  - n${i - 1} -> n${i}`);
  return `${lines.join("\n")}\n`;
}

describe("frozen JSON parts", () => {
  test("runStartJson equals JSON.stringify for frozen and for plain payloads, and serves the cache only for frozen lists", () => {
    const nodes = [{ id: "a", type: "t", line: 3 }, { id: 'q"uote', type: "t", parent: "a" }];
    const plan = [["a"], ['q"uote']];
    const plain: RunStartEvent = { runId: "r1", ts: 5, composite: { id: "c", name: "n" }, nodes, plan };
    expect(runStartJson(plain)).toBe(JSON.stringify(plain));
    nodes.push({ id: "b", type: "t", line: 9 });
    expect(runStartJson(plain)).toBe(JSON.stringify(plain)); // not frozen: not cached
    const frozen: RunStartEvent = { ...plain, nodes: Object.freeze(nodes.map((n) => Object.freeze(n))) as RunStartEvent["nodes"], plan: Object.freeze(plan) as string[][] };
    expect(runStartJson(frozen)).toBe(JSON.stringify(frozen));
    expect(runStartJson({ ...frozen, runId: "r2", ts: 6 })).toBe(JSON.stringify({ ...frozen, runId: "r2", ts: 6 }));
  });

  test("spliceJson puts already-serialized fields between two objects' keys, as JSON.stringify would", () => {
    expect(spliceJson({ a: 1, u: undefined }, '"n":[1]', { z: "x" })).toBe(JSON.stringify({ a: 1, n: [1], z: "x" }));
    expect(spliceJson({}, '"n":{}')).toBe(JSON.stringify({ n: {} }));
    expect(spliceJson({ a: 1 }, '"n":2', {})).toBe(JSON.stringify({ a: 1, n: 2 }));
  });

  test("run:start lists are frozen and shared by runs of one composite; the start record is exact JSON", async () => {
    const loaded = loadCompositeFromText(chainYaml(2_500), { catalog, file: "chain.yaml" });
    if (!loaded.ok || !loaded.composite) throw new Error("invalid");
    const bus = createEventBus<RunEventMap>();
    const starts: RunStartEvent[] = [];
    const storage = createStorage({ type: "memory" });
    bus.on("run:start", (e) => {
      starts.push(e);
    });
    const conductor = createConductor({ events: bus, nodes: catalog, storage });
    const first = await conductor.execute({ composite: loaded.composite, runId: "run-1" });
    await conductor.execute({ composite: loaded.composite, runId: "run-2" });
    expect(first.status).toBe("succeeded");
    expect(starts[0]!.nodes).toBe(starts[1]!.nodes);
    expect(starts[0]!.plan).toBe(starts[1]!.plan);
    expect(Object.isFrozen(starts[0]!.nodes) && Object.isFrozen(starts[0]!.nodes[0]) && Object.isFrozen(starts[0]!.plan[0])).toBe(true);
    // The final record (JSON.stringify of the whole record) lists every node in declaration order.
    const record = JSON.parse((await storage.loadText(runRecordKey("run-1")))!) as { nodes: Record<string, { type: string; status: string }> };
    expect(Object.keys(record.nodes)).toEqual(starts[0]!.nodes.map((n) => n.id));
    expect(record.nodes.n2499).toMatchObject({ type: "test-pass", status: "succeeded" });
    // The first line of the event log is the run:start event, equal to its plain JSON.
    const log = (await storage.loadText("runs/run-2.ndjson"))!.split("\n");
    expect(JSON.parse(log[0]!)).toEqual({ type: "run:start", ...JSON.parse(JSON.stringify(starts[1])) });
  });

  test("the record saved at run start of a big composite equals JSON.stringify of that record", async () => {
    const loaded = loadCompositeFromText(chainYaml(2_100), { catalog, file: "big.yaml" });
    if (!loaded.ok || !loaded.composite) throw new Error("invalid");
    // A storage that keeps every version of the record it was handed.
    const inner = createStorage({ type: "memory" });
    const versions: string[] = [];
    const storage = { ...inner, saveText: async (key: string, text: string) => {
      if (key.endsWith(".json")) versions.push(text);
      return inner.saveText(key, text);
    } };
    await createConductor({ nodes: catalog, storage }).execute({ composite: loaded.composite, runId: "big" });
    const start = versions[0]!;
    const parsed = JSON.parse(start) as { status: string; nodes: Record<string, unknown> };
    expect(parsed.status).toBe("running");
    expect(start).toBe(`${JSON.stringify(parsed)}\n`);
    expect(Object.keys(parsed.nodes)).toHaveLength(2_100);
    expect(parsed.nodes.n7).toEqual({ type: "test-pass", attempts: 0 });
    // The final record: compact JSON, keys in the same order.
    const last = versions.at(-1)!;
    const final = JSON.parse(last) as { status: string; nodes: Record<string, { status: string }> };
    expect(final.status).toBe("succeeded");
    expect(last).toBe(`${JSON.stringify(final)}\n`);
    const before = (o: object) => Object.keys(o).slice(0, Object.keys(o).indexOf("nodes"));
    expect(before(final)).toEqual(before(parsed));
    expect(Object.keys(final.nodes)).toEqual(Array.from({ length: 2_100 }, (_, i) => `n${i}`));
    expect(final.nodes.n2099!.status).toBe("succeeded");
  });
});
