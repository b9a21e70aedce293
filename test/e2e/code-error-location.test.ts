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
