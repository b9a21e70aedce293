import { parentPort, workerData } from "node:worker_threads";
import { onStrayNodeErrors } from "../conductor/stray-errors.js";
import { CancelledError, toSerializedError } from "../errors.js";
import { createBuiltinCatalog, type Catalog } from "../nodes/catalog.js";
import type { NodeSpec } from "../nodes/load-custom-nodes.js";
import { wrapBackend } from "../storage/create-storage.js";
import { createRedisBackend } from "../storage/redis.js";
import type { Storage } from "../storage/types.js";
import { createBatchedPost } from "./batched-post.js";
import { queueKeys, type RunJob } from "./names.js";
import { runJob } from "./run-job.js";

/**
 * The engine thread of `atomiton worker`: every run of this worker executes here, so user code that
 * blocks (a sync loop in a custom node, a heavy transform) never stalls the main thread, which keeps
 * renewing the BullMQ locks, beating the heartbeat and taking cancel requests.
 */
export interface EngineData {
  url: string;
  namespace: string;
  nodeSpecs: NodeSpec[];
  cwd: string;
  env: Record<string, string | undefined>;
  workerId: string;
}

export type EngineRequest =
  | { type: "run"; job: RunJob; cancelled: boolean }
  | { type: "cancel"; runId: string; reason: string }
  /** Stop the run without a final record: another worker resumes it from its last checkpoint. */
  | { type: "handback"; runId: string; reason: string }
  | { type: "close" };

export type EngineReply =
  | { type: "ready"; nodeTypes: string[] }
  | { type: "fatal"; error: ReturnType<typeof toSerializedError> }
  | { type: "done"; runId: string; result: unknown }
  | { type: "error"; runId: string; error: ReturnType<typeof toSerializedError> }
  | { type: "closed" };

interface Active {
  controller: AbortController;
  gate: { open: boolean };
}

const data = workerData as EngineData;
const port = parentPort!;
/** Replies go to the main thread as one array per turn (batched-post.ts). */
const reply = createBatchedPost<EngineReply>((batch) => port.postMessage(batch));
const active = new Map<string, Active>();
let storage: Storage;
let backend: ReturnType<typeof createRedisBackend>;
let catalog: Catalog;
const keys = queueKeys(data.namespace);

/**
 * The run's cancel key, read on the storage's connection so that it shares the round trip of the
 * run's record (one round trip less per run than the main thread reading it first). A key found
 * is deleted once the run has ended here (it lives 24 h otherwise).
 */
function cancelKeyReader(runId: string): { read: () => Promise<boolean>; clear: () => void } {
  let seen = false;
  return {
    read: async () => {
      seen = (await backend.client().then((r) => r.exists(keys.cancel(runId))).catch(() => 0)) > 0;
      return seen;
    },
    clear: () => {
      if (seen) void backend.client().then((r) => r.del(keys.cancel(runId))).catch(() => undefined);
    },
  };
}

/** The storage one run writes through; closed on hand-back, so the attempt leaves its checkpoint as it was. */
function gated(base: Storage, gate: { open: boolean }): Storage {
  const when =
    <A extends unknown[], R>(op: (...args: A) => Promise<R>, closed: R) =>
    (...args: A): Promise<R> =>
      gate.open ? op(...args) : Promise.resolve(closed);
  return {
    ...base,
    type: base.type,
    location: base.location,
    followable: base.followable,
    ordered: base.ordered,
    save: when(base.save.bind(base), undefined),
    saveText: when(base.saveText.bind(base), undefined),
    createText: when(base.createText.bind(base), false),
    appendLines: when(base.appendLines.bind(base), undefined),
    delete: when(base.delete.bind(base), false),
    load: base.load.bind(base),
    loadText: base.loadText.bind(base),
    list: base.list.bind(base),
    exists: base.exists.bind(base),
    assertWritable: base.assertWritable.bind(base),
    close: async () => undefined,
  };
}

async function start(): Promise<void> {
  try {
    backend = createRedisBackend(data.url, data.namespace);
    storage = wrapBackend(backend);
    if (data.nodeSpecs.length > 0) {
      const { loadCustomNodes } = await import("../nodes/load-custom-nodes.js");
      catalog = createBuiltinCatalog(await loadCustomNodes(data.nodeSpecs, data.cwd));
    } else {
      catalog = createBuiltinCatalog();
    }
    reply({ type: "ready", nodeTypes: catalog.types() });
  } catch (error) {
    reply({ type: "fatal", error: toSerializedError(error) });
  }
}

// Node code failing outside a node (a timer's throw) would end this thread and every run in it:
// the one run in flight fails instead; with several, none can be told to be its run, and it is logged.
onStrayNodeErrors((error) => {
  if (active.size === 1) [...active.values()][0]!.controller.abort(error);
  // Its message is left out: it may hold a secret of any of the runs in flight.
  else process.stderr.write(`[worker] node code threw or rejected outside a node's execute while ${active.size} runs were in flight (ignored: no one run to fail; its message is withheld, as it may hold a run's secrets)\n`);
});

port.on("message", (batch: EngineRequest[]) => {
  for (const message of batch) onRequest(message);
});

function onRequest(message: EngineRequest): void {
  switch (message.type) {
    case "run": {
      const { job } = message;
      const entry: Active = { controller: new AbortController(), gate: { open: true } };
      active.set(job.runId, entry);
      const cancelKey = cancelKeyReader(job.runId);
      runJob(job, {
        storage: gated(storage, entry.gate),
        catalog,
        workdir: data.cwd,
        env: data.env,
        signal: entry.controller.signal,
        cancelledBeforeStart: message.cancelled,
        cancelRequested: cancelKey.read,
        workerId: data.workerId,
      }).then(
        (result) => reply({ type: "done", runId: job.runId, result }),
        (error: unknown) => reply({ type: "error", runId: job.runId, error: toSerializedError(error) }),
      ).finally(() => {
        active.delete(job.runId);
        // A run handed back (its writes shut off) is not over: the next attempt must see the key too.
        if (entry.gate.open) cancelKey.clear();
      });
      break;
    }
    case "cancel":
      active.get(message.runId)?.controller.abort(new CancelledError(message.reason));
      break;
    case "handback": {
      const entry = active.get(message.runId);
      if (!entry) break;
      entry.gate.open = false;
      entry.controller.abort(new CancelledError(message.reason));
      break;
    }
    case "close":
      void storage?.close().finally(() => reply({ type: "closed" }));
      break;
  }
}

void start();
