import type { LogLevel } from "../events/event-map.js";
import type { BodyInfo, BodyScope, NodeContext } from "../nodes/define-node.js";
import type { Sandbox } from "./sandbox.js";
import type { GraphRun } from "./run-graph.js";

/**
 * The `ctx` a node's execute receives. A class (not an object literal of closures) so the
 * per-node cost is one small allocation; `scope` is built only when something reads it.
 */
export class NodeCtx implements NodeContext<unknown> {
  input: unknown;
  inputs: Record<string, unknown>;
  parameters: unknown;
  signal: AbortSignal;
  attempt: number;
  nodeId: string;
  nodeType: string;
  runId: string;
  iteration?: number;
  timeoutMs?: number;
  isolation?: "vm" | "worker";
  runBody?: (input: unknown, scope?: BodyScope) => Promise<unknown>;
  body?: BodyInfo;
  private scopeObject: Record<string, unknown> | undefined;

  constructor(
    private readonly graph: GraphRun,
    readonly index: number,
    input: unknown,
    inputs: Record<string, unknown>,
    parameters: unknown,
    signal: AbortSignal,
    attempt: number,
  ) {
    const cn = graph.graph.nodes[index]!;
    this.input = input;
    this.inputs = inputs;
    this.parameters = parameters;
    this.signal = signal;
    this.attempt = attempt;
    this.nodeId = cn.node.id;
    this.nodeType = cn.def.type;
    this.runId = graph.run.runId;
    if (graph.iteration !== undefined) this.iteration = graph.iteration;
    if (cn.node.isolation !== undefined) this.isolation = cn.node.isolation;
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
