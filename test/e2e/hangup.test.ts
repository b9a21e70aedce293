import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ROOT, tempDir } from "../helpers/cli.js";
import { survivors } from "../helpers/processes.js";
import { startWorker, type WorkerProcess } from "../helpers/queue.js";
import { dropNamespace, redisAvailability, startRedis, uniqueName, type TestRedis } from "../helpers/redis.js";
import { startServe, type ServeProcess } from "../helpers/serve.js";
import { childPids, startCli, type StartedCli } from "../helpers/started-cli.js";

// SIGHUP (a closed terminal, a dropped SSH session) is handled like SIGINT and SIGTERM in every
// mode: the run is cancelled, every process its nodes started is killed, the record is saved as
// cancelled, and the CLI exits 130. Also 130 before the run starts (while loading), for every signal.

const GRANDCHILDREN = path.join(ROOT, "test/fixtures/failures/sigint-grandchildren.yaml");
// Each test starts at most a few CLIs; afterEach SIGKILLs them and every child pid they printed.
const clis: StartedCli["child"][] = [];
const pids: number[] = [];
const servers: ServeProcess[] = [];

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-hangup-"));
});
afterEach(async () => {
  for (const child of clis.splice(0)) child.kill("SIGKILL");
  for (const s of servers.splice(0)) s.child.kill("SIGKILL");
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await cleanup();
});

function start(args: string[], cwd = dir): StartedCli {
  const cli = startCli(args, { cwd, timeout: 60_000 });
  clis.push(cli.child);
  return cli;
}

/** Wait until the fixture's shell node printed its three child pids; all must be alive. */
async function spawnedChildren(cli: StartedCli): Promise<number[]> {
  const printed = childPids(await cli.waitFor(/^(?=[\s\S]*child:\d+$)(?=[\s\S]*child2:\d+$)(?=[\s\S]*child3:\d+$)/m, 30_000));
  pids.push(...printed);
  expect(printed).toHaveLength(3);
  expect(await survivors(printed, 0)).toEqual(printed);
  return printed;
}

async function recordsIn(dataDir: string): Promise<{ status: string }[]> {
  const runs = path.join(dataDir, "runs");
  const names = (await readdir(runs)).filter((f) => f.endsWith(".json"));
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(runs, n), "utf8")) as { status: string }));
}

describe("SIGHUP is handled like SIGTERM", () => {
  test("run: exit 130, record cancelled, no child or grandchild survives", async () => {
    const run = start(["run", GRANDCHILDREN, "--reporter", "plain"]);
    const printed = await spawnedChildren(run);
    run.child.kill("SIGHUP");
    const r = await run.child;
    expect(r.signal, r.stderr).toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toContain("SIGHUP received: cancelling the run (send SIGHUP again to exit at once)");
    expect(await survivors(printed)).toEqual([]);
    expect((await recordsIn(path.join(dir, ".atomiton"))).map((x) => x.status)).toEqual(["cancelled"]);
  });

  test("run --watch: exit 130, the run in flight is saved cancelled, no child survives", async () => {
    const run = start(["run", GRANDCHILDREN, "--watch", "--reporter", "plain"]);
    const printed = await spawnedChildren(run);
    run.child.kill("SIGHUP");
    const r = await run.child;
    expect(r.signal, r.stderr).toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(130);
    expect(await survivors(printed)).toEqual([]);
    expect((await recordsIn(path.join(dir, ".atomiton"))).map((x) => x.status)).toEqual(["cancelled"]);
  });

  test.each(["client", "server"] as const)("run --remote, SIGHUP to the %s: it exits 130, the server's record is cancelled, no child survives", async (target) => {
    const serverDir = path.join(dir, "server");
    const server = await startServe(["--data-dir", path.join(serverDir, "data")], { cwd: dir });
    servers.push(server);
    const run = startCli(["run", GRANDCHILDREN, "--remote", server.url, "--token", server.token, "--reporter", "plain"], { cwd: dir, timeout: 60_000 });
    clis.push(run.child);
    const printed = await spawnedChildren(run);
    (target === "client" ? run.child : server.child).kill("SIGHUP");
    if (target === "client") {
      const r = await run.child;
      expect(r.signal, r.stderr).toBeUndefined();
      expect(r.exitCode, r.stderr).toBe(130);
      expect(r.stderr).toContain("SIGHUP received: cancelling the remote run (send SIGHUP again to exit at once)");
    } else {
      const s = await server.child;
      expect(s.signal, server.stderr()).toBeUndefined();
      expect(s.exitCode, server.stderr()).toBe(130);
      expect(server.stderr()).toContain("SIGHUP: shutting down");
    }
    expect(await survivors(printed)).toEqual([]);
    // The server saves the record before it exits (or before it answers the client's cancel).
    let statuses: string[] = [];
    for (let i = 0; i < 200; i++) {
      statuses = (await recordsIn(path.join(serverDir, "data")).catch(() => [])).map((x) => x.status);
      if (statuses[0] === "cancelled") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(statuses).toEqual(["cancelled"]);
  });
});

describe("one exit code for every interrupt signal", () => {
  test.each(["SIGINT", "SIGTERM", "SIGHUP"] as const)("%s while loading (before the run starts): exit 130, not death by the signal", async (signal) => {
    // A custom node module that takes its time to load: the signal lands while the CLI loads it.
    await writeFile(path.join(dir, "slow-node.mjs"), `process.stderr.write("slow node loading\\n");\nawait new Promise((r) => setTimeout(r, 60_000));\nexport default {};\n`);
    await writeFile(path.join(dir, "flow.yaml"), "name: f\nnodes:\n  - { id: a, type: log, parameters: { message: hi } }\n");
    const run = start(["run", "flow.yaml", "--nodes", "slow-node.mjs", "--reporter", "plain"]);
    await run.waitFor(/slow node loading/);
    run.child.kill(signal);
    const r = await run.child;
    expect(r.signal, r.stderr).toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(130);
  });
});

const ready = redisAvailability();
describe.skipIf(!ready.available)("run --queue", () => {
  let redis: TestRedis;
  let worker: WorkerProcess | undefined;
  const ns = uniqueName("hangup");
  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await worker?.stop("SIGKILL");
    await dropNamespace(redis.url, ns);
    await redis.stop();
  });

  test("SIGHUP to the client: exit 130, the run is cancelled on its worker, no child survives", async () => {
    worker = await startWorker(redis.url, ns, [], { cwd: dir });
    const run = start(["run", GRANDCHILDREN, "--queue", redis.url, "--queue-name", ns, "--reporter", "plain"]);
    const printed = await spawnedChildren(run);
    run.child.kill("SIGHUP");
    const r = await run.child;
    expect(r.signal, r.stderr).toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGHUP received: cancelling run \S+ \(send SIGHUP again to exit at once\)/);
    expect(r.stderr).toMatch(/run cancelled/);
    expect(await survivors(printed)).toEqual([]);
  });
});
