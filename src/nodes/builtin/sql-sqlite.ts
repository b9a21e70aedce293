import type BetterSqlite3 from "better-sqlite3";
import { AtomitonError, ErrorCode } from "../../errors.js";
import type { NodeContext } from "../define-node.js";
import { throwIfAborted } from "./abort.js";
import { inStatement } from "./sql-error-location.js";
import { sqliteParams, type SqlStatement } from "./sql-params.js";
import type { SqlMode, SqlStatementResult } from "./sql-result.js";

type Database = BetterSqlite3.Database;

/** SQLite result codes worth another attempt: the database was locked by another writer. */
const RETRYABLE = /^SQLITE_(BUSY|LOCKED)/;

export interface SqliteRequest {
  /** The file (absolute) or `:memory:`. */
  file: string;
  mode: SqlMode;
  statements: readonly SqlStatement[];
  /** How long to wait for a locked database, in ms. */
  busyTimeoutMs: number;
  where: string;
}

/** The run's handle on one SQLite database (one per file; `:memory:` is one database per run). */
function openDatabase(ctx: NodeContext<unknown>, file: string, busyTimeoutMs: number, where: string): Promise<Database> {
  return ctx.runResource(
    `sql:sqlite:${file}`,
    async () => {
      const { default: Sqlite } = await import("better-sqlite3");
      try {
        return new Sqlite(file, { timeout: busyTimeoutMs });
      } catch (error) {
        throw sqliteError(error, where, "cannot open the database");
      }
    },
    (db) => db.close(),
  );
}

/**
 * Run the statements on SQLite. better-sqlite3 is synchronous: each statement runs to its end in
 * this thread, so cancellation is checked before each one; a transaction is all or nothing.
 */
export async function runSqlite(ctx: NodeContext<unknown>, request: SqliteRequest): Promise<SqlStatementResult[]> {
  const db = await openDatabase(ctx, request.file, request.busyTimeoutMs, request.where);
  throwIfAborted(ctx.signal, request.where);
  try {
    if (request.mode === "transaction") {
      const count = request.statements.length;
      return db.transaction(() =>
        request.statements.map((s, index) => {
          try {
            return runOne(db, s, "auto");
          } catch (error) {
            throw inStatement(sqliteError(error, request.where), index, count);
          }
        }),
      )();
    }
    return request.statements.map((s) => runOne(db, s, request.mode));
  } catch (error) {
    if (error instanceof AtomitonError) throw error;
    throw sqliteError(error, request.where);
  }
}

function runOne(db: Database, statement: SqlStatement, mode: SqlMode | "auto"): SqlStatementResult {
  const params = sqliteParams(statement.params);
  const hasParams = Array.isArray(params) ? params.length > 0 : Object.keys(params).length > 0;
  let prepared: BetterSqlite3.Statement;
  try {
    prepared = db.prepare(statement.query);
  } catch (error) {
    // A script of several statements (a migration) runs as one, when it binds nothing.
    if (mode === "exec" && !hasParams && error instanceof RangeError && /more than one statement/.test(error.message)) return execScript(db, statement.query);
    throw error;
  }
  const args = hasParams ? [params] : [];
  // Integers come as BigInt, then a number when it is exact and a string past 2^53, as PostgreSQL's
  // bigint does: a 64-bit id must not come back rounded.
  prepared.safeIntegers(true);
  if (prepared.reader && mode !== "exec") {
    if (mode === "first" || mode === "value") return { rows: [prepared.get(...args) as Record<string, unknown> | undefined].filter((r) => r !== undefined).map(exactIntegers) };
    return { rows: (prepared.all(...args) as Record<string, unknown>[]).map(exactIntegers) };
  }
  const result = prepared.run(...args);
  return { changes: result.changes, lastInsertRowid: exactInteger(result.lastInsertRowid) };
}

function exactIntegers(row: Record<string, unknown>): Record<string, unknown> {
  for (const key in row) if (typeof row[key] === "bigint") row[key] = exactInteger(row[key]);
  return row;
}

function exactInteger(value: bigint | number): number | string {
  if (typeof value === "number") return value;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

function execScript(db: Database, script: string): SqlStatementResult {
  const before = db.prepare("SELECT total_changes() AS n").pluck().get() as number;
  db.exec(script);
  const after = db.prepare("SELECT total_changes() AS n").pluck().get() as number;
  return { changes: after - before, lastInsertRowid: null };
}

/** A SQLite failure as an E_SQL error with the SQLite result code; busy/locked are retryable. */
export function sqliteError(error: unknown, where: string, what = "failed"): AtomitonError {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const sqliteCode = typeof code === "string" ? code : undefined;
  if (sqliteCode && RETRYABLE.test(sqliteCode)) {
    return new AtomitonError(ErrorCode.SQL, `${where} ${what}: ${text} [${sqliteCode}]`, {
      cause: error,
      retryable: true,
      hint: "another connection holds a lock; raise `timeout` (the busy wait) or retry the node",
      details: { sqliteCode },
    });
  }
  const hint =
    sqliteCode === "SQLITE_CANTOPEN" || /directory does not exist/.test(text) ? "check that the directory of `connection` exists and is writable"
    : sqliteCode?.startsWith("SQLITE_CONSTRAINT") ? "the data breaks a constraint of the table (unique, not null, foreign key, check)"
    : /syntax error|no such (table|column)/.test(text) ? "check the SQL; values go in `params` (? or :name placeholders), never into the query text"
    : error instanceof RangeError ? "check `params` against the placeholders of the query (? takes a list, :name a map; $1 is PostgreSQL's, write ? on SQLite)"
    : undefined;
  return new AtomitonError(ErrorCode.SQL, `${where} ${what}: ${text}${sqliteCode ? ` [${sqliteCode}]` : ""}`, { retryable: false, cause: error, hint, details: sqliteCode ? { sqliteCode } : {} });
}
