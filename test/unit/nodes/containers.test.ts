import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { loadComposite, loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { runYaml } from "../conductor/harness.js";

const peakOf = (events: { type: string; nodeId?: string }[], nodeId: string) => {
  let running = 0;
  let peak = 0;
  for (const e of events) {
    if (e.nodeId !== nodeId) continue;
    if (e.type === "node:start") peak = Math.max(peak, ++running);
    if (e.type === "node:finish") running--;
  }
  return peak;
};

describe("loop", () => {
  test("times with a count over maxIterations is an E_PARAM at its line before anything runs (it built the whole range first, 13 s for 1e8)", () => {
    const yaml = "nodes:\n  - id: l\n    type: loop\n    parameters: { mode: times, count: 5000000000 }\n    nodes:\n      - { id: x, type: log, parameters: { message: hi } }\n";
    const loaded = loadCompositeFromText(yaml, { file: "loop.yaml" });
    expect(loaded.ok).toBe(false);
    expect(loaded.problems[0]).toMatchObject({ code: "E_PARAM", message: expect.stringContaining("count 5000000000 is more than maxIterations (1000)"), line: 4 });
  });

  test("forEach runs the body per item, keeps order, exposes $item/$index, tags events with iteration", async () => {
    const { result, events } = await runYaml(`
nodes:
  - id: each
    type: loop
    parameters: { concurrency: 3 }
    nodes:
      - { id: wait, type: test-sleep, parameters: { ms: "{{ (5 - $index) * 10 }}" } }
      - { id: label, type: code, parameters: { code: "return $index + ':' + data" } }
    edges: [wait -> label]
`, { input: ["a", "b", "c", "d", "e"] });
    expect(result.status).toBe("succeeded");
    expect(result.output).toEqual(["0:a", "1:b", "2:c", "3:d", "4:e"]);
    const iterations = events.filter((e) => e.type === "node:finish" && e.nodeId === "label").map((e) => (e as { iteration?: number }).iteration);
    expect(iterations.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(peakOf(events, "wait")).toBe(3);
    const progress = events.filter((e) => e.type === "node:progress" && e.nodeId === "each").map((e) => (e as { message?: string }).message);
    expect(progress.at(-1)).toBe("5/5");
  });

  test("times and while modes", async () => {
    const times = await runYaml(`
nodes:
  - id: rep
    type: loop
    parameters: { mode: times, count: 3 }
    nodes: [{ id: sq, type: code, parameters: { code: "return data * data" } }]
`);
    expect(times.result.output).toEqual([0, 1, 4]);
    const whileLoop = await runYaml(`
nodes:
  - id: grow
    type: loop
    parameters: { mode: while, condition: "$last < 100" }
    nodes: [{ id: double, type: code, parameters: { code: "return data * 2" } }]
`, { input: 3 });
    expect(whileLoop.result.output).toEqual([6, 12, 24, 48, 96, 192]);
  });

  test("breakOnError: false records the failed item and goes on; true fails the loop", async () => {
    const body = `
    nodes: [{ id: check, type: code, parameters: { code: "if (data === 2) throw new Error('bad item'); return data" } }]`;
    const lenient = await runYaml(`
nodes:
  - id: each
    type: loop
    parameters: { breakOnError: false }${body}
`, { input: [1, 2, 3] });
    expect(lenient.result.status).toBe("succeeded");
    expect(lenient.result.output).toEqual([1, { error: { code: "E_NODE", message: "check[1]: bad item" } }, 3]);
    const strict = await runYaml(`
nodes:
  - id: each
    type: loop${body}
`, { input: [1, 2, 3] });
    expect(strict.result.status).toBe("failed");
    expect(strict.result.error?.message).toContain("check[1]: bad item");
  });

  test("editor files: a parallel node at the body root bounds the loop's concurrency", async () => {
    const { result, events } = await runYaml(`
type: group
nodes:
  - { id: loop, type: loop, parameters: {} }
  - { id: par, type: parallel, parameters: { concurrency: 2 } }
  - { id: work, type: test-sleep, parameters: { ms: 20 } }
edges:
  - { source: loop, target: par, sourceHandle: item, targetHandle: input }
  - { source: par, target: work, sourceHandle: output, targetHandle: input }
`, { input: [1, 2, 3, 4, 5, 6] });
    expect(result.status).toBe("succeeded");
    expect(result.output).toEqual([1, 2, 3, 4, 5, 6]);
    expect(peakOf(events, "work")).toBe(2);
  });
});

describe("parallel", () => {
  const branches = (strategy: string) => `
nodes:
  - id: fan
    type: parallel
    parameters: { strategy: ${strategy}, concurrency: 3 }
    nodes:
      - { id: slow, type: test-sleep, parameters: { ms: 80, value: slow } }
      - { id: fast, type: test-sleep, parameters: { ms: 5, value: fast } }
      - { id: bad, type: test-sleep, parameters: { ms: 30, fail: nope, retryable: false } }
`;
  test("allSettled collects every branch in order", async () => {
    const { result } = await runYaml(branches("allSettled"));
    expect(result.output).toEqual([
      { status: "fulfilled", value: "slow" },
      { status: "fulfilled", value: "fast" },
      { status: "rejected", error: expect.objectContaining({ code: "E_TEST" }) },
    ]);
  });
  test("all fails when a branch fails", async () => {
    const { result } = await runYaml(branches("all"));
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("E_TEST");
  });
  test("race returns the first branch to succeed and cancels the others", async () => {
    const { result, events } = await runYaml(branches("race"));
    expect(result.output).toBe("fast");
    const slow = events.find((e) => e.type === "node:finish" && e.nodeId === "slow");
    expect(slow).toMatchObject({ status: "cancelled" });
  });
});

describe("group", () => {
  test("inline body: roots get the group input, the sink's output is the group output", async () => {
    const { result } = await runYaml(`
nodes:
  - id: g
    type: group
    nodes:
      - { id: inc, type: code, parameters: { code: "return data + 1" } }
      - { id: dbl, type: code, parameters: { code: "return data * 2" } }
    edges: [inc -> dbl]
  - { id: after, type: code, parameters: { code: "return 'got ' + data" } }
edges: [g -> after]
`, { input: 4 });
    expect(result.output).toBe("got 10");
  });

  test("ref: loads another file relative to the containing one, and detects cycles across files", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-ref-"));
    await writeFile(path.join(dir, "main.yaml"), "nodes:\n  - { id: sub, type: group, ref: ./parts/inner.yaml }\n");
    await mkdir(path.join(dir, "parts"));
    await writeFile(path.join(dir, "parts/inner.yaml"), "nodes:\n  - { id: twice, type: code, parameters: { code: 'return data * 2' } }\n");
    const ok = await loadComposite(path.join(dir, "main.yaml"));
    expect(ok.ok).toBe(true);
    expect(ok.composite!.nodes[0]!.body!.nodes.map((n) => n.id)).toEqual(["twice"]);

    await writeFile(path.join(dir, "a.yaml"), "nodes:\n  - { id: to-b, type: group, ref: ./b.yaml }\n");
    await writeFile(path.join(dir, "b.yaml"), "nodes:\n  - { id: to-a, type: group, ref: ./a.yaml }\n");
    const cyclic = await loadComposite(path.join(dir, "a.yaml"));
    expect(cyclic.ok).toBe(false);
    const cycle = cyclic.problems.find((p) => p.code === "E_CYCLE")!;
    expect(cycle.message).toMatch(/ref cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml/);
    expect(cycle.line).toBe(2);
  });
});
