import { AtomitonError, ErrorCode } from "../errors.js";
import type { EventBus } from "../events/create-event-bus.js";
import type { Catalog } from "../nodes/catalog.js";
import { describeCatalog } from "../nodes/describe-node.js";
import type { Storage } from "../storage/types.js";
import { requestName, type MethodAnswer, type MethodCall } from "./dispatch.js";
import { loadSource } from "./load-source.js";
import { PROTOCOL_VERSION, type MethodName, type MethodParams, type MethodResult } from "./protocol.js";
import { loadRunRecord, type RunManager } from "./run-manager.js";
import type { RunStreams } from "./run-streams.js";
import { listRuns } from "./list-runs.js";
import { shownStatus } from "../conductor/run-liveness.js";
import type { DebugRegistry } from "./debug-methods.js";

export interface MethodContext {
  runs: RunManager;
  streams: RunStreams;
  storage: Storage;
  catalog: Catalog;
  workdir: string;
  server: { name: string; version: string };
  /** Breakpoints set with debug.setBreakpoints, and the runs paused by them. */
  debug?: DebugRegistry;
}

type Handler<M extends MethodName> = (params: MethodParams<M>, call: MethodCall) => Promise<MethodResult<M> | { result: MethodResult<M>; after: () => void }>;

/**
 * Registers every method of SPEC §9 as a request handler on the bus (`rpc:<method>`): the socket
 * and stdio layers only `bus.request` them. Returns the function that unregisters them all.
 */
export function registerMethods(bus: EventBus<object>, ctx: MethodContext): () => void {
  const offs: (() => void)[] = [];
  function on<M extends MethodName>(method: M, handler: Handler<M>): void {
    offs.push(
      bus.handle(requestName(method) as never, (async (call: MethodCall): Promise<MethodAnswer> => {
        const answer = await handler(call.params as MethodParams<M>, call);
        return isDeferred(answer) ? answer : { result: answer };
      }) as never),
    );
  }

  on("initialize", async () => ({ server: ctx.server, protocol: PROTOCOL_VERSION, nodeTypes: ctx.catalog.types() }));

  on("validate", async (params) => {
    const loaded = await loadSource(params, { workdir: ctx.workdir, storage: ctx.storage, load: { catalog: ctx.catalog } });
    return { ok: loaded.ok, problems: loaded.problems };
  });

  on("run.start", async (params, call) => {
    const connection = call.session.connection;
    const debug = ctx.debug;
    const { runId, begin } = await ctx.runs.prepare(params, debug ? { debugFor: (id, redact) => debug.sessionFor(connection, id, redact), onFinish: (id) => debug.forget(id) } : {});
    if (params.subscribe && !connection.closed) ctx.streams.subscribeFromStart(connection, runId);
    return { result: { runId }, after: begin };
  });

  on("run.cancel", (params) => ctx.runs.cancel(params.runId));

  on("run.wait", async (params, call) => (await ctx.runs.wait(params.runId, params.timeout, call.session.signal)) as MethodResult<"run.wait">);

  // A run started here is found from the moment run.start answers, before its first record is saved.
  on("runs.list", (params) => listRuns(ctx.storage, params, ctx.runs.liveRecords()));

  on("runs.get", async (params) => {
    const record = await loadRunRecord(ctx.storage, params.runId).catch((error: unknown) => {
      const live = ctx.runs.liveRecord(params.runId);
      if (live === undefined) throw error;
      return live;
    });
    // The stored record as it is, but a `running` one whose run is known to be dead says `abandoned`.
    const status = ctx.runs.liveRecord(params.runId) === undefined ? await shownStatus(ctx.storage, record) : record.status;
    return { ...record, status } as unknown as MethodResult<"runs.get">;
  });

  on("events.subscribe", async (params, call) => {
    const { subscription, start } = await ctx.streams.subscribe(call.session.connection, params);
    return { result: { subscription }, after: start };
  });

  on("events.unsubscribe", async (params, call) => {
    if (!ctx.streams.unsubscribe(call.session.connection, params.subscription)) {
      throw new AtomitonError(ErrorCode.NOT_FOUND, `no subscription "${params.subscription}" on this connection`, { retryable: false });
    }
    return {};
  });

  on("nodes.list", async () => describeCatalog(ctx.catalog) as unknown as MethodResult<"nodes.list">);

  return () => {
    for (const off of offs) off();
  };
}

function isDeferred(answer: unknown): answer is MethodAnswer {
  return typeof answer === "object" && answer !== null && typeof (answer as { after?: unknown }).after === "function" && "result" in answer;
}
