import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, expect, test } from "vitest";
import { BIN, tempDir } from "../helpers/cli.js";
import { survivors } from "../helpers/processes.js";
import { spawnStdioServe, type Message } from "../helpers/serve.js";

// `atomiton serve --stdio` driven by a parent process: one JSON message per line each way.
const HANGS = `name: hangs
nodes:
  - id: wait
    type: shell-command
    parameters:
      program: node
      args: ["-e", "require('fs').writeFileSync('child.pid', String(process.pid)); setInterval(() => {}, 1000)"]
`;
const HELLO = `name: hi
nodes:
  - id: a
    type: code
    parameters: { code: "return 21 * 2" }
  - id: say
    type: log
    parameters: { message: "answer {{ $input }}" }
edges:
  - a -> say
`;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-stdio-"));
  await writeFile(path.join(dir, "hangs.yaml"), HANGS);
  await writeFile(path.join(dir, "hello.yaml"), HELLO);
});
afterEach(async () => cleanup());

/** The pid the `hangs` node's process wrote (bounded wait). */
async function childPid(): Promise<number> {
  let pid = 0;
  for (let i = 0; i < 200 && !pid; i++) {
    pid = Number(await readFile(path.join(dir, "child.pid"), "utf8").catch(() => "0"));
    if (!pid) await new Promise((r) => setTimeout(r, 25));
  }
  expect(pid).toBeGreaterThan(0);
  return pid;
}

function spawnStdio(env: Record<string, string> = {}, args: string[] = []) {
  return spawnStdioServe(["--data-dir", path.join(dir, "data"), ...args], { cwd: dir, env });
}

test("initialize, validate, errors, a run's events, then stdin EOF ends the server (exit 0)", async () => {
  const s = spawnStdio();
  expect((await s.call("initialize", {})).result).toMatchObject({ protocol: 1, server: { name: "atomiton" } });
  const v = await s.call("validate", { text: "name: x\nnodes:\n  - id: a\n    type: nope\n" });
  expect(v.result.ok).toBe(false);
  expect(v.result.problems[0]).toMatchObject({ code: "E_UNKNOWN_TYPE", line: 4 });
  s.send("{oops");
  expect((await s.next((m) => m.error?.code === -32700)).id).toBeNull();
  expect((await s.call("nope", {})).error!.code).toBe(-32601);
  expect((await s.call("run.wait", {})).error!.code).toBe(-32602);
  // Notifications are never answered, not even with an error (docs/protocol.md, Errors).
  s.send('{"jsonrpc":"2.0","method":"initialize","params":"x"}');
  s.send('{"jsonrpc":"2.0","method":"run.start","params":[]}');
  s.send('{"jsonrpc":"2.0","method":"run.wait","params":{}}');
  s.send('{"jsonrpc":"2.0","method":"nope"}');
  const answered = s.messages.length;
  expect((await s.call("initialize", {})).result).toMatchObject({ protocol: 1 });
  expect(s.messages.slice(answered).map((m) => m.id)).toEqual([5]);
  const { runId } = (await s.call("run.start", { path: "hello.yaml" })).result;
  await s.next((m) => m.method === "run.event" && m.params.event.type === "run:finish");
  const events = s.messages.filter((m) => m.method === "run.event" && m.params.runId === runId);
  expect(events.map((m) => m.params.seq)).toEqual(events.map((_, i) => i));
  expect(events.map((m) => m.params.event.type)).toEqual(["run:start", "node:start", "node:finish", "node:start", "node:log", "node:finish", "run:finish"]);
  expect(events.at(-1)!.params.event).toMatchObject({ status: "succeeded", output: 42 });
  expect(events[4]!.params.event).toMatchObject({ nodeId: "say", message: "answer 42" });
  s.child.stdin!.end();
  const r = await s.child;
  expect(r.exitCode).toBe(0);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(s.raw.every((l) => l.startsWith('{"jsonrpc":"2.0"'))).toBe(true);
});

test("run.cancel over stdio: the run ends cancelled and the shell child is gone", async () => {
  const s = spawnStdio();
  const { runId } = (await s.call("run.start", { path: "hangs.yaml" })).result;
  await s.next((m) => m.method === "run.event" && m.params.event.type === "node:start");
  const pid = await childPid();
  expect((await s.call("run.cancel", { runId })).result).toEqual({ status: "cancelling" });
  const finish = await s.next((m) => m.method === "run.event" && m.params.event.type === "run:finish");
  expect(finish.params.event.status).toBe("cancelled");
  expect(await survivors([pid])).toEqual([]);
  expect((await s.call("run.wait", { runId })).result).toMatchObject({ runId, status: "cancelled" });
  expect((await s.call("runs.get", { runId })).result).toMatchObject({ runId, status: "cancelled" });
  s.child.stdin!.end();
  expect((await s.child).exitCode).toBe(0);
});

test("SIGTERM over stdio cancels the run in flight and exits 130", async () => {
  const s = spawnStdio();
  const { runId } = (await s.call("run.start", { path: "hangs.yaml" })).result;
  await s.next((m) => m.method === "run.event" && m.params.event.type === "node:start");
  s.child.kill("SIGTERM");
  const r = await s.child;
  expect(r.exitCode).toBe(130);
  const record = JSON.parse(await readFile(path.join(dir, "data", "runs", `${runId}.json`), "utf8"));
  expect(record.status).toBe("cancelled");
});

test("SIGTERM after stdin closed (runs draining) still cancels them: exit 130, record cancelled, child gone", async () => {
  const s = spawnStdio();
  const { runId } = (await s.call("run.start", { path: "hangs.yaml" })).result;
  await s.next((m) => m.method === "run.event" && m.params.event.type === "node:start");
  const pid = await childPid();
  // stdin ends: the server waits for the run to finish on its own (it never would) …
  let stderr = "";
  s.child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  s.child.stdin!.end();
  for (let i = 0; i < 400 && !stderr.includes("stdin closed"); i++) await new Promise((r) => setTimeout(r, 25));
  expect(stderr).toContain("stdin closed: waiting for 1 run(s) to finish");
  // … until a signal says to stop: the run is cancelled, not waited for (it was ignored before).
  s.child.kill("SIGTERM");
  const r = await s.child;
  expect(r.exitCode).toBe(130);
  const record = JSON.parse(await readFile(path.join(dir, "data", "runs", `${runId}.json`), "utf8"));
  expect(record.status).toBe("cancelled");
  expect(await survivors([pid])).toEqual([]);
});

test("run.start as the last line before EOF (a one-shot pipe): the run's events are delivered, then exit 0", async () => {
  // stdin ended while run.start was still being answered: the server saw no run in flight, closed
  // the client, and the run went on with its events sent nowhere (and no signal handling left).
  const slow = "name: slow\nnodes:\n  - { id: d, type: delay, parameters: { duration: 300ms } }\n";
  await writeFile(path.join(dir, "slow.yaml"), slow);
  const line = `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "run.start", params: { path: "slow.yaml" } })}\n`;
  const r = await execa("node", [BIN, "serve", "--stdio", "--data-dir", path.join(dir, "data")], { cwd: dir, env: { NO_COLOR: "1", CI: "true" }, reject: false, input: line, timeout: 30_000 });
  expect(r.exitCode).toBe(0);
  const messages = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Message);
  const { runId } = messages.find((m) => m.id === 1)!.result as { runId: string };
  const events = messages.filter((m) => m.method === "run.event" && m.params.runId === runId).map((m) => m.params.event.type);
  expect(events).toEqual(["run:start", "node:start", "node:finish", "run:finish"]);
  expect(r.stderr).toContain("stdin closed: waiting for 1 run(s) to finish");
});

test("a composite's secrets: are redacted by the server too: live events, run.wait, the record and the log", async () => {
  // Before, only `serve --secret` names were: the composite's own list was left to the CLI.
  const SECRET = "supersecretvalue123";
  await writeFile(path.join(dir, "secret.yaml"), 'name: secret\nsecrets: [MYTOKEN]\nnodes:\n  - id: a\n    type: edit-fields\n    parameters: { values: { k: "{{ $env.MYTOKEN }}" } }\n');
  const s = spawnStdio({ MYTOKEN: SECRET });
  const { runId } = (await s.call("run.start", { path: "secret.yaml" })).result;
  const waited = await s.call("run.wait", { runId });
  expect(waited.result).toMatchObject({ status: "succeeded", output: { k: "***" } });
  await s.next((m) => m.method === "run.event" && m.params.event.type === "run:finish");
  s.child.stdin!.end();
  await s.child;
  expect(s.raw.join("\n")).not.toContain(SECRET);
  for (const ext of ["json", "ndjson"]) expect(await readFile(path.join(dir, "data", "runs", `${runId}.${ext}`), "utf8")).not.toContain(SECRET);
});

test("node code that throws from a timer fails its run (the only one in flight), and the server goes on", async () => {
  // Before, the server died with a stack trace and the run's record stayed `running`.
  await writeFile(path.join(dir, "tt.mjs"), 'export default { type: "tt", execute: () => { setTimeout(() => { throw new Error("boom in timer"); }, 50); return new Promise((r) => setTimeout(() => r(1), 400)); } };\n');
  await writeFile(path.join(dir, "tt.yaml"), "nodes:\n  - { id: a, type: tt }\n");
  const s = spawnStdio({}, ["--nodes", "./tt.mjs"]);
  const { runId } = (await s.call("run.start", { path: "tt.yaml" })).result;
  const waited = await s.call("run.wait", { runId });
  expect(waited.result).toMatchObject({ status: "failed", error: { code: "E_NODE", message: "node code threw outside a node's execute: Error: boom in timer" } });
  expect((await s.call("run.start", { path: "hello.yaml" })).result.runId).toBeTruthy();
  s.child.stdin!.end();
  const r = await s.child;
  expect(r.exitCode).toBe(0);
  expect(JSON.parse(await readFile(path.join(dir, "data", "runs", `${runId}.json`), "utf8")).status).toBe("failed");
});

test("stdin ends while a run is paused at a breakpoint: the run is released and finishes, record saved, exit 0", async () => {
  // The client that set the breakpoint has left: it used to stay paused until the process exited 13, record `running`.
  const s = spawnStdio();
  await s.call("debug.setBreakpoints", { nodes: ["say"] });
  const { runId } = (await s.call("run.start", { path: "hello.yaml" })).result;
  await s.next((m) => m.method === "debug.paused" && m.params.runId === runId);
  s.child.stdin!.end();
  const r = await s.child;
  expect(r.exitCode, r.stderr).toBe(0);
  const finish = s.messages.find((m) => m.method === "run.event" && m.params.runId === runId && m.params.event.type === "run:finish");
  expect(finish?.params.event).toMatchObject({ status: "succeeded", output: 42 });
  const record = JSON.parse(await readFile(path.join(dir, "data", "runs", `${runId}.json`), "utf8"));
  expect(record.status).toBe("succeeded");
});

test("a parent that stops reading stdout (the 4408 condition): a clear line on stderr, runs in flight cancelled, exit 1", async () => {
  // Before, stdout was ended without a word and the server went on answering nothing.
  await writeFile(path.join(dir, "big.yaml"), `name: big\nnodes:\n  - { id: a, type: code, parameters: { code: "return 'x'.repeat(3000000)" } }\n`);
  const first = spawnStdio();
  const { runId } = (await first.call("run.start", { path: "big.yaml", subscribe: false })).result;
  await first.call("run.wait", { runId });
  first.child.stdin!.end();
  await first.child;
  // stdout is a pipe nobody reads (paused, never drained): 30 answers of a 6 MB record cannot all be held.
  const child = spawn("node", [BIN, "serve", "--stdio", "--data-dir", path.join(dir, "data")], { cwd: dir, env: { ...process.env, NO_COLOR: "1", CI: "true" }, stdio: ["pipe", "pipe", "pipe"] });
  child.stdout.pause();
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "run.start", params: { path: "hangs.yaml", subscribe: false } })}\n`);
  await childPid();
  for (let i = 0; i < 30; i++) child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 100 + i, method: "runs.get", params: { runId } })}\n`);
  // It exits though what it queued for stdout can never drain (it waited for that forever).
  const r = { exitCode: await exited, stderr };
  clearTimeout(deadline);
  child.stdin.destroy();
  child.stdout.destroy();
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/stdout was not read \(replies not read\); output ended, cancelling the runs in flight and exiting 1/);
  const records = (await readdir(path.join(dir, "data", "runs"))).filter((f) => f.endsWith(".json") && !f.startsWith(runId));
  expect(records).toHaveLength(1);
  expect(JSON.parse(await readFile(path.join(dir, "data", "runs", records[0]!), "utf8")).status).toBe("cancelled");
});

test("a line over 1 MiB in UTF-8 bytes is skipped with -32600, also as the last line without a newline", async () => {
  // 600,000 "€" are 1.8 MB but 600,000 UTF-16 units: they passed, and a last line had no limit at all.
  const s = spawnStdio();
  const euros = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "validate", params: { text: `name: ${"€".repeat(600_000)}\nnodes: []\n` } });
  s.send(euros(101));
  expect(await s.next((m) => m.error?.code === -32600)).toMatchObject({ id: null, error: { data: { code: "E_TOO_BIG" } } });
  expect((await s.call("initialize", {})).result).toMatchObject({ protocol: 1 });
  s.child.stdin!.end(euros(103));
  const r = await s.child;
  expect(r.exitCode).toBe(0);
  expect(s.messages.filter((m) => m.error?.code === -32600)).toHaveLength(2);
  expect(s.messages.filter((m) => m.id === 101 || m.id === 103)).toEqual([]);
});
