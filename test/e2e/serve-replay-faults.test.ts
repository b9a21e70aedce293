import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { atomiton, EXAMPLES, tempDir } from "../helpers/cli.js";
import { dropNamespace, redisAvailability, startRedis, uniqueName, type TestRedis } from "../helpers/redis.js";
import { spawnStdioServe, startServe, TestClient, type Message, type ServeProcess } from "../helpers/serve.js";

// A replay (events.subscribe with fromSeq, or a finished run) whose stored event log cannot be read
// told the client nothing: it waited for ever. It now gets an `events.error` notification and the
// subscription ends (docs/protocol.md, "When a replay fails").

/** One client of a spawned `atomiton serve`, over WebSocket or --stdio alike. */
interface Peer {
  readonly messages: Message[];
  call(method: string, params?: unknown): Promise<Message>;
  next(test: (m: Message) => boolean): Promise<Message>;
  stop(): Promise<string>;
}

async function openWebSocket(args: string[], cwd: string): Promise<Peer> {
  const server: ServeProcess = await startServe(args, { cwd });
  const client = await TestClient.open(server.url, { token: server.token });
  return {
    messages: client.messages,
    call: (method, params) => client.call(method, params),
    next: (test) => client.next(test),
    async stop() {
      client.close();
      await server.stop();
      return server.stderr();
    },
  };
}

async function openStdio(args: string[], cwd: string): Promise<Peer> {
  const s = spawnStdioServe(args, { cwd });
  return {
    messages: s.messages,
    call: s.call,
    next: s.next,
    async stop() {
      s.child.stdin!.end();
      return String((await s.child).stderr ?? "");
    },
  };
}

const transports = [
  { name: "WebSocket", open: openWebSocket },
  { name: "--stdio", open: openStdio },
];

const ready = redisAvailability();
if (!ready.available) console.warn(ready.reason);

describe.skipIf(!ready.available)("a finished run's log in Redis that cannot be read", () => {
  let redis: TestRedis;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    redis = await startRedis();
    ({ dir, cleanup } = await tempDir("atomiton-replay-faults-"));
  });
  afterAll(async () => {
    await redis?.stop();
    await cleanup?.();
  });

  test.each(transports)("over $name: events.subscribe is answered, then events.error (E_STORAGE) ends the subscription", async ({ open }) => {
    const namespace = uniqueName("replay");
    try {
      const r = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--reporter", "json", "--storage", "redis", "--redis", redis.url, "--queue-name", namespace], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      const runId = (JSON.parse(r.stdout.split("\n")[0]!) as { runId: string }).runId;
      // The run's event log stream becomes a key of another type: every read of it fails (WRONGTYPE).
      const { Redis } = await import("ioredis");
      const client = new Redis(redis.url);
      await client.del(`${namespace}:s:runs/${runId}.ndjson`);
      await client.set(`${namespace}:s:runs/${runId}.ndjson`, "not a stream");
      client.disconnect();

      const peer = await open(["--redis", redis.url, "--queue", namespace], dir);
      const answer = await peer.call("events.subscribe", { runId, fromSeq: 0 });
      expect(answer.error).toBeUndefined();
      const failed = await peer.next((m) => m.method === "events.error");
      expect(failed.params).toMatchObject({ subscription: answer.result.subscription, runId, seq: 0, error: { code: -32000, data: { code: "E_STORAGE" } } });
      expect(failed.params.error.message).toMatch(/WRONGTYPE/);
      expect(failed.params.error.data.hint).toMatch(/events\.subscribe/);
      // The subscription is gone: unsubscribing it is E_NOT_FOUND.
      expect((await peer.call("events.unsubscribe", { subscription: answer.result.subscription })).error?.data?.code).toBe("E_NOT_FOUND");
      const stderr = await peer.stop();
      expect(stderr).not.toMatch(/\n\s+at |trace-warnings/);
    } finally {
      await dropNamespace(redis.url, namespace);
    }
  });
});

describe("a live run whose stored log lacks events the replay needs", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir("atomiton-replay-live-"));
    await writeFile(path.join(dir, "hangs.yaml"), "name: hangs\nnodes:\n  - { id: wait, type: shell-command, parameters: { program: sleep, args: ['60'] } }\n");
  });
  afterEach(async () => cleanup());

  test.each(transports)("over $name: no gap is sent; events.error says from which seq, and the subscription ends", async ({ open }) => {
    const peer = await open(["--data-dir", "data"], dir);
    const { runId } = (await peer.call("run.start", { path: "hangs.yaml", subscribe: false })).result as { runId: string };
    // Wait for the recorder's first lines (run:start, node:start, the command line), then take the log away.
    const log = path.join(dir, "data", "runs", `${runId}.ndjson`);
    for (let i = 0; i < 400 && !(await readFile(log, "utf8").catch(() => "")).includes('"node:log"'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(await readFile(log, "utf8")).toContain('"node:log"');
    await rename(log, `${log}.moved`);
    await mkdir(log);
    const answer = await peer.call("events.subscribe", { runId, fromSeq: 0 });
    expect(answer.error).toBeUndefined();
    expect((await peer.call("run.cancel", { runId })).error).toBeUndefined();
    const failed = await peer.next((m) => m.method === "events.error");
    expect(failed.params).toMatchObject({ subscription: answer.result.subscription, runId, seq: 0, error: { code: -32000, data: { code: "E_STORAGE" } } });
    // Nothing of that run reached this client: not the live events that would have followed a hole.
    expect((await peer.call("run.wait", { runId })).result).toMatchObject({ status: "cancelled" });
    expect(peer.messages.filter((m) => m.method === "run.event")).toEqual([]);
    await peer.stop();
  });
});
