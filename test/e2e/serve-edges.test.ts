import { writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BIN, tempDir } from "../helpers/cli.js";
import { startServe, TestClient, type ServeProcess } from "../helpers/serve.js";

// Edges of `atomiton serve` found by fault hunting, each against a real server on loopback.
const SLOW = `name: slow
nodes:
  - { id: a, type: delay, parameters: { duration: 3s } }
`;

let dir: string;
let cleanup: () => Promise<void>;
let server: ServeProcess;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-serve-edges-"));
  await writeFile(path.join(dir, "slow.yaml"), SLOW);
  server = await startServe(["--data-dir", path.join(dir, "data")], { cwd: dir });
});

afterAll(async () => {
  await server?.stop();
  await cleanup?.();
});

test("run.wait with a timeout past setTimeout's 24.8-day limit, or of 0, waits instead of timing out at once", async () => {
  const c = await TestClient.open(server.url, { token: server.token });
  const { runId } = await c.request("run.start", { path: "slow.yaml", subscribe: false });
  // 0 is no timeout, as for a node's or a run's timeout.
  for (const timeout of [3e9, "1000h", 0, "0ms"]) {
    const started = Date.now();
    const answer = await Promise.race([c.call("run.wait", { runId, timeout }), new Promise((resolve) => setTimeout(() => resolve("still waiting"), 500))]);
    expect(answer, `timeout ${timeout} answered after ${Date.now() - started} ms`).toBe("still waiting");
  }
  await c.request("run.cancel", { runId });
  c.close();
});

test("a port already in use is E_USAGE with exit 2, not an uncaught error", async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", () => resolve()));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const taken = await execa("node", [BIN, "serve", "--port", String(port), "--token", "x", "--storage", "memory"], { cwd: dir, reject: false, timeout: 20_000, env: { NO_COLOR: "1" } });
    expect(taken.exitCode, taken.stderr).toBe(2);
    expect(taken.stderr).toContain(`E_USAGE cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    expect(taken.stderr).not.toMatch(/Unhandled 'error' event|\n\s+at /);
    // Said once: a "[serve] server: listen EADDRINUSE …" log line came before the error.
    expect(taken.stderr.split("\n").filter((l) => l.includes("EADDRINUSE"))).toHaveLength(1);
  } finally {
    busy.close();
  }
});

test("a binary first frame (no token yet) is closed with 4401 and gets no JSON-RPC answer", async () => {
  const c = await TestClient.open(server.url, { token: undefined });
  c.ws.send(Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize" })));
  const closed = await Promise.race([c.closed, new Promise((resolve) => setTimeout(() => resolve("open"), 1_000))]);
  expect(closed).toEqual({ code: 4401, reason: "unauthorized" });
  expect(c.messages).toEqual([]);
});

test("after auth a binary frame is answered -32600 and the connection stays usable", async () => {
  const c = await TestClient.open(server.url, { token: server.token });
  c.ws.send(Buffer.from("{}"));
  const error = await c.next((m) => m.error !== undefined);
  expect(error.error!.code).toBe(-32600);
  expect((await c.request("initialize", {})).protocol).toBe(1);
  c.close();
});

test("run --remote: the server is killed (-9) and restarted mid-run: a clear error and exit 1, not a hang", async () => {
  const free = net.createServer();
  await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
  const port = (free.address() as net.AddressInfo).port;
  await new Promise((resolve) => free.close(resolve));
  const data = path.join(dir, "restart-data");
  const first = await startServe(["--port", String(port), "--data-dir", data], { cwd: dir });
  const child = execa("node", [BIN, "run", "slow.yaml", "--remote", `ws://127.0.0.1:${port}/`, "--reporter", "plain"], { cwd: dir, env: { NO_COLOR: "1", CI: "true", ATOMITON_TOKEN: first.token }, reject: false, stdin: "ignore", timeout: 20_000 });
  let err = "";
  await new Promise<void>((resolve) => child.stderr!.on("data", (d: Buffer) => ((err += d.toString()), /a\s+started/.test(err) && resolve())));
  first.child.kill("SIGKILL");
  await first.child;
  const second = await startServe(["--port", String(port), "--data-dir", data], { cwd: dir });
  try {
    const r = await child;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    // The restarted server finds the run's record abandoned: its process (the killed server) is gone.
    expect(r.stderr).toMatch(/E_CONNECTION lost the remote run .*was abandoned: its process died before it finished/);
  } finally {
    child.kill("SIGKILL");
    await second.stop();
  }
});

test("replies count against the send buffer: a client that stops reading and asks for a big record 30 times is closed with 4408, not left to grow", async () => {
  // Replies were always sent: the server's memory grew by the size of every answer (GBs), and 4408 never came.
  await writeFile(path.join(dir, "big.yaml"), `name: big\nnodes:\n  - { id: a, type: code, parameters: { code: "return 'x'.repeat(3000000)" } }\n`);
  const c = await TestClient.open(server.url, { token: server.token });
  const { runId } = await c.request("run.start", { path: "big.yaml", subscribe: false });
  await c.request("run.wait", { runId });
  c.ws.pause(); // reads nothing more until resumed
  for (let i = 0; i < 30; i++) c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 100 + i, method: "runs.get", params: { runId } }));
  for (let i = 0; i < 800 && !/closing \(4408\)/.test(server.stderr()); i++) await new Promise((r) => setTimeout(r, 25));
  expect(server.stderr()).toMatch(/closing \(4408\): replies not read/);
  c.ws.resume();
  expect((await c.closed).code).toBe(4408);
  // Some answers (whole records), then the close: the rest are not dropped while the connection lives on.
  const replies = c.messages.filter((m) => typeof m.id === "number" && m.id >= 100);
  expect(replies.length).toBeGreaterThan(0);
  expect(replies.length).toBeLessThan(30);
  for (const m of replies) expect(m.result).toMatchObject({ runId, status: "succeeded" });
});

test("a run is found by runs.get and runs.list { status: running } as soon as run.start answers", async () => {
  // Both said it did not exist until its first record was saved, a few ms later.
  const c = await TestClient.open(server.url, { token: server.token });
  const runIds: string[] = [];
  for (let i = 0; i < 20; i++) {
    const { runId } = await c.request("run.start", { path: "slow.yaml", subscribe: false, vars: {} });
    const [got, listed] = await Promise.all([c.call("runs.get", { runId }), c.call("runs.list", { status: "running", limit: 100 })]);
    expect(got.error, `run ${i}`).toBeUndefined();
    expect(got.result).toMatchObject({ runId, status: "running", composite: { name: "slow" } });
    expect((listed.result as { runId: string }[]).map((r) => r.runId)).toContain(runId);
    runIds.push(runId);
  }
  for (const runId of runIds) await c.request("run.cancel", { runId });
  c.close();
});

test("a token with whitespace is refused at start (E_USAGE, exit 2) by serve and run --remote: it could never pass the Authorization header", async () => {
  const run = (args: string[], env: Record<string, string> = {}) => execa("node", [BIN, ...args], { cwd: dir, reject: false, timeout: 20_000, env: { NO_COLOR: "1", ATOMITON_TOKEN: "", ...env } });
  for (const [args, env, from] of [
    [["serve", "--port", "0", "--storage", "memory", "--token", "a b"], {}, "--token"],
    [["serve", "--port", "0", "--storage", "memory"], { ATOMITON_TOKEN: "a\tb" }, "ATOMITON_TOKEN"],
    [["run", "slow.yaml", "--remote", server.url, "--token", "a b"], {}, "--token"],
    [["run", "slow.yaml", "--remote", server.url], { ATOMITON_TOKEN: "a b" }, "ATOMITON_TOKEN"],
  ] as const) {
    const r = await run([...args], env);
    expect(r.exitCode, `${args.join(" ")}: ${r.stderr}`).toBe(2);
    expect(r.stderr).toContain(`E_USAGE ${from}: a token cannot contain whitespace`);
  }
});
