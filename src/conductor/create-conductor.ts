import { randomBytes } from "node:crypto";
import type { Composite, CompositeBody } from "../composite/model.js";
import { isValidated, loadCompositeFromText, markValidated } from "../composite/load-composite.js";
import { formatLocation, hasErrors, type Problem } from "../composite/problem.js";
import { validateComposite } from "../composite/validate.js";
import { AtomitonError, ErrorCode, TimeoutError, toSerializedError, type SerializedError } from "../errors.js";
import { createEventBus, type EventBus } from "../events/create-event-bus.js";
import type { PlanNodeInfo, RunEventMap, RunStatus, StatusCounts } from "../events/event-map.js";
import { createJsonRedactor } from "../events/redact.js";
import { secretValuesOf } from "./secret-values.js";
import { createBuiltinCatalog, type Catalog } from "../nodes/catalog.js";
import type { AnyNodeDefinition } from "../nodes/define-node.js";
import type { Storage } from "../storage/types.js";
import { compileGraph, planLevels, type CompiledGraph } from "./compile-graph.js";
import { GraphRun, type NodeOutcome } from "./run-graph.js";
import { heartbeatMsOf, RunRecorder, type RunRecord } from "./run-recorder.js";
import { RunState, type Pin, type ResumeSource } from "./run-state.js";
import { pausedWhileDebugging, type DebugSession } from "./debug-session.js";
import { resolveVariables } from "./variables.js";
import { resolveWorkdir } from "./workdir.js";
import { setLongTimeout, timeoutOrNone } from "../js/duration.js";

/** Nodes running at once when neither the composite nor the caller says. */
export const DEFAULT_CONCURRENCY = 16;

export interface ConductorOptions {
  /** Where run records and stored composites live. Without it nothing is saved. */
  storage?: Storage;
  /** The bus events are emitted on (default: a new one, see `conductor.events`). */
  events?: EventBus<RunEventMap>;
  /** The node catalog, or extra definitions added to the built-ins. */
  nodes?: Catalog | readonly AnyNodeDefinition[];
  /**
   * Base directory (default: process.cwd()). Relative paths in parameters resolve against the
   * execute's `workdir`, else the composite's `settings.workdir` (relative to its file), else this.
   */
  workdir?: string;
  /** Environment visible to nodes as `$env` / `ctx.env` (default: process.env). */
  env?: Record<string, string | undefined>;
}

/**
 * Internal, not API (not exported from the package): `execute({ ..., [FULL_PATH_ONLY]: true })`
 * makes every node take the full path, so tests can compare it with the fast path.
 */
export const FULL_PATH_ONLY = Symbol("atomiton.fullPathOnly");

export interface ExecuteOptions {
  /** A loaded composite (from `loadComposite`), or… */
  composite?: Composite;
  /** …the id of a composite stored under `composites/<id>.yaml`. */
  compositeId?: string;
  /** The run input: root nodes receive it. */
  input?: unknown;
  /** Variable overrides, coerced to each variable's declared type. */
  vars?: Record<string, unknown>;
  /** Nodes at once (default: `settings.concurrency`, else 16). */
  concurrency?: number;
  /** Whole-run timeout in ms (default: `settings.timeout`). */
  timeout?: number;
  /** Abort to cancel the run (Ctrl-C). */
  signal?: AbortSignal;
  /** Save the run record and event log (default: true when the conductor has storage). */
  record?: boolean;
  runId?: string;
  /** Reuse outputs of an earlier run's nodes whose type, parameters and inputs are unchanged (`--resume`). */
  resume?: ResumeSource;
  /** Values replaced by `***` in the event log and record; the composite's `secrets:` are added. */
  secretValues?: readonly string[];
  /** The env var names those values came from (`--secret`), kept in the record for `--resume` and `replay`. */
  secretNames?: readonly string[];
  /** Working directory of this run (`--workdir`), relative to the conductor's; wins over `settings.workdir`. */
  workdir?: string;
  /**
   * Nodes that return the given value without running (`--pin id=value`), by id, in any body: no
   * `node:start`, a `node:finish` with `reused: true` and reason "pinned"; downstream nodes see the value.
   */
  pins?: Record<string, unknown>;
  /**
   * `replay <runId> --from <nodeId>`: the upstream nodes' recorded outputs stand in for running them
   * (reason "recorded output of run …"), and the new record's `replayOf` points at the old run.
   */
  replayOf?: { runId: string; from: string; outputs: Record<string, unknown> };
  /**
   * Breakpoints and stepping: the run pauses before the session's nodes (or on a failure) and waits
   * for its `Pause` to be answered; no new node starts meanwhile. Pending pauses are released when
   * the run ends (cancelled). Without it nodes never look for a debugger.
   */
  debug?: DebugSession;
  /**
   * Measure every node's queue wait, CPU time and heap growth (`node:finish` carries them as
   * `profile`, the record as `nodes.<id>.profile` with wall time and output size). Off by default:
   * it costs two `process.cpuUsage()` syscalls and two heap reads per attempt, and takes every node
   * off the fast path. `run --profile` turns it on.
   */
  profile?: boolean;
  /** Internal (tests): see `FULL_PATH_ONLY`. */
  [FULL_PATH_ONLY]?: boolean;
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  output?: unknown;
  error?: SerializedError;
  durationMs: number;
  counts: StatusCounts;
  /** Per top-level node: status, duration, attempts, output or error. */
  nodes: Record<string, NodeOutcome>;
  /** The saved record, when one was written. */
  record?: RunRecord;
  /** The run record (or its event log) could not be saved: the storage's error. The run itself ran to its `status`. */
  recordError?: SerializedError;
}

export interface Conductor {
  readonly events: EventBus<RunEventMap>;
  readonly catalog: Catalog;
  /** Run a composite to completion. Rejects only for invalid input (E_INVALID, E_NOT_FOUND); run failures are in the result. */
  execute(options: ExecuteOptions): Promise<RunResult>;
}

/**
 * The conductor: schedules a composite's nodes (parallel where independent), moves data along
 * edges, applies timeouts, retries and cancellation, emits SPEC §5 events and saves a run record.
 *
 * @example
 * const storage = createStorage({ type: "memory" });
 * const conductor = createConductor({ storage });
 * const { composite } = await loadComposite("flow.yaml");
 * const result = await conductor.execute({ composite, input: { name: "world" } });
 */
export function createConductor(options: ConductorOptions = {}): Conductor {
  const events = options.events ?? createEventBus<RunEventMap>();
  const catalog = isCatalog(options.nodes)
    ? options.nodes
    : createBuiltinCatalog((options.nodes ?? []).map((definition) => ({ definition, source: "conductor options" })));

  async function resolveComposite(execute: ExecuteOptions): Promise<Composite> {
    if (execute.composite) {
      if (!isValidated(execute.composite)) {
        const problems = validateComposite(execute.composite, { catalog, locate: () => ({ line: 1, col: 1 }), extraVariables: Object.keys(execute.vars ?? {}) });
        if (hasErrors(problems)) throw invalid(problems);
        markValidated(execute.composite);
      }
      return execute.composite;
    }
    if (execute.compositeId === undefined) throw new AtomitonError(ErrorCode.USAGE, "execute needs `composite` or `compositeId`", { retryable: false });
    if (!options.storage) throw new AtomitonError(ErrorCode.USAGE, "execute({ compositeId }) needs a conductor created with `storage`", { retryable: false });
    const key = `composites/${execute.compositeId}.yaml`;
    const text = await options.storage.loadText(key);
    if (text === undefined) {
      throw new AtomitonError(ErrorCode.NOT_FOUND, `no stored composite "${execute.compositeId}" in ${options.storage.location}`, { retryable: false, hint: "list them with `atomiton composites list`" });
    }
    const loaded = loadCompositeFromText(text, { catalog, file: key, variables: Object.keys(execute.vars ?? {}) });
    if (!loaded.ok || !loaded.composite) throw invalid(loaded.problems);
    return loaded.composite;
  }

  async function execute(execute: ExecuteOptions): Promise<RunResult> {
    const composite = await resolveComposite(execute);
    const graph = compileGraph(composite, catalog);
    const vars = resolveVariables(composite.variables, execute.vars ?? {});
    const runId = execute.runId ?? createRunId();
    const signal = execute.signal;
    const timeoutMs = timeoutOrNone(execute.timeout ?? composite.settings.timeout);
    // A run-level controller only when something can cancel the run from outside (a caller's
    // signal, a run timeout): AbortControllers are costly, and a small run should not pay for one.
    const controller = signal || timeoutMs !== undefined ? new AbortController() : undefined;
    const onCancel = signal && controller ? () => controller.abort(signal.reason ?? new AtomitonError(ErrorCode.CANCELLED, "cancelled", { retryable: false })) : undefined;
    if (onCancel) {
      if (signal!.aborted) onCancel();
      else signal!.addEventListener("abort", onCancel, { once: true });
    }
    const timer = timeoutMs === undefined ? undefined : runTimer(controller!, timeoutMs, execute.debug);

    const recorder =
      (execute.record ?? true) && options.storage
        ? new RunRecorder(
            options.storage,
            events,
            // Resuming the same run id (a queue run's next attempt): its event log goes on from the last one's.
            { runId, composite, input: execute.input, vars, ...(execute.replayOf ? { replayOf: { runId: execute.replayOf.runId, from: execute.replayOf.from } } : {}), continuesLog: execute.resume?.runId === runId, secretNames: execute.secretNames, heartbeatMs: heartbeatMsOf(options.env ?? process.env) },
            createJsonRedactor(secretValuesOf(composite, execute.secretValues, options.env ?? process.env)),
          )
        : undefined;
    const run = new RunState({
      runId,
      bus: events,
      catalog,
      composite,
      vars,
      env: options.env ?? process.env,
      workdir: resolveWorkdir(composite, { workdir: execute.workdir, cwd: options.workdir ?? process.cwd() }),
      input: execute.input,
      concurrency: execute.concurrency ?? composite.settings.concurrency ?? DEFAULT_CONCURRENCY,
      hashing: recorder !== undefined || execute.resume !== undefined, logPressure: recorder?.log,
      // Given as they are, undefined when unset: no temporary objects per run (a run of 10 nodes
      // allocates about 10 KB; 1,000 at once are the "1000 concurrent runs" bench row).
      resume: execute.resume,
      pins: execute.pins || execute.replayOf ? collectPins(execute) : undefined,
      debug: execute.debug,
      profile: execute.profile,
      fullPathOnly: execute[FULL_PATH_ONLY],
    });

    let finishing = false;
    let finished = false;
    try {
      if (recorder || events.hasListeners("run:start")) {
        const composite_ = { id: composite.id, name: composite.name, ...(composite.file ? { file: composite.file } : {}) };
        const { nodes, plan } = runStartParts(composite, graph);
        const start: RunEventMap["run:start"] = { runId, ts: Date.now(), composite: composite_, nodes, plan };
        // The record exists before the run is announced or any node starts: a run killed at any
        // point after this is listed (as abandoned once its process is gone), never lost.
        if (recorder) await recorder.begin(start);
        if (events.hasListeners("run:start")) events.emit("run:start", start);
      }
      const graphRun = new GraphRun(run, graph, execute.input, controller ? { signal: controller.signal, concurrency: run.concurrency } : { concurrency: run.concurrency });
      let outcome: Awaited<ReturnType<GraphRun["execute"]>>;
      try {
        outcome = await graphRun.execute();
      } finally {
        // A node left paused or waiting (the run was cancelled meanwhile) will not run.
        execute.debug?.release();
        // Pools and connections nodes opened for this run close before run:finish.
        const disposing = run.disposeResources();
        if (disposing) await disposing;
      }
      const counts = graphRun.statusCounts();
      const durationMs = Math.round((performance.now() - run.startedAt) * 1000) / 1000;
      const result: RunResult = new ExecutedRun(runId, outcome.status, durationMs, counts, graphRun);
      if (outcome.status === "succeeded") result.output = outcome.output;
      if (outcome.error) result.error = outcome.error;
      const finish: RunEventMap["run:finish"] = { runId, ts: Date.now(), status: outcome.status, durationMs, counts };
      if (result.output !== undefined) finish.output = result.output;
      if (result.error) finish.error = result.error;
      // run:finish is emitted once, after the final save, so a save that failed is on it (recordError);
      // the recorder takes it first, as the last line of the event log.
      const listening = events.hasListeners("run:finish");
      if (recorder) {
        finishing = true;
        try {
          result.record = await recorder.finish(finish);
        } catch (error) {
          result.recordError = finish.recordError = recordError(error);
        }
      }
      finished = true;
      if (listening) events.emit("run:finish", finish);
      return result;
    } catch (error) {
      // An internal failure: still close the record so nothing is lost, then report it (run:finish once).
      if (!finished) {
        const finish: RunEventMap["run:finish"] = { runId, ts: Date.now(), status: "failed", durationMs: performance.now() - run.startedAt, error: toSerializedError(error), counts: emptyCounts() };
        if (recorder && !finishing) await recorder.finish(finish).catch(() => undefined);
        events.emit("run:finish", finish);
      }
      throw error;
    } finally {
      timer?.clear();
      if (onCancel) signal!.removeEventListener("abort", onCancel);
    }
  }

  return { events, catalog, execute };
}

/**
 * A run result whose per-node outcomes are built on first read of `nodes`: a 100k-node run should
 * not pay for them unread. `nodes` is still an own enumerable property (spread and JSON see it);
 * its getter is one shared function, so results share a shape instead of each making its own.
 */
class ExecutedRun implements RunResult {
  declare output?: unknown;
  declare error?: SerializedError;
  declare record?: RunRecord;
  declare recordError?: SerializedError;
  declare readonly nodes: Record<string, NodeOutcome>;
  #graphRun: GraphRun | undefined;
  #nodes: Record<string, NodeOutcome> | undefined;

  constructor(
    readonly runId: string,
    readonly status: RunStatus,
    readonly durationMs: number,
    readonly counts: StatusCounts,
    graphRun: GraphRun,
  ) {
    this.#graphRun = graphRun;
    Object.defineProperty(this, "nodes", NODES_PROPERTY);
  }

  static outcomes(result: ExecutedRun): Record<string, NodeOutcome> {
    if (result.#nodes === undefined) {
      result.#nodes = Object.fromEntries(result.#graphRun!.nodeOutcomes());
      result.#graphRun = undefined;
    }
    return result.#nodes;
  }
}

const NODES_PROPERTY: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: ExecutedRun) {
    return ExecutedRun.outcomes(this);
  },
};

function isCatalog(v: ConductorOptions["nodes"]): v is Catalog {
  return v !== undefined && !Array.isArray(v) && typeof (v as Catalog).get === "function";
}

function invalid(problems: Problem[]): AtomitonError {
  const errors = problems.filter((p) => p.severity === "error");
  const first = errors[0];
  const summary = first ? `${formatLocation(first)} ${first.code} ${first.message}` : "invalid composite";
  return new AtomitonError(ErrorCode.INVALID, `invalid composite (${errors.length} error${errors.length === 1 ? "" : "s"}): ${summary}`, {
    retryable: false,
    details: { problems },
  });
}

/** Sortable, unique run ids: `20261124T113205-3f9a2c`. */
export function createRunId(now = new Date()): string {
  // The stamp changes once a second: format it only then.
  const second = Math.floor(now.getTime() / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    stampText = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "");
  }
  const stamp = stampText;
  // A random 24-bit start per process, then a counter: unique within the process, and as unlikely
  // to collide across processes as a fresh random suffix, without a crypto call per run.
  runIdSuffix = (runIdSuffix + 1) % 0x1000000;
  return `${stamp}-${runIdSuffix.toString(16).padStart(6, "0")}`;
}

let runIdSuffix = randomBytes(3).readUIntBE(0, 3);
let stampSecond = Number.NaN;
let stampText = "";

const startParts = new WeakMap<Composite, { nodes: PlanNodeInfo[]; plan: string[][] }>();

/**
 * `run:start`'s node list and plan: made once per composite (like its compiled graph) and frozen, so
 * a composite run many times, or a 100k-node one, does not rebuild them for every run.
 */
function runStartParts(composite: Composite, graph: CompiledGraph): { nodes: PlanNodeInfo[]; plan: string[][] } {
  let parts = startParts.get(composite);
  if (parts === undefined) {
    const nodes = describeNodes(composite);
    const plan = planLevels(graph);
    for (const n of nodes) Object.freeze(n);
    for (const level of plan) Object.freeze(level);
    parts = { nodes: Object.freeze(nodes) as PlanNodeInfo[], plan: Object.freeze(plan) as string[][] };
    startParts.set(composite, parts);
  }
  return parts;
}

function describeNodes(body: CompositeBody, parent?: string, out: PlanNodeInfo[] = []): PlanNodeInfo[] {
  for (const n of body.nodes) {
    const info: PlanNodeInfo = { id: n.id, type: n.type };
    if (n.name !== undefined) info.name = n.name;
    if (n.loc) info.line = n.loc.line;
    if (parent !== undefined) info.parent = parent;
    if (n.onError !== "fail") info.onError = n.onError;
    out.push(info);
    if (n.body) describeNodes(n.body, n.id, out);
  }
  return out;
}

/** `pins` and a replay's recorded outputs as one map; an explicit pin wins. */
/** The run timeout. Time at a debugger prompt is the user's, not the run's: it stops while a pause is open. */
function runTimer(controller: AbortController, timeoutMs: number, debug: DebugSession | undefined): { clear(): void } {
  const timeUp = () => controller.abort(new TimeoutError(`run timed out after ${timeoutMs}ms`, { retryable: false }));
  return debug ? pausedWhileDebugging(debug, timeUp, timeoutMs) : setLongTimeout(timeUp, timeoutMs);
}

function collectPins(execute: ExecuteOptions): Map<string, Pin> {
  const pins = new Map<string, Pin>();
  const replay = execute.replayOf;
  if (replay) for (const [id, output] of Object.entries(replay.outputs)) pins.set(id, { output, reason: `recorded output of run ${replay.runId}` });
  for (const [id, output] of Object.entries(execute.pins ?? {})) pins.set(id, { output, reason: "pinned" });
  return pins;
}

/** A failed final save, as carried by run:finish and the result (an E_STORAGE unless the storage said otherwise). */
function recordError(error: unknown): SerializedError {
  const serialized = error instanceof AtomitonError ? toSerializedError(error) : toSerializedError(new AtomitonError(ErrorCode.STORAGE, `the run record could not be saved: ${error instanceof Error ? error.message : String(error)}`, { retryable: false, cause: error }));
  const { stack: _stack, ...rest } = serialized;
  return rest;
}

function emptyCounts(): StatusCounts {
  return { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
}
