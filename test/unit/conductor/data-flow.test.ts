import { describe, expect, test } from "vitest";
import { runYaml } from "./harness.js";

describe("data flow (SPEC §4.2)", () => {
  test("root nodes receive the run input", async () => {
    const { result } = await runYaml(`nodes: [{ id: a, type: test-echo }]`, { input: { x: 1 } });
    expect(result.output).toEqual({ input: { x: 1 }, inputs: { input: { x: 1 } } });
  });

  test("several edges into one port give an array in edge order", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: first, type: test-sleep, parameters: { value: 1, ms: 20 } }
  - { id: second, type: test-sleep, parameters: { value: 2 } }
  - { id: third, type: test-sleep, parameters: { value: 3, ms: 5 } }
  - { id: join, type: test-echo }
edges: [third -> join, first -> join, second -> join]
`);
    // Edge order (third, first, second), not finish order.
    expect((result.output as { input: unknown }).input).toEqual([3, 1, 2]);
  });

  test("edges into different ports arrive on those ports", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: a, type: test-sleep, parameters: { value: A } }
  - { id: b, type: test-sleep, parameters: { value: B } }
  - { id: join, type: test-echo }
edges: [a -> join.input, b -> join.extra]
`);
    expect(result.output).toEqual({ input: "A", inputs: { input: "A", extra: "B" } });
  });

  test("several sinks give a map of outputs by id", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: src, type: test-sleep, parameters: { value: 5 } }
  - { id: left, type: code, parameters: { code: "return data * 2" } }
  - { id: right, type: code, parameters: { code: "return data + 1" } }
edges: [src -> left, src -> right]
`);
    expect(result.output).toEqual({ left: 10, right: 6 });
  });

  test("condition fires one port; the other branch is skipped with a reason and a join still runs", async () => {
    const { result, events } = await runYaml(`
nodes:
  - { id: check, type: condition, parameters: { expression: "$input > 3" } }
  - { id: big, type: code, parameters: { code: "return 'big ' + data" } }
  - { id: small, type: code, parameters: { code: "return 'small ' + data" } }
  - { id: join, type: test-echo }
edges: [check.true -> big, check.false -> small, big -> join, small -> join]
`, { input: 7 });
    expect(result.status).toBe("succeeded");
    const small = events.find((e) => e.type === "node:finish" && e.nodeId === "small");
    expect(small).toMatchObject({ status: "skipped", reason: 'upstream "check" did not fire port "false"' });
    expect((result.output as { input: unknown }).input).toEqual(["big 7"]);
  });

  test("downstream of a disabled node is skipped", async () => {
    const { result } = await runYaml(`
nodes:
  - { id: a, type: test-echo, enabled: false }
  - { id: b, type: test-echo }
edges: [a -> b]
`);
    expect(result.nodes.a).toMatchObject({ status: "skipped", reason: "disabled (enabled: false)" });
    expect(result.nodes.b).toMatchObject({ status: "skipped", reason: 'upstream "a" was skipped' });
  });

  test("if: false skips the node and records why", async () => {
    const { result } = await runYaml(`
variables: { go: { type: boolean, default: false } }
nodes:
  - { id: a, type: test-echo, if: "$vars.go" }
`);
    expect(result.nodes.a).toMatchObject({ status: "skipped", reason: "if: $vars.go was false" });
  });
});
