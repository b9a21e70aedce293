import type { LogLevel } from "../events/event-map.js";
import type { BodyInfo, BodyScope, NodeContext } from "../nodes/define-node.js";
import type { Sandbox } from "./sandbox.js";
import type { GraphRun } from "./run-graph.js";

/**
 * The `ctx` a node's execute receives. A class with a fixed shape (not an object literal of
 * closures) so the per-node cost is one small allocation; ids, `inputs` and `scope` are read
 * through getters and built only when something reads them.
 */
export class NodeCtx implements NodeContext<unknown> {
  input: unknown;
  parameters: unknown;
  signal: AbortSignal;
  attempt: number;
  timeoutMs: number | undefined = undefined;
  runBody: ((input: unknown, scope?: BodyScope) => Promise<unknown>) | undefined = undefined;
  body: BodyInfo | undefined = undefined;
  private scopeObject: Record<string, unknown> | undefined = undefined;
  private inputsObject: Record<string, unknown> | undefined;

  constructor(
    private readonly graph: GraphRun,
    readonly index: number,
    input: unknown,
    inputs: Record<string, unknown> | undefined,
    parameters: unknown,
    signal: AbortSignal,
    attempt: number,
  ) {
    this.input = input;
    this.inputsObject = inputs;
    this.parameters = parameters;
    this.signal = signal;
    this.attempt = attempt;
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
    return (this.scopeObject ??= this.graph.templateScope(this.input, this.inputs));
  }

  log(level: LogLevel, message: string): void {
    this.graph.emitLog(this.index, level, message);
  }

  progress(value: number, message?: string): void {
    this.graph.emitProgress(this.index, value, message);
  }

  template(text: string, extra?: Record<string, unknown>): unknown {
    const scope = extra ? { ...this.scope, ...extra } : this.scope;
    return this.graph.run.templates.render(text, scope);
  }
}
