import { AtomitonError, ErrorCode } from "../../errors.js";
import { stringifyJsonSafe } from "../../events/json-safe.js";

/** Bound values: a list for positional placeholders, a map for named ones. */
export type SqlParams = readonly unknown[] | Readonly<Record<string, unknown>>;

/** One statement of a run: the SQL text (never built from data) and its bound values. */
export interface SqlStatement {
  query: string;
  params: SqlParams;
}

/**
 * A value SQLite can bind: numbers, strings, bigints, bytes and null pass; booleans become 1/0,
 * dates ISO text, objects and arrays JSON text, undefined null.
 */
export function toSqliteValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" || typeof value === "string" || typeof value === "bigint" || Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (value instanceof Date) return value.toISOString();
  return stringifyJsonSafe(value, { binary: "base64" });
}

/** SQLite binds named values by their bare name (`:name`, `@name` and `$name` in the SQL). */
export function sqliteParams(params: SqlParams): unknown[] | Record<string, unknown> {
  if (Array.isArray(params)) return params.map(toSqliteValue);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) out[key.replace(/^[:@$]/, "")] = toSqliteValue(value);
  return out;
}

/** PostgreSQL takes undefined as null; pg serializes the rest (objects as JSON, arrays as arrays). */
function toPostgresValue(value: unknown): unknown {
  return value === undefined ? null : value;
}

/**
 * PostgreSQL has only positional `$1` placeholders: rewrite `:name` placeholders to `$n` (the
 * same name reuses its number) and return the values in that order. Strings, quoted names,
 * comments, dollar-quoted bodies and `::type` casts are left alone.
 */
export function postgresStatement(query: string, params: SqlParams, where: string): { text: string; values: unknown[] } {
  if (Array.isArray(params)) return { text: query, values: params.map(toPostgresValue) };
  const named = params as Readonly<Record<string, unknown>>;
  const numbers = new Map<string, number>();
  const values: unknown[] = [];
  let text = "";
  let i = 0;
  while (i < query.length) {
    const end = skipLiteral(query, i);
    if (end > i) {
      text += query.slice(i, end);
      i = end;
      continue;
    }
    const ch = query[i]!;
    if (ch === ":" && query[i + 1] === ":") {
      text += "::";
      i += 2;
      continue;
    }
    const m = ch === ":" ? /^[A-Za-z_][\w]*/.exec(query.slice(i + 1)) : null;
    if (m) {
      const name = m[0];
      let n = numbers.get(name);
      if (n === undefined) {
        const key = name in named ? name : `:${name}` in named ? `:${name}` : undefined;
        if (key === undefined) {
          throw new AtomitonError(ErrorCode.NODE_INPUT, `${where}: no value for the placeholder :${name}`, { retryable: false, hint: `add \`${name}\` to \`params\` (given: ${Object.keys(named).join(", ") || "none"})` });
        }
        values.push(toPostgresValue(named[key]));
        n = values.length;
        numbers.set(name, n);
      }
      text += `$${n}`;
      i += 1 + name.length;
      continue;
    }
    text += ch;
    i++;
  }
  return { text, values };
}

/** The end of a string, quoted name, comment or dollar-quoted body starting at `i`, or `i` when none does. */
function skipLiteral(sql: string, i: number): number {
  const ch = sql[i];
  if (ch === "'" || ch === '"') {
    // E'…' strings take backslash escapes.
    const escapes = ch === "'" && (sql[i - 1] === "E" || sql[i - 1] === "e");
    let j = i + 1;
    while (j < sql.length) {
      if (escapes && sql[j] === "\\") j += 2;
      else if (sql[j] === ch) {
        if (sql[j + 1] === ch) j += 2;
        else return j + 1;
      } else j++;
    }
    return sql.length;
  }
  if (ch === "-" && sql[i + 1] === "-") {
    const nl = sql.indexOf("\n", i);
    return nl === -1 ? sql.length : nl;
  }
  if (ch === "/" && sql[i + 1] === "*") {
    const close = sql.indexOf("*/", i + 2);
    return close === -1 ? sql.length : close + 2;
  }
  if (ch === "$") {
    const tag = /^\$(?:[A-Za-z_]\w*)?\$/.exec(sql.slice(i));
    if (tag) {
      const close = sql.indexOf(tag[0], i + tag[0].length);
      return close === -1 ? sql.length : close + tag[0].length;
    }
  }
  return i;
}
