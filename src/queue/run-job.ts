import { hostname } from "node:os";
import type { LoadResult } from "../composite/load-composite.js";
import { allNodeIds, type Composite, type CompositeBody } from "../composite/model.js";
import { createConductor } from "../conductor/create-conductor.js";
import { nodesUnderTheirIds, secretValuesOf } from "../conductor/secret-values.js";
import { eventLogKey, runRecordKey, type RunRecord } from "../conductor/run-recorder.js";
import { AtomitonError, CancelledError, ErrorCode, toSerializedError, type SerializedError } from "../errors.js";
import { parseDuration } from "../js/duration.js";
import { createJsonRedactor } from "../events/redact.js";
import { stringifyJsonSafe } from "../events/json-safe.js";
import type { Catalog } from "../nodes/catalog.js";
import { loadSource } from "../serve/load-source.js";
import { toOverrides } from "../serve/run-manager.js";
import type { Storage } from "../storage/types.js";
import type { RunJob, RunOutcome } from "./names.js";

/** A job that must not be retried (unknown node type, invalid composite): the worker fails it at once. */
export interface RejectedJob {
  rejected: SerializedError;
}

export interface RunJobContext {
  storage: Storage;
  catalog: Catalog;
  workdir: string;
  env: Record<string, string | undefined>;
  /** Aborts the run: a cancel request, a shutdown after its grace period. */
  signal: AbortSignal;
  /** Checked before the run starts: a cancel that arrived while the job waited. */
  cancelledBeforeStart: boolean;
  /**
   * Whether a cancel request waits for the run (its cancel key): read together with the run's
   * record, in the same round trip. Resolves false when it cannot tell.
   */
  cancelRequested?: () => Promise<boolean>;
  workerId: string;
}

/** The statuses a run ends with: a record in one of them is final. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Runs one queued run on this worker. The run record decides what this attempt does:
 * - a final record: an earlier attempt finished it (its worker died before acknowledging the job),
 *   so nothing runs again and the record stays the only one;
 * - a `running` record: an earlier attempt died mid-run, so this one resumes from its last
 *   checkpoint (succeeded nodes whose type, parameters and inputs are unchanged are reused by hash,
 *   as `--resume` does) under the same run id;
 * - none: a fresh run.
 */
export async function runJob(job: RunJob, ctx: RunJobContext): Promise<RunOutcome | RejectedJob> {
  const { storage, catalog } = ctx;
  const [previous, cancelRequested] = await Promise.all([
    storage.load(runRecordKey(job.runId)).catch(() => undefined) as Promise<RunRecord | undefined>,
    ctx.cancelRequested?.() ?? Promise.resolve(false),
  ]);
  if (previous && FINAL_STATUSES.has(previous.status)) return { runId: job.runId, status: previous.status as RunOutcome["status"], alreadyFinished: true };

  const missing = [...new Set(job.nodeTypes)].filter((type) => catalog.get(type) === undefined);
  if (missing.length > 0) {
    const error = new AtomitonError(ErrorCode.UNKNOWN_TYPE, `worker ${ctx.workerId} has no node type${missing.length === 1 ? "" : "s"} ${missing.map((t) => `"${t}"`).join(", ")}`, {
      retryable: false,
      hint: "start the workers with the same --nodes (or atomiton.config nodes:) as the submitter",
      details: { missing },
    });
    return reject(job, ctx, error);
  }
  const vars = job.request.vars ?? {};
  const loaded = await loadCached(job, ctx).catch((error: unknown) => ({ ok: false as const, problems: [], composite: undefined, error }));
  if (!loaded.ok || !loaded.composite) {
    const errors = loaded.problems.filter((p) => p.severity === "error");
    const first = errors[0];
    const cause = "error" in loaded ? loaded.error : undefined;
    const error =
      cause instanceof AtomitonError
        ? cause
        : new AtomitonError(first?.code === ErrorCode.UNKNOWN_TYPE ? ErrorCode.UNKNOWN_TYPE : ErrorCode.INVALID, `invalid composite on worker ${ctx.workerId}${first ? `: ${first.code} ${first.message}` : ""}`, {
            retryable: false,
            details: { problems: loaded.problems },
          });
    return reject(job, ctx, error);
  }
  const composite = loaded.composite;
  const timeout = job.request.timeout === undefined ? undefined : parseDuration(job.request.timeout);
  const controller = new AbortController();
  const onAbort = () => controller.abort(ctx.signal.reason);
  if (ctx.cancelledBeforeStart || cancelRequested) controller.abort(new CancelledError("cancelled before it started (a cancel request was waiting)"));
  else if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener("abort", onAbort, { once: true });
  // A node whose id holds a secret's value (the composite's `secrets:`) is under its redacted id in the record.
  const resume = previous && previous.status === "running" && previous.nodes ? { runId: job.runId, nodes: nodesUnderTheirIds(previous.nodes, allNodeIds(composite), secretValuesOf(composite, undefined, ctx.env)) } : undefined;
  const conductor = createConductor({ storage, nodes: catalog, workdir: ctx.workdir, env: ctx.env });
  try {
    const result = await conductor.execute({
      composite,
      runId: job.runId,
      input: job.request.input,
      vars,
      signal: controller.signal,
      ...(resume ? { resume } : {}),
      ...(job.request.concurrency !== undefined ? { concurrency: job.request.concurrency } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
    });
    const outcome: RunOutcome = { runId: job.runId, status: result.status };
    if (resume) outcome.resumedNodes = Object.values(resume.nodes).filter((n) => n.status === "succeeded").length;
    return outcome;
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Composites sent as text, loaded and validated, by request. A worker mostly runs the same few
 * composites over and over; reusing the loaded one skips parsing and validation and lets the
 * conductor's compiled-graph cache (keyed by the composite object) hit. Measured with `npm run
 * bench` (queue rows): the YAML parse and validation were ~19% of the engine thread's time per
 * no-op 10-node run. Runs never write to a loaded composite (parameters are copied per run), so
 * concurrent runs can share it. Loaded each time, because what they read can change: paths, stored
 * ids, and text whose `ref:` files were not sent along (they resolve in the worker's workdir).
 */
const loadedByRequest = new Map<string, LoadResult>();
const LOADED_MAX = 64;

async function loadCached(job: RunJob, ctx: RunJobContext): Promise<LoadResult> {
  const { request } = job;
  const vars = request.vars ?? {};
  const load = () =>
    loadSource(request, { workdir: ctx.workdir, storage: ctx.storage, load: { catalog: ctx.catalog, overrides: toOverrides(request.set ?? {}), variables: Object.keys(vars) } });
  if (request.text === undefined || request.path !== undefined || request.compositeId !== undefined) return load();
  const key = JSON.stringify([request.text, request.file, request.files, request.set, Object.keys(vars)]);
  const hit = loadedByRequest.get(key);
  if (hit) {
    loadedByRequest.delete(key); // most recently used last
    loadedByRequest.set(key, hit);
    return hit;
  }
  const loaded = await load();
  const readFromDisk = loaded.sources.size > 1 && Object.keys(request.files ?? {}).length === 0;
  if (loaded.ok && !readFromDisk) {
    loadedByRequest.set(key, loaded);
    if (loadedByRequest.size > LOADED_MAX) loadedByRequest.delete(loadedByRequest.keys().next().value!);
  }
  return loaded;
}

/** The node types a composite uses, loop and group bodies included (a job lists them). */
export function nodeTypesOf(body: CompositeBody | Composite, out = new Set<string>()): string[] {
  for (const node of body.nodes) {
    out.add(node.type);
    if (node.body) nodeTypesOf(node.body, out);
  }
  return [...out].sort();
}

/**
 * A run this worker cannot start still ends with a record and a `run:finish` on its stream, so the
 * submitter following it stops and `atomiton runs` shows why.
 */
async function reject(job: RunJob, ctx: RunJobContext, error: AtomitonError): Promise<RejectedJob> {
  const serialized = await recordNotRun(ctx.storage, job, "failed", error, ctx.env);
  return { rejected: serialized };
}

/**
 * The record and the one-line event log of a run that never started: refused by a worker, or taken
 * off the queue by its submitter (Ctrl-C, no live worker) before any worker started it. The values
 * of the composite's `secrets:` (read from `env`) are redacted from its input and variables, as a
 * run's recorder does.
 */
export async function recordNotRun(storage: Storage, job: RunJob, status: "failed" | "cancelled", error: AtomitonError, env: Record<string, string | undefined>): Promise<SerializedError> {
  const serialized = toSerializedError(error);
  const now = Date.now();
  const counts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
  const redact = createJsonRedactor(secretValuesOf({ secrets: job.composite.secrets ?? [] }, undefined, env));
  const shown = (value: unknown): unknown => (redact === undefined || value === undefined ? value : JSON.parse(redact(stringifyJsonSafe(value))));
  const input = shown(job.request.input);
  const vars = shown(job.request.vars ?? {}) as Record<string, unknown>;
  const redacted = (["input", "vars"] as const).filter((k) => JSON.stringify(k === "input" ? input : vars) !== JSON.stringify(k === "input" ? job.request.input : (job.request.vars ?? {})));
  const record: RunRecord = {
    runId: job.runId,
    status,
    composite: { id: job.composite.id, name: job.composite.name, hash: "" },
    input,
    vars,
    ...(redacted.length > 0 ? { redacted } : {}),
    startedAt: new Date(now).toISOString(),
    finishedAt: new Date(now).toISOString(),
    durationMs: 0,
    pid: process.pid,
    host: hostname(),
    error: serialized,
    counts,
    nodes: {},
  };
  const finish = { type: "run:finish", runId: job.runId, ts: now, status, durationMs: 0, error: serialized, counts };
  await storage.saveText(eventLogKey(job.runId), `${JSON.stringify(finish)}\n`).catch(() => undefined);
  await storage.save(runRecordKey(job.runId), record).catch(() => undefined);
  return serialized;
}

/**
 * Ends a run whose record a worker left `running`: BullMQ gave up on it (its workers died more often
 * than `maxStalledCount` allows: `failed`), or its submitter took it off the queue after its worker
 * handed it back (`failed` when no worker was live, `cancelled` on Ctrl-C). The record keeps what the
 * last attempt's checkpoint holds and becomes final with the reason, and its event log gets the one
 * `run:finish` it lacked. A record that is already final is left alone; undefined when there is none.
 */
export async function finishAbandoned(storage: Storage, runId: string, error: AtomitonError, status: "failed" | "cancelled" = "failed"): Promise<RunRecord | undefined> {
  const record = (await storage.load(runRecordKey(runId)).catch(() => undefined)) as RunRecord | undefined;
  if (record === undefined || FINAL_STATUSES.has(record.status)) return record;
  const now = Date.now();
  const serialized = toSerializedError(error);
  const counts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
  for (const node of Object.values(record.nodes ?? {})) if (node.status !== undefined && node.status in counts) counts[node.status as keyof typeof counts]++;
  const durationMs = Math.max(0, now - Date.parse(record.startedAt));
  const finished: RunRecord = { ...record, status, finishedAt: new Date(now).toISOString(), durationMs, error: serialized, counts };
  const finish = { type: "run:finish", runId, ts: now, status, durationMs, error: serialized, counts };
  await storage.appendLines(eventLogKey(runId), [JSON.stringify(finish)]);
  await storage.save(runRecordKey(runId), finished);
  return finished;
}
