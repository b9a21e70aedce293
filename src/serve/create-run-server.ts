import { createConductor } from "../conductor/create-conductor.js";
import { createJsonRedactor } from "../events/redact.js";
import { createEventBus, type EventBus } from "../events/create-event-bus.js";
import type { RunEventMap } from "../events/event-map.js";
import { createBuiltinCatalog, type Catalog } from "../nodes/catalog.js";
import type { Storage } from "../storage/types.js";
import { VERSION } from "../version.js";
import { Connection, type ConnectionOptions, type Transport } from "./connection.js";
import { dispatchMessage, type Session } from "./dispatch.js";
import { registerMethods } from "./methods.js";
import { DebugRegistry, registerDebugMethods } from "./debug-methods.js";
import { RunManager, type RunExecutor } from "./run-manager.js";
import { RunStreams } from "./run-streams.js";

export interface RunServerOptions {
  /** Run records, event logs (replay reads them) and stored composites. */
  storage: Storage;
  /** The node catalog (default: the built-ins). */
  catalog?: Catalog;
  /** Where relative paths resolve, and what `path` params cannot leave (default: process.cwd()). */
  workdir?: string;
  /** `$env` of the nodes (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Values replaced by `***` in events and records. */
  secretValues?: readonly string[];
  /** Send-buffer limits of each client. */
  connection?: ConnectionOptions;
  /** Runs execute there instead of on this server's conductor, emitting their events on `bus` (`serve --redis`). */
  executor?: (bus: EventBus<RunEventMap>) => RunExecutor;
}

/** One attached client: feed it messages, tell it when its transport closed. */
export interface ClientHandle {
  readonly connection: Connection;
  /** Handles one incoming message (a frame or a line). */
  receive(text: string): Promise<void>;
  /**
   * The client will send nothing more but still reads (the end of stdin): it has left as far as
   * its runs are concerned, so a run paused at its breakpoint goes on; its events are still sent.
   */
  inputEnded(): void;
}

export interface RunServer {
  /** The bus runs emit on and methods are answered through (`bus.request("rpc:<method>", …)`). */
  readonly bus: EventBus<RunEventMap>;
  readonly runs: RunManager;
  /** Attaches a client on a transport (a WebSocket, a stdio pipe). */
  connect(transport: Transport): ClientHandle;
  /** Runs in flight. */
  readonly running: number;
  /** Shutdown: cancel the runs in flight and wait for their records (saved `cancelled`). */
  cancelAll(reason: string): Promise<void>;
  /** Waits for the runs in flight to finish on their own. */
  drain(): Promise<void>;
  close(): void;
}

/**
 * The transport-independent core of `atomiton serve` (SPEC §9): one bus, one conductor, the runs it
 * owns, their numbered event streams, and the methods registered as bus request handlers. The
 * WebSocket and stdio layers only turn bytes into `receive` calls.
 *
 * @example
 * const server = createRunServer({ storage: createStorage({ type: "memory" }) });
 * const client = server.connect({ send: (t) => console.log(t), bufferedAmount: () => 0, close() {} });
 * await client.receive('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}');
 */
export function createRunServer(options: RunServerOptions): RunServer {
  const bus = createEventBus<RunEventMap>();
  const catalog = options.catalog ?? createBuiltinCatalog();
  const workdir = options.workdir ?? process.cwd();
  const secretValues = options.secretValues ?? [];
  const conductor = createConductor({ storage: options.storage, events: bus, nodes: catalog, workdir, env: options.env ?? process.env });
  const streams = new RunStreams({ bus, storage: options.storage, redact: createJsonRedactor(secretValues) });
  const runs = new RunManager({ conductor, catalog, storage: options.storage, streams, workdir, secretValues, env: options.env ?? process.env, executor: options.executor?.(bus) });
  const debug = new DebugRegistry();
  const unregisterMethods = registerMethods(bus as EventBus<object>, { runs, streams, storage: options.storage, catalog, workdir, server: { name: "atomiton", version: VERSION }, debug });
  const unregisterDebug = registerDebugMethods(bus as EventBus<object>, debug);
  const unregister = (): void => {
    unregisterMethods();
    unregisterDebug();
  };

  function connect(transport: Transport): ClientHandle {
    const connection = new Connection(transport, options.connection);
    const left = new AbortController();
    const session: Session = { connection, signal: left.signal };
    connection.onClose(() => {
      left.abort();
      streams.dropConnection(connection);
      debug.release(connection);
    });
    return { connection, receive: (text) => dispatchMessage(bus as EventBus<object>, session, text), inputEnded: () => debug.release(connection) };
  }

  return {
    bus,
    runs,
    connect,
    get running() {
      return runs.running;
    },
    cancelAll: (reason) => runs.cancelAll(reason),
    drain: () => runs.drain(),
    close() {
      unregister();
      streams.close();
    },
  };
}
