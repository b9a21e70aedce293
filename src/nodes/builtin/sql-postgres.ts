import type pg from "pg";
import { AtomitonError, ErrorCode } from "../../errors.js";
import type { NodeContext } from "../define-node.js";
import { abortError, throwIfAborted } from "./abort.js";
import { inStatement, lineColumnAt } from "./sql-error-location.js";
import { postgresStatement, type SqlStatement } from "./sql-params.js";
import type { SqlMode, SqlStatementResult } from "./sql-result.js";

export interface PostgresRequest {
  /** The connection URL (a secret: never put into messages). */
  connection: string;
  mode: SqlMode;
  statements: readonly SqlStatement[];
  /** Aborted by the node's signal and by the `timeout` parameter. */
  signal: AbortSignal;
  where: string;
}

/** How long a cancelled query may take to end before its connection is destroyed instead. */
const CANCEL_GRACE_MS = 5000;

/** SQLSTATEs another attempt can fix: serialization failure, deadlock, lock not available, shutdown, cannot connect now. */
const RETRYABLE_STATES = new Set(["40001", "40P01", "55P03", "57P01", "57P02", "57P03"]);

/** The run's pool for one connection string, ended when the run ends. */
function poolFor(ctx: NodeContext<unknown>, connection: string): Promise<pg.Pool> {
  return ctx.runResource(
    `sql:postgres:${connection}`,
    async () => {
      const { default: postgres } = await import("pg");
      const pool = new postgres.Pool({ connectionString: connection, application_name: "atomiton", connectionTimeoutMillis: 10_000, types: { getTypeParser: typeParser(postgres.types) } });
      // An idle connection lost its server: the next query opens a new one. Without a listener it would crash the process.
      pool.on("error", () => undefined);
      return pool;
    },
    (pool) => pool.end(),
  );
}

/** Type OIDs of PostgreSQL's `date`, `timestamp` (without time zone) and `timestamptz`, and of their arrays. */
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const DATE_ARRAY = 1182;
const TIMESTAMP_ARRAY = 1115;
const TEXT_ARRAY = 1009;

/**
 * pg's parsers, except for values without a time zone: pg makes a `date` (`2024-01-15`) and a
 * `timestamp` a JavaScript Date at local midnight of this machine, so east of UTC a date came out
 * as the day before (`2024-01-14T15:00:00.000Z` in Tokyo) and a timestamp moved by the offset. They
 * stay the server's text (`2024-01-15`, `2024-01-15 10:00:00`), as psql shows them; a `timestamptz`
 * is an instant and stays a Date. `infinity` stays text (a Date of it was null).
 */
function typeParser(types: typeof pg.types): typeof pg.types.getTypeParser {
  const parserOf = (oid: number, format: "text" | "binary"): ((value: string) => unknown) => types.getTypeParser(oid as Parameters<typeof types.getTypeParser>[0], format) as (value: string) => unknown;
  return (oid: number, format: "text" | "binary" = "text") => {
    if (format !== "text") return parserOf(oid, format);
    if (oid === DATE || oid === TIMESTAMP) return (value: string) => value;
    if (oid === DATE_ARRAY || oid === TIMESTAMP_ARRAY) return parserOf(TEXT_ARRAY, "text");
    if (oid === TIMESTAMPTZ) {
      const parse = parserOf(oid, "text");
      return (value: string) => (value === "infinity" || value === "-infinity" ? value : parse(value));
    }
    return parserOf(oid, format);
  };
}

/** Run the statements on a pooled connection; a transaction commits together or rolls back. */
export async function runPostgres(ctx: NodeContext<unknown>, request: PostgresRequest): Promise<SqlStatementResult[]> {
  const { signal, where } = request;
  const pool = await poolFor(ctx, request.connection);
  throwIfAborted(signal, where);
  const client = await connect(pool, signal, where);
  const session = new Session(client, request.connection, signal, where);
  try {
    if (request.mode !== "transaction") {
      const [statement] = request.statements;
      return statement ? [await session.run(statement, request.mode === "exec")] : [];
    }
    await session.query("BEGIN", []);
    const results: SqlStatementResult[] = [];
    try {
      for (const [index, statement] of request.statements.entries()) {
        results.push(await session.run(statement, false).catch((error: unknown) => Promise.reject(inStatement(error, index, request.statements.length))));
      }
      await session.query("COMMIT", []);
    } catch (error) {
      await session.rollback();
      throw error;
    }
    return results;
  } finally {
    client.release(session.broken || undefined);
  }
}

async function connect(pool: pg.Pool, signal: AbortSignal, where: string): Promise<pg.PoolClient> {
  const connecting = pool.connect();
  if (!signal.aborted) {
    const aborted = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(abortError(signal, where)), { once: true }));
    aborted.catch(() => undefined);
    try {
      return await Promise.race([connecting, aborted]);
    } catch (error) {
      if (!signal.aborted) throw postgresError(error, where);
    }
  }
  // Aborted while connecting: hand the connection back once it arrives.
  connecting.then((client) => client.release(), () => undefined);
  throw abortError(signal, where);
}

/** One checked-out connection: runs queries so that an abort cancels the running one on the server. */
class Session {
  /** The connection is in an unknown state (a cancel that did not land): destroy it, never reuse it. */
  broken = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly connection: string,
    private readonly signal: AbortSignal,
    private readonly where: string,
  ) {}

  async run(statement: SqlStatement, script: boolean): Promise<SqlStatementResult> {
    const { text, values } = postgresStatement(statement.query, statement.params, this.where);
    // Without values a migration of several statements may run as one script (the simple protocol).
    const result = await this.query(text, script && values.length === 0 ? undefined : values);
    const results = Array.isArray(result) ? (result as pg.QueryResult[]) : [result];
    const last = results.at(-1)!;
    if (!script && last.fields.length > 0) return { rows: last.rows as Record<string, unknown>[] };
    return { changes: results.reduce((n, r) => n + (r.rowCount ?? 0), 0), lastInsertRowid: null };
  }

  async query(text: string, values: unknown[] | undefined): Promise<pg.QueryResult> {
    throwIfAborted(this.signal, this.where);
    const running = values === undefined ? this.client.query(text) : this.client.query(text, values);
    running.catch(() => undefined);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<"aborted">((resolve) => {
      onAbort = () => resolve("aborted");
      this.signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const first = await Promise.race([running, aborted]);
      if (first !== "aborted") return first;
    } catch (error) {
      if (!this.signal.aborted) throw postgresError(error, this.where, text);
    } finally {
      this.signal.removeEventListener("abort", onAbort!);
    }
    await this.cancel(running);
    throw abortError(this.signal, this.where);
  }

  /** Cancel the running query on the server (pg_cancel_backend) and wait for it to end. */
  private async cancel(running: Promise<unknown>): Promise<void> {
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (typeof pid === "number") {
      const { default: postgres } = await import("pg");
      const canceller = new postgres.Client({ connectionString: this.connection, application_name: "atomiton-cancel", connectionTimeoutMillis: CANCEL_GRACE_MS });
      canceller.on("error", () => undefined);
      try {
        await canceller.connect();
        await canceller.query("SELECT pg_cancel_backend($1)", [pid]);
      } catch {
        this.broken = true;
      } finally {
        await canceller.end().catch(() => undefined);
      }
    } else this.broken = true;
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      running.then(() => true, () => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CANCEL_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (!ended) this.broken = true;
  }

  async rollback(): Promise<void> {
    if (this.broken) return; // the server rolls back when the connection closes
    try {
      await this.client.query("ROLLBACK");
    } catch {
      this.broken = true;
    }
  }
}

const NETWORK_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);

/**
 * A pg failure as an atomiton error: server errors (E_SQL) carry their SQLSTATE and are retryable
 * only when another attempt can succeed (serialization failure, deadlock, too many connections…);
 * connection failures are E_NETWORK and retryable.
 */
export function postgresError(error: unknown, where: string, sql?: string): AtomitonError {
  if (error instanceof AtomitonError) return error;
  const e = (error ?? {}) as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown; position?: unknown; constraint?: unknown; table?: unknown; column?: unknown; errors?: unknown };
  const code = typeof e.code === "string" ? e.code : undefined;
  const inner = Array.isArray(e.errors) ? (e.errors as { message?: unknown }[]).map((x) => String(x.message)).join("; ") : "";
  const text = (typeof e.message === "string" && e.message) || inner || code || String(error);
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const retryable = RETRYABLE_STATES.has(code) || code.startsWith("08") || code.startsWith("53");
    const details: Record<string, unknown> = { sqlstate: code };
    for (const key of ["constraint", "table", "column", "position"] as const) if (typeof e[key] === "string") details[key] = e[key];
    const detail = typeof e.detail === "string" ? `\n${e.detail}` : "";
    // Where in the SQL (a syntax error, an unknown column): PostgreSQL gives a character position.
    let at = "";
    if (sql !== undefined && typeof e.position === "string" && Number(e.position) > 0) {
      const { line, column } = lineColumnAt(sql, Number(e.position));
      details.line = line;
      details.column = column;
      at = ` at line ${line}, column ${column} of the query`;
    }
    return new AtomitonError(ErrorCode.SQL, `${where} failed: ${text} [SQLSTATE ${code}]${at}${detail}`, {
      cause: error,
      retryable,
      hint: typeof e.hint === "string" ? e.hint : hintFor(code, retryable),
      details,
    });
  }
  if ((code && NETWORK_ERRNOS.has(code)) || /timeout exceeded when trying to connect|Connection terminated/i.test(text)) {
    return new AtomitonError(ErrorCode.NETWORK, `${where}: cannot reach the server: ${text}`, {
      cause: error,
      retryable: true,
      hint: code === "ECONNREFUSED" ? "nothing is listening there; is PostgreSQL running, on that host and port?" : "check the host and port of `connection`, and the network",
      details: code ? { errno: code } : {},
    });
  }
  return new AtomitonError(ErrorCode.SQL, `${where} failed: ${text}`, { cause: error, retryable: false, hint: "check `connection` (postgres://user:password@host:5432/database)" });
}

function hintFor(sqlstate: string, retryable: boolean): string | undefined {
  if (retryable) return "a transient condition; a node-level `retry` runs it again";
  if (sqlstate.startsWith("23")) return "the data breaks a constraint of the table (unique, not null, foreign key, check)";
  if (sqlstate.startsWith("42")) return "check the SQL; values go in `params` ($1 or :name placeholders), never into the query text";
  if (sqlstate.startsWith("28")) return "check the user and password of `connection`";
  if (sqlstate === "3D000") return "the database does not exist; check the database name in `connection`";
  if (sqlstate === "57014") return "the query was cancelled (statement_timeout or pg_cancel_backend)";
  return undefined;
}
