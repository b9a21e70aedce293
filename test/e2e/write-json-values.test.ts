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

// The same for the other nodes that send a value as JSON: an http-request body, a shell-command's
// stdin, a log message and an object bound as a SQLite parameter.
test("http-request body, shell-command stdin, log message and a SQLite parameter holding a BigInt and a Map", async () => {
  const { createServer } = await import("node:http");
  const received: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push(body);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    await writeFile(
      path.join(dir, "flow.yaml"),
      `name: send
nodes:
  - id: v
    type: code
    parameters: { code: "return { n: 10n, m: new Map([['a', 1]]) }" }
  - id: post
    type: http-request
    parameters: { method: POST, url: "http://127.0.0.1:${port}/", body: "{{ $input }}" }
  - id: cat
    type: shell-command
    parameters: { program: cat, stdin: "{{ $nodes.v }}" }
  - id: say
    type: log
    parameters: { message: "{{ $nodes.v }}" }
  - id: q
    type: sql
    parameters: { connection: ":memory:", mode: value, query: "SELECT ?", params: ["{{ $nodes.v }}"] }
edges: [v -> post, v -> cat, v -> say, v -> q]
`,
    );
    const r = await atomiton(["run", "flow.yaml", "--reporter", "json", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const expected = { n: "10", m: { a: 1 } };
    expect(received.map((b) => JSON.parse(b) as unknown)).toEqual([expected]);
    const events = r.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { type: string; nodeId?: string; output?: { stdout?: string }; message?: string });
    const outputOf = (id: string) => events.find((e) => e.type === "node:finish" && e.nodeId === id)?.output;
    expect(JSON.parse(outputOf("cat")!.stdout!)).toEqual(expected);
    expect(JSON.parse(outputOf("q") as unknown as string)).toEqual(expected);
    expect(JSON.parse(events.find((e) => e.type === "node:log" && e.nodeId === "say")!.message!)).toEqual(expected);
  } finally {
    server.close();
  }
});
