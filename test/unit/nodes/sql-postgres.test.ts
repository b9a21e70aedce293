import { createServer, connect as tcpConnect } from "node:net";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import sql from "../../../src/nodes/builtin/sql.js";
import { rejectionOf, startNode } from "../../helpers/node-context.js";
import { postgresAvailability, startPostgres, type TestPostgres } from "../../helpers/postgres.js";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor } from "../../../src/conductor/create-conductor.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap } from "../../../src/events/event-map.js";
import { runYaml } from "../conductor/harness.js";

// A real PostgreSQL server: ATOMITON_TEST_PG_URL, or an own cluster started from Debian's binaries.
const availability = postgresAvailability();
if (!availability.available) console.warn(`\n⚠ ${availability.reason}\n`);

describe.runIf(availability.available)("sql on PostgreSQL (a real server)", () => {
  let server: TestPostgres;
  let admin: pg.Client;
  let table: string;
  let resources: Map<string, { value: Promise<unknown>; dispose: (value: unknown) => unknown }>;

  beforeAll(async () => {
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  }, 180_000);
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  }, 60_000);
  beforeEach(async () => {
    // A table of its own per test, so a shared server (ATOMITON_TEST_PG_URL) is left as it was.
    table = `atomiton_test_${randomUUID().slice(0, 8)}`;
    await admin.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL UNIQUE, meta jsonb)`);
    resources = new Map();
  });
  afterEach(async () => {
    for (const { value, dispose } of resources.values()) await dispose(await value);
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
  });

  const start = (raw: Record<string, unknown>) => startNode(sql, { connection: server.url, ...raw }, { resources });
  const exec = (raw: Record<string, unknown>) => start(raw).result;

  /** Backends of this server running a query that contains `marker`. */
  async function activeWith(marker: string): Promise<number> {
    const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()", [`%${marker}%`]);
    return r.rows[0].n as number;
  }
  async function waitUntilActive(marker: string): Promise<void> {
    while ((await activeWith(marker)) === 0) await new Promise((r) => setTimeout(r, 20));
  }

  test("rows, first, value and exec, with $1 and :name placeholders (casts left alone)", async () => {
    expect(await exec({ mode: "exec", query: `INSERT INTO ${table} (name, meta) VALUES ($1, $2), ($3, $4)`, params: ["Acme", { tier: 1 }, "Globex", null] })).toEqual({ changes: 2, lastInsertRowid: null });
    expect(await exec({ query: `SELECT name, meta FROM ${table} ORDER BY id` })).toEqual([
      { name: "Acme", meta: { tier: 1 } },
      { name: "Globex", meta: null },
    ]);
    expect(await exec({ mode: "first", query: `SELECT name, id::text AS label FROM ${table} WHERE name = :name AND :name <> ':other'`, params: { name: "Globex" } })).toEqual({ name: "Globex", label: "2" });
    expect(await exec({ mode: "first", query: `SELECT name FROM ${table} WHERE name = $1`, params: ["nobody"] })).toBeNull();
    expect(await exec({ mode: "value", query: `SELECT count(*)::int FROM ${table}` })).toBe(2);
    expect(await exec({ mode: "exec", query: `UPDATE ${table} SET meta = '{}'; DELETE FROM ${table} WHERE name = 'Globex'` })).toEqual({ changes: 3, lastInsertRowid: null });
  });

  test("an injection attempt passed as a param is stored literally", async () => {
    const evil = `x'); DROP TABLE ${table};--`;
    await exec({ mode: "exec", query: `INSERT INTO ${table} (name) VALUES ($1)`, params: [evil] });
    expect(await exec({ mode: "value", query: `SELECT name FROM ${table}` })).toBe(evil);
    expect((await admin.query("SELECT to_regclass($1) AS t", [table])).rows[0].t).toBe(table);
  });

  test("a transaction is rolled back when its second statement fails; SQLSTATE and retryable by kind", async () => {
    await exec({ mode: "exec", query: `INSERT INTO ${table} (name) VALUES ('Acme')` });
    const unique = await rejectionOf(
      exec({
        mode: "transaction",
        statements: [
          { query: `INSERT INTO ${table} (name) VALUES ($1)`, params: ["Initech"] },
          { query: `INSERT INTO ${table} (name) VALUES ($1)`, params: ["Acme"] },
        ],
      }),
    );
    expect(unique).toMatchObject({ code: "E_SQL", retryable: false, details: { sqlstate: "23505", constraint: `${table}_name_key` } });
    expect(unique.message).toContain("[SQLSTATE 23505] (statement 2 of 2)");
    expect(unique.details).toMatchObject({ statement: 2 });
    expect((await admin.query(`SELECT name FROM ${table}`)).rows).toEqual([{ name: "Acme" }]);

    const syntax = await rejectionOf(exec({ query: "SELEC 1" }));
    expect(syntax).toMatchObject({ code: "E_SQL", retryable: false, details: { sqlstate: "42601" } });
    // Where in the SQL: PostgreSQL's position as a line and column of the query.
    const unknown = await rejectionOf(exec({ query: "SELECT 1\n  FROM nowhere_at_all" }));
    expect(unknown.message).toMatch(/relation "nowhere_at_all" does not exist \[SQLSTATE 42P01\] at line 2, column 8 of the query/);
    expect(unknown.details).toMatchObject({ line: 2, column: 8 });
    // A real serialization failure raised by the server (SQLSTATE 40001) is worth another attempt.
    const serialization = await rejectionOf(exec({ mode: "exec", query: "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'could not serialize'; END $$" }));
    expect(serialization).toMatchObject({ code: "E_SQL", retryable: true, details: { sqlstate: "40001" } });

    const committed = await exec({ mode: "transaction", statements: [{ query: `INSERT INTO ${table} (name) VALUES ($1) RETURNING id`, params: ["Initech"] }, { query: `SELECT count(*)::int AS n FROM ${table}` }] });
    expect(committed).toEqual([[{ id: expect.any(Number) }], [{ n: 2 }]]);
  });

  test("aborting a running query cancels it on the server", async () => {
    const marker = `cancel_${randomUUID().slice(0, 8)}`;
    const started = start({ query: `SELECT pg_sleep(60) /* ${marker} */` });
    await waitUntilActive(marker);
    started.controller.abort();
    const error = await rejectionOf(started.result);
    expect(error.code).toBe("E_CANCELLED");
    expect(await activeWith(marker)).toBe(0);
    // The pooled connection is healthy afterwards.
    expect(await exec({ mode: "value", query: "SELECT 1" })).toBe(1);
  });

  test("a transaction cancelled mid-way is rolled back", async () => {
    const marker = `tx_${randomUUID().slice(0, 8)}`;
    const started = start({
      mode: "transaction",
      statements: [{ query: `INSERT INTO ${table} (name) VALUES ('inside')` }, { query: `SELECT pg_sleep(60) /* ${marker} */` }],
    });
    await waitUntilActive(marker);
    started.controller.abort();
    expect((await rejectionOf(started.result)).code).toBe("E_CANCELLED");
    expect(await activeWith(marker)).toBe(0);
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(0);
  });

  test("a node timeout cancels the query on the server and the run closes its pool", async () => {
    const marker = `timeout_${randomUUID().slice(0, 8)}`;
    const { result, events } = await runYaml(`
name: pg-timeout
nodes:
  - id: slow
    type: sql
    timeout: 300ms
    parameters: { connection: "${server.url}", query: "SELECT pg_sleep(60) /* ${marker} */" }
`);
    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ code: "E_TIMEOUT" });
    expect(events.some((e) => e.type === "node:finish" && e.status === "failed")).toBe(true);
    expect(await activeWith(marker)).toBe(0);
    // The pool ended with the run: its connection (last query: the marker) goes away well before pg's 10 s idle timeout.
    const connections = async () => (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()", [`%${marker}%`])).rows[0].n as number;
    await expect.poll(connections, { timeout: 5000, interval: 50 }).toBe(0);
  });

  test("the timeout parameter cancels on the server with a retryable E_TIMEOUT", async () => {
    const marker = `param_${randomUUID().slice(0, 8)}`;
    const error = await rejectionOf(exec({ query: `SELECT pg_sleep(60) /* ${marker} */`, timeout: "200ms" }));
    expect(error).toMatchObject({ code: "E_TIMEOUT", retryable: true });
    expect(await activeWith(marker)).toBe(0);
  });

  test("a refused connection is retried, and succeeds once the server is reachable", async () => {
    // A port where nothing listens; when the first attempt has failed, a TCP relay to the real server opens there.
    const parking = createServer();
    await new Promise<void>((resolve) => parking.listen(0, "127.0.0.1", resolve));
    const port = (parking.address() as { port: number }).port;
    await new Promise((resolve) => parking.close(resolve));
    const target = new URL(server.url);
    const relayed = new URL(server.url);
    relayed.hostname = "127.0.0.1";
    relayed.port = String(port);
    const relay = createServer((socket) => {
      const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    });
    const loaded = loadCompositeFromText(
      `name: pg-refused
nodes:
  - id: q
    type: sql
    retry: { attempts: 3, delay: 1s }
    parameters: { connection: "${relayed.toString()}", mode: value, query: "SELECT 41 + 1" }
`,
      { file: "refused.yaml" },
    );
    const bus = createEventBus<RunEventMap>();
    const retries: RunEventMap["node:retry"][] = [];
    bus.on("node:retry", (e) => {
      retries.push(e);
      if (retries.length === 1) relay.listen(port, "127.0.0.1");
    });
    try {
      const result = await createConductor({ events: bus }).execute({ composite: loaded.composite! });
      expect(retries).toHaveLength(1);
      expect(retries[0]!.error).toMatchObject({ code: "E_NETWORK", retryable: true });
      expect(retries[0]!.error.message).toContain("ECONNREFUSED");
      expect(result.status).toBe("succeeded");
      expect(result.output).toBe(42);
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});
