import { writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { fiveLineNode } from "../helpers/five-line-node.js";

// SPEC §3: only `type` and `execute` are required, so a first custom node is the five lines,
// loaded with --nodes by the built CLI. (Under --watch: test/e2e/watch.test.ts.)

let dir = "";
useTempDir((d) => (dir = d), "atomiton-five-line-");

test("the five-line node runs with --nodes: defaulted ports carry its output to the next node", async () => {
  await writeFile(path.join(dir, "double.ts"), fiveLineNode());
  await writeFile(
    path.join(dir, "flow.yaml"),
    "nodes:\n  - id: twice\n    type: double\n    parameters: { n: 21 }\n  - id: shout\n    type: code\n    parameters: { code: \"return { got: data }\" }\nedges: [twice -> shout]\n",
  );
  const r = await atomiton(["run", "flow.yaml", "--nodes", "./double.ts", "--output", "-", "--reporter", "silent"], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ got: 42 });
});

test("its parameter schema is validated before anything runs, and `atomiton nodes` shows the defaults", async () => {
  await writeFile(path.join(dir, "double.ts"), fiveLineNode());
  await writeFile(path.join(dir, "flow.yaml"), 'nodes:\n  - id: twice\n    type: double\n    parameters: { n: "many" }\n');
  const bad = await atomiton(["run", "flow.yaml", "--nodes", "./double.ts", "--reporter", "plain"], { cwd: dir });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toMatch(/flow\.yaml:4:\d+.*E_PARAM|E_PARAM[\s\S]*flow\.yaml:4:\d+/);
  expect(bad.stderr).not.toMatch(/^\s+at /m);

  const listed = await atomiton(["nodes", "double", "--nodes", "./double.ts"], { cwd: dir });
  expect(listed.exitCode, listed.stderr).toBe(0);
  expect(listed.stdout).toMatch(/custom/);
  expect(listed.stdout).toMatch(/\bn\b/);
});
