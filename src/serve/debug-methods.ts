import { DebugSession, type Pause } from "../conductor/debug-session.js";
import { AtomitonError, ErrorCode, toNodeError } from "../errors.js";
import { toJsonSafe, type JsonValue } from "../events/json-safe.js";
import type { EventBus } from "../events/create-event-bus.js";
import type { Connection } from "./connection.js";
import { requestName, type MethodCall, type MethodAnswer } from "./dispatch.js";
import { renderNotification } from "./json-rpc.js";
import type { MethodName, MethodParams, MethodResult } from "./protocol.js";

type Redact = (json: string) => string;

interface Breakpoints {
  nodes: string[];
  step: boolean;
  breakOnError: boolean;
}

/**
 * Debug sessions of the runs this server owns. A connection's `debug.setBreakpoints` (without a
 * run id) applies to the runs it starts afterwards; each such run gets a `DebugSession` whose pauses
 * go to that connection as `debug.paused`. A client that leaves releases its run: the open pause
 * continues and nothing pauses any more (a run goes on when its client leaves, §9). What goes to
 * the client (`debug.paused`, `debug.evaluate`, `debug.set`, their errors) has the run's secrets as
 * `***`, as its events do.
 */
export class DebugRegistry {
  private readonly defaults = new WeakMap<Connection, Breakpoints>();
  private readonly sessions = new Map<string, { session: DebugSession; connection: Connection; redact: Redact | undefined }>();

  /** The session for a run `connection` starts now, when it set breakpoints; `redact` is the run's (JSON text). */
  sessionFor(connection: Connection, runId: string, redact?: Redact): DebugSession | undefined {
    const bp = this.defaults.get(connection);
    if (!bp || (bp.nodes.length === 0 && !bp.step && !bp.breakOnError)) return undefined;
    const session = new DebugSession({ breakpoints: bp.nodes, step: bp.step, breakOnError: bp.breakOnError, onPause: (pause) => this.announce(runId, connection, pause) });
    this.sessions.set(runId, { session, connection, redact });
    return session;
  }

  /** A value as JSON for the client of `runId`, the run's secrets as `***`. */
  redacted(runId: string, value: unknown): JsonValue {
    const safe = toJsonSafe(value);
    const redact = this.sessions.get(runId)?.redact;
    return redact && safe !== undefined ? (JSON.parse(redact(JSON.stringify(safe))) as JsonValue) : safe;
  }

  /** The run finished. */
  forget(runId: string): void {
    this.sessions.delete(runId);
  }

  setBreakpoints(connection: Connection, params: MethodParams<"debug.setBreakpoints">): MethodResult<"debug.setBreakpoints"> {
    if (params.runId === undefined) {
      const previous = this.defaults.get(connection);
      const bp = { nodes: [...params.nodes], step: params.step ?? previous?.step ?? false, breakOnError: params.breakOnError ?? previous?.breakOnError ?? false };
      this.defaults.set(connection, bp);
      return bp;
    }
    const { session } = this.live(params.runId);
    session.setBreakpoints(params.nodes, { ...(params.step !== undefined ? { step: params.step } : {}), ...(params.breakOnError !== undefined ? { breakOnError: params.breakOnError } : {}) });
    return { nodes: [...session.breakpoints], step: session.stepping, breakOnError: session.breakOnError };
  }

  /** The open pause of a run, or E_USAGE saying why there is none. */
  paused(runId: string): Pause {
    const pause = this.live(runId).session.current;
    if (!pause?.isOpen) throw new AtomitonError(ErrorCode.USAGE, `run ${runId} is not paused`, { retryable: false, hint: "wait for a debug.paused notification" });
    return pause;
  }

  private live(runId: string): { session: DebugSession; connection: Connection } {
    const entry = this.sessions.get(runId);
    if (!entry) {
      throw new AtomitonError(ErrorCode.NOT_FOUND, `run ${runId} is not running with the debugger on this server`, {
        retryable: false,
        hint: "call debug.setBreakpoints (without runId) before run.start",
      });
    }
    return entry;
  }

  private announce(runId: string, connection: Connection, pause: Pause): void {
    if (connection.closed) {
      pause.go();
      return;
    }
    const t = pause.target;
    const params = pause.parameters();
    const payload: Record<string, unknown> = { runId, nodeId: t.nodeId, type: t.type, reason: pause.reason, parameters: params.ok ? params.parameters : {}, inputs: t.inputs };
    if (!params.ok) payload.parametersError = params.message;
    if (t.iteration !== undefined) payload.iteration = t.iteration;
    if ("item" in t) payload.item = t.item;
    if (t.index !== undefined) payload.index = t.index;
    if (t.error) payload.error = t.error;
    connection.send(renderNotification("debug.paused", this.redacted(runId, payload)));
  }

  /** A client left: its runs no longer pause, and an open pause goes on. */
  release(connection: Connection): void {
    for (const { session, connection: owner } of this.sessions.values()) {
      if (owner !== connection) continue;
      session.setBreakpoints([], { step: false, breakOnError: false });
      session.current?.go();
    }
  }
}

type Handler<M extends MethodName> = (params: MethodParams<M>, call: MethodCall) => MethodResult<M>;

/** `debug.*` as request handlers on the bus (as `registerMethods` does for the rest of §9). */
export function registerDebugMethods(bus: EventBus<object>, registry: DebugRegistry): () => void {
  const offs: (() => void)[] = [];
  function on<M extends MethodName>(method: M, handler: Handler<M>): void {
    offs.push(bus.handle(requestName(method) as never, (async (call: MethodCall): Promise<MethodAnswer> => ({ result: handler(call.params as MethodParams<M>, call) })) as never));
  }
  on("debug.setBreakpoints", (params, call) => registry.setBreakpoints(call.session.connection, params));
  on("debug.continue", (params) => (registry.paused(params.runId).go(), { ok: true as const }));
  on("debug.step", (params) => (registry.paused(params.runId).step(), { ok: true as const }));
  on("debug.skip", (params) => (registry.paused(params.runId).skip(params.output ?? null), { ok: true as const }));
  on("debug.set", (params) => {
    const result = registry.paused(params.runId).set(params.param, params.value);
    if (!result.ok) throw new AtomitonError(ErrorCode.PARAM, `set ${params.param}: ${result.message}; nothing changed, the run stays paused`, { retryable: false });
    return { parameters: registry.redacted(params.runId, result.parameters) as Record<string, unknown> };
  });
  on("debug.evaluate", (params) => {
    const pause = registry.paused(params.runId);
    try {
      return { value: registry.redacted(params.runId, pause.evaluate(params.expression)) };
    } catch (error) {
      const e = toNodeError(error);
      const text = (t: string): string => registry.redacted(params.runId, t) as string;
      throw new AtomitonError(e.code, text(e.message), { retryable: false, ...(e.hint ? { hint: text(e.hint) } : {}) });
    }
  });
  return () => {
    for (const off of offs) off();
  };
}
