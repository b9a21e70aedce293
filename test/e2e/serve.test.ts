import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { atomiton, tempDir } from "../helpers/cli.js";
import { survivors } from "../helpers/processes.js";
import { startServe, TestClient, type ServeProcess } from "../helpers/serve.js";

// `atomiton serve` (SPEC §9) through the built CLI, driven by real `ws` clients on loopback.
const DETERMINISTIC = `name: det
nodes:
  - id: a
    type: code
    parameters: { code: "return [1, 2, 3]" }
  - id: b
    type: transform
    parameters: { operation: map, transformFunction: "x => x * 2" }
  - id: say
    type: log
    parameters: { message: "doubled {{ $input }}" }
edges:
  - a -> b
  - b -> say
`;
// A shell node whose child writes its pid, then waits forever: cancel must kill it.
const HANGS = `name: hangs
nodes:
  - id: wait
    type: shell-command
    parameters:
      program: node
      args: ["-e", "require('fs').writeFileSync('child.pid', String(process.pid)); setInterval(() => {}, 1000)"]
`;
// Steady events for a while (each delay node takes 30 ms).
const STEADY = `name: steady
nodes:
${Array.from({ length: 40 }, (_, i) => `  - { id: d${i}, type: delay, parameters: { duration: 30ms } }`).join("\n")}
edges:
${Array.from({ length: 39 }, (_, i) => `  - d${i} -> d${i + 1}`).join("\n")}
`;
const INVALID = `name: broken
nodes:
  - id: a
    type: htp-request
  - id: b
    type: log
    parameters: { message: hi }
edges:
  - a -> c
`;

let dir: string;
let cleanup: () => Promise<void>;
let server: ServeProcess;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-serve-"));
  for (const [name, text] of Object.entries({ "det.yaml": DETERMINISTIC, "hangs.yaml": HANGS, "steady.yaml": STEADY, "invalid.yaml": INVALID })) await writeFile(path.join(dir, name), text);
  server = await startServe(["--data-dir", path.join(dir, "data"), "--allow-origin", "http://ok.test"], { cwd: dir });
});

afterAll(async () => {
  await server?.stop();
  await cleanup?.();
});

const open = (options: { token?: string; headers?: Record<string, string> } = {}) => TestClient.open(server.url, { token: server.token, ...options });
const openBare = (headers: Record<string, string> = {}) => TestClient.open(server.url, { token: undefined, headers });

describe("auth, origin and frame limit", () => {
  test("a token in the Authorization header", async () => {
    const c = await open();
    const r = await c.request("initialize", { client: { name: "test", version: "1" } });
    expect(r).toMatchObject({ server: { name: "atomiton" }, protocol: 1 });
    expect(r.nodeTypes).toContain("shell-command");
    c.close();
  });

  test("a token in a first auth message", async () => {
    const c = await openBare();
    expect(await c.request("auth", { token: server.token })).toEqual({ ok: true });
    expect((await c.request("initialize", {})).protocol).toBe(1);
    c.close();
  });

  test.each([
    ["a wrong token in the header", async () => open({ token: "nope" }), undefined],
    ["a wrong token in the auth message", async () => openBare(), { method: "auth", params: { token: "nope" } }],
    ["a first message that is not auth", async () => openBare(), { method: "initialize", params: {} }],
    ["no message within 2 s", async () => openBare(), undefined],
  ])("%s → 4401", async (_name, connect, first) => {
    const c = await connect();
    if (first) c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, ...first }));
    expect((await c.closed).code).toBe(4401);
    expect(c.messages.filter((m) => m.result !== undefined)).toEqual([]);
  });

  test("an Origin that is not allowed → 4403; an allowed one connects", async () => {
    const bad = await open({ headers: { Origin: "http://evil.test" } });
    expect((await bad.closed).code).toBe(4403);
    const good = await open({ headers: { Origin: "http://ok.test" } });
    expect((await good.request("initialize", {})).protocol).toBe(1);
    good.close();
  });

  test("a frame over 1 MiB → 1009", async () => {
    const c = await open();
    c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "validate", params: { text: "x".repeat(1024 * 1024) } }));
    expect((await c.closed).code).toBe(1009);
  });
});

describe("JSON-RPC errors", () => {
  test.each([
    ["malformed JSON", "{not json", -32700],
    ["not an object", "[1,2]", -32600],
    ["no jsonrpc 2.0", JSON.stringify({ id: 1, method: "initialize" }), -32600],
    ["an unknown method", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "run.explode", params: {} }), -32601],
    ["params of the wrong type", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "run.cancel", params: { runId: 42 } }), -32602],
    ["params missing", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "run.start", params: {} }), -32602],
    ["params that are an array", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "runs.list", params: [1] }), -32602],
  ])("%s → %i", async (_name, text, code) => {
    const c = await open();
    c.ws.send(text);
    const m = await c.next((x) => x.error !== undefined);
    expect(m.error!.code).toBe(code);
    expect(m.error!.message).not.toMatch(/\n\s+at /); // no stack trace
    c.close();
  });
});

describe("validate and run.start", () => {
  test("validate returns located problems", async () => {
    const c = await open();
    const r = await c.request("validate", { text: INVALID });
    expect(r.ok).toBe(false);
    const codes = r.problems.map((p: { code: string }) => p.code);
    expect(codes).toEqual(expect.arrayContaining(["E_UNKNOWN_TYPE", "E_EDGE"]));
    for (const p of r.problems) expect(p).toMatchObject({ severity: expect.any(String), message: expect.any(String), line: expect.any(Number), col: expect.any(Number) });
    expect(r.problems.find((p: { code: string }) => p.code === "E_UNKNOWN_TYPE")).toMatchObject({ line: 4, hint: expect.any(String) });
    expect(await c.request("validate", { path: "det.yaml" })).toEqual({ ok: true, problems: [] });
    c.close();
  });

  test("a path outside the workdir → -32000 E_PATH", async () => {
    const c = await open();
    for (const p of ["../etc/passwd", "/etc/passwd"]) {
      const m = await c.call("run.start", { path: p });
      expect(m.error).toMatchObject({ code: -32000, data: { code: "E_PATH" } });
    }
    c.close();
  });

  test("a bundle whose names are directories, or whose files key is the main file, → -32000 E_PATH, nothing starts", async () => {
    // They were -32603 internal errors (EISDIR), or the key silently replaced the main text.
    const c = await open();
    const text = "name: x\nnodes:\n  - { id: a, type: code, parameters: { code: 'return 1' } }\n";
    for (const params of [
      { text, file: "a.yaml", files: { ".": "x: 1" } },
      { text, file: ".", files: { "b.yaml": "x: 1" } },
      { text, file: "sub/", files: { "b.yaml": "x: 1" } },
      { text, file: "a.yaml", files: { "a.yaml/b.yaml": "x: 1" } },
      { text, file: "a.yaml", files: { "a.yaml": "name: other\nnodes: []\n" } },
      { text, file: "flows/a.yaml", files: { "../flows/a.yaml": "name: other\nnodes: []\n" } },
    ]) {
      const m = await c.call("run.start", params);
      expect(m.error, `${JSON.stringify(params.file)} ${JSON.stringify(Object.keys(params.files))}`).toMatchObject({ code: -32000, data: { code: "E_PATH" } });
    }
    expect((await c.call("run.start", { text, file: "a.yaml", files: { "a.yaml": "x: 1" } })).error!.message).toBe('files key "a.yaml" names the same file as the main file "a.yaml"');
    c.close();
  });

  test("a run id that is no storage key is E_NOT_FOUND for every method, not E_STORAGE_KEY", async () => {
    // events.subscribe said E_STORAGE_KEY, showing the layout of the data dir.
    const c = await open();
    for (const method of ["events.subscribe", "runs.get", "run.wait", "run.cancel"]) {
      const m = await c.call(method, { runId: "../../etc/passwd", fromSeq: 0 });
      expect(m.error, method).toMatchObject({ code: -32000, data: { code: "E_NOT_FOUND" } });
      expect(m.error!.message, method).not.toMatch(/storage key/);
    }
    c.close();
  });

  test("an invalid composite → -32000 with data.problems, and nothing starts", async () => {
    const c = await open();
    const before = await c.request("runs.list", { limit: 1000 });
    const m = await c.call("run.start", { path: "invalid.yaml" });
    expect(m.error).toMatchObject({ code: -32000, data: { code: "E_INVALID" } });
    expect(m.error!.data.problems.map((p: { code: string }) => p.code)).toEqual(expect.arrayContaining(["E_UNKNOWN_TYPE", "E_EDGE"]));
    await new Promise((r) => setTimeout(r, 200));
    expect(c.messages.filter((x) => x.method === "run.event")).toEqual([]);
    expect(await c.request("runs.list", { limit: 1000 })).toEqual(before);
    c.close();
  });

  test("vars are checked like --var: a bad type or an unknown name → -32000 E_INVALID, and nothing starts", async () => {
    const c = await open();
    const text = "name: v\nvariables:\n  count: { type: number, default: 1 }\nnodes:\n  - id: a\n    type: log\n    parameters: { message: \"n={{ $vars.count }}\" }\n";
    const before = await c.request("runs.list", { limit: 1000 });
    const badType = await c.call("run.start", { text, vars: { count: "abc" } });
    expect(badType.error).toMatchObject({ code: -32000, data: { code: "E_INVALID" } });
    expect(badType.error!.data.problems[0]).toMatchObject({ code: "E_USAGE", message: expect.stringContaining("declared as number") });
    const typo = await c.call("run.start", { text, vars: { cuont: 3 } });
    expect(typo.error).toMatchObject({ code: -32000, data: { code: "E_INVALID", hint: expect.stringContaining('"count"') } });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.messages.filter((x) => x.method === "run.event")).toEqual([]);
    expect(await c.request("runs.list", { limit: 1000 })).toEqual(before);
    const ok = await c.request("run.start", { text, vars: { count: "7" } });
    expect(await c.request("run.wait", { runId: ok.runId })).toMatchObject({ status: "succeeded" });
    c.close();
  });

  test("nodes.list is the catalog as `atomiton nodes --json` prints it", async () => {
    const c = await open();
    const listed = await c.request("nodes.list", {});
    const cli = await atomiton(["nodes", "--json"], { cwd: dir });
    expect(listed).toEqual(JSON.parse(cli.stdout));
    c.close();
  });
});

/** An event without what differs between two runs of the same composite. */
function normalize(event: Record<string, unknown>): Record<string, unknown> {
  const { ts: _ts, runId: _runId, durationMs: _d, ...rest } = event;
  if (rest.type === "run:start") rest.composite = { ...(rest.composite as object), file: "<file>" };
  return rest;
}

describe("runs over the socket", () => {
  test("the events equal, in order and content, the NDJSON of `run --reporter json`", async () => {
    const c = await open();
    const { runId } = await c.request("run.start", { path: "det.yaml" });
    await c.finished(runId);
    const remote = c.events(runId);
    expect(remote.map((e) => e.seq)).toEqual(remote.map((_, i) => i));
    const local = await atomiton(["run", "det.yaml", "--reporter", "json", "--data-dir", path.join(dir, "local-data")], { cwd: dir });
    expect(local.exitCode).toBe(0);
    const ndjson = local.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(remote.map((e) => normalize(e.event))).toEqual(ndjson.map(normalize));
    expect(remote.every((e) => e.event.runId === runId)).toBe(true);
    c.close();
  });

  test("run.cancel mid-run ends it as cancelled, and the shell node's child is gone", async () => {
    const c = await open();
    const { runId } = await c.request("run.start", { path: "hangs.yaml" });
    await c.next((m) => m.method === "run.event" && m.params.event.type === "node:start");
    const pidFile = path.join(dir, "child.pid");
    let pid: number | undefined;
    for (let i = 0; i < 200 && pid === undefined; i++) {
      pid = Number(await readFile(pidFile, "utf8").catch(() => "")) || undefined;
      if (pid === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    expect(pid).toBeGreaterThan(0);
    expect(await c.request("run.cancel", { runId })).toEqual({ status: "cancelling" });
    const finish = await c.finished(runId);
    expect(finish.params.event).toMatchObject({ type: "run:finish", status: "cancelled" });
    expect(await survivors([pid!])).toEqual([]);
    expect(await c.request("run.wait", { runId })).toMatchObject({ runId, status: "cancelled" });
    expect(await c.request("run.cancel", { runId })).toEqual({ status: "cancelled" });
    c.close();
  });

  test("a run survives its client leaving; runs.get returns its record", async () => {
    const starter = await open();
    const { runId } = await starter.request("run.start", { path: "steady.yaml" });
    await starter.next((m) => m.method === "run.event" && m.params.event.type === "node:finish");
    starter.ws.terminate();
    const other = await open();
    const finish = await other.request("run.wait", { runId, timeout: 30_000 });
    expect(finish).toMatchObject({ runId, status: "succeeded", counts: { succeeded: 40 } });
    const record = await other.request("runs.get", { runId });
    expect(record).toMatchObject({ runId, status: "succeeded", composite: { name: "steady" } });
    expect(Object.keys(record.nodes)).toHaveLength(40);
    const listed = await other.request("runs.list", { limit: 100, status: "succeeded" });
    expect(listed.find((r: { runId: string }) => r.runId === runId)).toMatchObject({ name: "steady", status: "succeeded", startedAt: expect.any(String), durationMs: expect.any(Number) });
    expect((await other.call("runs.get", { runId: "no-such-run" })).error).toMatchObject({ code: -32000, data: { code: "E_NOT_FOUND" } });
    other.close();
  });

  test("resume: disconnect after some events, reconnect with fromSeq: every seq exactly once", async () => {
    const first = await open();
    const { runId } = await first.request("run.start", { path: "steady.yaml" });
    await first.next((m) => m.method === "run.event" && m.params.seq >= 12);
    first.ws.terminate();
    const seen = first.events(runId).map((e) => e.seq);
    const last = Math.max(...seen);
    const second = await open();
    const { subscription } = await second.request("events.subscribe", { runId, fromSeq: last + 1 });
    expect(subscription).toEqual(expect.any(String));
    await second.finished(runId);
    const all = [...seen, ...second.events(runId).map((e) => e.seq)];
    const total = 2 + 40 * 2; // run:start, node:start + node:finish per node, run:finish
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
    // The replayed part is the stored log, the live part came after: both are the same §5 events.
    expect(second.events(runId).at(-1)!.event).toMatchObject({ type: "run:finish", status: "succeeded" });
    // A finished run replays from its stored log alone.
    const third = await open();
    await third.request("events.subscribe", { runId, fromSeq: 0 });
    await third.finished(runId);
    expect(third.events(runId).map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(third.events(runId).map((e) => e.event)).toEqual([...first.events(runId), ...second.events(runId)].map((e) => e.event));
    for (const c of [second, third]) c.close();
  });

  test("events.subscribe { all: true } follows runs started by others; unsubscribe stops it", async () => {
    const watcher = await open();
    const { subscription } = await watcher.request("events.subscribe", { all: true });
    const starter = await open();
    const { runId } = await starter.request("run.start", { path: "det.yaml", subscribe: false });
    await watcher.finished(runId);
    expect(watcher.events(runId).map((e) => e.seq)).toEqual(Array.from({ length: 9 }, (_, i) => i));
    expect(starter.messages.filter((m) => m.method === "run.event")).toEqual([]); // subscribe: false
    expect(await watcher.request("events.unsubscribe", { subscription })).toEqual({});
    expect((await watcher.call("events.unsubscribe", { subscription })).error).toMatchObject({ code: -32000 });
    for (const c of [watcher, starter]) c.close();
  });
});

describe("Node's own WebSocket (undici)", () => {
  // Node 20 has it behind --experimental-websocket (global from Node 22): the child gets the flag.
  const script = `
    const [url, token] = process.argv.slice(-2);
    const out = { closes: [] };
    const bad = new WebSocket(url);
    bad.onopen = () => bad.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "auth", params: { token: "wrong" } }));
    bad.onclose = (e) => {
      out.closes.push(e.code);
      const ws = new WebSocket(url);
      const events = [];
      ws.onopen = () => ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "auth", params: { token } }));
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.id === 1) ws.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "run.start", params: { path: "det.yaml" } }));
        if (msg.id === 2) out.runId = msg.result.runId;
        if (msg.method === "run.event") {
          events.push([msg.params.seq, msg.params.event.type]);
          if (msg.params.event.type === "run:finish") { out.events = events; out.status = msg.params.event.status; ws.close(); }
        }
      };
      ws.onclose = () => { console.log(JSON.stringify(out)); };
    };`;
  test("auth by first message, a run's events in order, and 4401 for a wrong token", async () => {
    const probe = await execa("node", ["--experimental-websocket", "-e", "process.stdout.write(typeof WebSocket)"], { reject: false });
    if (probe.stdout !== "function") {
      console.warn(`skipped: this Node (${process.version}) has no WebSocket, even behind --experimental-websocket`);
      return;
    }
    const r = await execa("node", ["--experimental-websocket", "--no-warnings", "-e", script, server.url, server.token], { cwd: dir, timeout: 30_000 });
    const out = JSON.parse(r.stdout);
    expect(out.closes).toEqual([4401]);
    expect(out.status).toBe("succeeded");
    expect(out.events.map((e: [number, string]) => e[0])).toEqual(out.events.map((_: unknown, i: number) => i));
    expect(out.events.map((e: [number, string]) => e[1])).toEqual(["run:start", "node:start", "node:finish", "node:start", "node:finish", "node:start", "node:log", "node:finish", "run:finish"]);
  });
});

describe("shutdown", () => {
  test("SIGTERM cancels runs in flight (record saved cancelled), closes sockets with 1001, exits 130", async () => {
    const { dir: d, cleanup: done } = await tempDir("atomiton-serve-stop-");
    try {
      await writeFile(path.join(d, "hangs.yaml"), HANGS);
      const s = await startServe(["--data-dir", path.join(d, "data")], { cwd: d });
      const c = await TestClient.open(s.url, { token: s.token });
      const { runId } = await c.request("run.start", { path: "hangs.yaml" });
      await c.next((m) => m.method === "run.event" && m.params.event.type === "node:start");
      // A run.wait in flight is answered (the run ended cancelled) before the socket closes.
      const waiting = c.call("run.wait", { runId });
      const code = await s.stop();
      expect(code).toBe(130);
      expect(await waiting).toMatchObject({ result: { runId, status: "cancelled" } });
      expect((await c.closed).code).toBe(1001);
      const record = JSON.parse(await readFile(path.join(d, "data", "runs", `${runId}.json`), "utf8"));
      expect(record.status).toBe("cancelled");
      const pid = Number(await readFile(path.join(d, "child.pid"), "utf8").catch(() => "0"));
      if (pid > 0) expect(await survivors([pid])).toEqual([]);
      expect(s.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      await done();
    }
  });

  test("a non-loopback bind address without a token is refused (exit 2)", async () => {
    const r = await atomiton(["serve", "--host", "0.0.0.0", "--port", "0"], { env: { ATOMITON_TOKEN: "" } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not loopback.*--token/);
  });

  test("without a token one is generated and printed once on stderr", async () => {
    const s = await startServe([], { env: { ATOMITON_TOKEN: "" }, token: "" });
    const printed = /token: (\S+)/.exec(s.stderr())?.[1];
    expect(printed).toMatch(/^[\w-]{20,}$/);
    const c = await TestClient.open(s.url, { token: printed });
    expect((await c.request("initialize", {})).protocol).toBe(1);
    c.close();
    expect(await s.stop()).toBe(130);
    expect(s.stderr().split(printed!).length - 1).toBe(1);
  });
});
