// What runs in the SQLite host process (sqlite-host.ts): open a database, run a node's statements.
// better-sqlite3 is synchronous, so this runs in a process of its own that the node kills when it
// is cancelled or times out; a statement that never returns cannot be interrupted any other way.
import type BetterSqlite3 from "better-sqlite3";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { inStatement } from "./sql-error-location.js";
import type { SqlParams, SqlStatement } from "./sql-params.js";
import type { SqlMode, SqlStatementResult } from "./sql-result.js";

type Database = BetterSqlite3.Database;

/** SQLite result codes worth another attempt: the database was locked by another writer. */
const RETRYABLE = /^SQLITE_(BUSY|LOCKED)/;

/** One node's work on an open database. */
export interface SqliteWork {
  mode: SqlMode;
  /** Their params already bound by `sqliteParams`. */
  statements: readonly SqlStatement[];
  /** How long this node waits for a database another connection has locked, in ms. */
  busyTimeoutMs: number;
  where: string;
}

/** SQLite's busy timeout is a 32-bit count of milliseconds (better-sqlite3 refuses more). */
const MAX_BUSY_TIMEOUT_MS = 2 ** 31 - 1;

export async function openSqlite(file: string, busyTimeoutMs: number, where: string): Promise<Database> {
  const { default: Sqlite } = await import("better-sqlite3");
  try {
    return new Sqlite(file, { timeout: Math.min(busyTimeoutMs, MAX_BUSY_TIMEOUT_MS) });
  } catch (error) {
    throw sqliteError(error, where, "cannot open the database");
  }
}

/** Run the statements; a transaction is all or nothing. Failures are E_SQL errors. */
export function runStatements(db: Database, work: SqliteWork): SqlStatementResult[] {
  try {
    // The database stays open for the run: each node waits its own `timeout`, not the first one's.
    db.pragma(`busy_timeout = ${Math.min(Math.trunc(work.busyTimeoutMs), MAX_BUSY_TIMEOUT_MS)}`);
    if (work.mode === "transaction") {
      const count = work.statements.length;
      return db.transaction(() =>
        work.statements.map((s, index) => {
          try {
            return runOne(db, s, "auto");
          } catch (error) {
            throw inStatement(sqliteError(error, work.where), index, count);
          }
        }),
      )();
    }
    return work.statements.map((s) => runOne(db, s, work.mode));
  } catch (error) {
    if (error instanceof AtomitonError) throw error;
    throw sqliteError(error, work.where);
  }
}

const toBuffer = (value: unknown): unknown => (value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value);

function asBuffers(params: SqlParams): unknown[] | Record<string, unknown> {
  if (Array.isArray(params)) return params.map(toBuffer);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) out[key] = toBuffer(value);
  return out;
}

function runOne(db: Database, statement: SqlStatement, mode: SqlMode | "auto"): SqlStatementResult {
  // The parent bound the values already (sqliteParams); bytes crossed the process boundary as Uint8Array.
  const params = asBuffers(statement.params);
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
