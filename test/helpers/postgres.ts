import { execFileSync } from "node:child_process";
import { chownSync, existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";

/**
 * A real PostgreSQL server for tests: `ATOMITON_TEST_PG_URL` when set, else an own cluster made
 * with Debian's `initdb` and `pg_ctl` (as the `postgres` user when we are root) on a free port,
 * with its socket in a temp dir, stopped and removed by `stop()`.
 */
export interface TestPostgres {
  url: string;
  /** Where it came from, for messages. */
  source: "ATOMITON_TEST_PG_URL" | "own cluster";
  stop(): Promise<void>;
}

const INSTALL_HINT = "install the server with `apt-get install postgresql` (Debian/Ubuntu), or point ATOMITON_TEST_PG_URL at one (postgres://user@host:5432/db)";

/** The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/<v>/bin, else one on PATH. */
function findBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], "bin");
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir && existsSync(path.join(dir, "initdb")) && existsSync(path.join(dir, "pg_ctl"))) return dir;
  return undefined;
}

/** Whether the PostgreSQL tests can run, and if not, why (printed by the test file). */
export function postgresAvailability(): { available: true } | { available: false; reason: string } {
  if (process.env.ATOMITON_TEST_PG_URL) return { available: true };
  if (findBinDir()) return { available: true };
  return { available: false, reason: `PostgreSQL tests skipped: neither ATOMITON_TEST_PG_URL nor initdb/pg_ctl found; ${INSTALL_HINT}` };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** initdb refuses to run as root: run the server tools as `postgres` then. */
function asServerUser(file: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
}

/** Start (or reuse) a server. Call `stop()` in afterAll. */
export async function startPostgres(): Promise<TestPostgres> {
  const given = process.env.ATOMITON_TEST_PG_URL;
  if (given) return { url: given, source: "ATOMITON_TEST_PG_URL", stop: async () => undefined };
  const bin = findBinDir();
  if (!bin) throw new Error(`no PostgreSQL binaries: ${INSTALL_HINT}`);
  const dir = await mkdtemp(path.join(tmpdir(), "atomiton-pg-"));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, "data");
  const log = path.join(dir, "server.log");
  const port = await freePort();
  const run = (tool: string, args: string[]) => {
    const [file, argv] = asServerUser(path.join(bin, tool), args);
    return execa(file, argv, { cwd: dir, stdin: "ignore", timeout: 120_000 });
  };
  try {
    await run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
    await run("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
  } catch (error) {
    const text = await readFile(log, "utf8").catch(() => "");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start a PostgreSQL cluster with ${bin}: ${(error as Error).message}\n${text}`);
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    source: "own cluster",
    stop: async () => {
      await run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
