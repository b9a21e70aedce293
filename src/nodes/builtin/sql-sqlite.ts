import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AtomitonError, ErrorCode, type SerializedError } from "../../errors.js";
import type { NodeContext } from "../define-node.js";
import { abortError, throwIfAborted } from "./abort.js";
import { registerChild, unregisterChild } from "./process-registry.js";
import { sqliteParams, type SqlStatement } from "./sql-params.js";
import type { SqlMode, SqlStatementResult } from "./sql-result.js";
import type { SqliteHostReply, SqliteHostRequest } from "./sqlite-host.js";

export interface SqliteRequest {
  /** The file (absolute) or `:memory:`. */
  file: string;
  mode: SqlMode;
  statements: readonly SqlStatement[];
  /** How long to wait for a locked database, in ms. */
  busyTimeoutMs: number;
  where: string;
}

/** dist/sqlite-host.js next to the bundle; from the sources (tests) the built copy in dist/. */
function hostPath(): string {
  const here = import.meta.url;
  return fileURLToPath(/\.[cm]?ts$/.test(here) ? new URL("../../../dist/sqlite-host.js", here) : new URL("./sqlite-host.js", here));
}

type Distributed<T> = T extends unknown ? Omit<T, "id"> : never;

/** The run's handle on one SQLite database: a child process holding it, started again after a kill. */
interface SqliteHost {
  run(request: Omit<SqliteRequest, "file">, signal: AbortSignal): Promise<SqlStatementResult[]>;
  /** Resolves when the process has ended (the database file is closed). */
  close(): Promise<void>;
}

/** One host process and the requests it has not answered yet. */
interface HostProcess {
  child: ChildProcess;
  pending: Map<number, { resolve: (r: SqlStatementResult[]) => void; reject: (e: unknown) => void }>;
  opened: Promise<unknown>;
}

function createSqliteHost(file: string, busyTimeoutMs: number, where: string): SqliteHost {
  let current: HostProcess | undefined;
  let nextId = 1;
  // A :memory: database lives in its process: once that ended mid-run, its data is gone for the run.
  let lost = false;
  const hostError = (what: string) => new AtomitonError(ErrorCode.SQL, `${where}: ${what}`, { retryable: false });

  const failAll = (proc: HostProcess, error: AtomitonError) => {
    for (const waiting of proc.pending.values()) waiting.reject(error);
    proc.pending.clear();
  };
  const send = (proc: HostProcess, request: Distributed<SqliteHostRequest>): Promise<SqlStatementResult[]> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      proc.pending.set(id, { resolve, reject });
      busy(proc.child);
      try {
        proc.child.send({ ...request, id } as SqliteHostRequest);
      } catch (error) {
        proc.pending.delete(id);
        reject(hostError(`cannot reach the SQLite process: ${(error as Error).message}`));
      }
    });
  /** Stop a process for good: later requests go to a new one. */
  const retire = (proc: HostProcess) => {
    if (current === proc) current = undefined;
  };
  const start = (): HostProcess => {
    // No execArgv: the parent's flags (a profiler, a loader) are not the host's. Detached, as the
    // leader of its own process group, so the reaper can end it if the CLI dies by `kill -9` while
    // a statement runs (a busy host would not see its parent go).
    const child = fork(hostPath(), [], { execArgv: [], serialization: "advanced", stdio: ["ignore", "ignore", "inherit", "ipc"], detached: true });
    const pid = child.pid;
    if (pid !== undefined) registerChild(pid);
    const proc: HostProcess = { child, pending: new Map(), opened: Promise.resolve() };
    child.on("message", (reply: SqliteHostReply) => {
      const waiting = proc.pending.get(reply.id);
      proc.pending.delete(reply.id);
      if (proc.pending.size === 0) idle(child);
      if (reply.ok) waiting?.resolve(reply.results.map(withBuffers));
      else waiting?.reject(rebuild(reply.error));
    });
    child.once("exit", (code, signal) => {
      if (pid !== undefined) unregisterChild(pid);
      if (current === proc) lost = true; // it ended by itself (out of memory…), not by close or a kill
      retire(proc);
      failAll(proc, hostError(`the SQLite process ended (${signal ?? `exit code ${code}`})`));
    });
    child.once("error", (error) => {
      retire(proc);
      failAll(proc, hostError(`cannot start the SQLite process: ${error.message}`));
    });
    idle(child);
    proc.opened = send(proc, { type: "open", file, busyTimeoutMs, where }).catch((error: unknown) => {
      // The next node tries to open it again (its directory may exist by then).
      retire(proc);
      child.kill("SIGKILL");
      throw error;
    });
    return proc;
  };

  return {
    async run(request, signal) {
      if (lost && file === ":memory:") {
        throw new AtomitonError(ErrorCode.SQL, `${where}: the in-memory database was discarded when a statement on it was stopped (a timeout or a cancel)`, {
          retryable: false,
          hint: "use a database file to keep data past a stopped statement",
        });
      }
      const proc = (current ??= start());
      await proc.opened;
      throwIfAborted(signal, where);
      const onAbort = () => {
        // The statement may never return: end the process that runs it (SQLite rolls back what it left).
        retire(proc);
        lost = true;
        proc.child.kill("SIGKILL");
      };
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        return await send(proc, { type: "run", mode: request.mode, statements: request.statements.map((s) => ({ query: s.query, params: sqliteParams(s.params) })), busyTimeoutMs: request.busyTimeoutMs, where: request.where });
      } catch (error) {
        if (signal.aborted) throw abortError(signal, where);
        throw error;
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
    close() {
      const proc = current;
      if (!proc) return Promise.resolve();
      retire(proc);
      const { child } = proc;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (proc.pending.size > 0 || !child.connected) child.kill("SIGKILL");
      else child.disconnect();
      busy(child); // until it has exited
      return exited;
    },
  };
}

/** The child keeps the CLI alive only while it works for a node. */
function busy(c: ChildProcess): void {
  c.ref();
  c.channel?.ref();
}
function idle(c: ChildProcess): void {
  c.unref();
  c.channel?.unref();
}

function rebuild(error: SerializedError): AtomitonError {
  return new AtomitonError(error.code, error.message, { retryable: error.retryable, ...(error.hint === undefined ? {} : { hint: error.hint }), ...(error.details === undefined ? {} : { details: error.details }) });
}

/** Blobs cross the process boundary as Uint8Array; a node gets Buffers, as from better-sqlite3 itself. */
function withBuffers(result: SqlStatementResult): SqlStatementResult {
  if (!("rows" in result)) return result;
  for (const row of result.rows) for (const key in row) if (row[key] instanceof Uint8Array && !Buffer.isBuffer(row[key])) row[key] = Buffer.from(row[key].buffer, row[key].byteOffset, row[key].byteLength);
  return result;
}

/**
 * Run the statements on SQLite in the run's host process for the database (one per file; `:memory:`
 * is one database per run). Cancel and the node's timeout kill that process, so a statement that
 * never ends stops the node, not the run; a transaction is all or nothing.
 */
export async function runSqlite(ctx: NodeContext<unknown>, request: SqliteRequest): Promise<SqlStatementResult[]> {
  const host = await ctx.runResource(`sql:sqlite:${request.file}`, () => createSqliteHost(request.file, request.busyTimeoutMs, request.where), (h) => h.close());
  throwIfAborted(ctx.signal, request.where);
  return host.run(request, ctx.signal);
}
