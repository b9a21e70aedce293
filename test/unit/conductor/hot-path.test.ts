// The scheduler's fast path (plain nodes, no listeners) and its lazy parts (signals, result.nodes)
// must behave exactly like the full path. These runs use a conductor with no listeners at all,
// which is the case the fast path serves, and compare it with an observed run of the same graph.
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor, type ExecuteOptions } from "../../../src/conductor/create-conductor.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap } from "../../../src/events/event-map.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { defineNode } from "../../../src/nodes/define-node.js";
import { TEST_NODES } from "./harness.js";

/** Sums numeric inputs (an array from several edges), synchronously: no promise at all. */
const syncSum = defineNode({
  type: "test-sync-sum",
  title: "sum",
  description: "test",
  category: "test",
  parameters: z.object({ add: z.number().default(1) }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  execute: (ctx) => {
    const values = Array.isArray(ctx.input) ? (ctx.input as number[]) : [typeof ctx.input === "number" ? ctx.input : 0];
    return values.reduce((a, b) => a + b, 0) + ctx.parameters.add;
  },
});

/** Two data outputs: returns `{ even, odd }` with only the matching port set. */
const parity = defineNode({
  type: "test-parity",
  title: "parity",
  description: "test",
  category: "test",
  parameters: z.object({}),
  inputs: [{ id: "input" }],
  outputs: [{ id: "even" }, { id: "odd" }],
  execute: async (ctx) => ((ctx.input as number) % 2 === 0 ? { even: ctx.input } : { odd: ctx.input }),
});

/** Records what it saw of its signal, now and `ms` later, into `seen` (shared by the test). */
const seen: Record<string, { early: boolean; late?: boolean; reason?: unknown }> = {};
const watcher = defineNode({
  type: "test-watch-signal",
  title: "watch",
  description: "test",
  category: "test",
  parameters: z.object({ ms: z.number().default(0), readFirst: z.boolean().default(true) }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  async execute(ctx) {
    const id = ctx.nodeId;
    // readFirst: false leaves the graph's controller unmade until after the wait.
    seen[id] = { early: ctx.parameters.readFirst ? ctx.signal.aborted : false };
    await new Promise((resolve) => setTimeout(resolve, ctx.parameters.ms));
    seen[id]!.late = ctx.signal.aborted;
    seen[id]!.reason = ctx.signal.reason;
    return id;
  },
});

/** Fails after a tick without ever touching its signal (so the graph's controller stays unmade). */
const thrower = defineNode({
  type: "test-throw",
  title: "throw",
  description: "test",
  category: "test",
  parameters: z.object({}),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  async execute() {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new Error("kaput");
  },
});

const NODES = [...TEST_NODES, syncSum, parity, watcher, thrower];

function load(yaml: string) {
  const catalog = createBuiltinCatalog(NODES.map((definition) => ({ definition, source: "test" })));
  const loaded = loadCompositeFromText(yaml, { catalog, file: "hot.yaml" });
  if (!loaded.ok || !loaded.composite) throw new Error(JSON.stringify(loaded.problems));
  return { catalog, composite: loaded.composite };
}

/** Run with no listeners (fast path) and with a listener on every event (payloads built). */
async function runBoth(yaml: string, options: Omit<ExecuteOptions, "composite"> = {}) {
  const { catalog, composite } = load(yaml);
  const silent = await createConductor({ nodes: catalog }).execute({ composite, ...options });
  const bus = createEventBus<RunEventMap>();
  const types: string[] = [];
  bus.onAny((type, _payload) => {
    types.push(type);
  });
  const observed = await createConductor({ nodes: catalog, events: bus }).execute({ composite, ...options });
  return { silent, observed, types };
}

const strip = (nodes: Record<string, { durationMs: number }>) =>
  Object.fromEntries(Object.entries(nodes).map(([id, { durationMs: _d, ...rest }]) => [id, rest]));

describe("hot path", () => {
  test("fan-in arrays, port maps, skips and sync nodes: silent and observed runs agree", async () => {
    const yaml = `
nodes:
  - { id: a, type: test-sync-sum, parameters: { add: 1 } }
  - { id: b, type: test-sync-sum, parameters: { add: 2 } }
  - { id: c, type: test-sleep, parameters: { ms: 1 } }
  - { id: join, type: test-sync-sum, parameters: { add: 0 } }
  - { id: split, type: test-parity }
  - { id: onEven, type: test-echo }
  - { id: onOdd, type: test-echo }
  - { id: off, type: test-sync-sum, enabled: false }
  - { id: afterOff, type: test-sync-sum }
edges:
  - a -> join
  - b -> join
  - c -> join
  - join -> split
  - split.even -> onEven
  - split.odd -> onOdd
  - off -> afterOff
`;
    const { silent, observed, types } = await runBoth(yaml, { input: 10 });
    expect(types.length).toBeGreaterThan(10);
    for (const result of [silent, observed]) {
      expect(result.status).toBe("succeeded");
      // a = 10+1, b = 10+2, c passes 10 on; join = 11+12+10 = 33 (odd)
      expect(result.nodes.join!.output).toBe(33);
      expect(result.nodes.onOdd!.output).toMatchObject({ input: 33 });
      expect(result.nodes.onEven).toMatchObject({ status: "skipped", reason: 'upstream "split" did not fire port "even"' });
      expect(result.nodes.off).toMatchObject({ status: "skipped", reason: "disabled (enabled: false)" });
      expect(result.nodes.afterOff).toMatchObject({ status: "skipped", reason: 'upstream "off" was skipped' });
      expect(result.counts).toEqual({ succeeded: 6, failed: 0, skipped: 3, cancelled: 0 });
    }
    expect(silent.output).toEqual(observed.output);
    expect(strip(silent.nodes)).toEqual(strip(observed.nodes));
  });

  test("several edges into one node give an array in edge order even when sources finish in reverse", async () => {
    const { silent } = await runBoth(`
nodes:
  - { id: slow, type: test-sleep, parameters: { ms: 30, value: 1 } }
  - { id: mid, type: test-sleep, parameters: { ms: 15, value: 2 } }
  - { id: fast, type: test-sleep, parameters: { ms: 0, value: 3 } }
  - { id: join, type: test-echo }
edges: [slow -> join, mid -> join, fast -> join]
`);
    expect((silent.output as { input: unknown }).input).toEqual([1, 2, 3]);
  });

  test("a 5,000-node chain of sync nodes settles in order without recursion and times every node", async () => {
    const lines = ["nodes:"];
    for (let i = 0; i < 5000; i++) lines.push(`  - { id: n${i}, type: test-sync-sum }`);
    lines.push("edges:");
    for (let i = 1; i < 5000; i++) lines.push(`  - n${i - 1} -> n${i}`);
    const { silent } = await runBoth(`${lines.join("\n")}\n`, { input: 0 });
    expect(silent.status).toBe("succeeded");
    expect(silent.output).toBe(5000);
    expect(silent.nodes.n4999).toMatchObject({ status: "succeeded", attempts: 1 });
    for (const n of Object.values(silent.nodes)) expect(n.durationMs).toBeGreaterThanOrEqual(0);
  });

  test("without a caller signal or run timeout, fail-fast still aborts a running node's signal", async () => {
    const { catalog, composite } = load(`
nodes:
  - { id: slow, type: test-sleep, parameters: { ms: 10000 } }
  - { id: boom, type: test-sleep, parameters: { ms: 5, fail: "kaput", retryable: false } }
`);
    const result = await createConductor({ nodes: catalog }).execute({ composite });
    expect(result.status).toBe("failed");
    // test-sleep rejects with its signal's reason when aborted: the run did not wait 10 s for it.
    expect(result.nodes.slow).toMatchObject({ status: "cancelled", reason: 'cancelled because node "boom" failed' });
    expect(result.durationMs).toBeLessThan(5000);
  });

  test("a node that first reads ctx.signal after the graph aborted gets a signal that is already aborted", async () => {
    const { catalog, composite } = load(`
nodes:
  - { id: lateReader, type: test-watch-signal, parameters: { ms: 40, readFirst: false } }
  - { id: boom, type: test-throw }
`);
    const result = await createConductor({ nodes: catalog }).execute({ composite });
    expect(result.status).toBe("failed");
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(seen.lateReader).toMatchObject({ early: false, late: true });
    expect((seen.lateReader!.reason as Error).message).toBe('cancelled because node "boom" failed');
  });

  test("a node that reads ctx.signal early sees the abort when a sibling fails", async () => {
    const { catalog, composite } = load(`
nodes:
  - { id: earlyReader, type: test-watch-signal, parameters: { ms: 40 } }
  - { id: boom, type: test-throw }
`);
    await createConductor({ nodes: catalog }).execute({ composite });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(seen.earlyReader).toMatchObject({ early: false, late: true });
  });

  test("a signal read after a successful run is not aborted", async () => {
    const { catalog, composite } = load(`
nodes:
  - { id: quiet, type: test-watch-signal, parameters: { ms: 1, readFirst: false } }
`);
    const result = await createConductor({ nodes: catalog }).execute({ composite });
    expect(result.status).toBe("succeeded");
    expect(seen.quiet).toMatchObject({ late: false });
  });

  test("a caller signal aborted before the run cancels it without starting a node", async () => {
    const { catalog, composite } = load(`
nodes:
  - { id: never, type: test-watch-signal }
`);
    delete seen.never;
    const result = await createConductor({ nodes: catalog }).execute({ composite, signal: AbortSignal.abort() });
    expect(result.status).toBe("cancelled");
    expect(result.nodes.never!.status).toBe("cancelled");
    expect(seen.never).toBeUndefined();
  });

  test("result.nodes is an own enumerable property, built once, and serialized with the result", async () => {
    const { silent } = await runBoth(`
nodes:
  - { id: only, type: test-sync-sum }
`);
    expect(Object.keys(silent)).toContain("nodes");
    expect(silent.nodes).toBe(silent.nodes);
    const json = JSON.parse(JSON.stringify(silent)) as { nodes: Record<string, { status: string }> };
    expect(json.nodes.only!.status).toBe("succeeded");
    expect({ ...silent }.nodes.only!.output).toBe(1);
  });
});
