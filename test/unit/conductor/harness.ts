import { z } from "zod";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor, type ExecuteOptions, type RunResult } from "../../../src/conductor/create-conductor.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEvent, RunEventMap } from "../../../src/events/event-map.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { defineNode, type AnyNodeDefinition } from "../../../src/nodes/define-node.js";

/** A node that waits `ms` (cancellable) and returns `value` (default: its input). */
export const sleepNode = defineNode({
  type: "test-sleep",
  title: "sleep",
  description: "test",
  category: "test",
  parameters: z.object({ ms: z.number().default(0), value: z.unknown().optional(), fail: z.string().optional(), retryable: z.boolean().default(true) }),
  inputs: [{ id: "input" }, { id: "extra" }],
  outputs: [{ id: "output" }],
  async execute(ctx) {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ctx.parameters.ms);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(t);
        reject(ctx.signal.reason);
      }, { once: true });
    });
    if (ctx.parameters.fail) {
      const { AtomitonError } = await import("../../../src/errors.js");
      throw new AtomitonError("E_TEST", ctx.parameters.fail, { retryable: ctx.parameters.retryable });
    }
    return ctx.parameters.value === undefined ? ctx.input : ctx.parameters.value;
  },
});

/** Returns `{ input, inputs }` so tests can see exactly what arrived. */
export const echoNode = defineNode({
  type: "test-echo",
  title: "echo",
  description: "test",
  category: "test",
  parameters: z.object({ label: z.unknown().optional() }),
  inputs: [{ id: "input" }, { id: "extra" }],
  outputs: [{ id: "output" }],
  execute: (ctx) => ({ input: ctx.input, inputs: ctx.inputs, label: ctx.parameters.label }),
});

/** Fails with a retryable error until attempt `succeedOn`, then returns the attempt number. */
export const flakyNode = defineNode({
  type: "test-flaky",
  title: "flaky",
  description: "test",
  category: "test",
  parameters: z.object({ succeedOn: z.number().default(2) }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  async execute(ctx) {
    if (ctx.attempt < ctx.parameters.succeedOn) {
      const { AtomitonError } = await import("../../../src/errors.js");
      throw new AtomitonError("E_TEST", `try ${ctx.attempt}`, { retryable: true });
    }
    return ctx.attempt;
  },
});

export const TEST_NODES: AnyNodeDefinition[] = [sleepNode, echoNode, flakyNode];

export interface Harness {
  result: RunResult;
  events: RunEvent[];
  /** `nodeId:type[:status]` lines in event order, for ordered assertions. */
  trace: string[];
}

/** Load YAML text with the test nodes (and `extra` ones), run it through a real conductor and record every event (also passed to `onEvent` as it comes). */
export async function runYaml(yaml: string, options: Omit<ExecuteOptions, "composite"> = {}, extra: AnyNodeDefinition[] = [], onEvent?: (event: RunEvent) => void): Promise<Harness> {
  const catalog = createBuiltinCatalog([...TEST_NODES, ...extra].map((definition) => ({ definition, source: "test" })));
  const loaded = loadCompositeFromText(yaml, { catalog, file: "test.yaml", variables: Object.keys(options.vars ?? {}) });
  if (!loaded.ok || !loaded.composite) throw new Error(`invalid test composite: ${JSON.stringify(loaded.problems, null, 2)}`);
  const bus = createEventBus<RunEventMap>();
  const events: RunEvent[] = [];
  bus.onAny((type, payload) => {
    const event = { type, ...payload } as RunEvent;
    events.push(event);
    onEvent?.(event);
  });
  const conductor = createConductor({ events: bus, nodes: catalog });
  const result = await conductor.execute({ composite: loaded.composite, ...options });
  const trace = events.flatMap((e) => {
    if (e.type === "node:start") return [`${e.nodeId}:start`];
    if (e.type === "node:finish") return [`${e.nodeId}:${e.status}`];
    return [];
  });
  return { result, events, trace };
}
