import { randomUUID } from "node:crypto";
import { AtomitonError, CancelledError, TimeoutError } from "../errors.js";

/** Error code of a `request` that no handler listens to. */
export const NO_HANDLER_CODE = "E_NO_HANDLER";

/** Names of an event (or request) map: its string keys. */
export type EventName<M extends object> = keyof M & string;

export type EventListener<P> = (payload: P) => void;

/**
 * Sees every event as `(name, payload)`; checking `name` narrows `payload`. Declare both parameters
 * (`(name, _payload) => …`): TypeScript cannot match a one-parameter function to this correlated type.
 */
export type AnyEventListener<M extends object> = (
  ...args: { [K in EventName<M>]: [name: K, payload: M[K]] }[EventName<M>]
) => void;

/** Shape of one request: what the caller sends and what the handler answers. */
export interface RequestSpec {
  payload: unknown;
  result: unknown;
}

/** Untyped requests: any name, `unknown` payload and result. */
export type DefaultRequestMap = Record<string, RequestSpec>;

export interface RequestContext {
  /** Correlation id of this request (a UUID). */
  requestId: string;
  /** Aborted when the request times out or the caller's signal aborts. */
  signal: AbortSignal;
}

export type RequestHandler<P, R> = (payload: P, context: RequestContext) => R | PromiseLike<R>;

export interface RequestOptions {
  /** Milliseconds to wait for the handler. Default 30 000; `Infinity` waits forever. */
  timeout?: number;
  /** Rejects the request with `E_CANCELLED` when aborted. */
  signal?: AbortSignal;
}

export interface EventBusOptions {
  /** Called when a listener throws or its promise rejects. Default: `process.emitWarning`. */
  onListenerError?: (error: unknown, name: string) => void;
}

/**
 * A typed, synchronous event bus plus request/response. Listeners of one name run in subscription
 * order, then `onAny` listeners; a listener removed during an emit is not called by that emit.
 */
export interface EventBus<M extends object, R extends Record<keyof R, RequestSpec> = DefaultRequestMap> {
  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends EventName<M>>(name: K, listener: EventListener<M[K]>): () => void;
  /** Subscribes for the next emit of `name` only. */
  once<K extends EventName<M>>(name: K, listener: EventListener<M[K]>): () => void;
  /** Removes the most recent subscription of `listener` to `name` (no-op when absent). */
  off<K extends EventName<M>>(name: K, listener: EventListener<M[K]>): void;
  /** Calls the listeners of `name`, then the `onAny` listeners; never throws because of a listener. */
  emit<K extends EventName<M>>(name: K, payload: M[K]): void;
  /** Subscribes to every event, in emit order. */
  onAny(listener: AnyEventListener<M>): () => void;
  /** True when an emit of `name` (or of anything, without `name`) would reach a listener. */
  hasListeners(name?: EventName<M>): boolean;
  /** Sends a request to the first handler of `name` and resolves with its (awaited) answer. */
  request<K extends EventName<R>>(name: K, payload: R[K]["payload"], options?: RequestOptions): Promise<R[K]["result"]>;
  /** Registers a handler for `name`; the first registered handler answers. Returns the unregister function. */
  handle<K extends EventName<R>>(name: K, handler: RequestHandler<R[K]["payload"], R[K]["result"]>): () => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_TIMER_MS = 2_147_483_647; // setTimeout fires at once above this

interface Entry {
  readonly fn: (...args: never[]) => unknown;
  readonly once: boolean;
  active: boolean;
}

/**
 * Creates a typed event bus; `emit` is cheap enough for the conductor's per-node hot path.
 * A throwing listener is isolated and reported through `onListenerError` (default: a process warning).
 *
 * @example
 * const bus = createEventBus<RunEventMap>();
 * const off = bus.on("node:finish", (e) => console.log(e.nodeId, e.status));
 * bus.emit("node:finish", { runId, ts: Date.now(), nodeId: "a", status: "succeeded", durationMs: 3, attempt: 1 });
 * off();
 */
export function createEventBus<M extends object, R extends Record<keyof R, RequestSpec> = DefaultRequestMap>(
  options: EventBusOptions = {},
): EventBus<M, R> {
  const onListenerError = options.onListenerError ?? warnListenerError;
  // Arrays are replaced, never mutated (copy-on-write), so emit iterates them without copying.
  const listeners = new Map<string, Entry[]>();
  const handlers = new Map<string, Entry[]>();
  let anyListeners: Entry[] = [];

  function report(error: unknown, name: string): void {
    try {
      onListenerError(error, name);
    } catch {
      // The error reporter itself must not break emit either.
    }
  }

  function settle(result: unknown, name: string): void {
    if (isThenable(result)) result.then(undefined, (error: unknown) => report(error, name));
  }

  function add(map: Map<string, Entry[]>, name: string, entry: Entry): () => void {
    map.set(name, [...(map.get(name) ?? []), entry]);
    return () => remove(map, name, entry);
  }

  function remove(map: Map<string, Entry[]>, name: string, entry: Entry): void {
    const list = map.get(name);
    if (list === undefined || !list.includes(entry)) return;
    entry.active = false;
    const next = list.filter((e) => e !== entry);
    if (next.length === 0) map.delete(name);
    else map.set(name, next);
  }

  function emit(name: string, payload: unknown): void {
    const list = listeners.get(name);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const entry = list[i]!;
        if (!entry.active) continue;
        if (entry.once) remove(listeners, name, entry);
        try {
          settle((entry.fn as (p: unknown) => unknown)(payload), name);
        } catch (error) {
          report(error, name);
        }
      }
    }
    const any = anyListeners;
    for (let i = 0; i < any.length; i++) {
      const entry = any[i]!;
      if (!entry.active) continue;
      try {
        settle((entry.fn as (n: string, p: unknown) => unknown)(name, payload), name);
      } catch (error) {
        report(error, name);
      }
    }
  }

  function request(name: string, payload: unknown, opts: RequestOptions = {}): Promise<unknown> {
    const entry = handlers.get(name)?.[0];
    if (entry === undefined) {
      return Promise.reject(
        new AtomitonError(NO_HANDLER_CODE, `no handler answers request "${name}"`, {
          retryable: false,
          hint: `register one with bus.handle("${name}", handler) before requesting`,
          details: { name },
        }),
      );
    }
    const requestId = randomUUID();
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT_MS;
    const controller = new AbortController();
    return new Promise<unknown>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => fail(new CancelledError(`request "${name}" was cancelled`, { cause: opts.signal?.reason }));
      function cleanup(): void {
        if (timer !== undefined) clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
      }
      function fail(error: unknown): void {
        cleanup();
        controller.abort(error);
        reject(error);
      }
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      if (Number.isFinite(timeout)) {
        const ms = Math.min(Math.max(timeout, 1), MAX_TIMER_MS);
        timer = setTimeout(() => {
          fail(
            new TimeoutError(`request "${name}" (${requestId}) timed out after ${timeout} ms`, {
              retryable: true,
              hint: "the handler did not answer in time; raise { timeout } or make the handler faster",
              details: { name, requestId, timeout },
            }),
          );
        }, ms);
      }
      const context: RequestContext = { requestId, signal: controller.signal };
      // Calling inside then() turns a synchronous throw into a rejection; a settled promise ignores late answers.
      Promise.resolve()
        .then(() => (entry.fn as RequestHandler<unknown, unknown>)(payload, context))
        .then(
          (value) => {
            cleanup();
            resolve(value);
          },
          (error: unknown) => {
            cleanup();
            reject(error);
          },
        );
    });
  }

  // Internal entries are untyped; the EventBus interface enforces the types at every call site.
  const bus: EventBus<DefaultEventMap, DefaultRequestMap> = {
    on: (name, listener) => add(listeners, name, { fn: listener, once: false, active: true }),
    once: (name, listener) => add(listeners, name, { fn: listener, once: true, active: true }),
    off(name, listener) {
      const list = listeners.get(name);
      if (list === undefined) return;
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i]!.fn === listener) return remove(listeners, name, list[i]!);
      }
    },
    emit,
    onAny(listener) {
      const entry: Entry = { fn: listener, once: false, active: true };
      anyListeners = [...anyListeners, entry];
      return () => {
        entry.active = false;
        anyListeners = anyListeners.filter((e) => e !== entry);
      };
    },
    hasListeners: (name) => anyListeners.length > 0 || (name === undefined ? listeners.size > 0 : listeners.has(name)),
    request,
    handle: (name, handler) => add(handlers, name, { fn: handler, once: false, active: true }),
  };
  return bus as unknown as EventBus<M, R>;
}

type DefaultEventMap = Record<string, unknown>;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function warnListenerError(error: unknown, name: string): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(`event listener for "${name}" threw: ${message}`, { code: "ATOMITON_LISTENER_ERROR" });
}
