import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createTempDir, removeTempDir } from "../../helpers/node-context.js";
import { runYaml } from "../conductor/harness.js";

// better-sqlite3 runs a statement to its end in the thread that calls it: an endless query used to
// block the whole process, so neither the node's timeout nor a cancel could end it. These runs go
// through a real conductor on a real database file; the query never ends by itself.

const ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
let dir: string;
beforeEach(async () => {
  dir = await createTempDir("atomiton-sql-stop-");
});
afterEach(() => removeTempDir(dir));

describe("an endless SQLite statement", () => {
  test("the node's timeout ends it with E_TIMEOUT; the next node uses the database file as before", async () => {
    const yaml = `
nodes:
  - { id: make, type: sql, parameters: { connection: shop.db, mode: exec, query: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)" } }
  - { id: endless, type: sql, timeout: 500ms, onError: continue, parameters: { connection: shop.db, mode: value, query: "${ENDLESS}" } }
  - { id: after, type: sql, parameters: { connection: shop.db, mode: value, query: "SELECT sum(x) FROM t" } }
edges: [make -> endless, endless -> after]
`;
    const { result, trace } = await runYaml(yaml, { workdir: dir });
    expect(result.nodes.endless).toMatchObject({ status: "failed", error: { code: "E_TIMEOUT", message: 'node "endless" timed out after 500ms' } });
    expect(result.nodes.after).toMatchObject({ status: "succeeded", output: 3 });
    expect(trace).toEqual(["make:start", "make:succeeded", "endless:start", "endless:failed", "after:start", "after:succeeded"]);
  });

  test("cancelling the run while it runs ends the run as cancelled", async () => {
    const controller = new AbortController();
    const yaml = `
nodes:
  - { id: make, type: sql, parameters: { connection: shop.db, mode: exec, query: "CREATE TABLE t (x)" } }
  - { id: endless, type: sql, parameters: { connection: shop.db, mode: value, query: "${ENDLESS}" } }
edges: [make -> endless]
`;
    // \`make\` opened the database, so \`endless\` sends its statement within its start's microtasks:
    // the next turn of the event loop finds it running (before the fix, that turn never came).
    const { result, trace } = await runYaml(yaml, { workdir: dir, signal: controller.signal }, [], (event) => {
      if (event.type === "node:start" && event.nodeId === "endless") setImmediate(() => controller.abort());
    });
    expect(result.status).toBe("cancelled");
    expect(trace).toEqual(["make:start", "make:succeeded", "endless:start", "endless:cancelled"]);
  });

  test("a :memory: database stopped mid-statement is gone: the next statement on it says so", async () => {
    const yaml = `
nodes:
  - { id: make, type: sql, parameters: { connection: ":memory:", mode: exec, query: "CREATE TABLE t (x)" } }
  - { id: endless, type: sql, timeout: 300ms, onError: continue, parameters: { connection: ":memory:", mode: value, query: "${ENDLESS}" } }
  - { id: after, type: sql, parameters: { connection: ":memory:", mode: value, query: "SELECT count(*) FROM t" } }
edges: [make -> endless, endless -> after]
`;
    const { result } = await runYaml(yaml, { workdir: dir });
    expect(result.nodes.endless?.error?.code).toBe("E_TIMEOUT");
    expect(result.nodes.after?.error).toMatchObject({ code: "E_SQL", retryable: false, message: "sql (sqlite :memory:): the in-memory database was discarded when a statement on it was stopped (a timeout or a cancel)" });
  });

  test("blobs and exact integers come back from the host process as before", async () => {
    const yaml = `
nodes:
  - { id: q, type: sql, parameters: { connection: ${JSON.stringify(path.join(dir, "b.db"))}, mode: first, query: "SELECT x'00ff10' AS b, 9007199254740993 AS big, 42 AS n, 1.5 AS r, NULL AS z, 'é' AS s" } }
`;
    const { result } = await runYaml(yaml, { workdir: dir });
    const row = result.nodes.q?.output as Record<string, unknown>;
    expect(Buffer.isBuffer(row.b)).toBe(true);
    expect(row).toEqual({ b: Buffer.from([0, 255, 16]), big: "9007199254740993", n: 42, r: 1.5, z: null, s: "é" });
  });
});
