export const SQL_MODES = ["rows", "first", "value", "exec", "transaction"] as const;
export type SqlMode = (typeof SQL_MODES)[number];

/**
 * What a statement that changes data reports. `lastInsertRowid` is SQLite's (a string past 2^53, as
 * integer columns are); null on PostgreSQL (use RETURNING).
 */
export interface SqlExecResult {
  changes: number;
  lastInsertRowid: number | string | null;
}

/** One statement's result: its rows when it returns rows, else what it changed. */
export type SqlStatementResult = { rows: Record<string, unknown>[] } | SqlExecResult;

/** The node's output for `mode`, from the results of its statements (one, or a transaction's). */
export function shapeOutput(mode: SqlMode, results: readonly SqlStatementResult[]): unknown {
  if (mode === "transaction") return results.map((r) => ("rows" in r ? r.rows : r));
  const result = results[0];
  if (result === undefined) return null;
  if (mode === "exec") return "rows" in result ? { changes: result.rows.length, lastInsertRowid: null } : result;
  if (!("rows" in result)) return mode === "rows" ? [] : null;
  if (mode === "rows") return result.rows;
  const first = result.rows[0];
  if (first === undefined) return null;
  if (mode === "first") return first;
  const values = Object.values(first);
  return values.length > 0 ? values[0] : null;
}
