// The built CLI against a SQLite file another process has locked: each `sql` node waits its own
// `timeout` for the lock. The database stays open in one host process for the run, and its busy
// timeout was the one of the first node that opened it: a later node with `timeout: 300ms` waited
// the first one's 10 minutes.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d));
const lockers: ChildProcess[] = [];
afterEach(async () => {
  for (const child of lockers.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }
});

/** Another process: the database in WAL mode (readers go on), its write lock held until it is killed. */
async function lockDatabase(file: string): Promise<void> {
  const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
  const script = `const Sqlite = require(${JSON.stringify(sqlite)});
const db = new Sqlite(${JSON.stringify(file)});
db.pragma("journal_mode = WAL");
db.exec("CREATE TABLE IF NOT EXISTS t (x)");
db.exec("BEGIN IMMEDIATE");
db.exec("INSERT INTO t VALUES (1)");
process.stdout.write("locked\\n");
setInterval(() => undefined, 1 << 30);`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  lockers.push(child);
  let out = "";
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    if (out.includes("locked")) return;
  }
  throw new Error(`the locking process ended: ${out}`);
}

test("a later sql node waits its own `timeout` for a locked SQLite file, not the first node's", async () => {
  await lockDatabase(path.join(dir, "shop.db"));
  await writeFile(
    path.join(dir, "flow.yaml"),
    `nodes:
  - { id: count, type: sql, parameters: { connection: shop.db, mode: value, query: "SELECT count(*) FROM t", timeout: 10m } }
  - { id: add, type: sql, parameters: { connection: shop.db, mode: exec, query: "INSERT INTO t VALUES (2)", timeout: 300ms } }
edges: [count -> add]
`,
  );
  // Before the fix the run waited the first node's 10 minutes: the guard ends it long before.
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, timeout: 20_000 });
  expect(r.stderr).toMatch(/count\s+succeeded/);
  expect(r.stderr).toMatch(/add\s+failed .*E_SQL.*locked/);
  expect(r.exitCode).toBe(1);
});
