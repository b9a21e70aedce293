import { describe, expect, test } from "vitest";
import { postgresStatement, sqliteParams } from "../../../src/nodes/builtin/sql-params.js";

describe("named placeholders for PostgreSQL", () => {
  test.each([
    ["SELECT * FROM t WHERE a = :a AND b = :b OR a > :a", { a: 1, b: "x" }, "SELECT * FROM t WHERE a = $1 AND b = $2 OR a > $1", [1, "x"]],
    ["SELECT :a::int, ':a', \"col:a\", E'it\\'s :a' -- :a\n/* :a */ , $$ :a $$, $tag$ :a $tag$", { a: 5 }, "SELECT $1::int, ':a', \"col:a\", E'it\\'s :a' -- :a\n/* :a */ , $$ :a $$, $tag$ :a $tag$", [5]],
    ["SELECT $1, $2", ["p", null], "SELECT $1, $2", ["p", null]],
  ])("%s", (query, params, text, values) => {
    expect(postgresStatement(query, params, "sql")).toEqual({ text, values });
  });

  test("a placeholder without a value is a located, non-retryable error", () => {
    expect(() => postgresStatement("SELECT :missing", { other: 1 }, "sql (postgres db)")).toThrow(expect.objectContaining({ code: "E_NODE_INPUT", retryable: false, message: "sql (postgres db): no value for the placeholder :missing" }));
  });
});

test("SQLite values: booleans, dates, objects and undefined become what SQLite stores; named keys lose their prefix", () => {
  const when = new Date("2024-01-02T03:04:05.000Z");
  expect(sqliteParams([true, false, when, { a: 1 }, [1], undefined, 2n])).toEqual([1, 0, "2024-01-02T03:04:05.000Z", '{"a":1}', "[1]", null, 2n]);
  expect(sqliteParams({ ":a": 1, "@b": 2, $c: 3, d: 4 })).toEqual({ a: 1, b: 2, c: 3, d: 4 });
});
