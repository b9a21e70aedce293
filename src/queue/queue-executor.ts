import path from "node:path";
import { AtomitonError, ErrorCode, toSerializedError } from "../errors.js";
import type { EventBus } from "../events/create-event-bus.js";
import type { RunEventMap } from "../events/event-map.js";
import { resolveInside } from "../serve/load-source.js";
import type { RunExecution, RunExecutor, RunFinish } from "../serve/run-manager.js";
import { isLostRedis, type QueueClient } from "./client.js";
import type { RunJob, RunRequest } from "./names.js";
import { finishOfRecord, JobWatch } from "./job-watch.js";
import { nodeTypesOf } from "./run-job.js";
import { readUserText } from "../read-file.js";

/** How long a cancelled run waits for its worker's run:finish before it ends without it. */
const CANCEL_WAIT_MS = 3_000;

/**
 * `serve --redis` (SPEC §10): the runs a client starts over the protocol go to the queue. The server
 * validates them as always; a worker runs them; their events come back from the run's stream onto the
 * server's bus, where the protocol numbers and sends them as for a local run.
 */
export function createQueueExecutor(client: QueueClient, options: { workdir: string; submitter: string }): (bus: EventBus<RunEventMap>) => RunExecutor {
  return (bus) => async (run) => {
    const emit = bus.emit.bind(bus) as (type: string, payload: object) => void;
    let finish: RunFinish | undefined;
    let job: RunJob | undefined;
    try {
      job = {
        runId: run.runId,
        request: await portableRequest(run, options.workdir),
        nodeTypes: nodeTypesOf(run.composite),
        composite: { id: run.composite.id, name: run.composite.name, secrets: run.composite.secrets },
        submittedAt: Date.now(),
        submitter: options.submitter,
      };
      await client.submit(job);
      // Cancelled (run.cancel, or the server stopping): the worker is asked to cancel, and its events
      // up to its run:finish still come through; a worker that does not answer within
      // CANCEL_WAIT_MS (dead, frozen, or Redis gone) is not waited for.
      const giveUp = new AbortController();
      let giveUpTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        void client.cancel(run.runId).catch(() => undefined);
        giveUpTimer = setTimeout(() => giveUp.abort(run.signal.reason), CANCEL_WAIT_MS);
      };
      run.signal.addEventListener("abort", onAbort, { once: true });
      const watch = new JobWatch(client, run.runId);
      try {
        await client.follow(run.runId, {
          onLine: ({ line }) => {
            let event: { type: string } & Record<string, unknown>;
            try {
              event = JSON.parse(line) as typeof event;
            } catch {
              return;
            }
            const { type, ...payload } = event;
            watch.sawLines();
            emit(type, payload);
            if (type === "run:finish") finish = payload as unknown as RunFinish;
          },
          isDone: () => finish !== undefined,
          signal: giveUp.signal,
          check: async () => {
            // Ended on its worker, or gone from the queue, without its run:finish on the stream: end
            // with what its record says (the lines were lost while Redis was away).
            const ended = await watch.check();
            if (ended !== undefined) {
              finish = finishOfRecord(ended);
              emit("run:finish", finish);
            }
          },
        });
        if (finish === undefined && giveUp.signal.aborted) throw giveUp.signal.reason;
      } finally {
        run.signal.removeEventListener("abort", onAbort);
        clearTimeout(giveUpTimer);
      }
      return finish!;
    } catch (error) {
      if (finish) return finish;
      // The queue failed the run before its worker said how it ended, or the server stopped following
      // it (Ctrl-C, SIGTERM: its cancel is sent): say it on the stream's place too.
      const status = run.signal.aborted ? "cancelled" : "failed";
      // No worker holds it (none took it, or its worker died): off the queue, so it does not run later
      // unseen, and its record ends here with why. Not when Redis itself is gone: that would wait again.
      if (job !== undefined && !isLostRedis(error) && (await client.withdraw(run.runId).catch(() => false))) {
        const reason = error instanceof AtomitonError ? error : new AtomitonError(ErrorCode.QUEUE_UNAVAILABLE, String((error as Error)?.message ?? error), { retryable: false });
        await client.recordNotRun(job, status, reason).catch(() => undefined);
      }
      const failed: RunFinish = { runId: run.runId, ts: Date.now(), status, durationMs: 0, error: toSerializedError(error), counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 } };
      emit("run:finish", failed);
      return failed;
    }
  };
}

/**
 * The request as a worker elsewhere can use it: `text` and `compositeId` go as they are (stored
 * composites live in the shared Redis); a `path` inside this server's workdir becomes its text with
 * the `ref:` files it read.
 */
async function portableRequest(run: RunExecution, workdir: string): Promise<RunRequest> {
  const { path: file, ...rest } = run.params as RunRequest & { subscribe?: boolean };
  delete (rest as { subscribe?: boolean }).subscribe;
  if (file === undefined) return rest;
  const main = resolveInside(workdir, file);
  // The text the server validated (a pipe gives its text only once); read again only if it is not there.
  const text = [...run.sources].find(([name]) => path.resolve(name) === main)?.[1] ?? (await readUserText(main));
  const files: Record<string, string> = {};
  for (const [name, source] of run.sources) {
    const abs = path.resolve(name);
    if (abs !== main) files[path.relative(path.dirname(main), abs)] = source;
  }
  return { ...rest, text, file: path.basename(main), files };
}
