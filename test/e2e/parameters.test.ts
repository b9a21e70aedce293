// Every run and every loop iteration sees its own parameters (issue 11, defect 1): a node may change
// `ctx.parameters` (push to an array, sort it in place) without the next run or iteration seeing it.
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { atomiton, ROOT, useTempDir } from "../helpers/cli.js";
import { startServe, TestClient, type ServeProcess } from "../helpers/serve.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-params-");

/** A custom node that appends to its `items` parameter and returns how many it holds. */
const PUSH_NODE = `import { defineNode } from "atomiton";
import { z } from "zod";

export default defineNode({
  type: "push-item",
  title: "Push item",
  description: "Appends x to its items parameter and returns their count.",
  category: "custom",
  parameters: z.object({ items: z.array(z.string()).default(["a"]) }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  execute: ({ parameters }) => {
    parameters.items.push("x");
    return parameters.items.length;
  },
});
`;

/** One node with `items` in the YAML, one with the schema's default, in a loop and after it. */
const COMPOSITE = `name: parameters stay put
nodes:
  - id: each
    type: loop
    parameters: { items: [1, 2, 3], concurrency: 1 }
    nodes:
      - { id: given, type: push-item, parameters: { items: [a] } }
      - { id: defaulted, type: push-item }
  - { id: after, type: push-item, parameters: { items: [a] } }
  - { id: afterDefault, type: push-item }
edges:
  - each -> after
  - each -> afterDefault
`;

const ONE_ITERATION = { given: 2, defaulted: 2 };
const OUTPUT = { after: 2, afterDefault: 2 };

async function project(): Promise<void> {
  await mkdir(path.join(dir, "node_modules"), { recursive: true });
  await symlink(ROOT, path.join(dir, "node_modules/atomiton"), "dir");
  await symlink(path.join(ROOT, "node_modules/zod"), path.join(dir, "node_modules/zod"), "dir");
  await mkdir(path.join(dir, "nodes"));
  await writeFile(path.join(dir, "nodes/push-item.mjs"), PUSH_NODE);
  await writeFile(path.join(dir, "flow.yaml"), COMPOSITE);
}

describe("parameters are never shared", () => {
  let server: ServeProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  test("each loop iteration sees its own parameters (atomiton run)", async () => {
    await project();
    const r = await atomiton(["run", "flow.yaml", "--nodes", "./nodes", "--storage", "memory", "--reporter", "silent", "-o", "-"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(OUTPUT);
    // The loop's own output: every iteration pushed to a fresh copy.
    const looped = await atomiton(["run", "flow.yaml", "--nodes", "./nodes", "--storage", "memory", "--reporter", "json"], { cwd: dir });
    const finishes = looped.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; nodeId?: string; output?: unknown; iteration?: number })
      .filter((e) => e.type === "node:finish" && e.nodeId === "each");
    expect(finishes.map((e) => e.output)).toEqual([[ONE_ITERATION, ONE_ITERATION, ONE_ITERATION]]);
  });

  test("three identical runs in one process each see their own parameters (atomiton serve)", async () => {
    await project();
    server = await startServe(["--nodes", "./nodes", "--storage", "memory"], { cwd: dir });
    const client = await TestClient.open(server.url, { token: server.token });
    try {
      const outputs: unknown[] = [];
      for (let run = 0; run < 3; run++) {
        const { runId } = await client.request("run.start", { path: "flow.yaml" });
        const finish = await client.request("run.wait", { runId });
        expect(finish.status).toBe("succeeded");
        outputs.push(finish.output);
      }
      expect(outputs).toEqual([OUTPUT, OUTPUT, OUTPUT]);
    } finally {
      client.close();
    }
  });
});

describe("{{ $nodes }} as a parameter", () => {
  test("is the outputs as they were when the node started, the enclosing graph's too (it was the live scope: it grew, and held itself)", async () => {
    await writeFile(
      path.join(dir, "flow.yaml"),
      `name: nodes snapshot
nodes:
  - { id: a, type: code, parameters: { code: "return 1" } }
  - { id: snap, type: edit-fields, parameters: { values: { seen: "{{ $nodes }}" } } }
  - { id: b, type: code, parameters: { code: "return 2" } }
  - id: g
    type: group
    nodes:
      - { id: look, type: edit-fields, parameters: { values: { seen: "{{ $nodes }}" } } }
  - { id: c, type: code, parameters: { code: "return { top: Object.keys(data[0].seen).sort(), body: Object.keys(data[2].seen).sort(), json: JSON.stringify(data).length > 0 }" } }
edges: [a -> snap, a -> b, a -> g, snap -> c, b -> c, g -> c]
`,
    );
    const r = await atomiton(["run", "flow.yaml", "--storage", "memory", "--reporter", "silent", "--output", "-"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    // What had finished when each started (b and snap may finish first, by the scheduler's order), never the node itself.
    const seen = JSON.parse(r.stdout) as { top: string[]; body: string[]; json: boolean };
    expect(seen.json).toBe(true);
    expect(seen.top).toContain("a");
    expect(seen.top).not.toContain("snap");
    expect(seen.body).toContain("a");
    expect(seen.body).not.toContain("look");
  });
});
