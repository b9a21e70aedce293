// Issue 11, defect 4: the fast path (plain nodes read straight from the flat arrays) and the full
// path (every rule) must be indistinguishable. fast-check generates graphs with fan-in, port maps,
// edges into a second port, disabled nodes, `if:`, `onError` (fail, continue, route), retries,
// timeouts and templated parameters, sync and async nodes that succeed, fail or fail once; each
// graph runs on both paths and must give the same result and the same event sequence (the
// clock's readings taken out), observed and with no listener at all.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { compileGraph, NodeFlag } from "../../../src/conductor/compile-graph.js";
import { AtomitonError } from "../../../src/errors.js";
import { defineNode } from "../../../src/nodes/define-node.js";
import { comparable, loadWith, runPaths, runSilent } from "./paths.js";

/** FAST_PATH_RUNS_SCALE=10 for a longer hunt. */
const SCALE = Number(process.env.FAST_PATH_RUNS_SCALE ?? 1);

/**
 * What a value adds up to: numbers, arrays of them (fan-in) weighted by position (so edge order
 * counts), an error port's object as 100, null as 0.
 */
function total(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((sum: number, x) => (sum * 7 + total(x)) % 1_000_003, 1);
  if (typeof v === "number") return v;
  return v !== null && typeof v === "object" ? 100 : 0;
}

/** Adds its inputs (primary and `extra`) and `add`; logs; may fail always or on its first attempt. */
const adder = defineNode({
  type: "pt-add",
  parameters: z.object({ add: z.number().default(1), async: z.boolean().default(false), fail: z.enum(["never", "always", "first"]).default("never") }),
  inputs: [{ id: "input" }, { id: "extra" }],
  execute(ctx) {
    const p = ctx.parameters;
    const sum = total(ctx.input) + total(ctx.inputs.extra) + p.add;
    ctx.log("info", `sum ${sum}`);
    const failing = p.fail === "always" || (p.fail === "first" && ctx.attempt === 1);
    const error = failing ? new AtomitonError("E_TEST", `${ctx.nodeId} failed on attempt ${ctx.attempt}`, { retryable: true }) : undefined;
    if (p.async) return error ? Promise.reject(error) : Promise.resolve(sum);
    if (error) throw error;
    return sum;
  },
});

/** A port map: `{ even }` or `{ odd }` by its input's total. */
const split = defineNode({
  type: "pt-split",
  parameters: z.object({ async: z.boolean().default(false) }),
  outputs: [{ id: "even" }, { id: "odd" }],
  execute(ctx) {
    const n = total(ctx.input);
    const out = n % 2 === 0 ? { even: n } : { odd: n };
    return ctx.parameters.async ? Promise.resolve(out) : out;
  },
});

const NODES = [adder, split];

interface GenNode {
  kind: "add" | "split";
  async: boolean;
  fail: "never" | "always" | "first";
  feature: "none" | "disabled" | "if" | "continue" | "route" | "retry" | "timeout" | "template";
  /** Sources: index of an earlier node, and which of its ports / which of ours. */
  from: { pick: number; port: number; extra: boolean }[];
}

const genNode: fc.Arbitrary<GenNode> = fc.record({
  kind: fc.oneof({ weight: 4, arbitrary: fc.constant("add" as const) }, { weight: 1, arbitrary: fc.constant("split" as const) }),
  async: fc.boolean(),
  fail: fc.oneof({ weight: 6, arbitrary: fc.constant("never" as const) }, { weight: 1, arbitrary: fc.constant("always" as const) }, { weight: 1, arbitrary: fc.constant("first" as const) }),
  // Mostly plain nodes, so that most graphs mix the two paths.
  feature: fc.oneof(
    { weight: 10, arbitrary: fc.constant("none" as const) },
    { weight: 1, arbitrary: fc.constantFrom("disabled" as const, "if" as const, "continue" as const, "route" as const, "retry" as const, "timeout" as const, "template" as const) },
  ),
  from: fc.array(fc.record({ pick: fc.nat(), port: fc.nat({ max: 5 }), extra: fc.boolean() }), { maxLength: 3 }),
});

const genGraph = fc.record({ nodes: fc.array(genNode, { minLength: 1, maxLength: 8 }), concurrency: fc.integer({ min: 1, max: 4 }), go: fc.boolean(), input: fc.integer({ min: 0, max: 9 }) });

/** The generated graph as YAML: edges only go forward, so it is acyclic. */
function toYaml(nodes: GenNode[]): string {
  const lines = ["nodes:"];
  const edges: string[] = [];
  nodes.forEach((n, i) => {
    const params: string[] = [];
    if (n.async) params.push("async: true");
    if (n.kind === "add" && n.fail !== "never") params.push(`fail: ${n.fail}`);
    if (n.kind === "add" && n.feature === "template") params.push('add: "{{ $vars.k }}"');
    const extra =
      n.feature === "disabled" ? ", enabled: false"
      : n.feature === "if" ? ', if: "$vars.go"'
      : n.feature === "continue" ? ", onError: continue"
      : n.feature === "route" ? ", onError: route"
      : n.feature === "retry" ? ", retry: { attempts: 2, delay: 0, jitter: 0 }"
      : n.feature === "timeout" ? ", timeout: 1h"
      : "";
    lines.push(`  - { id: n${i}, type: pt-${n.kind}${extra}, parameters: { ${params.join(", ")} } }`);
    if (i === 0) return;
    const seen = new Set<string>();
    for (const f of n.from) {
      const s = f.pick % i;
      const source = nodes[s]!;
      const port = source.kind === "split" ? (f.port % 2 === 0 ? ".even" : ".odd") : source.feature === "route" && f.port === 0 ? ".error" : "";
      const target = n.kind === "add" && f.extra ? ".extra" : "";
      const edge = `n${s}${port} -> n${i}${target}`;
      if (seen.has(edge)) continue;
      seen.add(edge);
      edges.push(`  - ${edge}`);
    }
  });
  lines.push(edges.length === 0 ? "edges: []" : "edges:", ...edges);
  return `${lines.join("\n")}\n`;
}

describe("the fast path and the full path agree", { timeout: 120_000 * SCALE }, () => {
  test("on generated graphs: same results, same event sequences, observed and silent", async () => {
    let plainNodes = 0;
    let mixed = 0;
    await fc.assert(
      fc.asyncProperty(genGraph, async ({ nodes, concurrency, go, input }) => {
        const yaml = toYaml(nodes);
        const { catalog, composite } = loadWith(NODES, yaml, ["go", "k"]);
        const flags = compileGraph(composite, catalog).flags;
        const plain = flags.filter((f) => (f & NodeFlag.PLAIN) !== 0).length;
        plainNodes += plain;
        if (plain > 0 && plain < flags.length) mixed++;
        const options = { input, concurrency, vars: { go, k: 5 } };
        const { fast, full, fastSilent, fullSilent } = await runPaths(catalog, composite, options);
        expect(fast.events, yaml).toEqual(full.events);
        expect(comparable(fast.result), yaml).toEqual(comparable(full.result));
        expect(comparable(fastSilent), yaml).toEqual(comparable(fullSilent));
        expect(comparable(fastSilent), yaml).toEqual(comparable(fast.result));
      }),
      { numRuns: 200 * SCALE },
    );
    // The comparison means something only if many nodes were plain, in graphs that mix both kinds.
    expect(plainNodes).toBeGreaterThan(200 * SCALE);
    expect(mixed).toBeGreaterThan(20 * SCALE);
  });

  test("FULL_PATH_ONLY keeps every node off the fast path (its parameter cache stays empty)", async () => {
    const { catalog, composite } = loadWith(NODES, "nodes:\n  - { id: a, type: pt-add }\n  - { id: b, type: pt-add }\nedges: [a -> b]\n");
    const graph = compileGraph(composite, catalog);
    expect([...graph.flags].map((f) => f & NodeFlag.PLAIN)).toEqual([NodeFlag.PLAIN, NodeFlag.PLAIN]);
    expect((await runSilent(catalog, composite, true, { input: 1 })).output).toBe(3);
    // The fast path caches parsed static parameters in `graph.params`; the full path never reads it.
    expect(graph.params).toEqual([undefined, undefined]);
    expect((await runSilent(catalog, composite, false, { input: 1 })).output).toBe(3);
    expect(graph.params).toEqual([{ add: 1, async: false, fail: "never" }, { add: 1, async: false, fail: "never" }]);
  });
});
