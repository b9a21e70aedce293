import { z } from "zod";
import { defineNode } from "../define-node.js";
import { durationSchema as duration, parseDuration, setLongTimeout } from "../../js/duration.js";
import { AtomitonError, ErrorCode, TimeoutError } from "../../errors.js";
import { resolvePath } from "./file-utils.js";
import type { SqlStatement } from "./sql-params.js";
import { runPostgres } from "./sql-postgres.js";
import { runSqlite } from "./sql-sqlite.js";
import { SQL_MODES, shapeOutput } from "./sql-result.js";

const params = z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]);
const PARAMS_HINT = "bind values instead: a placeholder in the SQL (? or $1, or :name) and the value in `params`, e.g. `params: [\"{{ $input.id }}\"]`";

/** Connection URL schemes the node reads (anything else is refused before the run). */
const KNOWN_SCHEMES: ReadonlySet<string> = new Set(["postgres", "postgresql", "sqlite", "file"]);

const parameters = z
  .object({
    driver: z
      .enum(["sqlite", "postgres"])
      .optional()
      .describe("sqlite (embedded: a file or :memory:) or postgres. Default: postgres when `connection` starts with postgres:// or postgresql://, else sqlite"),
    connection: z
      .string()
      .min(1)
      .describe(
        "SQLite: a file path (relative to the working directory; created when missing) or :memory: (one database per run, shared by its sql nodes). PostgreSQL: a URL postgres://user:password@host:5432/database, normally from a secret: \"{{ $env.DATABASE_URL }}\" with DATABASE_URL under `secrets:`. One connection pool per run and connection, closed when the run ends",
      ),
    query: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The SQL, with placeholders for values: ? (SQLite) or $1, $2 (PostgreSQL) for a `params` list, :name for a `params` map. Never a {{ }} template (E_PARAM at validate), so data cannot become SQL. In exec mode without params it may hold several statements (a schema, a migration)",
      ),
    params: params
      .default([])
      .describe(
        "Values bound to the placeholders, never spliced into the SQL: a list for ?/$1, a map for :name. Templates belong here (`[\"{{ $input.id }}\"]`). SQLite: booleans as 1/0, objects and arrays as JSON text (read them with json_each); PostgreSQL: objects as json, arrays as arrays",
      ),
    mode: z
      .enum(SQL_MODES)
      .default("rows")
      .describe(
        "rows: every row as an object · first: the first row, or null · value: the first column of the first row, or null · exec: { changes, lastInsertRowid } (lastInsertRowid on SQLite; use RETURNING on PostgreSQL) · transaction: run `statements` atomically",
      ),
    statements: z
      .array(
        z.object({
          query: z.string().min(1).describe("The SQL of this statement (placeholders, no templates)"),
          params: params.default([]).describe("Values for this statement's placeholders"),
        }),
      )
      .min(1)
      .optional()
      .describe(
        "mode: transaction: [{ query, params }], run in order in one transaction: committed together, rolled back on an error or cancellation. Output: per statement its rows, or { changes, lastInsertRowid }",
      ),
    timeout: duration
      .optional()
      .describe(
        "PostgreSQL: cancel the query (or the transaction) on the server after this long, ms or 30s (E_TIMEOUT, retryable). SQLite: how long to wait for a database another writer has locked (default 5s); a running SQLite statement is ended by the node's own `timeout` and by cancel",
      ),
  })
  .superRefine((value, issue) => {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value.connection)?.[1]?.toLowerCase();
    if (scheme !== undefined && !KNOWN_SCHEMES.has(scheme)) {
      issue.addIssue({ code: "custom", path: ["connection"], message: `unsupported connection scheme ${scheme}://: use a SQLite file path, :memory:, or a postgres:// URL` });
    }
    if (value.mode === "transaction") {
      if (!value.statements) issue.addIssue({ code: "custom", path: ["statements"], message: "mode: transaction needs `statements: [{ query, params }]`" });
      if (value.query !== undefined) issue.addIssue({ code: "custom", path: ["query"], message: "mode: transaction runs `statements`; move `query` into them" });
    } else {
      if (value.query === undefined) issue.addIssue({ code: "custom", path: ["query"], message: "set `query` (or `mode: transaction` with `statements`)" });
      if (value.statements !== undefined) issue.addIssue({ code: "custom", path: ["statements"], message: "`statements` need `mode: transaction`" });
    }
  });

type Driver = "sqlite" | "postgres";

function driverOf(connection: string, declared: Driver | undefined): Driver {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(connection)?.[1]?.toLowerCase();
  const inferred = scheme === "postgres" || scheme === "postgresql" ? "postgres" : scheme === undefined || scheme === "sqlite" || scheme === "file" ? "sqlite" : undefined;
  if (inferred === undefined) {
    throw new AtomitonError(ErrorCode.NODE_INPUT, `sql: unsupported connection scheme ${scheme}://`, { retryable: false, hint: "use a SQLite file path, :memory:, or a postgres:// URL" });
  }
  if (declared && declared !== inferred && scheme !== undefined) {
    throw new AtomitonError(ErrorCode.NODE_INPUT, `sql: driver ${declared} does not match a ${scheme}:// connection`, { retryable: false, hint: "remove `driver`, or fix `connection`" });
  }
  return declared ?? inferred;
}

/** Where a connection points, for messages: never its user or password. */
export function describeConnection(driver: Driver, connection: string): string {
  if (driver === "sqlite") return `sql (sqlite ${connection})`;
  try {
    const url = new URL(connection);
    return `sql (postgres ${url.host || "localhost"}${url.pathname === "/" ? "" : url.pathname})`;
  } catch {
    return "sql (postgres)";
  }
}

function sqliteFile(connection: string, workdir: string): string {
  const bare = connection.replace(/^(?:sqlite|file):(?:\/\/)?/i, "");
  return bare === ":memory:" ? bare : resolvePath(workdir, bare);
}

/**
 * Query SQLite (embedded) or PostgreSQL with bound parameters. Pools live for the run; an abort
 * cancels a running PostgreSQL query on the server.
 */
export default defineNode({
  type: "sql",
  title: "SQL",
  description: "Query SQLite (a file or :memory:, embedded) or PostgreSQL (a URL) with bound params: rows, the first row, one value, exec, or a transaction of several statements. Cancellable.",
  category: "data",
  parameters,
  inputs: [{ id: "input", description: "Available to templates in `params` as $input (e.g. `params: [\"{{ $input.id }}\"]`)" }],
  outputs: [
    { id: "output", description: "By mode: rows (a list of objects), first (an object or null), value, exec ({ changes, lastInsertRowid }), transaction (a list, one entry per statement)" },
    { id: "error", description: "The failure, when onError: route" },
  ],
  literalParameters: { query: PARAMS_HINT, "statements.*.query": PARAMS_HINT },
  example: `- id: report
  type: sql
  parameters:
    connection: data/shop.db
    query: SELECT region, sum(amount) AS total FROM orders WHERE status = :status GROUP BY region
    params: { status: paid }
- id: archive
  type: sql
  parameters:
    connection: "{{ $env.DATABASE_URL }}"   # list DATABASE_URL under secrets:
    mode: transaction
    statements:
      - { query: "INSERT INTO archive SELECT * FROM orders WHERE id = $1", params: ["{{ $input.id }}"] }
      - { query: "DELETE FROM orders WHERE id = $1", params: ["{{ $input.id }}"] }
    timeout: 30s`,
  async execute(ctx): Promise<unknown> {
    const p = ctx.parameters;
    const driver = driverOf(p.connection, p.driver);
    const where = describeConnection(driver, p.connection);
    const statements: SqlStatement[] = p.mode === "transaction" ? (p.statements ?? []) : [{ query: p.query ?? "", params: p.params }];
    const timeoutMs = p.timeout === undefined ? undefined : parseDuration(p.timeout);
    ctx.log("debug", `${where}: ${statements.map((s) => s.query.replace(/\s+/g, " ").trim()).join("; ")}`);

    if (driver === "sqlite") {
      const file = sqliteFile(p.connection, ctx.workdir);
      return shapeOutput(p.mode, await runSqlite(ctx, { file, mode: p.mode, statements, busyTimeoutMs: timeoutMs ?? 5000, where: describeConnection("sqlite", file) }));
    }
    const timeout = new AbortController();
    const timer = timeoutMs === undefined ? undefined : setLongTimeout(() => timeout.abort(new TimeoutError(`${where} timed out after ${timeoutMs}ms`, { retryable: true, details: { timeoutMs } })), timeoutMs);
    try {
      const signal = timer ? AbortSignal.any([ctx.signal, timeout.signal]) : ctx.signal;
      return shapeOutput(p.mode, await runPostgres(ctx, { connection: p.connection, mode: p.mode, statements, signal, where }));
    } finally {
      timer?.clear();
    }
  },
});
