import { readFile } from "node:fs/promises";
import path from "node:path";
import { AtomitonError, ErrorCode, toSerializedError } from "../errors.js";
import type { EventBus } from "../events/create-event-bus.js";
import type { RunEventMap } from "../events/event-map.js";
import { resolveInside } from "../serve/load-source.js";
import type { RunExecution, RunExecutor, RunFinish } from "../serve/run-manager.js";
import type { QueueClient } from "./client.js";
import type { RunJob, RunRequest } from "./names.js";
import { nodeTypesOf } from "./run-job.js";

/**
 * `serve --redis` (SPEC §10): the runs a client starts over the protocol go to the queue. The server
 * validates them as always; a worker runs them; their events come back from the run's stream onto the
 * server's bus, where the protocol numbers and sends them as for a local run.
 */
export function createQueueExecutor(client: QueueClient, options: { workdir: string; submitter: string }): (bus: EventBus<RunEventMap>) => RunExecutor {
  return (bus) => async (run) => {
    const emit = bus.emit.bind(bus) as (type: string, payload: object) => void;
    let finish: RunFinish | undefined;
    try {
      const job: RunJob = {
        runId: run.runId,
        request: await portableRequest(run, options.workdir),
        nodeTypes: nodeTypesOf(run.composite),
        composite: { id: run.composite.id, name: run.composite.name },
        submittedAt: Date.now(),
        submitter: options.submitter,
      };
      await client.submit(job);
      const onAbort = () => void client.cancel(run.runId).catch(() => undefined);
      run.signal.addEventListener("abort", onAbort, { once: true });
      let waitingSince = Date.now();
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
            emit(type, payload);
            if (type === "run:finish") finish = payload as unknown as RunFinish;
          },
          isDone: () => finish !== undefined,
          check: async () => {
            const { state, failedReason } = await client.jobState(run.runId);
            if (state === "failed" && finish === undefined) {
              const error = new AtomitonError(ErrorCode.QUEUE_UNAVAILABLE, `run ${run.runId} failed in the queue: ${failedReason ?? "no reason given"}`, { retryable: false });
              await client.endFailedInQueue(run.runId, error).catch(() => undefined);
              throw error;
            }
            if (state === "active") waitingSince = Date.now();
            else await client.assertWorkersAlive(run.runId, waitingSince);
          },
        });
      } finally {
        run.signal.removeEventListener("abort", onAbort);
      }
      return finish!;
    } catch (error) {
      if (finish) return finish;
      // The queue failed the run before its worker said how it ended: say it on the stream's place too.
      const failed: RunFinish = { runId: run.runId, ts: Date.now(), status: "failed", durationMs: 0, error: toSerializedError(error), counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 } };
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
  const text = await readFile(main, "utf8");
  const files: Record<string, string> = {};
  for (const [name, source] of run.sources) {
    const abs = path.resolve(name);
    if (abs !== main) files[path.relative(path.dirname(main), abs)] = source;
  }
  return { ...rest, text, file: path.basename(main), files };
}
