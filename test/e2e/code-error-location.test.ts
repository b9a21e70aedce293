import { writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// An error thrown in a `code` body says where in the body: `x.foo` on null said only "Cannot read
// properties of null", and a node author had no line to go to.

let dir = "";
useTempDir((d) => (dir = d), "atomiton-code-line-");

test.each([
  { name: "a sync body", extra: "", body: ["const x = null;", "const y = 1;", "return x.foo;"] },
  { name: "an async body (its wrapper adds a line, not counted)", extra: "", body: ["const x = null;", "await null;", "return x.foo;"] },
  { name: "a body under isolation: worker", extra: "    isolation: worker\n", body: ["const x = null;", "const y = 1;", "return x.foo;"] },
])("$name: the hint and the record give line 3, column 10 of the code", async ({ extra, body }) => {
  const yaml = `nodes:\n  - id: c\n    type: code\n${extra}    parameters:\n      code: |\n${body.map((l) => `        ${l}`).join("\n")}\n`;
  await writeFile(path.join(dir, "flow.yaml"), yaml);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "json"], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(1);
  const finish = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; nodeId?: string; error?: { hint?: string; details?: unknown; message: string } })
    .find((e) => e.type === "node:finish" && e.nodeId === "c");
  expect(finish?.error).toMatchObject({ message: "Cannot read properties of null (reading 'foo')", hint: "thrown at line 3, column 10 of the code", details: { line: 3, column: 10 } });
});

// The sandbox has no timers or host globals: `setTimeout is not defined` read like a bug of ours.
test.each([
  { name: "setTimeout in a code body", node: "    type: code\n    parameters:\n      code: 'await new Promise((r) => setTimeout(r, 10)); return data'\n", hint: /thrown at line 1, column \d+ of the code; the sandbox has no `setTimeout` \(no timers, I\/O or host globals\): to wait, put a `delay` node/ },
  { name: "setTimeout under isolation: worker", node: "    type: code\n    isolation: worker\n    parameters:\n      code: 'await new Promise((r) => setTimeout(r, 10)); return data'\n", hint: /the sandbox has no `setTimeout`.*`delay` node/ },
  { name: "fetch in a template", node: "    type: edit-fields\n    parameters:\n      values: { a: '{{ fetch(\"http://127.0.0.1:9/\") }}' }\n", hint: /^the sandbox has no `fetch` \(no timers, I\/O or host globals\): make the request with an `http-request` node and read its output here; templates can use \$input/ },
])("$name: the error's hint says what to use instead", async ({ node, hint }) => {
  await writeFile(path.join(dir, "flow.yaml"), `nodes:\n  - id: c\n${node}`);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "json"], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(1);
  const finish = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; nodeId?: string; error?: { hint?: string; message: string } })
    .find((e) => e.type === "node:finish" && e.nodeId === "c");
  expect(finish?.error?.message).toMatch(/is not defined/);
  expect(finish?.error?.hint).toMatch(hint);
});

test("a ReferenceError for a name of the user's own keeps only the location hint", async () => {
  await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - id: c\n    type: code\n    parameters:\n      code: 'const q = missingThing; return q'\n");
  const r = await atomiton(["run", "flow.yaml", "--reporter", "json"], { cwd: dir });
  const finish = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; nodeId?: string; error?: { hint?: string } }).find((e) => e.type === "node:finish" && e.nodeId === "c");
  expect(finish?.error?.hint).toBe("thrown at line 1, column 11 of the code");
});
