import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { atomiton, ROOT, tempDir } from "../helpers/cli.js";
import { survivors } from "../helpers/processes.js";
import { startCli } from "../helpers/started-cli.js";

// Fault injection through the built CLI and the real conductor: every failure mode ends with the
// right exit code, a message naming the node and the code, and a saved record that says what happened.

const FIXTURES = path.join(ROOT, "test/fixtures/failures");

interface StoredRun {
  record: {
    status: string;
    error?: { code: string; message: string };
    output?: unknown;
    nodes: Record<string, { status?: string; attempts: number; error?: { code: string; message: string }; output?: unknown; reason?: string }>;
  };
  events: { type: string; nodeId?: string; level?: string; message?: string; attempt?: number }[];
}

/** The one run record and event log in `<dir>/.atomiton/runs`. */
async function storedRun(dir: string): Promise<StoredRun> {
  const runs = path.join(dir, ".atomiton/runs");
  const files = await readdir(runs);
  const json = files.filter((f) => f.endsWith(".json"));
  expect(json).toHaveLength(1);
  const record = JSON.parse(await readFile(path.join(runs, json[0]!), "utf8")) as StoredRun["record"];
  const log = await readFile(path.join(runs, json[0]!.replace(/\.json$/, ".ndjson")), "utf8");
  return { record, events: log.trim().split("\n").map((line) => JSON.parse(line) as StoredRun["events"][number]) };
}

/** Child pids a shell node printed as `child:<pid>` (node:log events). */
function printedPids(events: StoredRun["events"]): number[] {
  return events.flatMap((e) => (e.type === "node:log" && /^child\d*:\d+$/.test(e.message ?? "") ? [Number(e.message!.split(":")[1])] : []));
}


let dir: string;
let cleanup: () => Promise<void>;
const leftovers: number[] = [];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-failures-"));
});
afterEach(async () => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await cleanup();
});

interface FailureCase {
  name: string;
  fixture: string;
  args?: string[];
  exitCode: number;
  /** A line of the plain reporter's stderr: node id, then status and code. */
  stderr: RegExp;
  record: { status: string; errorCode?: string; nodes: Record<string, { status: string; attempts?: number; code?: string; message?: RegExp; reason?: RegExp }> };
  /** Child processes the node printed must be gone. */
  noSurvivors?: boolean;
}

describe("fault injection (atomiton run)", () => {
  test.each<FailureCase>([
    {
      name: "a node throws",
      fixture: "node-throws.yaml",
      exitCode: 1,
      stderr: /boom\s+failed .*E_NODE: kaput/,
      record: { status: "failed", errorCode: "E_NODE", nodes: { boom: { status: "failed", attempts: 1, code: "E_NODE", message: /kaput/ }, after: { status: "cancelled", attempts: 0 } } },
    },
    {
      name: "a shell node hangs past its timeout (its grandchild is killed too)",
      fixture: "node-timeout-shell.yaml",
      exitCode: 1,
      stderr: /slow\s+failed .*E_TIMEOUT: node "slow" timed out after 2s/,
      record: { status: "failed", errorCode: "E_TIMEOUT", nodes: { slow: { status: "failed", attempts: 1, code: "E_TIMEOUT", message: /timed out after 2s/ } } },
      noSurvivors: true,
    },
    {
      name: "a delay node hangs past its timeout",
      fixture: "node-timeout-delay.yaml",
      exitCode: 1,
      stderr: /wait\s+failed .*E_TIMEOUT: node "wait" timed out after 300ms/,
      record: { status: "failed", errorCode: "E_TIMEOUT", nodes: { wait: { status: "failed", attempts: 1, code: "E_TIMEOUT" } } },
    },
    {
      name: "the run times out (--timeout)",
      fixture: "run-timeout.yaml",
      args: ["--timeout", "2s"],
      exitCode: 1,
      stderr: /slow\s+cancelled: run timed out after 2000ms[\s\S]*E_TIMEOUT: run timed out after 2000ms/,
      record: {
        status: "failed",
        errorCode: "E_TIMEOUT",
        nodes: { first: { status: "succeeded" }, slow: { status: "cancelled", attempts: 1, reason: /timed out/ }, after: { status: "cancelled", attempts: 0 } },
      },
      noSurvivors: true,
    },
    {
      name: "the run times out (settings.timeout)",
      fixture: "run-timeout-settings.yaml",
      exitCode: 1,
      stderr: /slow\s+cancelled: run timed out after 300ms[\s\S]*E_TIMEOUT: run timed out after 300ms/,
      record: { status: "failed", errorCode: "E_TIMEOUT", nodes: { first: { status: "succeeded" }, slow: { status: "cancelled", reason: /timed out/ }, after: { status: "cancelled" } } },
    },
    {
      name: "a retry then succeeds",
      fixture: "retry-succeeds.yaml",
      exitCode: 0,
      stderr: /flaky\s+retry 3\/3[\s\S]*flaky\s+succeeded/,
      record: { status: "succeeded", nodes: { flaky: { status: "succeeded", attempts: 3 } } },
    },
    {
      name: "retries run out",
      fixture: "retry-exhausted.yaml",
      exitCode: 1,
      stderr: /flaky\s+failed .*E_COMMAND: command `echo "still broken" >&2; exit 3` exited with code 3/,
      record: { status: "failed", errorCode: "E_COMMAND", nodes: { flaky: { status: "failed", attempts: 3, code: "E_COMMAND", message: /exited with code 3/ } } },
    },
    {
      name: "a failure routes to the error port",
      fixture: "route-error.yaml",
      exitCode: 0,
      stderr: /a\s+failed .*E_NODE: bad thing[\s\S]*normal\s+skipped: upstream "a" did not fire port "output"/,
      record: { status: "succeeded", nodes: { a: { status: "failed", code: "E_NODE" }, handler: { status: "succeeded" }, normal: { status: "skipped" } } },
    },
    {
      name: "a worker's memory blows up (onError: continue)",
      fixture: "worker-oom.yaml",
      exitCode: 0,
      stderr: /hog\s+failed .*E_CODE: JavaScript ran out of memory/,
      record: { status: "succeeded", nodes: { hog: { status: "failed", attempts: 1, code: "E_CODE", message: /out of memory/ }, after: { status: "succeeded" } } },
    },
    {
      name: "a worker allocates 80 MB at a time until its limit (onError: continue)",
      fixture: "worker-oom-large.yaml",
      exitCode: 0,
      stderr: /hog\s+failed .*E_CODE: JavaScript ran out of memory/,
      record: { status: "succeeded", nodes: { hog: { status: "failed", attempts: 1, code: "E_CODE", message: /out of memory/ }, after: { status: "succeeded" } } },
    },
    {
      name: "code loops forever (vm)",
      fixture: "infinite-loop-vm.yaml",
      exitCode: 1,
      stderr: /spin\s+failed .*E_TIMEOUT/,
      record: { status: "failed", errorCode: "E_TIMEOUT", nodes: { spin: { status: "failed", attempts: 1, code: "E_TIMEOUT" } } },
    },
    {
      name: "code loops forever (isolation: worker)",
      fixture: "infinite-loop-worker.yaml",
      exitCode: 1,
      stderr: /spin\s+failed .*E_TIMEOUT/,
      record: { status: "failed", errorCode: "E_TIMEOUT", nodes: { spin: { status: "failed", attempts: 1, code: "E_TIMEOUT" } } },
    },
  ])("$name", async ({ fixture, args = [], exitCode, stderr, record, noSurvivors }) => {
    // A stuck process would hit this timeout and fail the test with exitCode undefined.
    const run = startCli(["run", path.join(FIXTURES, fixture), "--reporter", "plain", ...args], { cwd: dir, timeout: 20_000 });
    // A case about child processes waits for the shell to print its grandchild's pid (the plain
    // reporter shows it as soon as it is written), so the timeout under test surely has one to kill.
    // It fails with a message if the run ends first; the 2 s timeouts leave the shell room to start.
    if (noSurvivors) await run.waitFor(/\| child:\d+$/m);
    const done = await run.child;
    const r = { exitCode: done.exitCode, stderr: String(done.stderr ?? "") };
    expect(r.exitCode, r.stderr).toBe(exitCode);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).not.toMatch(/^\s+at /m);

    const { record: saved, events } = await storedRun(dir);
    expect(saved.status).toBe(record.status);
    if (record.errorCode) expect(saved.error?.code).toBe(record.errorCode);
    else expect(saved.error).toBeUndefined();
    for (const [id, want] of Object.entries(record.nodes)) {
      const got = saved.nodes[id];
      expect(got, id).toBeDefined();
      expect(got!.status, id).toBe(want.status);
      if (want.attempts !== undefined) expect(got!.attempts, id).toBe(want.attempts);
      if (want.code) expect(got!.error?.code, id).toBe(want.code);
      if (want.message) expect(got!.error?.message, id).toMatch(want.message);
      if (want.reason) expect(got!.reason, id).toMatch(want.reason);
    }
    expect(events[0]?.type).toBe("run:start");
    expect(events.at(-1)?.type).toBe("run:finish");

    if (noSurvivors) {
      const pids = printedPids(events);
      leftovers.push(...pids);
      expect(pids.length).toBeGreaterThan(0);
      expect(await survivors(pids)).toEqual([]);
    }
  });

  test("retries show as node:retry events in --reporter json, attempts 1..3", async () => {
    const r = await atomiton(["run", path.join(FIXTURES, "retry-succeeds.yaml"), "--reporter", "json"], { cwd: dir, timeout: 20_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; nodeId?: string; attempt?: number; maxAttempts?: number; delayMs?: number; error?: { code: string } });
    const retries = events.filter((e) => e.type === "node:retry");
    expect(retries.map((e) => ({ nodeId: e.nodeId, attempt: e.attempt, maxAttempts: e.maxAttempts, code: e.error?.code }))).toEqual([
      { nodeId: "flaky", attempt: 2, maxAttempts: 3, code: "E_COMMAND" },
      { nodeId: "flaky", attempt: 3, maxAttempts: 3, code: "E_COMMAND" },
    ]);
    expect(events.filter((e) => e.type === "node:start").map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(events.at(-1)).toMatchObject({ type: "run:finish", status: "succeeded" });
    expect(await readFile(path.join(dir, "count"), "utf8")).toBe("3\n");
  });

  test("the routed error reaches the handler as { message, code, nodeId }", async () => {
    const r = await atomiton(["run", path.join(FIXTURES, "route-error.yaml"), "--reporter", "silent", "--output", "out.json"], { cwd: dir, timeout: 20_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    // Silent means silent: not even the "saved to" line (the output went to the file).
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("");
    const { record } = await storedRun(dir);
    const handled = { handled: { message: "bad thing", code: "E_NODE", nodeId: "a" } };
    expect(record.nodes.handler?.output).toEqual(handled);
    expect(JSON.parse(await readFile(path.join(dir, "out.json"), "utf8"))).toEqual({ handler: handled });
  });

  test("kill -9 of the CLI while an isolated node loops: its worker's process exits too", async () => {
    await writeFile(path.join(dir, "spin.yaml"), "name: spin\nnodes:\n  - { id: spin, type: code, isolation: worker, timeout: 60s, parameters: { code: 'for (;;) {}' } }\n");
    const run = startCli(["run", "spin.yaml", "--reporter", "plain"], { cwd: dir, timeout: 30_000 });
    await run.waitFor(/spin\s+started/);
    const cli = run.child.pid!;
    // The host process (dist/isolate-host.js) is the CLI's child; wait for it to be up.
    const hostPid = async () => {
      for (const entry of await readdir("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
        const cmd = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
        if (Number(stat.split(") ")[1]?.split(" ")[1]) === cli && cmd.includes("isolate-host")) return Number(entry);
      }
      return undefined;
    };
    let host: number | undefined;
    for (let k = 0; k < 100 && host === undefined; k++) {
      host = await hostPid();
      if (host === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(host, "no isolate-host process under the CLI").toBeDefined();
    process.kill(cli, "SIGKILL");
    await run.child;
    // Its parent gone, the host's idle main thread sees the IPC channel close and exits, loop or not.
    expect(await survivors([host!], 5000)).toEqual([]);
  });

  test("after a worker's memory blows up the next node runs with null", async () => {
    const r = await atomiton(["run", path.join(FIXTURES, "worker-oom.yaml"), "--reporter", "silent", "--output", "-"], { cwd: dir, timeout: 20_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ after: null });
  });
});
