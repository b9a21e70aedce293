// `file-system` write and `spreadsheet` write turned values into JSON with JSON.stringify: a BigInt
// failed the node with "Do not know how to serialize a BigInt" (E_NODE, saying neither where nor
// what), a cycle with "Converting circular structure to JSON", and a Map or a Set was written as
// `{}`, its content lost. They now write JSON as the run's events and records do (toJsonSafe).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-write-json-");

const VALUE = "const o = { n: 12345678901234567890n, m: new Map([['a', 1]]), s: new Set([1, 2]) }; o.self = o; return o";

test("file-system write of a value with a BigInt, a Map, a Set and a cycle", async () => {
  await writeFile(path.join(dir, "flow.yaml"), `name: w\nnodes:\n  - id: v\n    type: code\n    parameters: { code: ${JSON.stringify(VALUE)} }\n  - id: w\n    type: file-system\n    parameters: { operation: write, path: out.json }\nedges: [v -> w]\n`);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(JSON.parse(await readFile(path.join(dir, "out.json"), "utf8"))).toEqual({ n: "12345678901234567890", m: { a: 1 }, s: [1, 2], self: "[Circular]" });
});

test("spreadsheet write of cells holding a BigInt inside an object, and a Map", async () => {
  const rows = "return [{ id: 1n, meta: { big: 2n }, tags: new Map([['x', true]]) }]";
  await writeFile(path.join(dir, "flow.yaml"), `name: w\nnodes:\n  - id: v\n    type: code\n    parameters: { code: ${JSON.stringify(rows)} }\n  - id: w\n    type: spreadsheet\n    parameters: { operation: write, path: out.csv }\nedges: [v -> w]\n`);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await readFile(path.join(dir, "out.csv"), "utf8")).toBe('id,meta,tags\n1,"{""big"":""2""}","{""x"":true}"\n');
});
