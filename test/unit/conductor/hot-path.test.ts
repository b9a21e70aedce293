// The scheduler's fast path (plain nodes) and its lazy parts (the graph's signal, result.nodes):
// each case runs on the fast path and on the full path (FULL_PATH_ONLY) and must come out the
// same. No test sleeps and then asserts: nodes report what they saw through promises the test
// awaits, and every test makes its own nodes, so no state is shared between tests.
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { defineNode } from "../../../src/nodes/define-node.js";
import { TEST_NODES } from "./harness.js";
import { comparable, loadWith, runObserved, runPaths, runSilent } from "./paths.js";

/** Sums numeric inputs (an array from several edges), synchronously: no promise at all. */
const syncSum = defineNode({
  type: "test-sync-sum",
  parameters: z.object({ add: z.number().default(1) }),
  execute: (ctx) => {
    const values = Array.isArray(ctx.input) ? (ctx.input as number[]) : [typeof ctx.input === "number" ? ctx.input : 0];
    return values.reduce((a, b) => a + b, 0) + ctx.parameters.add;
  },
});

/** Two data outputs: returns `{ even }` or `{ odd }`. */
const parity = defineNode({
  type: "test-parity",
  parameters: z.object({}),
  outputs: [{ id: "even" }, { id: "odd" }],
  execute: async (ctx) => ((ctx.input as number) % 2 === 0 ? { even: ctx.input } : { odd: ctx.input }),
});

const NODES = [...TEST_NODES, syncSum, parity];

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

interface Seen {
  early?: boolean;
  aborted: boolean;
  reason: unknown;
}

/**
 * Nodes for one test, closing over that test's promises:
 * - `probe-relay` waits for `after` to be released, returns `value`, then releases its own id;
 * - `probe-abortable` runs until its signal aborts, and reports what it saw;
 * - `probe-late` waits for `gate` (released by the test) before it first reads its signal;
 * - `probe-throw` fails (asynchronously) without touching its signal.
 */
function probes() {
  const released = new Map<string, ReturnType<typeof deferred<undefined>>>();
  const gate = (id: string) => released.get(id) ?? released.set(id, deferred<undefined>()).get(id)!;
  const seen = new Map<string, ReturnType<typeof deferred<Seen>>>();
  const report = (id: string) => seen.get(id) ?? seen.set(id, deferred<Seen>()).get(id)!;
  const started: string[] = [];
  const relay = defineNode({
    type: "probe-relay",
    parameters: z.object({ after: z.string().optional(), value: z.number() }),
    async execute(ctx) {
      if (ctx.parameters.after !== undefined) await gate(ctx.parameters.after).promise;
      queueMicrotask(() => gate(ctx.nodeId).resolve(undefined));
      return ctx.parameters.value;
    },
  });
  const abortable = defineNode({
    type: "probe-abortable",
    parameters: z.object({}),
    execute(ctx) {
      started.push(ctx.nodeId);
      const early = ctx.signal.aborted;
      return new Promise((_, reject) => {
        ctx.signal.addEventListener("abort", () => {
          report(ctx.nodeId).resolve({ early, aborted: ctx.signal.aborted, reason: ctx.signal.reason });
          reject(ctx.signal.reason);
        }, { once: true });
      });
    },
  });
  const late = defineNode({
    type: "probe-late",
    parameters: z.object({ gate: z.string() }),
    async execute(ctx) {
      started.push(ctx.nodeId);
      await gate(ctx.parameters.gate).promise;
      report(ctx.nodeId).resolve({ aborted: ctx.signal.aborted, reason: ctx.signal.reason });
      return ctx.nodeId;
    },
  });
  const thrower = defineNode({
    type: "probe-throw",
    parameters: z.object({}),
    async execute() {
      await null;
      throw new Error("kaput");
    },
  });
  return { nodes: [...NODES, relay, abortable, late, thrower], release: (id: string) => gate(id).resolve(undefined), seen: (id: string) => report(id).promise, started };
}

/** Runs `yaml` on both paths and checks that they agree; gives the observed fast run. */
async function bothPaths(yaml: string, options: { input?: unknown } = {}) {
  const { catalog, composite } = loadWith(NODES, yaml);
  const { fast, full, fastSilent, fullSilent } = await runPaths(catalog, composite, options);
  expect(fast.events).toEqual(full.events);
  expect(comparable(fast.result)).toEqual(comparable(full.result));
  expect(comparable(fastSilent)).toEqual(comparable(full.result));
  expect(comparable(fullSilent)).toEqual(comparable(full.result));
  return { ...fast, silent: fastSilent };
}

const paths = [
  { path: "fast", full: false },
  { path: "full", full: true },
] as const;

describe("hot path", () => {
  test("fan-in arrays, port maps, skips and sync nodes: both paths agree", async () => {
    const { result, events } = await bothPaths(`
nodes:
  - { id: a, type: test-sync-sum, parameters: { add: 1 } }
  - { id: b, type: test-sync-sum, parameters: { add: 2 } }
  - { id: join, type: test-sync-sum, parameters: { add: 0 } }
  - { id: split, type: test-parity }
  - { id: onEven, type: test-echo }
  - { id: onOdd, type: test-echo }
  - { id: off, type: test-sync-sum, enabled: false }
  - { id: afterOff, type: test-sync-sum }
edges:
  - a -> join
  - b -> join
  - join -> split
  - split.even -> onEven
  - split.odd -> onOdd
  - off -> afterOff
`, { input: 10 });
    expect(events.filter((e) => e.type === "node:finish")).toHaveLength(8);
    expect(result.status).toBe("succeeded");
    // a = 10+1, b = 10+2; join = 11+12 = 23 (odd)
    expect(result.nodes.join!.output).toBe(23);
    expect(result.nodes.onOdd!.output).toMatchObject({ input: 23 });
    expect(result.nodes.onEven).toMatchObject({ status: "skipped", reason: 'upstream "split" did not fire port "even"' });
    expect(result.nodes.off).toMatchObject({ status: "skipped", reason: "disabled (enabled: false)" });
    expect(result.nodes.afterOff).toMatchObject({ status: "skipped", reason: 'upstream "off" was skipped' });
    expect(result.counts).toEqual({ succeeded: 5, failed: 0, skipped: 3, cancelled: 0 });
  });

  test.each(paths)("$path path: several edges into one node give an array in edge order when sources finish in reverse", async ({ full }) => {
    const probe = probes();
    const { catalog, composite } = loadWith(probe.nodes, `
nodes:
  - { id: slow, type: probe-relay, parameters: { after: mid, value: 1 } }
  - { id: mid, type: probe-relay, parameters: { after: fast, value: 2 } }
  - { id: fast, type: probe-relay, parameters: { value: 3 } }
  - { id: join, type: test-echo }
edges: [slow -> join, mid -> join, fast -> join]
`);
    const { result, events } = await runObserved(catalog, composite, full);
    expect(events.filter((e) => e.type === "node:finish").map((e) => e.nodeId)).toEqual(["fast", "mid", "slow", "join"]);
    expect((result.output as { input: unknown }).input).toEqual([1, 2, 3]);
  });

  test("a 5,000-node chain of sync nodes settles in order without recursion and times every node", async () => {
    const lines = ["nodes:"];
    for (let i = 0; i < 5000; i++) lines.push(`  - { id: n${i}, type: test-sync-sum }`);
    lines.push("edges:");
    for (let i = 1; i < 5000; i++) lines.push(`  - n${i - 1} -> n${i}`);
    const { silent } = await bothPaths(`${lines.join("\n")}\n`, { input: 0 });
    expect(silent.status).toBe("succeeded");
    expect(silent.output).toBe(5000);
    expect(silent.nodes.n4999).toMatchObject({ status: "succeeded", attempts: 1 });
    for (const n of Object.values(silent.nodes)) expect(Number.isFinite(n.durationMs)).toBe(true);
  });

  test.each(paths)("$path path: without a caller signal or run timeout, fail-fast aborts a running node's signal", async ({ full }) => {
    const probe = probes();
    const { catalog, composite } = loadWith(probe.nodes, `
nodes:
  - { id: waiter, type: probe-abortable }
  - { id: boom, type: probe-throw }
`);
    // The waiter ends only when its signal aborts: a run that did not abort it would never finish.
    const result = await runSilent(catalog, composite, full);
    expect(result.status).toBe("failed");
    expect(result.nodes.waiter).toMatchObject({ status: "cancelled", reason: 'cancelled because node "boom" failed' });
    const seen = await probe.seen("waiter");
    expect(seen).toMatchObject({ early: false, aborted: true });
    expect((seen.reason as Error).message).toBe('cancelled because node "boom" failed');
  });

  test.each(paths)("$path path: a node that first reads ctx.signal after the graph aborted gets a signal that is already aborted", async ({ full }) => {
    const probe = probes();
    const { catalog, composite } = loadWith(probe.nodes, `
nodes:
  - { id: lateReader, type: probe-late, parameters: { gate: done } }
  - { id: boom, type: probe-throw }
`);
    const result = await runSilent(catalog, composite, full);
    expect(result.status).toBe("failed");
    expect(result.nodes.lateReader!.status).toBe("cancelled");
    probe.release("done");
    const seen = await probe.seen("lateReader");
    expect(seen.aborted).toBe(true);
    expect((seen.reason as Error).message).toBe('cancelled because node "boom" failed');
  });

  test.each(paths)("$path path: a signal first read after a successful run is not aborted", async ({ full }) => {
    const probe = probes();
    const { catalog, composite } = loadWith(probe.nodes, `
nodes:
  - { id: quiet, type: probe-late, parameters: { gate: start } }
`);
    probe.release("start");
    const result = await runSilent(catalog, composite, full);
    expect(result.status).toBe("succeeded");
    expect(await probe.seen("quiet")).toMatchObject({ aborted: false });
  });

  test.each(paths)("$path path: a caller signal aborted before the run cancels it without starting a node", async ({ full }) => {
    const probe = probes();
    const { catalog, composite } = loadWith(probe.nodes, `
nodes:
  - { id: never, type: probe-abortable }
`);
    const result = await runSilent(catalog, composite, full, { signal: AbortSignal.abort() });
    expect(result.status).toBe("cancelled");
    expect(result.nodes.never!.status).toBe("cancelled");
    expect(probe.started).toEqual([]);
  });

  test("result.nodes is an own enumerable property, built once, and serialized with the result", async () => {
    const { silent } = await bothPaths(`
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
