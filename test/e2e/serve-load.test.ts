import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { tempDir } from "../helpers/cli.js";
import { chainYaml, startServe, TestClient, type ServeProcess } from "../helpers/serve.js";

// Many clients, and a client that stops reading, against one built `atomiton serve`.
const SMALL = `name: small
nodes:
  - { id: a, type: code, parameters: { code: "return 1" } }
  - { id: b, type: code, parameters: { code: "return data + 1" } }
  - { id: c, type: log, parameters: { message: "got {{ $input }}" } }
  - { id: d, type: code, parameters: { code: "return data * 10" } }
edges: [a -> b, b -> c, c -> d]
`;
const SMALL_TYPES = ["run:start", "node:start", "node:finish", "node:start", "node:finish", "node:start", "node:log", "node:finish", "node:start", "node:finish", "run:finish"];
const NODES = 10_000;
// 10k log nodes, each logging 10 KB: about 100 MB of events, far over any socket buffer.
const CHATTY = chainYaml("chatty", NODES, (i) => `  - { id: n${i}, type: log, parameters: { message: "{{ 'x'.repeat(10240) }}" } }`);

let dir: string;
let cleanup: () => Promise<void>;
let server: ServeProcess;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-serve-load-"));
  await writeFile(path.join(dir, "small.yaml"), SMALL);
  await writeFile(path.join(dir, "chatty.yaml"), CHATTY);
  server = await startServe(["--data-dir", path.join(dir, "data")], { cwd: dir });
});

afterAll(async () => {
  await server?.stop();
  await cleanup?.();
});

/** Peak and current resident memory of the server process, in MB. */
async function serverMemory(s: ServeProcess): Promise<{ peakMb: number; rssMb: number }> {
  const status = await readFile(`/proc/${s.child.pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { peakMb: kb("VmHWM") / 1024, rssMb: kb("VmRSS") / 1024 };
}

test("100 clients × 10 runs at once: all finish, every event stream complete and in order", { timeout: 180_000 }, async () => {
  const clients = await Promise.all(Array.from({ length: 100 }, () => TestClient.open(server.url, { token: server.token, timeoutMs: 150_000 })));
  const runIds = await Promise.all(clients.map((c) => Promise.all(Array.from({ length: 10 }, () => c.request("run.start", { path: "small.yaml" }).then((r) => r.runId as string)))));
  await Promise.all(clients.map((c, k) => Promise.all(runIds[k]!.map((id) => c.finished(id, 150_000)))));
  for (const [k, c] of clients.entries()) {
    for (const id of runIds[k]!) {
      const events = c.events(id);
      expect(events.map((e) => e.seq)).toEqual(SMALL_TYPES.map((_, i) => i));
      expect(events.map((e) => e.event.type)).toEqual(SMALL_TYPES);
      expect(events.at(-1)!.event).toMatchObject({ status: "succeeded", output: 20 });
    }
    // A client sees its own runs' events only.
    expect(new Set(c.messages.filter((m) => m.method === "run.event").map((m) => m.params.runId))).toEqual(new Set(runIds[k]));
    c.close();
  }
  expect(new Set(runIds.flat()).size).toBe(1000);
});

test("a client that never reads: the run finishes, the server's memory stays bounded, the client gets events:dropped and 4408", { timeout: 180_000 }, async () => {
  // A server of its own, so its peak RSS is this test's.
  const own = await startServe(["--data-dir", path.join(dir, "data-slow")], { cwd: dir });
  const observer = await TestClient.open(own.url, { token: own.token });
  // The same run streamed to a client that reads everything, for the baseline: the server's peak
  // then includes serializing every event once, which a slow client costs too. What a slow client
  // must not add is a buffer of the ~100 MB it does not read. Twice: V8 grows its heap over the
  // first runs of a fresh process (peak RSS ~290 MB after one run, ~520 MB after two, flat after),
  // so a baseline of one run made any second run look like a 250 MB leak.
  const reader = await TestClient.open(own.url, { token: own.token });
  let silentFinish: { durationMs: number } = { durationMs: 0 };
  for (let k = 0; k < 2; k++) {
    const silent = await reader.request("run.start", { path: "chatty.yaml" });
    silentFinish = await observer.request("run.wait", { runId: silent.runId });
  }
  reader.close();
  const before = await serverMemory(own);

  const slow = await TestClient.open(own.url, { token: own.token });
  const { runId } = await slow.request("run.start", { path: "chatty.yaml" });
  slow.ws.pause(); // reads nothing more from here on
  const finish = await observer.request("run.wait", { runId });
  expect(finish).toMatchObject({ status: "succeeded", counts: { succeeded: NODES } });
  const after = await serverMemory(own);
  // Figures for the report; the speed ratio is measured properly by `npm run bench`.
  console.info(`slow client: run ${Math.round(finish.durationMs)} ms vs read in full ${Math.round(silentFinish.durationMs)} ms; server peak RSS ${Math.round(before.peakMb)} → ${Math.round(after.peakMb)} MB (events ≈ ${Math.round((NODES * 10_500) / 2 ** 20)} MB)`);
  // Unbounded buffering would hold every event (~100 MB of frames); the send buffer is capped at 8 MiB.
  expect(after.peakMb - before.peakMb).toBeLessThan(50);

  // Still not reading 10 s later: closed with 4408. Reading again, it finds the dropped ranges and the close.
  await new Promise((r) => setTimeout(r, 11_000));
  slow.ws.resume();
  const closed = await slow.closed;
  expect(closed.code).toBe(4408);
  const events = slow.events(runId);
  const dropped = events.filter((e) => e.event.type === "events:dropped");
  expect(dropped.length).toBeGreaterThan(0);
  // Delivered events and dropped ranges tile the seqs without overlap, in order.
  let next = 0;
  for (const e of events) {
    if (e.event.type === "events:dropped") {
      expect(e.event).toMatchObject({ fromSeq: next, toSeq: e.seq });
      expect(e.event.count).toBe(e.event.toSeq - e.event.fromSeq + 1);
      next = e.event.toSeq + 1;
    } else {
      expect(e.seq).toBe(next);
      next++;
    }
  }
  observer.close();
  await own.stop();
});
