// Entry of the child process that holds one SQLite database of a run (built to dist/sqlite-host.js).
// better-sqlite3 runs a statement to its end in the calling thread, and a statement that never ends
// (`WITH RECURSIVE` without a limit) cannot be stopped from JavaScript, not even by terminating a
// worker thread (it waits for the native call to return). Here it blocks only this process, which
// the node kills (SIGKILL) on its timeout, a cancel or Ctrl-C; the run goes on.
import type BetterSqlite3 from "better-sqlite3";
import { toNodeError, type SerializedError } from "../../errors.js";
import { openSqlite, runStatements, type SqliteWork } from "./sqlite-statements.js";
import type { SqlStatementResult } from "./sql-result.js";

/** What the parent asks, in order: open once, then run any number of times. */
export type SqliteHostRequest = { id: number; type: "open"; file: string; busyTimeoutMs: number; where: string } | ({ id: number; type: "run" } & SqliteWork);

/** The answer to request `id`. */
export type SqliteHostReply = { id: number; ok: true; results: SqlStatementResult[] } | { id: number; ok: false; error: SerializedError };

process.on("disconnect", () => {
  db?.close();
  process.exit(0);
});
// Ctrl-C in a terminal, a hang-up or a group SIGTERM reach this process too: the parent decides
// (it cancels the node and kills this process), so the node ends as cancelled, not as a crash.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => undefined);

let db: BetterSqlite3.Database | undefined;
// Requests are handled one at a time, in order: an open finishes before the first run.
let queue: Promise<void> = Promise.resolve();

process.on("message", (request: SqliteHostRequest) => {
  queue = queue.then(async () => {
    let reply: SqliteHostReply;
    try {
      if (request.type === "open") {
        db = await openSqlite(request.file, request.busyTimeoutMs, request.where);
        reply = { id: request.id, ok: true, results: [] };
      } else {
        if (!db) throw new Error("the database is not open");
        reply = { id: request.id, ok: true, results: runStatements(db, request) };
      }
    } catch (error) {
      const serialized = toNodeError(error);
      delete serialized.stack;
      reply = { id: request.id, ok: false, error: serialized };
    }
    process.send?.(reply);
  });
});
