import { z } from "zod";
import type { LogLevel } from "../events/event-map.js";
import type { Sandbox } from "../js/sandbox.js";

/** A port of a node. The first input and the first output are the node's primary ports. */
export interface PortSpec {
  id: string;
  description?: string;
}

/** How a parameter's JavaScript is compiled (see `NodeDefinition.javascript`). */
export type JavaScriptKind = "body" | "expression" | "function" | "template";

/** What a node sees when it runs. */
export interface NodeContext<P = Record<string, unknown>> {
  /** The value on the primary input port (the run input for root nodes). */
  input: unknown;
  /** Every input port that received a value, keyed by port id. */
  inputs: Record<string, unknown>;
  /** Parameters, validated by the node's zod schema, defaults filled, `{{ }}` templates resolved. */
  parameters: P;
  /** Aborted on node timeout, run timeout, Ctrl-C and fail-fast. Pass it to everything that waits. */
  signal: AbortSignal;
  /** Emit a `node:log` event. */
  log(level: LogLevel, message: string): void;
  /** Emit a `node:progress` event (0..1). */
  progress(value: number, message?: string): void;
  /**
   * While the run's event log is far behind its storage (a node logging faster than it is written),
   * a promise that resolves once it has caught up or the node is aborted; else undefined. A node
   * that streams many log lines awaits it between chunks, so every line is recorded: the lines of
   * a node that does not, sent while the log is 8 MiB behind, are shown live but left out of the log
   * (one warning there counts them). Optional: a context made by hand may leave it out.
   */
  logDrained?(): Promise<void> | undefined;
  /** Resolve `{{ expr }}` templates in `text` with the node's template scope plus `extra` names. */
  template(text: string, extra?: Record<string, unknown>): unknown;
  /**
   * A value shared by every node of the run under `key` (a database pool, an API client): made by
   * `create` on first use, passed to `dispose` when the run ends, fails or is cancelled.
   */
  runResource<T>(key: string, create: () => T | Promise<T>, dispose: (value: T) => unknown): Promise<T>;
  runId: string;
  nodeId: string;
  nodeType: string;
  /** 1-based attempt number (retries increase it). */
  attempt: number;
  /** Directory relative paths resolve against (`--workdir`, default the process cwd). */
  workdir: string;
  /** Resolved composite variables. */
  vars: Record<string, unknown>;
  /** Environment variables visible to nodes. */
  env: Record<string, string | undefined>;
  /** Loop iteration index when running inside a loop body. */
  iteration?: number;
  /** `worker` when the node asked for `isolation: worker`: run user JS through `runIsolated`. */
  isolation?: "vm" | "worker";
  /** The node's time limit in ms, when it has one (code nodes use it for the vm limit). */
  timeoutMs?: number;
  /** The names templates see ($input, $vars, $nodes, $now, …), built on first use. */
  readonly scope: Record<string, unknown>;
  /**
   * The run's sandbox for user JavaScript: time-limited, no process/require/import(), values
   * copied in and out so no host object is reachable (docs/security.md).
   */
  readonly sandbox: Sandbox;
  /** Directory of the composite file (for `ref:` resolution), when loaded from a file. */
  baseDir?: string;
  /**
   * Container nodes only (loop, parallel, group): run the node's body once with `input`
   * (and `$item`/`$index` for loops). Resolves with the body's output.
   */
  runBody?: (input: unknown, scope?: BodyScope) => Promise<unknown>;
  /** Container nodes only: the shape of the body. */
  body?: BodyInfo;
}

export interface BodyScope {
  /** `$item` inside the body (loops). */
  item?: unknown;
  /** `$index` inside the body and the iteration number of its events (loops). */
  index?: number;
  /** Run only the branch that starts at this body root (parallel). */
  branch?: number;
  /** Concurrency inside the body run. */
  concurrency?: number;
  /** Cancels just this body run (e.g. the losers of a race). */
  signal?: AbortSignal;
}

export interface BodyInfo {
  /** How many root nodes (branches) the body has. */
  branches: number;
  /** `concurrency` of a parallel node at the body's root, which then bounds loop iterations (editor files). */
  parallelConcurrency?: number;
}

export interface NodeDefinition<S extends z.ZodObject = z.ZodObject, O = unknown> {
  /** Kebab-case type name used in YAML (`http-request`). */
  type: string;
  title: string;
  description: string;
  category: string;
  /** A zod object schema with defaults and `.describe()` docs. The single source of truth. */
  parameters: S;
  /** Input ports; the first is primary. */
  inputs: readonly PortSpec[];
  /** Output ports; the first is primary. A node with several non-error outputs returns `{ [port]: value }`. */
  outputs: readonly PortSpec[];
  /** Other type names that resolve to this node (editor-era names such as `csv-reader`). */
  aliases?: readonly string[];
  /** Port aliases used by editor files, e.g. `{ complete: "results" }`. */
  portAliases?: Readonly<Record<string, string>>;
  /** Parameter aliases, e.g. `{ filePath: "path" }`. */
  parameterAliases?: Readonly<Record<string, string>>;
  /**
   * Parameters that must not hold `{{ }}` templates (an `E_PARAM` at validate), as paths with `*`
   * for any array index (`statements.*.query`), each with the fix hint shown.
   */
  literalParameters?: Readonly<Record<string, string>>;
  /** Parameters whose strings are not template-resolved by the conductor (the node handles them). */
  rawParameters?: readonly string[];
  /**
   * Parameters that hold JavaScript, and how it is compiled: a function `body`, an `expression`
   * (`{{ }}` around it allowed), a `function` value (`x => x * 2`), or `template` for a raw
   * parameter whose strings the node renders as `{{ }}` templates itself (`ctx.template`).
   * Validation compiles them and reports a syntax error at its line and column in the file. The
   * strings of other parameters are checked as templates, except raw ones (`rawParameters`).
   */
  javascript?: Readonly<Record<string, JavaScriptKind>>;
  /**
   * `$` names an `expression` parameter sees besides the run's (`$input`, `$vars`, `$nodes`…), e.g.
   * `{ condition: ["$last"] }`. Validation reports any other `$` name it reads as an `E_REF`.
   */
  scopeNames?: Readonly<Record<string, readonly string[]>>;
  /** A container node whose nested `nodes`/`edges` form a body the conductor runs via `ctx.runBody`. */
  container?: boolean;
  /** A custom node may replace a built-in of the same type only with `override: true`. */
  override?: boolean;
  /** A YAML snippet shown by `atomiton nodes <type>`. */
  example?: string;
  execute(ctx: NodeContext<z.output<S>>): O | Promise<O>;
}

/** Any node definition, whatever its parameter schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- `execute` takes its own parameter type, so only `any` admits every definition
export type AnyNodeDefinition = NodeDefinition<z.ZodObject, unknown> | NodeDefinition<any, any>;

/**
 * Define a node type. `execute` sees parameter types inferred from the zod schema.
 *
 * Only `type` and `execute` are required; the rest has defaults (`NodeDefinitionInput`).
 *
 * @example
 * import { z } from "zod";
 * import { defineNode } from "atomiton";
 * export default defineNode({ type: "double", parameters: z.object({ n: z.number() }), execute: ({ parameters }) => parameters.n * 2 });
 * export const greet = defineNode({
 *   type: "greet", title: "Greet", description: "Say hello", category: "demo",
 *   parameters: z.object({ name: z.string().default("world").describe("Who to greet") }),
 *   inputs: [{ id: "input" }], outputs: [{ id: "output" }],
 *   execute: ({ parameters }) => `hello ${parameters.name}`,
 * });
 */
export function defineNode<S extends z.ZodObject = NoParameters, O = unknown>(definition: NodeDefinitionInput<S, O>): NodeDefinition<S, O> {
  return Object.freeze(withDefaults(definition));
}

/**
 * What `defineNode` takes: only `type` and `execute` are required (SPEC §3). `title` defaults to the
 * type, `description` to "", `category` to `custom`, `parameters` to `z.object({})`, `inputs` to
 * `[{ id: "input" }]` and `outputs` to `[{ id: "output" }]`.
 */
export type NodeDefinitionInput<S extends z.ZodObject = NoParameters, O = unknown> = Pick<NodeDefinition<S, O>, "type" | "execute"> &
  Partial<Pick<NodeDefinition<S, O>, NodeDefaultedField>> &
  Omit<NodeDefinition<S, O>, "type" | "execute" | NodeDefaultedField>;

type NodeDefaultedField = "title" | "description" | "category" | "parameters" | "inputs" | "outputs";

/** The default parameter schema, `z.object({})`: a node that takes no parameters. */
const noParameters = () => z.object({});
type NoParameters = ReturnType<typeof noParameters>;

/** A definition with every defaulted field filled (an absent or `undefined` field takes its default). */
export function withDefaults<S extends z.ZodObject, O>(definition: NodeDefinitionInput<S, O>): NodeDefinition<S, O> {
  const defaults = { title: definition.type, description: "", category: "custom", parameters: noParameters(), inputs: [{ id: "input" }], outputs: [{ id: "output" }] };
  const given = Object.fromEntries(Object.entries(definition).filter(([, value]) => value !== undefined));
  return { ...defaults, ...given } as unknown as NodeDefinition<S, O>;
}

/** Output ports other than the `error` port (which carries routed failures). */
export function dataOutputs(def: Pick<AnyNodeDefinition, "outputs">): readonly PortSpec[] {
  return def.outputs.filter((p) => p.id !== "error");
}

/** True when the node returns a `{ [port]: value }` map rather than a single value. */
export function hasPortMap(def: Pick<AnyNodeDefinition, "outputs">): boolean {
  return dataOutputs(def).length > 1;
}
