import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import sql from "../../../src/nodes/builtin/sql.js";
import { createTempDir, exampleParameters, rejectionOf, removeTempDir, startNode } from "../../helpers/node-context.js";
import { runYaml } from "../conductor/harness.js";

// A real SQLite database file in a temp dir; each test's node calls share one "run" (its resources).
let dir: string;
let file: string;
let resources: Map<string, { value: Promise<unknown>; dispose: (value: unknown) => unknown }>;
beforeEach(async () => {
  dir = await createTempDir("atomiton-sql-");
  file = path.join(dir, "shop.db");
  resources = new Map();
});
afterEach(async () => {
  for (const { value, dispose } of resources.values()) await dispose(await value);
  await removeTempDir(dir);
});

/** This process and its children (the SQLite host processes) (Linux). */
function selfAndChildren(): string[] {
  const children = readdirSync("/proc").filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      // The ppid is the 2nd field after the ")" that ends the command name.
      return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1] === String(process.pid);
    } catch {
      return false;
    }
  });
  return ["self", ...children];
}

/** File descriptors open on `target` in this process and its children (Linux). */
function openHandles(target: string): number {
  return selfAndChildren().reduce((n, pid) => {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return n;
    }
    return (
      n +
      fds.filter((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === target;
        } catch {
          return false;
        }
      }).length
    );
  }, 0);
}

function exec(raw: Record<string, unknown>) {
  const started = startNode(sql, { connection: "shop.db", ...raw }, { workdir: dir, resources });
  return started.result;
}

const SCHEMA = `
  CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, vip INTEGER, tags TEXT);
  CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id), amount REAL);
`;

describe("sql on SQLite (a real file)", () => {
  test("exec runs a schema script; rows, first, value and exec return by mode", async () => {
    expect(await exec({ mode: "exec", query: SCHEMA })).toEqual({ changes: 0, lastInsertRowid: null });
    expect(await exec({ mode: "exec", query: "INSERT INTO customers (name, vip, tags) VALUES (?, ?, ?)", params: ["Acme", true, ["a", "b"]] })).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(await exec({ mode: "exec", query: "INSERT INTO customers (name, vip) VALUES (:name, :vip)", params: { name: "Globex", vip: false } })).toEqual({ changes: 1, lastInsertRowid: 2 });

    expect(await exec({ query: "SELECT id, name, vip, tags FROM customers ORDER BY id" })).toEqual([
      { id: 1, name: "Acme", vip: 1, tags: '["a","b"]' },
      { id: 2, name: "Globex", vip: 0, tags: null },
    ]);
    expect(await exec({ mode: "first", query: "SELECT name FROM customers WHERE id = ?", params: [2] })).toEqual({ name: "Globex" });
    expect(await exec({ mode: "first", query: "SELECT name FROM customers WHERE id = ?", params: [99] })).toBeNull();
    expect(await exec({ mode: "value", query: "SELECT count(*) FROM customers" })).toBe(2);
    expect(await exec({ mode: "value", query: "SELECT value FROM json_each(?) WHERE key = 1", params: [["x", "y"]] })).toBe("y");

    // The file is a real database another program can read.
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT name FROM customers ORDER BY id").pluck().all()).toEqual(["Acme", "Globex"]);
    db.close();
  });

  test("64-bit integers past 2^53 come back exact, as strings (as PostgreSQL's bigint); smaller ones as numbers", async () => {
    expect(await exec({ mode: "first", query: "SELECT 9007199254740993 AS big, -9223372036854775808 AS least, 42 AS small, 1.5 AS real" })).toEqual({ big: "9007199254740993", least: "-9223372036854775808", small: 42, real: 1.5 });
    await exec({ mode: "exec", query: "CREATE TABLE ids (id INTEGER PRIMARY KEY, v TEXT)" });
    expect(await exec({ mode: "exec", query: "INSERT INTO ids (id, v) VALUES (9007199254740993, 'x')" })).toEqual({ changes: 1, lastInsertRowid: "9007199254740993" });
    expect(await exec({ mode: "value", query: "SELECT id FROM ids" })).toBe("9007199254740993");
  });

  test("an injection attempt passed as a param is stored literally", async () => {
    await exec({ mode: "exec", query: SCHEMA });
    const evil = "Robert'); DROP TABLE customers;--";
    await exec({ mode: "exec", query: "INSERT INTO customers (name) VALUES (?)", params: [evil] });
    expect(await exec({ mode: "value", query: "SELECT name FROM customers" })).toBe(evil);
    expect(await exec({ mode: "value", query: "SELECT count(*) FROM sqlite_master WHERE name = 'customers'" })).toBe(1);
  });

  test("a transaction is rolled back when its second statement fails", async () => {
    await exec({ mode: "exec", query: SCHEMA });
    await exec({ mode: "exec", query: "INSERT INTO customers (name) VALUES ('Acme')" });
    const error = await rejectionOf(
      exec({
        mode: "transaction",
        statements: [
          { query: "INSERT INTO customers (name) VALUES (?)", params: ["Initech"] },
          { query: "INSERT INTO customers (name) VALUES (?)", params: ["Acme"] },
        ],
      }),
    );
    expect(error).toMatchObject({ code: "E_SQL", retryable: false, details: { sqliteCode: "SQLITE_CONSTRAINT_UNIQUE" } });
    expect(error.message).toContain("UNIQUE constraint failed: customers.name");
    // Which statement of the transaction failed.
    expect(error.message).toMatch(/\(statement 2 of 2\)/);
    expect(error.details).toMatchObject({ statement: 2 });
    expect(await exec({ query: "SELECT name FROM customers" })).toEqual([{ name: "Acme" }]);

    const done = await exec({
      mode: "transaction",
      statements: [
        { query: "INSERT INTO customers (name) VALUES (?)", params: ["Initech"] },
        { query: "SELECT count(*) AS n FROM customers" },
      ],
    });
    expect(done).toEqual([{ changes: 1, lastInsertRowid: 2 }, [{ n: 2 }]]);
  });

  test("errors say what failed: a syntax error is not retryable, a locked database is", async () => {
    const syntax = await rejectionOf(exec({ query: "SELEC 1" }));
    expect(syntax).toMatchObject({ code: "E_SQL", retryable: false });
    expect(syntax.message).toMatch(/^sql \(sqlite .*shop\.db\) failed: near "SELEC": syntax error/);
    expect(syntax.hint).toContain("params");

    await exec({ mode: "exec", query: SCHEMA });
    const other = new Database(file);
    other.exec("BEGIN EXCLUSIVE");
    try {
      const locked = await rejectionOf(exec({ mode: "exec", query: "INSERT INTO customers (name) VALUES ('x')", timeout: 0 }));
      expect(locked).toMatchObject({ code: "E_SQL", retryable: true, details: { sqliteCode: "SQLITE_BUSY" } });
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }

    const missingDir = await rejectionOf(exec({ connection: "no/such/dir/x.db", query: "SELECT 1" }));
    expect(missingDir).toMatchObject({ code: "E_SQL", retryable: false });
    expect(missingDir.hint).toContain("directory");
  });

  test(":memory: is one database per run, shared by its nodes and gone with the run", async () => {
    await exec({ connection: ":memory:", mode: "exec", query: "CREATE TABLE t (x); INSERT INTO t VALUES (42)" });
    expect(await exec({ connection: ":memory:", mode: "value", query: "SELECT x FROM t" })).toBe(42);
    for (const { value, dispose } of resources.values()) await dispose(await value);
    resources.clear();
    const error = await rejectionOf(exec({ connection: ":memory:", query: "SELECT x FROM t" }));
    expect(error.message).toContain("no such table: t");
  });

  test.runIf(process.platform === "linux")("a run closes its databases when it ends", async () => {
    const yaml = `
name: sqlite-run
nodes:
  - { id: make, type: sql, parameters: { connection: "${file}", mode: exec, query: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)" } }
  - { id: count, type: sql, parameters: { connection: "${file}", mode: value, query: "SELECT sum(x) FROM t" } }
edges: [make -> count]
`;
    const { result } = await runYaml(yaml);
    expect(result.status).toBe("succeeded");
    expect(result.output).toBe(3);
    expect(openHandles(file)).toBe(0);
    // While a "run" (these tests' shared resources) lasts, its handle stays open.
    await exec({ mode: "value", query: "SELECT 1" });
    expect(openHandles(file)).toBe(1);
  });

  test("the example's parameters parse", async () => {
    const examples = await exampleParameters(sql);
    expect(examples).toHaveLength(2);
    for (const p of examples) expect(sql.parameters.safeParse(p).success).toBe(true);
  });
});

describe("sql validation", () => {
  const load = (parameters: string) =>
    loadCompositeFromText(`name: v\nnodes:\n  - id: q\n    type: sql\n    parameters:\n${parameters}\n`, { file: "flow.yaml" });

  test.each([
    ["query", `      connection: db.sqlite\n      query: "SELECT * FROM users WHERE name = '{{ $input.name }}'"`, "query", 7],
    ["a transaction statement", `      connection: db.sqlite\n      mode: transaction\n      statements:\n        - query: "DELETE FROM t WHERE id = {{ $input }}"`, "statements[0].query", 9],
    ["the whole statements list", `      connection: db.sqlite\n      mode: transaction\n      statements: "{{ $input.statements }}"`, "statements", 8],
  ])("a {{ }} template in %s is E_PARAM at its line, with a hint to use params", (_name, parameters, where, line) => {
    const r = load(parameters);
    expect(r.ok).toBe(false);
    const problem = r.problems.find((p) => p.code === "E_PARAM");
    expect(problem).toMatchObject({ line, message: `node "q": \`${where}\` may not contain a {{ }} template` });
    expect(problem?.hint).toContain("params");
  });

  test("templates in params are fine; mode and statements are checked", () => {
    expect(load(`      connection: db.sqlite\n      query: SELECT * FROM users WHERE name = ?\n      params: ["{{ $input.name }}"]`).ok).toBe(true);
    const noStatements = load(`      connection: db.sqlite\n      mode: transaction`);
    expect(noStatements.problems.map((p) => p.message)).toContain('node "q": statements: mode: transaction needs `statements: [{ query, params }]`');
    const noQuery = load(`      connection: db.sqlite\n      mode: rows`);
    expect(noQuery.problems.map((p) => p.message)).toContain('node "q": query: set `query` (or `mode: transaction` with `statements`)');
  });
});
