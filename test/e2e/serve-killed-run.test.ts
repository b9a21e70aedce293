// events.subscribe on a run that another process records into the server's storage (a CLI run in the
// same data dir) replayed what was stored and then went quiet: no run:finish of a run still going,
// and nothing at all to say that a run killed with SIGKILL would never finish. Such a subscription now
// follows the stored log to the run's run:finish, and a run whose process died ends it with one
// `events.end` notification (docs/protocol.md, "When a run ends without run:finish").
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, expect, test } from "vitest";
import { BIN, useTempDir } from "../helpers/cli.js";
import { startServe, TestClient, type ServeProcess } from "../helpers/serve.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-serve-killed-");
let server: ServeProcess | undefined;
let client: TestClient | undefined;
beforeEach(async () => {
  await writeFile(path.join(dir, "waits.yaml"), "name: waits\nnodes:\n  - { id: wait, type: delay, parameters: { duration: 5m } }\n");
  await writeFile(path.join(dir, "brief.yaml"), "name: brief\nnodes:\n  - { id: wait, type: delay, parameters: { duration: 1500ms } }\n  - { id: done, type: code, parameters: { code: 'return 42' } }\nedges:\n  - wait -> done\n");
});
afterEach(async () => {
  client?.close();
  await server?.stop();
  client = undefined;
  server = undefined;
});

/** `atomiton run <file>` into ./data, in its own process; resolves once its node's start is in the stored log. */
async function runElsewhere(file: string) {
  const child = execa("node", [BIN, "run", file, "--reporter", "json", "--data-dir", "data"], { cwd: dir, reject: false, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 120_000 });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 1_200; i++) {
    const runId = /"type":"run:start","runId":"([^"]+)"/.exec(out)?.[1];
    if (runId && (await readFile(path.join(dir, "data/runs", `${runId}.ndjson`), "utf8").catch(() => "")).includes('"node:start"')) return { child, runId };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the run did not start:\n${out}`);
}

async function openServer(): Promise<TestClient> {
  server = await startServe(["--data-dir", "data"], { cwd: dir });
  client = await TestClient.open(server.url, { token: server.token });
  return client;
}

test("a run SIGKILLed while a client follows it: the stored events, then events.end (abandoned); later subscriptions end the same way", async () => {
  const c = await openServer();
  const { child, runId } = await runElsewhere("waits.yaml");
  const first = await c.call("events.subscribe", { runId, fromSeq: 0 });
  expect(first.error).toBeUndefined();
  await c.next((m) => m.method === "run.event" && m.params.runId === runId && m.params.seq === 1);
  child.kill("SIGKILL");
  await child;

  const ended = await c.next((m) => m.method === "events.end" && m.params.subscription === first.result.subscription);
  expect(ended.params).toMatchObject({ runId, seq: 2, status: "abandoned" });
  expect(ended.params.message).toContain(`run ${runId} was abandoned: its process died before the run finished`);
  expect(c.events(runId).map((e) => [e.seq, e.event.type])).toEqual([
    [0, "run:start"],
    [1, "node:start"],
  ]);
  // The subscription is over.
  expect((await c.call("events.unsubscribe", { subscription: first.result.subscription })).error?.data?.code).toBe("E_NOT_FOUND");

  // Subscribing after the kill: the stored events, then the same end.
  const second = await c.call("events.subscribe", { runId });
  const again = await c.next((m) => m.method === "events.end" && m.params.subscription === second.result.subscription);
  expect(again.params).toMatchObject({ runId, seq: 2, status: "abandoned" });
  expect(c.events(runId).map((e) => e.seq)).toEqual([0, 1, 0, 1]);

  // The other readers agree; the stored record still says running (readers do not rewrite it).
  expect(await c.request("runs.get", { runId })).toMatchObject({ runId, status: "abandoned" });
  expect(await c.request("runs.list", { status: "abandoned" })).toMatchObject([{ runId, status: "abandoned" }]);
  const wait = await c.call("run.wait", { runId });
  expect(wait.error).toMatchObject({ code: -32000, data: { code: "E_NOT_FOUND" } });
  expect(wait.error!.message).toContain("was abandoned");
  expect(JSON.parse(await readFile(path.join(dir, "data/runs", `${runId}.json`), "utf8"))).toMatchObject({ status: "running" });
  expect(server!.stderr()).not.toMatch(/\n\s+at /);
}, 120_000);

test("a run another process is recording is followed to its run:finish, with no gap and no events.end", async () => {
  const c = await openServer();
  const { child, runId } = await runElsewhere("brief.yaml");
  const sub = await c.call("events.subscribe", { runId, fromSeq: 0 });
  expect(sub.error).toBeUndefined();
  const finish = await c.finished(runId);
  expect(finish.params.event).toMatchObject({ type: "run:finish", status: "succeeded", output: 42 });
  expect((await child).exitCode).toBe(0);
  const seqs = c.events(runId).map((e) => e.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i));
  const stored = (await readFile(path.join(dir, "data/runs", `${runId}.ndjson`), "utf8")).trim().split("\n");
  expect(c.events(runId).map((e) => e.event.type)).toEqual(stored.map((line) => (JSON.parse(line) as { type: string }).type));
  expect(c.messages.some((m) => m.method === "events.end")).toBe(false);
}, 120_000);
