import type { Redis, RedisOptions } from "ioredis";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { StorageBackend } from "./types.js";

/** Namespace of keys when none is given (`--queue`, `ATOMITON_QUEUE`). */
export const DEFAULT_REDIS_PREFIX = "atomiton";

/**
 * Where a storage key lives in Redis, under one namespace `prefix`:
 * - `<prefix>:v:<key>`: a string with the key's bytes (records, composites, other raw keys);
 * - `<prefix>:s:<key>`: a stream, for `.ndjson` keys (event logs): each append is one entry whose
 *   field `d` holds the appended lines; the entry of a replacing write also has `r` = `1`, so a
 *   reader following the stream knows the log started over;
 * - `<prefix>:keys`: a sorted set of every key (score 0), for `list` by prefix in key order.
 */
export function redisKeys(prefix: string): { value(key: string): string; stream(key: string): string; index: string } {
  return { value: (key) => `${prefix}:v:${key}`, stream: (key) => `${prefix}:s:${key}`, index: `${prefix}:keys` };
}

/** Keys kept as Redis streams: the event logs. */
export function isStreamKey(key: string): boolean {
  return key.toLowerCase().endsWith(".ndjson");
}

/** `redis://user:secret@host` → `redis://user:***@host`: URLs appear in messages and records. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  }
}

/**
 * Connection settings every atomiton Redis client shares: reconnect with backoff (100 ms, growing to
 * 1 s), and a command waits through at most 10 reconnect attempts (about 6 s, enough for a Redis
 * restart) before it fails: a Redis that stays away is an error, never a hang.
 */
export function redisClientOptions(extra: RedisOptions = {}): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 10,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    ...extra,
  };
}

/** Opens an ioredis client (loaded on first use: memory and filesystem users never load it). */
export async function openRedisClient(url: string, extra: RedisOptions = {}): Promise<Redis> {
  const { Redis } = await import("ioredis");
  const client = new Redis(url, redisClientOptions(extra));
  let databaseMissing = false;
  // Errors reach the commands that fail; without a listener ioredis would print each reconnect attempt.
  client.on("error", (error: Error & { command?: { name?: string; args?: unknown[] } }) => {
    if (databaseMissing || error.command?.name !== "select") return;
    // ioredis goes on in database 0 when the URL's SELECT fails (a database the server does not
    // have): every waiting command fails with Redis' reason instead, and the client stops, so no
    // record or job ever lands in the wrong database.
    databaseMissing = true;
    const reason = new Error(`database ${String(error.command.args?.[0])} of the URL cannot be selected (${error.message}; the server's databases setting limits them)`);
    client.recoverFromFatalError(reason, reason, {});
    client.disconnect();
  });
  return client;
}

/**
 * Why a command of `client` failed to reach Redis. After its reconnects ioredis fails each waiting
 * command with "Reached the max retries per request limit", an option the user never set; the
 * connection's last error (ECONNREFUSED, ENOTFOUND…) says why.
 */
export function connectionFailure(client: Redis): (error: unknown) => string {
  let last: Error | undefined;
  client.on("error", (error: Error) => (last = error));
  return (error) => ((error as Error).name === "MaxRetriesPerRequestError" && last !== undefined ? `${last.message} (gave up after its reconnects)` : (error as Error).message);
}

/**
 * A backend on Redis: the shared store of queue mode (SPEC §10). Values are strings, event logs are
 * streams (a follower reads each batch as it lands), and an index keeps `list` ordered. Each write is
 * one script (Redis runs a script atomically), so a reader sees the old or the new value, never half.
 *
 * One command per write, not a MULTI/EXEC, lets ioredis pipeline them automatically: what the runs of
 * a worker write while a round trip is out goes in the next one, together. A write to a loopback
 * socket cost about 70 µs on the project's 2-core VMs (it wakes Redis on the other core); with 8
 * concurrent 10-node runs a worker wrote ~6 round trips per run. See docs/performance.md,
 * "7 December 2026, second session: queue, fewer round trips".
 */
export function createRedisBackend(url: string, prefix = DEFAULT_REDIS_PREFIX): StorageBackend & { close(): Promise<void>; client(): Promise<Redis> } {
  const keys = redisKeys(prefix);
  const shown = redactRedisUrl(url);
  let client: Promise<ScriptedRedis> | undefined;
  // Why a command failed: after its reconnects, the connection's own error (ECONNREFUSED…), not ioredis' retry limit.
  let why: (error: unknown) => string = describe;
  const redis = () =>
    (client ??= openRedisClient(url, { enableAutoPipelining: true }).then((r) => {
      for (const [name, lua] of Object.entries(WRITE_SCRIPTS)) r.defineCommand(name, { lua, numberOfKeys: 2 });
      why = connectionFailure(r);
      return r as ScriptedRedis;
    }));
  const target = (key: string): Target => [isStreamKey(key) ? keys.stream(key) : keys.value(key), keys.index];
  const kind = (key: string): "stream" | "value" => (isStreamKey(key) ? "stream" : "value");

  async function attempt<T>(action: string, key: string, op: (r: ScriptedRedis) => Promise<T>): Promise<T> {
    try {
      return await op(await redis());
    } catch (error) {
      if (error instanceof AtomitonError) throw error;
      throw new AtomitonError(ErrorCode.STORAGE, `cannot ${action} "${key}" in Redis at ${shown} (prefix ${prefix}): ${why(error)}`, {
        cause: error,
        retryable: true,
        hint: "is redis-server running and reachable? check --redis / ATOMITON_REDIS_URL",
        details: { url: shown, prefix, key },
      });
    }
  }

  // Where the last ranged read of each event log ended (its length in bytes and its last stream
  // entry), so a reader following a log fetches only the entries added since, not the whole stream.
  const readEnds = new Map<string, { bytes: number; id: string }>();
  const forgetEnd = <T>(key: string, result: T): T => (readEnds.delete(key), result);

  return {
    type: "redis",
    location: `${shown} (prefix ${prefix})`,
    followable: true,
    ordered: true,
    read: (key) =>
      attempt("load", key, async (r) => {
        if (!isStreamKey(key)) return (await r.getBuffer(keys.value(key))) ?? undefined;
        const entries = await r.xrangeBuffer(keys.stream(key), "-", "+");
        if (entries.length === 0 && (await r.exists(keys.stream(key))) === 0) return undefined;
        return Buffer.concat(entries.map(([, fields]) => fieldOf(fields, "d") ?? Buffer.alloc(0)));
      }),
    readFrom: (key, start) =>
      attempt("load", key, async (r) => {
        if (!isStreamKey(key)) return (await r.getBuffer(keys.value(key)))?.subarray(start);
        const end = readEnds.get(key);
        const after = end !== undefined && end.bytes === start;
        const entries = await r.xrangeBuffer(keys.stream(key), after ? `(${end.id}` : "-", "+");
        if (entries.length === 0) return after || (await r.exists(keys.stream(key))) > 0 ? Buffer.alloc(0) : forgetEnd(key, undefined);
        // An entry marked `r` starts the log over (a replacing write): the value is what follows it.
        const restart = after ? entries.findLastIndex(([, fields]) => fieldOf(fields, "r") !== undefined) : -1;
        const data = Buffer.concat(entries.slice(Math.max(0, restart)).map(([, fields]) => fieldOf(fields, "d") ?? Buffer.alloc(0)));
        const whole = !after || restart !== -1;
        readEnds.delete(key);
        if (whole && start > data.length) return Buffer.alloc(0);
        if (readEnds.size >= 256) readEnds.delete(readEnds.keys().next().value!);
        const tail = whole ? data.subarray(start) : data;
        readEnds.set(key, { bytes: start + tail.length, id: entries.at(-1)![0].toString() });
        return tail;
      }),
    // A replacing write's new stream may reuse entry ids below a remembered end: forget it.
    write: (key, data) => attempt("save", forgetEnd(key, key), (r) => r.atomitonWrite(...target(key), key, Buffer.from(data), kind(key)).then(() => undefined)),
    create: (key, data) => attempt("create", key, async (r) => Number(await r.atomitonCreate(...target(key), key, Buffer.from(data), kind(key))) === 1),
    append: (key, data) => attempt("append to", key, (r) => r.atomitonAppend(...target(key), key, Buffer.from(data), kind(key)).then(() => undefined)),
    remove: (key) => attempt("delete", forgetEnd(key, key), async (r) => Number(await r.atomitonRemove(...target(key), key)) > 0),
    keys: (prefixOfKeys) =>
      attempt("list", prefixOfKeys, async (r) => {
        if (prefixOfKeys === "") return r.zrangebylex(keys.index, "-", "+");
        // UTF-8 never holds the byte 0xff: "[prefix" … "[prefix\xff" is every key starting with prefix.
        const max = Buffer.concat([Buffer.from(`[${prefixOfKeys}`), Buffer.from([0xff])]);
        return r.zrangebylex(keys.index, `[${prefixOfKeys}`, max as unknown as string);
      }),
    has: (key) => attempt("check", key, async (r) => (await r.exists(isStreamKey(key) ? keys.stream(key) : keys.value(key))) > 0),
    async assertWritable() {
      await attempt("write to", `${prefix}:probe`, async (r) => {
        await r.set(`${prefix}:probe`, "1", "PX", 10_000);
        await r.del(`${prefix}:probe`);
      }).catch((error: AtomitonError) => {
        throw new AtomitonError(ErrorCode.STORAGE, `Redis storage at ${shown} is not usable (${describe(error.cause ?? error)})`, {
          cause: error,
          retryable: true,
          hint: "start redis-server, or check the URL given with --redis / ATOMITON_REDIS_URL",
          details: { url: shown, prefix },
        });
      });
    },
    /**
     * The backend's connection, for commands that should share its round trips (auto-pipelined) and
     * its order: the queue's engine thread reads a run's cancel key with the run's record.
     */
    client: redis,
    async close() {
      const opened = client;
      client = undefined;
      if (!opened) return;
      const r = await opened.catch(() => undefined);
      if (!r) return;
      if (r.status !== "ready") return r.disconnect();
      // QUIT waits for the server's answer; a server that went away meanwhile must not hold us.
      const timer = setTimeout(() => r.disconnect(), 1_000);
      await r.quit().catch(() => r.disconnect());
      clearTimeout(timer);
    },
  };
}

/** The key a storage key's bytes live under, and the index: the two keys every write script takes. */
type Target = [string, string];

/**
 * The writes, one script each: KEYS[1] is the value's string or stream, KEYS[2] the index; ARGV[1] the
 * storage key, ARGV[2] the bytes, ARGV[3] `stream` for a stream (an event log).
 */
const WRITE_SCRIPTS = {
  atomitonWrite: `
if ARGV[3] == 'stream' then redis.call('DEL', KEYS[1]); redis.call('XADD', KEYS[1], '*', 'r', '1', 'd', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2]) end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1`,
  atomitonCreate: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[3] == 'stream' then redis.call('XADD', KEYS[1], '*', 'r', '1', 'd', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2]) end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1`,
  atomitonAppend: `
if ARGV[3] == 'stream' then redis.call('XADD', KEYS[1], '*', 'd', ARGV[2]) else redis.call('APPEND', KEYS[1], ARGV[2]) end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1`,
  atomitonRemove: `
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return deleted`,
};

type WriteScript = (valueKey: string, index: string, key: string, data?: Buffer, kind?: "stream" | "value") => Promise<unknown>;
type ScriptedRedis = Redis & Record<keyof typeof WRITE_SCRIPTS, WriteScript>;

/** A stream entry's field value (fields come as [name, value, name, value…]). */
function fieldOf(fields: Buffer[], name: string): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toString() === name) return fields[i + 1];
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
