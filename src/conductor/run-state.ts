import type { Composite } from "../composite/model.js";
import type { EventBus } from "../events/create-event-bus.js";
import type { RunEventMap } from "../events/event-map.js";
import type { Catalog } from "../nodes/catalog.js";
import type { DebugSession } from "./debug-session.js";
import { createSandbox, type Sandbox } from "../js/sandbox.js";
import { createTemplateEngine, type TemplateEngine } from "../js/templates.js";

/** What `--resume` may reuse: per top-level node, the earlier status, cache key and output. */
export interface ResumeSource {
  runId: string;
  nodes: Record<string, { status?: string; hash?: string; output?: unknown; reusable?: boolean }>;
}

/** A node that returns a given value without running (`--pin`, `replay --from`): `reason` is what its node:finish says. */
export interface Pin {
  output: unknown;
  reason: string;
}

/** Everything one run shares across its graphs (the composite's and every loop/group body). */
/** The run's event log falling behind its storage (`EventLogWriter`). */
export interface LogPressure {
  /** So far behind that node:log/node:progress events are left out of it. */
  readonly congested: boolean;
  /** Behind by half that or more: a promise that resolves when it is no longer; else undefined. */
  drained(): Promise<void> | undefined;
}

export class RunState {
  readonly runId: string;
  readonly bus: EventBus<RunEventMap>;
  readonly catalog: Catalog;
  readonly composite: Composite;
  readonly vars: Record<string, unknown>;
  readonly env: Record<string, string | undefined>;
  readonly workdir: string;
  readonly input: unknown;
  /** `performance.now()` at the start (for durations). */
  readonly startedAt: number;
  /** Epoch ms at the start; `startedIso` is built from it when a template first reads `$run`. */
  private readonly startedEpoch: number;
  readonly concurrency: number;
  // Which events anyone listens to, read once: payloads nobody hears are never built.
  readonly emitStart: boolean;
  readonly emitFinish: boolean;
  readonly emitLog: boolean;
  readonly emitProgress: boolean;
  readonly emitRetry: boolean;
  /** Compute per-node cache keys (for records and `--resume`). */
  readonly hashing: boolean;
  /** Outputs of an earlier run that may be reused (`--resume`). */
  readonly resume: ResumeSource | undefined;
  /** Nodes (by id, in any body) that return a value without running. */
  readonly pins: ReadonlyMap<string, Pin> | undefined;
  /**
   * Nothing looks at every node before it starts (no pins, no debugger) and the caller did not
   * force the full path: graph runs may take the fast path, which skips those checks. Read once per graph run.
   */
  readonly fastPath: boolean;
  /** Measure each node's queue wait, CPU time and heap growth (`node-profile.ts`); no fast path then. */
  readonly profile: boolean;
  /** Breakpoints and stepping (`--break`, `--step`, `--break-on-error`, `debug.*`). */
  readonly debug: DebugSession | undefined;
  /** How far behind the run's event log is (its `EventLogWriter`): node-events.ts and `ctx.logDrained` read it. */
  readonly logPressure: LogPressure | undefined;
  /** Per graph run and node index: how many of its events the log left out since the last warning that said so. */
  unrecorded: Map<object, Map<number, number>> | undefined;
  private sandboxInstance: Sandbox | undefined;
  private engineInstance: TemplateEngine | undefined;
  private resources: Map<string, RunResource> | undefined;

  constructor(init: {
    runId: string;
    bus: EventBus<RunEventMap>;
    catalog: Catalog;
    composite: Composite;
    vars: Record<string, unknown>;
    env: Record<string, string | undefined>;
    workdir: string;
    input: unknown;
    concurrency: number;
    hashing?: boolean;
    resume?: ResumeSource;
    pins?: ReadonlyMap<string, Pin>;
    debug?: DebugSession;
    profile?: boolean;
    /** Internal (tests): every node takes the full path. */
    fullPathOnly?: boolean;
    logPressure?: LogPressure | undefined;
  }) {
    this.logPressure = init.logPressure;
    this.unrecorded = undefined;
    this.pins = init.pins?.size ? init.pins : undefined;
    this.debug = init.debug;
    this.profile = init.profile ?? false;
    // A profiled run takes the full path, where attempts are measured.
    this.fastPath = this.pins === undefined && this.debug === undefined && !this.profile && init.fullPathOnly !== true;
    this.hashing = init.hashing ?? false;
    this.resume = init.resume;
    this.runId = init.runId;
    this.bus = init.bus;
    this.catalog = init.catalog;
    this.composite = init.composite;
    this.vars = init.vars;
    this.env = init.env;
    this.workdir = init.workdir;
    this.input = init.input;
    this.concurrency = init.concurrency;
    this.startedAt = performance.now();
    this.startedEpoch = Date.now();
    const bus = init.bus;
    this.emitStart = bus.hasListeners("node:start");
    this.emitFinish = bus.hasListeners("node:finish");
    this.emitLog = bus.hasListeners("node:log");
    this.emitProgress = bus.hasListeners("node:progress");
    this.emitRetry = bus.hasListeners("node:retry");
  }

  get startedIso(): string {
    return (this.startedIsoText ??= new Date(this.startedEpoch).toISOString());
  }
  private startedIsoText: string | undefined;

  /** The run's vm sandbox, created on first use. */
  get sandbox(): Sandbox {
    return (this.sandboxInstance ??= createSandbox());
  }

  /** The run's template engine (templates compiled once per run). */
  get templates(): TemplateEngine {
    return (this.engineInstance ??= createTemplateEngine(this.sandbox));
  }

  /** A value shared by the run's nodes under `key` (a database pool), made on first use (see NodeContext.runResource). */
  resource<T>(key: string, create: () => T | Promise<T>, dispose: (value: T) => unknown): Promise<T> {
    const resources = (this.resources ??= new Map());
    const existing = resources.get(key);
    if (existing) return existing.value as Promise<T>;
    const value = Promise.resolve().then(create);
    resources.set(key, { value, dispose: dispose as (value: unknown) => unknown });
    // A failed create is forgotten, so the next attempt (a retry) tries again.
    value.catch(() => {
      if (resources.get(key)?.value === value) resources.delete(key);
    });
    return value;
  }

  /** Dispose every run resource (when the run ends, fails or is cancelled); errors are ignored. Undefined when there is none. */
  disposeResources(): Promise<void> | undefined {
    const resources = this.resources;
    if (!resources?.size) return undefined;
    this.resources = undefined;
    return Promise.all(
      [...resources.values()].map(async ({ value, dispose }) => {
        try {
          await dispose(await value);
        } catch {
          // A pool that fails to close must not fail a finished run.
        }
      }),
    ).then(() => undefined);
  }
}

interface RunResource {
  value: Promise<unknown>;
  dispose: (value: unknown) => unknown;
}
