import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Worker as Thread } from "node:worker_threads";
import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import { AtomitonError, ErrorCode, type SerializedError } from "../errors.js";
import type { NodeSpec } from "../nodes/load-custom-nodes.js";
import { connectionFailure, openRedisClient, redactRedisUrl } from "../storage/redis.js";
import type { EngineData, EngineReply, EngineRequest } from "./engine-thread.js";
import { BULL_QUEUE, queueKeys, type RunJob, type RunOutcome, type WorkerInfo } from "./names.js";
import type { RejectedJob } from "./run-job.js";
import { bounded, withDeadline } from "./client.js";
import { createBatchedPost } from "./batched-post.js";

export interface QueueWorkerOptions {
  url: string;
  namespace: string;
  concurrency: number;
  nodeSpecs: NodeSpec[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** BullMQ lock: renewed every third of it by the main thread; a dead worker's runs move on after it. */
  lockDurationMs: number;
  /** Heartbeat period (and BullMQ's idle poll). */
  heartbeatMs: number;
  log: (line: string) => void;
}

export interface QueueWorker {
  readonly id: string;
  /** The node types this worker can run. */
  readonly nodeTypes: string[];
  /** SIGTERM: take no new jobs; runs in flight finish within `graceMs`, else go back to the queue. */
  shutdown(graceMs: number): Promise<void>;
  /**
   * Resolves when the worker has stopped (shutdown, or a fatal error): true when it closed cleanly,
   * false when Redis did not answer (its runs in flight return to the queue by the stalled-job check).
   */
  readonly closed: Promise<boolean>;
}

/** The engine thread: the bundle's copy next to the CLI; from the sources (tests), the built one. */
function engineUrl(): URL {
  const here = import.meta.url;
  return /\.[cm]?ts$/.test(here) ? new URL("../../dist/queue-engine.js", here) : new URL("./queue-engine.js", here);
}

interface InFlight {
  job: Job<RunJob>;
  /** Set once the run is handed to the engine thread. */
  settle?: (reply: EngineReply) => void;
  /** A cancel request reached this worker for the run (before it started, or while it ran). */
  cancelRequested: boolean;
  /** When this attempt took the job (an attempt whose lock expired has held it for a lock duration at least). */
  startedAt: number;
  /** Its lock expired and it was stopped: the job belongs to the next attempt. */
  lockLost?: boolean;
  /** The engine's reply, once the attempt is handed to the engine thread. */
  reply?: Promise<EngineReply>;
}

/**
 * `atomiton worker` (SPEC §10): a BullMQ Worker on the main thread, whose only work is Redis: fetch
 * jobs, renew their locks, beat the heartbeat, take cancel requests. The runs execute in one engine
 * thread (engine-thread.ts), so a node that blocks its event loop never stops the lock renewal.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const { Worker, UnrecoverableError, WaitingError } = await import("bullmq");
  const keys = queueKeys(options.namespace);
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const shown = redactRedisUrl(options.url);
  // Before anything starts (the engine thread, clients that retry forever): a wrong URL, a dead
  // server or a missing database is a clear error at start, and nothing is left keeping the process alive.
  await assertReachable(options.url, shown);

  const engine = new Thread(engineUrl(), {
    workerData: { url: options.url, namespace: options.namespace, nodeSpecs: options.nodeSpecs, cwd: options.cwd, env: options.env, workerId: id } satisfies EngineData,
  });
  const inFlight = new Map<string, InFlight>();
  /** Set when the engine thread died: runs not yet handed to it fail with this at once. */
  let engineFailure: SerializedError | undefined;
  let engineGone: ((error: Error) => void) | undefined;
  const nodeTypes = await new Promise<string[]>((resolve, reject) => {
    engineGone = reject;
    engine.on("message", (replies: EngineReply[]) => {
      for (const reply of replies) {
        if (reply.type === "ready") resolve(reply.nodeTypes);
        else if (reply.type === "fatal") reject(fromSerialized(reply.error));
        else if (reply.type === "done" || reply.type === "error") inFlight.get(reply.runId)?.settle?.(reply);
      }
    });
    engine.on("error", (error) => engineGone?.(error));
    engine.on("exit", (code) => engineGone?.(new AtomitonError(ErrorCode.INTERNAL, `the engine thread exited (${code})`, { retryable: false })));
  });
  // One array per turn (batched-post.ts); order kept, so a cancel never overtakes its run.
  const post = createBatchedPost<EngineRequest>((batch) => engine.postMessage(batch));
  let engineExited = false;
  engine.once("exit", () => (engineExited = true));

  const control: Redis = await openRedisClient(options.url, { maxRetriesPerRequest: null, lazyConnect: false });
  const subscriber: Redis = await openRedisClient(options.url, { maxRetriesPerRequest: null, lazyConnect: false });

  let lastFetchAt = Date.now();
  let lastJob: string | undefined;
  let lastJobAt: number | undefined;
  let state: WorkerInfo["state"] = "running";
  const startedAt = Date.now();

  /** BullMQ's worker, noting each time its fetch loop reaches Redis (for the health shown by `workers`). */
  class ObservedWorker extends Worker<RunJob, RunOutcome> {
    protected override async moveToActive(token: string, name?: string) {
      const job = await super.moveToActive(token, name);
      lastFetchAt = Date.now();
      return job;
    }
  }

  /** The worker's entry in Redis, read by `atomiton workers`: every heartbeat, and at each job's start and end. */
  const publish = async () => {
    const now = Date.now();
    const info: Record<string, string> = {
      id,
      host: hostname(),
      pid: String(process.pid),
      concurrency: String(options.concurrency),
      inFlight: String(inFlight.size),
      runs: JSON.stringify([...inFlight.keys()]),
      lastFetchAt: String(lastFetchAt),
      heartbeatAt: String(now),
      startedAt: String(startedAt),
      heartbeatMs: String(options.heartbeatMs),
      state,
      ...(lastJob ? { lastJob, lastJobAt: String(lastJobAt) } : {}),
    };
    await control
      .multi()
      .hset(keys.worker(id), info)
      .pexpire(keys.worker(id), options.heartbeatMs * 15)
      .zadd(keys.workers, now, id)
      .exec()
      .catch(() => undefined);
  };
  /**
   * Publishes the entry as it is now, coalesced: while one write is in flight, every caller shares
   * the one write that follows it, so a busy worker writes at most one entry per round trip instead
   * of two per job (measured: those writes were 23% of the main thread's time at 8 × 10-node runs).
   */
  let current: Promise<void> | undefined;
  let following: Promise<void> | undefined;
  const beat = (): Promise<void> => {
    if (current === undefined) {
      current = publish().finally(() => (current = undefined));
      return current;
    }
    following ??= current.then(() => {
      following = undefined;
      return beat();
    });
    return following;
  };
  /**
   * A job started or ended: the entry is published within TOUCH_GAP_MS, together with every other
   * start and end of that window. Publishing at each start and end (coalesced only while a write was
   * in flight) still cost ~2 entry writes per run: 0.3 ms of the main thread's 1.2 ms per no-op
   * 10-node run (`npm run bench` queue rows; docs/performance.md, "7 December 2026, second
   * session: queue, fewer round trips").
   */
  let touchTimer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    touchTimer ??= setTimeout(() => {
      touchTimer = undefined;
      void beat();
    }, TOUCH_GAP_MS);
  };
  const processor = async (job: Job<RunJob, RunOutcome>, token?: string, signal?: AbortSignal): Promise<RunOutcome> => {
    const runId = job.data.runId;
    lastJob = runId;
    lastJobAt = Date.now();
    // BullMQ gave this worker a run it is still running: that attempt's lock expired (Redis was away
    // longer than --lock-duration). It stops first, its writes shut off. The job then goes back to
    // the queue and is taken afresh: BullMQ keeps one lock renewal per job id, and the stopped
    // attempt's end would drop this one's.
    const previous = inFlight.get(runId);
    if (previous !== undefined) {
      loseLock(previous);
      await previous.reply;
      await job.moveToWait(token);
      throw new WaitingError();
    }
    // In flight, and its cancels forwarded, before the engine thread reads its cancel key (with the
    // run's record): a cancel published meanwhile reaches the run either way.
    const entry: InFlight = { job, cancelRequested: false, startedAt: Date.now() };
    inFlight.set(runId, entry);
    touch();
    entry.reply = new Promise<EngineReply>((resolve) => {
      if (engineFailure !== undefined) return resolve({ type: "error", runId, error: engineFailure });
      entry.settle = resolve;
      signal?.addEventListener("abort", () => post({ type: "cancel", runId, reason: "cancelled through BullMQ" }), { once: true });
      post({ type: "run", job: job.data, cancelled: entry.cancelRequested });
    }).finally(() => {
      if (inFlight.get(runId) === entry) inFlight.delete(runId);
    });
    const reply = await entry.reply;
    if (entry.lockLost) {
      // The job is no longer this attempt's (BullMQ's stalled-job check gives it to the next one): touch nothing.
      throw new WaitingError();
    }
    touch();
    if (handedBack.has(runId)) {
      handedBack.delete(runId);
      // Back to the queue without counting as a failure: another worker resumes it from its checkpoint.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (reply.type === "error") throw fromSerialized(reply.error);
    const result = (reply as Extract<EngineReply, { type: "done" }>).result as RunOutcome | RejectedJob;
    if ("rejected" in result) {
      options.log(`run ${runId} refused: ${result.rejected.code} ${result.rejected.message}`);
      throw new UnrecoverableError(`${result.rejected.code}: ${result.rejected.message}`);
    }
    // The key (24 h TTL) exists only if a cancel was requested: one round trip less per run otherwise.
    if (entry.cancelRequested) await control.del(keys.cancel(runId)).catch(() => undefined);
    options.log(`run ${runId} ${result.alreadyFinished ? `had already finished (${result.status}); not run again` : `${result.status}${result.resumedNodes ? ` (resumed: ${result.resumedNodes} node(s) reused from the last checkpoint)` : ""}`}`);
    return result;
  };
  const handedBack = new Set<string>();
  /** Stops an attempt whose lock expired, as a hand-back does: writes shut off, nodes aborted. */
  const loseLock = (entry: InFlight): void => {
    if (entry.lockLost) return;
    entry.lockLost = true;
    const runId = entry.job.data.runId;
    options.log(`run ${runId}: its lock expired; this attempt stops and the queue hands the run on`);
    post({ type: "handback", runId, reason: "the worker lost the run's lock (Redis was away for longer than --lock-duration); another attempt resumes the run" });
  };

  const worker = new ObservedWorker(BULL_QUEUE, processor, {
    connection: { url: options.url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 200, 2_000) } as never,
    prefix: keys.bullPrefix,
    concurrency: options.concurrency,
    name: id,
    // Deliberate: the lock is renewed every third of its duration by this (free) main thread; a
    // stalled job (its worker died) is found within half of it and handed to another worker. A run
    // whose worker died three times is failed rather than tried forever (maxStalledCount 2: handed
    // on twice, failed at the third stall; its submitter then ends its record, see endFailedInQueue).
    lockDuration: options.lockDurationMs,
    lockRenewTime: Math.round(options.lockDurationMs / 3),
    stalledInterval: Math.round(options.lockDurationMs / 2),
    maxStalledCount: 2,
    drainDelay: Math.max(1, Math.round(options.heartbeatMs / 1000)),
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  // One line per distinct Redis error every 30 s: an outage is visible without flooding the log.
  const logged = new Map<string, number>();
  worker.on("error", (error) => {
    const now = Date.now();
    if (now - (logged.get(error.message) ?? 0) < 30_000) return;
    logged.set(error.message, now);
    // A connection's error (ECONNREFUSED, "Connection is closed"…) is retried; BullMQ's own (a job's lock or key gone) is not Redis being away.
    const connection = (error as NodeJS.ErrnoException).code !== undefined || /connect|connection|socket/i.test(error.message);
    options.log(connection ? `redis: ${error.message} (reconnecting with backoff)` : `queue: ${error.message}`);
  });
  // A lock that could not be renewed (Redis away for longer than --lock-duration) has expired: the
  // stalled-job check hands the run to another attempt, maybe on this very worker. This attempt stops
  // at once, as a hand-back does: its writes are shut off and its nodes aborted, so that two attempts
  // never run side by side and nothing is written after the next attempt's run:finish.
  worker.on("lockRenewalFailed" as never, ((jobIds: string[]) => {
    options.log(`lock renewal failed for ${jobIds.join(", ")}`);
    const now = Date.now();
    for (const entry of inFlight.values()) {
      // A renewal asked for before this worker took the job again reports the earlier attempt, whose
      // lock expired; an attempt that has held the job for less than a lock duration is the new one.
      if (jobIds.includes(String(entry.job.id)) && now - entry.startedAt >= options.lockDurationMs) loseLock(entry);
    }
  }) as never);
  await worker.waitUntilReady();

  await subscriber.subscribe(keys.cancelChannel);
  subscriber.on("message", (_channel: string, runId: string) => {
    const entry = inFlight.get(runId);
    if (entry === undefined) return;
    options.log(`run ${runId}: cancel requested`);
    entry.cancelRequested = true;
    if (entry.settle) post({ type: "cancel", runId, reason: "cancelled by its submitter" });
  });

  await beat();
  const heartbeat = setInterval(() => void beat(), options.heartbeatMs);

  let resolveClosed!: (clean: boolean) => void;
  const closed = new Promise<boolean>((resolve) => (resolveClosed = resolve));
  let shuttingDown: Promise<void> | undefined;
  engineGone = (error) => {
    if (shuttingDown) return;
    options.log(`engine thread failed: ${error.message}; stopping`);
    engineFailure = { code: ErrorCode.INTERNAL, message: error.message, retryable: true };
    for (const entry of inFlight.values()) entry.settle?.({ type: "error", runId: entry.job.data.runId, error: engineFailure });
    void shutdown(0);
  };

  async function shutdown(graceMs: number): Promise<void> {
    shuttingDown ??= (async () => {
      state = "draining";
      // Every Redis step of a shutdown is bounded: with Redis gone, commands would wait for it forever.
      let clean = await bounded(beat(), CLOSE_MARGIN_MS);
      // Take no new jobs; the ones in flight go on.
      const closing = worker.close().then(
        () => true,
        () => false,
      );
      const pending = [...inFlight.keys()];
      if (inFlight.size > 0) {
        options.log(`draining: ${inFlight.size} run(s) in flight get ${Math.round(graceMs / 1000)} s to finish`);
        const drained = await Promise.race([closing, new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
        if (!drained) {
          for (const runId of inFlight.keys()) {
            options.log(`run ${runId}: grace period over, handing it back to the queue`);
            handedBack.add(runId);
            post({ type: "handback", runId, reason: "the worker is shutting down; another worker resumes the run" });
          }
          // Node code that blocks the engine thread (a busy loop) never hears the hand-back: the
          // thread is stopped, its writes already shut off, and the runs go back to the queue as handed back.
          const replies = [...inFlight.values()].map((entry) => entry.reply ?? Promise.resolve());
          if (!(await bounded(Promise.all(replies), HANDBACK_WAIT_MS))) {
            options.log(`the engine thread did not stop its runs within ${HANDBACK_WAIT_MS / 1000} s (node code blocking it); stopping the thread`);
            await engine.terminate();
            const error = { code: ErrorCode.INTERNAL, message: "the engine thread was stopped while the worker shut down", retryable: true };
            for (const entry of inFlight.values()) entry.settle?.({ type: "error", runId: entry.job.data.runId, error });
          }
        }
      }
      if (!(await bounded(closing, CLOSE_MARGIN_MS))) {
        clean = false;
        const why = (await bounded(control.ping(), 1_000)) ? "BullMQ did not finish closing" : `Redis at ${shown} does not answer`;
        options.log(
          `cannot close cleanly: ${why}; ${pending.length > 0 ? `run(s) ${pending.join(", ")} go back to the queue through BullMQ's stalled-job check once Redis is back` : "no run was in flight"}`,
        );
        void worker.close(true).catch(() => undefined);
      }
      clearInterval(heartbeat);
      clearTimeout(touchTimer);
      if (clean) clean = await bounded(control.multi().del(keys.worker(id)).zrem(keys.workers, id).exec(), CLOSE_MARGIN_MS);
      if (!engineExited) await new Promise<void>((resolve) => {
        engine.once("exit", () => resolve());
        engine.on("message", (replies: EngineReply[]) => replies.some((reply) => reply.type === "closed") && void engine.terminate());
        post({ type: "close" });
        setTimeout(() => void engine.terminate(), 2_000).unref();
      });
      subscriber.disconnect();
      if (clean) await bounded(control.quit(), CLOSE_MARGIN_MS);
      control.disconnect();
      resolveClosed(clean);
    })();
    return shuttingDown;
  }

  options.log(`worker ${id} taking runs from ${shown} (queue ${options.namespace}, concurrency ${options.concurrency}, lock ${options.lockDurationMs} ms)`);
  return { id, nodeTypes, shutdown, closed };
}

/**
 * The longest a worker's start waits for Redis. A refused connection fails sooner, after the ~6 s of
 * reconnects every client waits through (redisClientOptions), as `serve --redis` does; this bounds a
 * host that never answers (each connect attempt times out only after 5 s).
 */
const START_TIMEOUT_MS = 10_000;

/** One PING with a client of the usual bounded retries: E_QUEUE_UNAVAILABLE saying why when it fails. */
async function assertReachable(url: string, shown: string): Promise<void> {
  const probe = await openRedisClient(url);
  const why = connectionFailure(probe);
  try {
    await withDeadline(probe.ping(), START_TIMEOUT_MS, () => new Error(`no answer within ${START_TIMEOUT_MS / 1000} s`));
  } catch (error) {
    throw new AtomitonError(ErrorCode.QUEUE_UNAVAILABLE, `cannot reach Redis at ${shown}: ${why(error)}`, { retryable: true, hint: "start redis-server, or check --redis / ATOMITON_REDIS_URL" });
  } finally {
    probe.disconnect();
  }
}

/** How far behind its jobs' starts and ends a worker's entry (`atomiton workers`) may be. */
const TOUCH_GAP_MS = 50;

/** How long the engine thread gets to stop the runs handed back at a shutdown before it is stopped. */
const HANDBACK_WAIT_MS = 2_000;

/** How long a shutdown waits for Redis at each step beyond the grace period. */
const CLOSE_MARGIN_MS = 3_000;

function fromSerialized(error: SerializedError): AtomitonError {
  return new AtomitonError(error.code, error.message, { retryable: error.retryable, ...(error.hint ? { hint: error.hint } : {}) });
}
