import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A real redis-server for tests: `ATOMITON_TEST_REDIS_URL` when set, else an own `redis-server` on a
 * free port in a temp dir (no persistence), stopped by `stop()`. Tests that share a server use a
 * unique namespace each (`uniqueName()`), so parallel runs never see each other's keys.
 */
export interface TestRedis {
  url: string;
  source: "ATOMITON_TEST_REDIS_URL" | "own server";
  /** Own server only: its port and process (the fault tests kill and restart it). */
  port?: number;
  process?: ChildProcess;
  /** Own server only: SIGKILL it (no shutdown save), resolving once it exited. */
  kill?(): Promise<void>;
  /** Own server only: start it again on the same port after a kill. */
  restart?(): Promise<void>;
  stop(): Promise<void>;
}

const INSTALL_HINT = "install it with `apt-get install redis-server` (Debian/Ubuntu), or point ATOMITON_TEST_REDIS_URL at one (redis://127.0.0.1:6379)";

function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir && existsSync(path.join(dir, "redis-server"))) return path.join(dir, "redis-server");
  return existsSync("/usr/bin/redis-server") ? "/usr/bin/redis-server" : undefined;
}

/** Whether the Redis tests can run, and if not, why (printed by the test file). */
export function redisAvailability(): { available: true } | { available: false; reason: string } {
  if (process.env.ATOMITON_TEST_REDIS_URL) return { available: true };
  if (findRedisServer()) return { available: true };
  return { available: false, reason: `Redis tests skipped: neither ATOMITON_TEST_REDIS_URL nor redis-server found; ${INSTALL_HINT}` };
}

/** Whether an own redis-server can be started (the tests that kill and restart Redis need one). */
export const hasRedisServer = findRedisServer() !== undefined;

/** A namespace no other test (or parallel run) uses: queue name and key prefix. */
export function uniqueName(label = "t"): string {
  return `atomiton-test-${label}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => (socket.destroy(), resolve(false)));
      socket.connect(port, "127.0.0.1");
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts an own redis-server (always, ignoring ATOMITON_TEST_REDIS_URL): for tests that kill it.
 * `persist`: an append-only file fsynced on every write (as docs/queue.md advises for a queue's
 * Redis), so a restart brings back the queue and the records.
 */
export async function startOwnRedis(options: { persist?: boolean } = {}): Promise<TestRedis> {
  const bin = findRedisServer();
  if (!bin) throw new Error(`no redis-server: ${INSTALL_HINT}`);
  const dir = await mkdtemp(path.join(tmpdir(), "atomiton-redis-"));
  const port = await freePort();
  const handle: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    source: "own server",
    port,
    async restart() {
      handle.process = launch();
      await waitForPort(port, 10_000);
    },
    async kill() {
      const child = handle.process;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
    },
    async stop() {
      await handle.kill!();
      await rm(dir, { recursive: true, force: true });
    },
  };
  const launch = () =>
    spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--protected-mode", "no", ...(options.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"])], { stdio: "ignore" });
  handle.process = launch();
  await waitForPort(port, 10_000);
  return handle;
}

/** Start (or reuse) a server. Call `stop()` in afterAll. */
export async function startRedis(): Promise<TestRedis> {
  const given = process.env.ATOMITON_TEST_REDIS_URL;
  if (given) return { url: given, source: "ATOMITON_TEST_REDIS_URL", stop: async () => undefined };
  return startOwnRedis();
}

/** Deletes every key of a namespace (after a test), with redis-cli-free SCAN through ioredis. */
export async function dropNamespace(url: string, namespace: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== "0");
  } catch {
    // The server may be gone already (a test that stopped it).
  } finally {
    client.disconnect();
  }
}

export const redisServerVersion = (() => {
  try {
    return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
})();
