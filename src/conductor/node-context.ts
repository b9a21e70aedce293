import type { LogLevel } from "../events/event-map.js";
import type { BodyInfo, BodyScope, NodeContext } from "../nodes/define-node.js";
import type { Sandbox } from "../js/sandbox.js";
import { templateScope } from "./graph-scope.js";
import { emitLog, emitProgress } from "./node-events.js";
import { copyParameters } from "./resolve-parameters.js";
import type { GraphRun } from "./run-graph.js";

/** What few nodes have: a timeout and its signal, a container body, a built template scope. */
interface CtxExtras {
  signal?: AbortSignal;
  timeoutMs?: number;
  runBody?: (input: unknown, scope?: BodyScope) => Promise<unknown>;
  body?: BodyInfo;
  scope?: Record<string, unknown>;
}

/**
 * The `ctx` a node's execute receives. A class with a fixed shape (not an object literal of
 * closures) so the per-node cost is one small allocation of seven fields; ids, `inputs`, `scope`
 * and the signal are read through getters and built only when something reads them, and the
 * rarely used facts live in one side object.
 */
export class NodeCtx implements NodeContext<unknown> {
  // Fields are `declare`d and set in the constructor only: a class field emits a define step per
  // field ahead of the constructor, bytecode that counts against V8's inlining budget on the
  // scheduler's hot path (bench/ab-loop.js, docs/performance.md).
  declare private readonly graph: GraphRun;
  declare readonly index: number;
  declare input: unknown;
  declare attempt: number;
  declare private params: unknown;
  /** `params` is the compiled node's shared value: copied on first read, so a node never sees another execution's changes and one that never reads its parameters pays no copy. */
  declare private paramsShared: boolean;
  declare private inputsObject: Record<string, unknown> | undefined;
  declare private extras: CtxExtras | undefined;

  constructor(
    graph: GraphRun,
    index: number,
    input: unknown,
    inputs: Record<string, unknown> | undefined,
    /** Shared parameters (the compiled node's static value), copied on first read; or undefined. */
    sharedParameters: unknown,
    attempt: number,
  ) {
    this.graph = graph;
    this.index = index;
    this.input = input;
    this.inputsObject = inputs;
    this.params = sharedParameters;
    this.paramsShared = sharedParameters !== undefined;
    this.attempt = attempt;
    this.extras = undefined;
  }

  // Lazy: an eager copy for every execution was the largest new per-node cost in a CPU profile of
  // the silent 1k fan-out (7% of its time), and most nodes' parameters are read once or not at all.
  get parameters(): unknown {
    if (this.paramsShared) {
      this.paramsShared = false;
      this.params = copyParameters(this.params);
    }
    return this.params;
  }
  set parameters(value: unknown) {
    this.params = value;
    this.paramsShared = false;
  }

  /** The graph's signal (made on first read), or this attempt's own when it has a timeout. */
  get signal(): AbortSignal {
    return this.extras?.signal ?? this.graph.signal;
  }
  set signal(signal: AbortSignal) {
    (this.extras ??= {}).signal = signal;
  }
  get timeoutMs(): number | undefined {
    return this.extras?.timeoutMs;
  }
  set timeoutMs(ms: number | undefined) {
    (this.extras ??= {}).timeoutMs = ms;
  }
  get runBody(): ((input: unknown, scope?: BodyScope) => Promise<unknown>) | undefined {
    return this.extras?.runBody;
  }
  set runBody(run: ((input: unknown, scope?: BodyScope) => Promise<unknown>) | undefined) {
    (this.extras ??= {}).runBody = run;
  }
  get body(): BodyInfo | undefined {
    return this.extras?.body;
  }
  set body(info: BodyInfo | undefined) {
    (this.extras ??= {}).body = info;
  }

  get nodeId(): string {
    return this.graph.graph.nodes[this.index]!.node.id;
  }
  get nodeType(): string {
    return this.graph.graph.nodes[this.index]!.def.type;
  }
  get runId(): string {
    return this.graph.run.runId;
  }
  get iteration(): number | undefined {
    return this.graph.iteration;
  }
  get isolation(): "vm" | "worker" | undefined {
    return this.graph.graph.nodes[this.index]!.node.isolation;
  }
  /** Every input port that received a value; built on first read when only the primary port has one. */
  get inputs(): Record<string, unknown> {
    return (this.inputsObject ??= { [this.graph.graph.nodes[this.index]!.primaryIn]: this.input });
  }
  get workdir(): string {
    return this.graph.run.workdir;
  }
  get vars(): Record<string, unknown> {
    return this.graph.run.vars;
  }
  get env(): Record<string, string | undefined> {
    return this.graph.run.env;
  }
  get baseDir(): string | undefined {
    const file = this.graph.run.composite.file;
    return file === undefined ? undefined : file.slice(0, Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")));
  }
  get sandbox(): Sandbox {
    return this.graph.run.sandbox;
  }
  get scope(): Record<string, unknown> {
    return ((this.extras ??= {}).scope ??= templateScope(this.graph, this.input, this.inputs));
  }

  log(level: LogLevel, message: string): void {
    emitLog(this.graph, this.index, level, message);
  }

  progress(value: number, message?: string): void {
    emitProgress(this.graph, this.index, value, message);
  }

  logDrained(): Promise<void> | undefined {
    const drained = this.graph.run.logPressure?.drained();
    const signal = drained === undefined ? undefined : this.signal;
    if (drained === undefined || signal === undefined || signal.aborted) return undefined;
    // An aborted node stops waiting: its process is being killed, and its output must end.
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      signal.addEventListener("abort", done, { once: true });
      void drained.then(done);
    });
  }

  runResource<T>(key: string, create: () => T | Promise<T>, dispose: (value: T) => unknown): Promise<T> {
    return this.graph.run.resource(key, create, dispose);
  }

  template(text: string, extra?: Record<string, unknown>): unknown {
    const scope = extra ? { ...this.scope, ...extra } : this.scope;
    return this.graph.run.templates.render(text, scope, this.timeoutMs);
  }
}
