import { hostname } from "node:os";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { AtomitonError, ErrorCode } from "../errors.js";
import { eventLogKey, runRecordKey, type RunRecord } from "../conductor/run-recorder.js";
import { connectionFailure, openRedisClient, redactRedisUrl, redisKeys } from "../storage/redis.js";
import { createStorage } from "../storage/create-storage.js";
import { BULL_QUEUE, queueKeys, type RunJob, type WorkerInfo } from "./names.js";
import { FINAL_STATUSES, finishAbandoned, recordNotRun } from "./run-job.js";
import type { Storage } from "../storage/types.js";

/** One numbered line of a run's event log, as it reaches a follower (the `run.event` params' seq). */
export interface StreamLine {
  seq: number;
  line: string;
}

export interface QueueClientOptions {
  url: string;
  namespace: string;
  /** How long Redis may be unreachable, or the queue without a live worker, before E_QUEUE_UNAVAILABLE. */
  timeoutMs: number;
}

/**
 * What a submitter needs (`run --queue`, `serve --redis`): add a run to the queue, follow its event
 * stream, ask its worker to cancel it, list the workers. Never waits forever: every wait is bounded by
 * `timeoutMs` of Redis being unreachable or of no live worker.
 */
export class QueueClient {
  readonly shown: string;
  private readonly keys: ReturnType<typeof queueKeys>;
  private queue: Queue<RunJob> | undefined;
  private control: Redis | undefined;

  constructor(private readonly options: QueueClientOptions) {
    this.shown = redactRedisUrl(options.url);
    this.keys = queueKeys(options.namespace);
  }

  static submitter(): string {
    return `${hostname()}:${process.pid}`;
  }

  /** Connects, or fails with E_QUEUE_UNAVAILABLE within the timeout saying why. */
  async connect(): Promise<void> {
    const control = await openRedisClient(this.options.url);
    this.control = control;
    const why = connectionFailure(control);
    await withDeadline(control.ping(), this.options.timeoutMs, () => this.unavailable("cannot reach Redis")).catch((error: unknown) => {
      if (error instanceof AtomitonError) throw error;
      const message = why(error);
      // Reached, but the URL's database is not there: saying "cannot reach" would send the user to the network.
      if (/cannot be selected/.test(message)) throw this.unavailable(message, "use a database index the server has (redis-server's `databases` setting, 16 by default: 0–15)");
      throw this.unavailable(`cannot reach Redis (${message})`);
    });
    const { Queue } = await import("bullmq");
    this.queue = new Queue<RunJob>(BULL_QUEUE, { connection: { url: this.options.url, maxRetriesPerRequest: 10, retryStrategy: (times: number) => Math.min(times * 100, 1_000) } as never, prefix: this.keys.bullPrefix });
    this.queue.on("error", () => undefined);
  }

  /** Adds a run (the job id is its run id, so a run is queued once). */
  async submit(job: RunJob): Promise<void> {
    await withDeadline(this.queue!.add("run", job, { jobId: job.runId, attempts: 1 }), this.options.timeoutMs, () => this.unavailable(`cannot queue run ${job.runId}`));
  }

  /** Asks the worker running it (or the one that will start it) to cancel the run. */
  async cancel(runId: string): Promise<void> {
    const control = this.control!;
    await control.multi().set(this.keys.cancel(runId), "1", "EX", 24 * 3600).publish(this.keys.cancelChannel, runId).exec();
  }

  /**
   * Takes a run off the queue if no worker holds it: `"waiting"` when it was waiting for a worker,
   * `"stalled"` when it was active under an expired lock (its worker died or froze), so it will not
   * run later; false when a worker holds it (BullMQ removes no locked job, checked atomically) or it
   * is gone or over.
   */
  async withdraw(runId: string): Promise<false | "waiting" | "stalled"> {
    const job = await this.queue!.getJob(runId);
    if (!job) return false;
    const state = await job.getState();
    const from = state === "active" ? "stalled" : state === "waiting" || state === "prioritized" || state === "delayed" || state === "waiting-children" ? "waiting" : undefined;
    if (from === undefined) return false;
    return job.remove().then(
      () => from,
      () => false as const,
    );
  }

  /**
   * BullMQ failed the run (its workers kept dying: "job stalled more than allowable limit") before
   * any worker wrote how it ended: its record, still `running`, is ended as `failed` with `error`.
   */
  endFailedInQueue(runId: string, error: AtomitonError): Promise<void> {
    return this.withStorage(async (storage) => void (await finishAbandoned(storage, runId, error)));
  }

  /**
   * The final record and `run:finish` of a run this submitter took off the queue: one no worker
   * started (a record of its own), or one its worker handed back (its record and events so far kept).
   */
  recordNotRun(job: RunJob, status: "failed" | "cancelled", error: AtomitonError, env: Record<string, string | undefined> = process.env): Promise<void> {
    return this.withStorage(async (storage) => {
      if ((await finishAbandoned(storage, job.runId, error, status)) === undefined) await recordNotRun(storage, job, status, error, env);
    });
  }

  /** The run's record when it is final (`succeeded`, `failed`, `cancelled`), else undefined. */
  finalRecord(runId: string): Promise<RunRecord | undefined> {
    return this.withStorage(async (storage) => {
      const record = (await storage.load(runRecordKey(runId))) as RunRecord | undefined;
      return record !== undefined && FINAL_STATUSES.has(record.status) ? record : undefined;
    });
  }

  /** The queue's storage (records, event logs), opened for one step: these steps are rare, once per run at most. */
  private async withStorage<T>(step: (storage: Storage) => Promise<T>): Promise<T> {
    const storage = createStorage({ type: "redis", url: this.options.url, prefix: this.options.namespace });
    try {
      return await step(storage);
    } finally {
      await storage.close?.();
    }
  }

  /**
   * The job's BullMQ state (`waiting`, `active`, `completed`, `failed`…; `unknown` when the job is
   * gone), why it failed, and for an active job whether a worker still holds its lock (an active job
   * without one stalled: its worker died or froze, and only a live worker's stalled-job check moves it on).
   */
  async jobState(runId: string): Promise<{ state: string; failedReason?: string; locked?: boolean }> {
    const queue = this.queue!;
    const job = await queue.getJob(runId);
    if (!job) return { state: "unknown" };
    const state = await job.getState();
    const out: { state: string; failedReason?: string; locked?: boolean } = { state };
    if (job.failedReason) out.failedReason = job.failedReason;
    if (state === "active") out.locked = (await this.control!.exists(queue.toKey(`${runId}:lock`))) > 0;
    return out;
  }

  /** How many jobs are in each state. */
  async jobCounts(): Promise<Record<string, number>> {
    return this.queue!.getJobCounts("waiting", "active", "completed", "failed", "delayed", "prioritized");
  }

  /** Workers with a heartbeat hash (expired ones are gone), each with its health. */
  async workers(now = Date.now()): Promise<(WorkerInfo & { healthy: boolean; problem?: string })[]> {
    const control = this.control!;
    const ids = await control.zrange(this.keys.workers, 0, -1);
    const waiting = await this.queue!.getWaitingCount();
    const out: (WorkerInfo & { healthy: boolean; problem?: string })[] = [];
    for (const id of ids) {
      const h = await control.hgetall(this.keys.worker(id));
      if (!h.id) {
        await control.zrem(this.keys.workers, id);
        continue;
      }
      const info: WorkerInfo = {
        id: h.id,
        host: h.host ?? "",
        pid: Number(h.pid),
        concurrency: Number(h.concurrency),
        inFlight: Number(h.inFlight),
        runs: JSON.parse(h.runs ?? "[]") as string[],
        lastFetchAt: Number(h.lastFetchAt),
        heartbeatAt: Number(h.heartbeatAt),
        startedAt: Number(h.startedAt),
        heartbeatMs: Number(h.heartbeatMs),
        state: h.state === "draining" ? "draining" : "running",
        ...(h.lastJob ? { lastJob: h.lastJob, lastJobAt: Number(h.lastJobAt) } : {}),
      };
      out.push({ ...info, ...health(info, now, waiting) });
    }
    return out;
  }

  /**
   * Follows a run's event log stream from its first line: calls `onLine` for each line in order, with
   * its seq, and `onRestart` when a new attempt replaced the log (a worker died and another resumed
   * the run). Resolves once `isDone()` says the run finished. `check` runs between reads (about once a
   * second): it may throw to stop following. Redis going away is retried until `timeoutMs`.
   */
  async follow(runId: string, handlers: { onLine(line: StreamLine): void; onRestart?(): void; isDone(): boolean; check?(): Promise<void>; signal?: AbortSignal }): Promise<void> {
    const key = redisKeys(this.options.namespace).stream(eventLogKey(runId));
    const reader = await openRedisClient(this.options.url);
    const why = connectionFailure(reader);
    let lastId = "0";
    let seq = 0;
    // Redis is "lost" from the last read that worked: a failing read itself waits through about 6 s of reconnects.
    let lastOk = Date.now();
    // While the reader reconnects, a deadline names the connection's error, not the missing answer.
    let connectionError: Error | undefined;
    reader.on("error", (error: Error) => (connectionError = error));
    reader.on("ready", () => (connectionError = undefined));
    const lostFor = (error: unknown): AtomitonError | undefined => {
      if (Date.now() - lastOk <= this.options.timeoutMs) return undefined;
      const reason = error instanceof NoAnswer && connectionError !== undefined ? `${connectionError.message} (still reconnecting)` : why(error);
      const lost = this.unavailable(`lost Redis for ${Math.round((Date.now() - lastOk) / 1000)} s while following run ${runId} (${reason}); the run may still be going: atomiton runs show ${runId} --storage redis --redis ${this.shown}${this.options.namespace !== "atomiton" ? ` --queue-name ${this.options.namespace}` : ""}`);
      lostRedis.add(lost);
      return lost;
    };
    // A Redis that accepts the connection and never answers (paused, a network path that drops
    // packets) fails no command: each read, and each check, gets a deadline instead.
    const noAnswer = () => new NoAnswer(`no answer within ${READ_DEADLINE_MS / 1000} s`);
    try {
      while (!handlers.isDone() && !handlers.signal?.aborted) {
        let entries: [Buffer, Buffer[]][] = [];
        try {
          const read = reader.xreadBuffer("COUNT", 1000, "BLOCK", 1000, "STREAMS", key, lastId) as Promise<[Buffer, [Buffer, Buffer[]][]][] | null>;
          const res = await withDeadline(read, READ_DEADLINE_MS, noAnswer);
          entries = res?.[0]?.[1] ?? [];
          lastOk = Date.now();
        } catch (error) {
          const lost = lostFor(error);
          if (lost) throw lost;
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        for (const [id, fields] of entries) {
          lastId = id.toString();
          let data = "";
          let restart = false;
          for (let i = 0; i + 1 < fields.length; i += 2) {
            const name = fields[i]!.toString();
            if (name === "d") data = fields[i + 1]!.toString("utf8");
            else if (name === "r") restart = true;
          }
          if (restart && seq > 0) {
            seq = 0;
            handlers.onRestart?.();
          }
          for (const line of data.split("\n")) if (line !== "") handlers.onLine({ seq: seq++, line });
        }
        if (entries.length === 0 && !handlers.isDone() && handlers.check) {
          await withDeadline(handlers.check(), READ_DEADLINE_MS, noAnswer).catch((error: unknown) => {
            if (!(error instanceof NoAnswer)) throw error;
            const lost = lostFor(error);
            if (lost) throw lost;
          });
        }
      }
    } finally {
      reader.disconnect();
    }
  }

  /** Seconds without a live worker while the run waits fail it: call with the time it started waiting. */
  async assertWorkersAlive(runId: string, waitingSince: number, stalled = false): Promise<void> {
    if (Date.now() - waitingSince < this.options.timeoutMs) return;
    const live = (await this.workers()).filter((w) => w.healthy);
    if (live.length > 0) return;
    const what = stalled ? `the worker of run ${runId} stopped (its lock expired) and no live worker took the run over` : `no live worker took run ${runId}`;
    throw this.unavailable(`${what} within ${Math.round(this.options.timeoutMs / 1000)} s (queue ${this.options.namespace}: no worker with a recent heartbeat)`, `start one: atomiton worker --redis ${this.shown}` + (this.options.namespace !== "atomiton" ? ` --queue ${this.options.namespace}` : ""));
  }

  unavailable(why: string, hint = "check that redis-server is running and reachable at --queue / --redis, and that workers run (atomiton workers --redis <url>)"): AtomitonError {
    return new AtomitonError(ErrorCode.QUEUE_UNAVAILABLE, `queue unavailable at ${this.shown}: ${why}`, { retryable: true, hint });
  }

  /** Closes the connections; with Redis gone, after at most CLOSE_WAIT_MS (a close would wait through its reconnects). */
  async close(): Promise<void> {
    const queue = this.queue;
    if (queue !== undefined) {
      const closed = await withDeadline(queue.close().then(() => true), CLOSE_WAIT_MS, () => new Error("close timed out")).catch(() => false);
      if (!closed) await queue.disconnect().catch(() => undefined);
    }
    this.control?.disconnect();
  }
}

/**
 * A worker is unhealthy when its heartbeat is older than its window (5 beats), or when it had a free
 * slot and jobs were waiting but its fetch loop has not reached Redis within that window: the process
 * is alive, yet it is not taking jobs it could take (a dead blocking connection after a network blip).
 */
export function health(info: WorkerInfo, now: number, waiting: number): { healthy: boolean; problem?: string } {
  const window = info.heartbeatMs * 5;
  if (now - info.heartbeatAt > window) return { healthy: false, problem: `no heartbeat for ${Math.round((now - info.heartbeatAt) / 1000)} s` };
  if (info.state === "running" && info.inFlight < info.concurrency && now - info.lastFetchAt > window) {
    return { healthy: false, problem: `has a free slot${waiting > 0 ? ` and ${waiting} job(s) wait` : ""}, but has not fetched for ${Math.round((now - info.lastFetchAt) / 1000)} s` };
  }
  return { healthy: true };
}

/** How long closing waits for Redis before it drops the connections. */
const CLOSE_WAIT_MS = 1_000;

/** Errors of `follow` that mean Redis itself was lost (not a queue without live workers). */
const lostRedis = new WeakSet<Error>();

/**
 * Whether `error` is `follow`'s "lost Redis": nothing more can be asked of Redis then (taking the run
 * off the queue, reading its job) without waiting through another round of reconnects.
 */
export function isLostRedis(error: unknown): boolean {
  return error instanceof Error && lostRedis.has(error);
}

/** `promise`, or the `error` when it has not settled within `ms`. */
/** How long one read of a run's stream (it blocks for 1 s) or one check may take before Redis counts as not answering. */
const READ_DEADLINE_MS = 5_000;

/** A read or check of Redis that got no answer within READ_DEADLINE_MS. */
class NoAnswer extends Error {}

export function withDeadline<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), ms)))]).finally(() => clearTimeout(timer));
}

/** Whether `promise` settled well within `ms` (a rejection or a timeout is false). */
export function bounded(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}
