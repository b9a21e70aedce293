import { createWriteStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { atomiton, BIN, EXAMPLES, tempDir } from "../helpers/cli.js";

// An event log over V8's longest string (512 MiB): a run whose commands printed millions of lines.
// It was read as one string, which failed, and the failure read as "no event log".
let dir: string;
let cleanup: () => Promise<void>;
let runId: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-biglog-"));
  const r = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--reporter", "silent", "--data-dir", "data"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  runId = (await readdir(path.join(dir, "data", "runs"))).find((f) => f.endsWith(".json"))!.slice(0, -5);
  const file = path.join(dir, "data", "runs", `${runId}.ndjson`);
  const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l !== "");
  const start = JSON.parse(lines.find((l) => l.includes('"node:start"'))!) as { nodeId: string; ts: number };
  // The run's own lines, with 530 log lines of 1 MiB each after the first node's start.
  const out = createWriteStream(file);
  const message = "x".repeat(1024 * 1024);
  for (const line of lines) {
    out.write(`${line}\n`);
    if (line.includes('"node:start"') && line.includes(`"nodeId":"${start.nodeId}"`)) {
      for (let i = 0; i < 530; i++) {
        if (!out.write(`${JSON.stringify({ type: "node:log", runId, ts: start.ts, nodeId: start.nodeId, level: "info", message })}\n`)) await once(out, "drain");
      }
    }
  }
  out.end();
  await once(out, "finish");
}, 120_000);

afterAll(async () => {
  await cleanup?.();
});

test("runs show --timeline draws the nodes of a run whose event log is over 512 MiB (it said \"no node started\")", async () => {
  const r = await atomiton(["runs", "show", runId, "--timeline", "--data-dir", "data"], { cwd: dir, timeout: 120_000 });
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  expect(r.stdout).not.toContain("no node started");
  expect(r.stdout).toMatch(/^join +█/m);
}, 120_000);

test("replay of it re-renders its events (it said the log was missing or empty)", async () => {
  // silent: the plain reporter would print the 530 MiB of log lines.
  const r = await atomiton(["replay", runId, "--reporter", "silent", "--data-dir", "data"], { cwd: dir, timeout: 120_000 });
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
}, 120_000);

test("serve replays it (events.subscribe fromSeq) to the end, read from its bytes (one text of it failed)", async () => {
  const child = spawn("node", [BIN, "serve", "--stdio", "--data-dir", "data"], { cwd: dir, env: { ...process.env, NO_COLOR: "1", CI: "true" }, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const seen = { events: 0, logs: 0, finished: false, error: undefined as unknown };
  let buffer = "";
  const done = new Promise<void>((resolve) => {
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
        const message = JSON.parse(buffer.slice(0, nl)) as { id?: number; error?: unknown; method?: string; params?: { event: { type: string } } };
        buffer = buffer.slice(nl + 1);
        if (message.error !== undefined) {
          seen.error = message.error;
          resolve();
        }
        if (message.method !== "run.event") continue;
        seen.events++;
        if (message.params!.event.type === "node:log") seen.logs++;
        if (message.params!.event.type === "run:finish") {
          seen.finished = true;
          resolve();
        }
      }
    });
    child.once("exit", () => resolve());
  });
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "events.subscribe", params: { runId, fromSeq: 1 } })}\n`);
  await done;
  child.stdin.end();
  await once(child, "exit");
  expect(seen.error, stderr).toBeUndefined();
  expect(seen.finished, stderr).toBe(true);
  expect(seen.logs).toBeGreaterThanOrEqual(530);
}, 120_000);
