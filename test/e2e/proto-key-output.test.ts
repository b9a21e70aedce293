// A node output with a key named `__proto__` (an API's JSON, a CSV column) lost that key in
// `--output`, `--reporter json`, the run record and the event log: the JSON-safe copy they are
// written from assigned it, which sets a prototype instead of a key. The next node saw the key.
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-proto-key-");

const entries = (value: unknown): unknown => (typeof value === "object" && value !== null ? Object.entries(value).map(([k, v]) => [k, entries(v)]) : value);

test("an output key named __proto__ is kept in --output, the events and the run record", async () => {
  await writeFile(
    path.join(dir, "flow.yaml"),
    `name: proto
nodes:
  - id: api
    type: code
    parameters:
      code: |
        return JSON.parse('{"__proto__": {"admin": true}, "name": "x", "list": [{"__proto__": 1}]}')
`,
  );
  const expected = entries(JSON.parse('{"__proto__": {"admin": true}, "name": "x", "list": [{"__proto__": 1}]}'));
  const r = await atomiton(["run", "flow.yaml", "--reporter", "json", "--output", "out.json"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  expect(entries(JSON.parse(await readFile(path.join(dir, "out.json"), "utf8")))).toEqual(expected);
  const finish = r.stdout.split("\n").map((line) => (line ? (JSON.parse(line) as { type: string; nodeId?: string; output?: unknown }) : undefined)).find((e) => e?.type === "node:finish" && e.nodeId === "api");
  expect(entries(finish!.output)).toEqual(expected);
  const [record] = (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"));
  const saved = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", record!), "utf8")) as { nodes: { api: { output: unknown } } };
  expect(entries(saved.nodes.api.output)).toEqual(expected);
});
