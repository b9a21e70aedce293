import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { z } from "zod";
import { createSandbox, type Sandbox } from "../../src/js/sandbox.js";
import type { LogLevel } from "../../src/events/event-map.js";
import type { NodeContext, NodeDefinition } from "../../src/nodes/define-node.js";

export interface LogEntry {
  level: LogLevel;
  message: string;
}

export interface ProgressEntry {
  value: number;
  message?: string;
}

export interface TestContextOptions {
  input?: unknown;
  inputs?: Record<string, unknown>;
  /** Defaults to the process cwd; tests pass a temp dir from `createTempDir`. */
  workdir?: string;
  env?: Record<string, string | undefined>;
  vars?: Record<string, unknown>;
  attempt?: number;
  nodeId?: string;
  /** Run resources shared with other contexts (one "run" of several node calls); disposed by any of them. */
  resources?: Map<string, { value: Promise<unknown>; dispose: (value: unknown) => unknown }>;
}

export interface TestContext<P> {
  ctx: NodeContext<P>;
  logs: LogEntry[];
  progress: ProgressEntry[];
  /** Aborting it aborts `ctx.signal`. */
  controller: AbortController;
  /** End the context's run resources (pools) as the conductor does when a run ends. */
  disposeResources(): Promise<void>;
}

/**
 * A real NodeContext for calling `def.execute(ctx)` directly: a live AbortController signal, log
 * and progress calls collected into arrays, templates left as they are.
 */
export function createNodeContext<P>(parameters: P, options: TestContextOptions = {}): TestContext<P> {
  const logs: LogEntry[] = [];
  const progress: ProgressEntry[] = [];
  const controller = new AbortController();
  const input = options.input;
  let sandbox: Sandbox | undefined;
  const resources = options.resources ?? new Map<string, { value: Promise<unknown>; dispose: (value: unknown) => unknown }>();
  const ctx: NodeContext<P> = {
    input,
    inputs: options.inputs ?? (input === undefined ? {} : { input }),
    parameters,
    signal: controller.signal,
    log: (level, message) => void logs.push({ level, message }),
    progress: (value, message) => void progress.push(message === undefined ? { value } : { value, message }),
    template: (text) => text,
    runResource<T>(key: string, create: () => T | Promise<T>, dispose: (value: T) => unknown): Promise<T> {
      const existing = resources.get(key);
      if (existing) return existing.value as Promise<T>;
      const value = Promise.resolve().then(create);
      resources.set(key, { value, dispose: dispose as (value: unknown) => unknown });
      value.catch(() => resources.delete(key));
      return value;
    },
    runId: "test-run",
    nodeId: options.nodeId ?? "node",
    nodeType: "test",
    attempt: options.attempt ?? 1,
    workdir: options.workdir ?? process.cwd(),
    vars: options.vars ?? {},
    env: options.env ?? { ...process.env },
    scope: { $input: input, $inputs: options.inputs ?? {}, $vars: options.vars ?? {}, $nodes: {} },
    get sandbox() {
      sandbox ??= createSandbox();
      return sandbox;
    },
  };
  const disposeResources = async (): Promise<void> => {
    const all = [...resources.values()];
    resources.clear();
    await Promise.all(all.map(async ({ value, dispose }) => dispose(await value)));
  };
  return { ctx, logs, progress, controller, disposeResources };
}

/** Parse raw parameters the way the conductor does: aliases renamed, then the node's zod schema. */
export function parseParameters<S extends z.ZodObject>(def: NodeDefinition<S, unknown>, raw: Record<string, unknown>): z.output<S> {
  const params: Record<string, unknown> = { ...raw };
  for (const [alias, canonical] of Object.entries(def.parameterAliases ?? {})) {
    if (alias in params) {
      if (!(canonical in params)) params[canonical] = params[alias];
      delete params[alias];
    }
  }
  return def.parameters.parse(params);
}

export interface StartedNode<P, O> extends TestContext<P> {
  /** The execution; it has a no-op catch attached, so an unawaited rejection is not "unhandled". */
  result: Promise<O>;
}

/** Validate `raw` parameters, build a context and start `def.execute` (not awaited). */
export function startNode<S extends z.ZodObject, O>(def: NodeDefinition<S, O>, raw: Record<string, unknown>, options: TestContextOptions = {}): StartedNode<z.output<S>, Awaited<O>> {
  const test = createNodeContext(parseParameters(def, raw), options);
  const result = Promise.resolve().then(() => def.execute(test.ctx)) as Promise<Awaited<O>>;
  result.catch(() => undefined);
  return { ...test, result };
}

/** Validate parameters, run the node to completion and return its output with the collected logs. */
export async function runNode<S extends z.ZodObject, O>(
  def: NodeDefinition<S, O>,
  raw: Record<string, unknown>,
  options: TestContextOptions = {},
): Promise<{ output: Awaited<O>; logs: LogEntry[]; progress: ProgressEntry[] }> {
  const started = startNode(def, raw, options);
  const output = await started.result;
  return { output, logs: started.logs, progress: started.progress };
}

/** The rejection of a promise that must reject (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean; details?: Record<string, unknown>; hint?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; retryable?: boolean };
  }
  throw new Error("expected the promise to reject, but it resolved");
}

/** A fresh temp directory; remove it with `removeTempDir`. */
export function createTempDir(prefix = "atomiton-node-"): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** The parameters of every node of `def.type` in the definition's YAML `example`. */
export async function exampleParameters(def: { type: string; example?: string }): Promise<Record<string, unknown>[]> {
  const { parse } = await import("yaml");
  const nodes = parse(def.example ?? "[]") as Array<{ type?: string; parameters?: Record<string, unknown> }>;
  return nodes.filter((n) => n.type === def.type).map((n) => n.parameters ?? {});
}
