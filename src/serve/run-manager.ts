import type { ParameterOverride } from "../composite/load-composite.js";
import type { Composite } from "../composite/model.js";
import { createRunId, type Conductor } from "../conductor/create-conductor.js";
import type { DebugSession } from "../conductor/debug-session.js";
import { checkVariables } from "../conductor/variables.js";
import { secretValuesOf } from "../conductor/secret-values.js";
import { createJsonRedactor } from "../events/redact.js";
import { stringifyJsonSafe } from "../events/json-safe.js";
import { runRecordKey, type RunRecord } from "../conductor/run-recorder.js";
import { startingRecord } from "../conductor/run-record.js";
import { shownStatus } from "../conductor/run-liveness.js";
import { AtomitonError, CancelledError, ErrorCode, TimeoutError, toSerializedError } from "../errors.js";
import type { RunEventMap } from "../events/event-map.js";
import { parseDuration, setLongTimeout } from "../js/duration.js";
import type { Catalog } from "../nodes/catalog.js";
import type { Storage } from "../storage/types.js";
import { loadSource, type CompositeSource } from "./load-source.js";
import type { RunStreams } from "./run-streams.js";

export type RunFinish = RunEventMap["run:finish"];

export interface StartRunOptions extends CompositeSource {
  input?: unknown;
  vars?: Record<string, unknown> | undefined;
  /** `{ "node.param": value }` overrides, as `--set` gives them. */
  set?: Record<string, unknown> | undefined;
  concurrency?: number | undefined;
  timeout?: number | string | undefined;
}

/** One validated run, handed to an executor other than the local conductor (`serve --redis` queues it). */
export interface RunExecution {
  runId: string;
  composite: Composite;
  /** The request as the client sent it. */
  params: StartRunOptions;
  /** The composite's files as loaded (main and `ref:` files), by the names the loader gave them. */
  sources: Map<string, string>;
  vars: Record<string, unknown>;
  signal: AbortSignal;
}

/** Runs a validated run somewhere and resolves with its run:finish; its events go on the server's bus. */
export type RunExecutor = (run: RunExecution) => Promise<RunFinish>;

export interface RunManagerOptions {
  /** Where runs execute instead of the local conductor (`serve --redis`: on queue workers). */
  executor?: RunExecutor | undefined;
  conductor: Conductor;
  catalog: Catalog;
  storage: Storage;
  streams: RunStreams;
  workdir: string;
  /** Values replaced by `***` in records and events (each composite's `secrets:` are added). */
  secretValues?: readonly string[];
  /** Where the composite's `secrets:` are read (default: process.env). */
  env?: Record<string, string | undefined>;
}

interface ActiveRun {
  readonly controller: AbortController;
  readonly done: Promise<RunFinish>;
  readonly secretValues: readonly string[];
  /** What `runs.get` answers until the run's first record is saved (`running`, no nodes yet). */
  readonly firstRecord: RunRecord;
}

/** Finished runs whose run:finish stays in memory for `run.wait` (older ones are read from storage). */
const KEEP_FINISHED = 1_000;

/**
 * The runs this server owns. A run goes on when the client that started it leaves; only
 * `run.cancel` or the server's shutdown stops it. Talks to the conductor through `execute` only.
 */
export class RunManager {
  private readonly active = new Map<string, ActiveRun>();
  private readonly finished = new Map<string, RunFinish>();

  constructor(private readonly options: RunManagerOptions) {}

  get running(): number {
    return this.active.size;
  }

  /**
   * Loads and validates the composite (an invalid one starts nothing: E_INVALID with `problems`),
   * then returns the run id and `begin`, which starts it: the caller answers first, so the client
   * knows the run id before its first event arrives.
   */
  async prepare(params: StartRunOptions, hooks: { debugFor?: (runId: string, redact: ((json: string) => string) | undefined) => DebugSession | undefined; onFinish?: (runId: string) => void } = {}): Promise<{ runId: string; begin: () => void }> {
    const vars = params.vars ?? {};
    const timeout = params.timeout === undefined ? undefined : parseDuration(params.timeout);
    if (params.timeout !== undefined && timeout === undefined) {
      throw new AtomitonError(ErrorCode.USAGE, `timeout: expected milliseconds or a duration such as 30s, got ${JSON.stringify(params.timeout)}`, { retryable: false });
    }
    const loaded = await loadSource(params, {
      workdir: this.options.workdir,
      storage: this.options.storage,
      load: { catalog: this.options.catalog, overrides: toOverrides(params.set ?? {}), variables: Object.keys(vars) },
    });
    if (!loaded.ok || !loaded.composite) {
      const errors = loaded.problems.filter((p) => p.severity === "error");
      const first = errors[0];
      throw new AtomitonError(ErrorCode.INVALID, `invalid composite (${errors.length} error${errors.length === 1 ? "" : "s"})${first ? `: ${first.code} ${first.message}` : ""}; no node was started`, {
        retryable: false,
        details: { problems: loaded.problems },
      });
    }
    const composite = loaded.composite;
    checkRunVariables(composite, vars);
    const runId = createRunId();
    // The server's --secret values and this composite's `secrets:`: live events, run.wait and errors.
    const secretValues = secretValuesOf(composite, this.options.secretValues, this.options.env ?? process.env);
    const redact = createJsonRedactor(secretValues);
    this.options.streams.open(runId, redact);
    const controller = new AbortController();
    // Breakpoints pause runs of this server's conductor; a queued run (serve --redis) runs elsewhere.
    const debug = this.options.executor ? undefined : hooks.debugFor?.(runId, redact);
    let begin!: () => void;
    const started = new Promise<void>((resolve) => (begin = resolve));
    const executor = this.options.executor;
    const done = started.then(() =>
      (executor
        ? executor({ runId, composite, params, sources: loaded.sources, vars, signal: controller.signal })
        : this.executeHere(composite, runId, params, vars, controller.signal, timeout, debug, secretValues)
      )
        .catch((error: unknown): RunFinish => ({ runId, ts: Date.now(), status: "failed", durationMs: 0, error: toSerializedError(error), counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 } }))
        .then((unredacted) => {
          const finish = redact ? (JSON.parse(redact(stringifyJsonSafe(unredacted))) as RunFinish) : unredacted;
          this.active.delete(runId);
          hooks.onFinish?.(runId);
          this.remember(finish);
          this.options.streams.finish(runId);
          return finish;
        }),
    );
    // Redacted as the recorder's saved record will be.
    const starting = startingRecord({ runId, composite, input: params.input, vars });
    const firstRecord = redact === undefined ? starting : (JSON.parse(redact(JSON.stringify(starting))) as RunRecord);
    this.active.set(runId, { controller, done, secretValues, firstRecord });
    return { runId, begin };
  }

  /**
   * A run in flight on this server, as a record, for `runs.get`/`runs.list` before its recorder has
   * saved the first one (a few ms after `run.start` answered); undefined for any other run.
   */
  liveRecord(runId: string): RunRecord | undefined {
    return this.active.get(runId)?.firstRecord;
  }

  /** `liveRecord` of every run in flight. */
  liveRecords(): RunRecord[] {
    return [...this.active.values()].map((run) => run.firstRecord);
  }

  /** Runs it on this server's conductor. */
  private executeHere(composite: Composite, runId: string, params: StartRunOptions, vars: Record<string, unknown>, signal: AbortSignal, timeout: number | undefined, debug: DebugSession | undefined, secretValues: readonly string[]): Promise<RunFinish> {
    return this.options.conductor
        .execute({
          composite,
          runId,
          input: params.input,
          vars,
          signal,
          secretValues,
          ...(params.concurrency !== undefined ? { concurrency: params.concurrency } : {}),
          ...(timeout !== undefined ? { timeout } : {}),
          ...(debug ? { debug } : {}),
        })
        .then(
          (result): RunFinish => {
            const finish: RunFinish = { runId, ts: Date.now(), status: result.status, durationMs: result.durationMs, counts: result.counts };
            if (result.output !== undefined) finish.output = result.output;
            if (result.error) finish.error = result.error;
            return finish;
          },
          (error: unknown): RunFinish => ({ runId, ts: Date.now(), status: "failed", durationMs: 0, error: toSerializedError(error), counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 } }),
        );
  }

  /**
   * Node code failed outside any node (`onStrayNodeErrors`): with one run in flight it is that run's,
   * which fails with `error`; with several it cannot be told whose, and none is failed. True when a run took it.
   */
  /** The secret values of the runs in flight (the server's and their composites'), for messages about none of them in particular. */
  secretValuesInFlight(): string[] {
    return [...this.active.values()].flatMap((run) => run.secretValues);
  }

  failTheOnlyRun(error: Error): boolean {
    if (this.active.size !== 1) return false;
    const [run] = this.active.values();
    run!.controller.abort(error);
    return true;
  }

  /** Aborts a run in flight (it finishes as `cancelled`); a finished run answers its status. */
  async cancel(runId: string): Promise<{ status: "cancelling" | RunFinish["status"] }> {
    const run = this.active.get(runId);
    if (run) {
      run.controller.abort(new CancelledError("cancelled by a client (run.cancel)"));
      return { status: "cancelling" };
    }
    const finish = this.finished.get(runId) ?? (await this.finishFromRecord(runId));
    return { status: finish.status };
  }

  /** The run:finish payload, once the run has finished. */
  async wait(runId: string, timeout?: number | string, signal?: AbortSignal): Promise<RunFinish> {
    const run = this.active.get(runId);
    if (!run) return this.finished.get(runId) ?? this.finishFromRecord(runId);
    const ms = timeout === undefined ? undefined : parseDuration(timeout);
    if (timeout !== undefined && ms === undefined) throw new AtomitonError(ErrorCode.USAGE, `timeout: expected milliseconds or a duration, got ${JSON.stringify(timeout)}`, { retryable: false });
    // 0 is no timeout, as everywhere else (a `timeout: 0` on a node or a run).
    const limit = ms === 0 ? undefined : ms;
    if (limit === undefined && signal === undefined) return run.done;
    return new Promise<RunFinish>((resolve, reject) => {
      // Past about 24.8 days a plain setTimeout would fire at once.
      const timer = limit === undefined ? undefined : setLongTimeout(() => reject(new TimeoutError(`run ${runId} did not finish within ${limit} ms`, { retryable: false, hint: "wait again, or cancel it with run.cancel" })), limit);
      const onAbort = () => reject(new CancelledError("the client left"));
      signal?.addEventListener("abort", onAbort, { once: true });
      run.done.then(resolve, reject).finally(() => {
        timer?.clear();
        signal?.removeEventListener("abort", onAbort);
      });
    });
  }

  /** Shutdown: cancel every run in flight and wait until their records are saved. */
  async cancelAll(reason: string): Promise<void> {
    for (const run of this.active.values()) run.controller.abort(new CancelledError(reason));
    await Promise.all([...this.active.values()].map((r) => r.done));
  }

  /** Waits for the runs in flight to finish on their own. */
  async drain(): Promise<void> {
    await Promise.all([...this.active.values()].map((r) => r.done));
  }

  private remember(finish: RunFinish): void {
    this.finished.set(finish.runId, finish);
    if (this.finished.size > KEEP_FINISHED) this.finished.delete(this.finished.keys().next().value!);
  }

  private async finishFromRecord(runId: string): Promise<RunFinish> {
    const record = await loadRunRecord(this.options.storage, runId);
    if (record.status === "running") {
      const dead = (await shownStatus(this.options.storage, record)) === "abandoned";
      throw new AtomitonError(ErrorCode.NOT_FOUND, dead ? `run ${runId} was abandoned: its process died before it finished (killed, or its host went down), so it never will` : `run ${runId} is not running on this server (its record says running: another process owns it)`, { retryable: false, hint: "read what it recorded with runs.get, or its events with events.subscribe { runId, fromSeq: 0 }" });
    }
    const finish: RunFinish = {
      runId,
      ts: record.finishedAt ? Date.parse(record.finishedAt) : Date.now(),
      status: record.status,
      durationMs: record.durationMs ?? 0,
      counts: record.counts ?? { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
    };
    if (record.output !== undefined) finish.output = record.output;
    if (record.error) finish.error = record.error;
    return finish;
  }
}

/** The stored record of a run, or E_NOT_FOUND. */
export async function loadRunRecord(storage: Storage, runId: string): Promise<RunRecord> {
  const record = (await storage.load(runRecordKey(runId)).catch(() => undefined)) as RunRecord | undefined;
  if (!record || typeof record !== "object" || typeof record.status !== "string") {
    throw new AtomitonError(ErrorCode.NOT_FOUND, `no run "${runId}" in ${storage.location}`, { retryable: false, hint: "list runs with runs.list" });
  }
  return record;
}

/** `{ "fetch.url": "…" }` → overrides, as `--set fetch.url=…`. */
export function toOverrides(set: Record<string, unknown>): ParameterOverride[] {
  return Object.entries(set).map(([key, value]) => {
    const dot = key.indexOf(".");
    if (dot <= 0 || dot === key.length - 1) {
      throw new AtomitonError(ErrorCode.USAGE, `set: "${key}" is not <nodeId>.<param>`, { retryable: false, hint: 'e.g. { "fetch.url": "https://example.test" }' });
    }
    return { nodeId: key.slice(0, dot), param: key.slice(dot + 1), value };
  });
}

/**
 * `vars` are checked like the CLI's `--var` before a run id exists: an unknown name or a value that
 * does not fit its declared type answers E_INVALID with the problem, and nothing starts (it used to
 * return a run id whose run failed before its first event, with no record).
 */
function checkRunVariables(composite: Composite, vars: Record<string, unknown>): void {
  try {
    checkVariables(composite, vars, "vars");
  } catch (error) {
    if (!(error instanceof AtomitonError)) throw error;
    const problem = { code: error.code, severity: "error", message: error.message, line: 1, col: 1, ...(error.hint !== undefined ? { hint: error.hint } : {}) };
    throw new AtomitonError(ErrorCode.INVALID, `invalid vars: ${error.message}; no node was started`, { retryable: false, details: { problems: [problem] }, ...(error.hint !== undefined ? { hint: error.hint } : {}) });
  }
}
