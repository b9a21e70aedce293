import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { atomiton, tempDir } from "../helpers/cli.js";
import { isAlive, survivors } from "../helpers/processes.js";

// A shell command that exits after starting something in the background: what it left in its
// process group is killed when the node ends, unless the node says `detach: true`.

const flow = (detach: boolean | undefined) => `name: bg
nodes:
  - id: launch
    type: shell-command
    parameters:
      command: "sleep 311 > /dev/null 2>&1 & echo launched:$!"${detach === undefined ? "" : `\n      detach: ${detach}`}
  - id: after
    type: log
    parameters: { message: "after {{ $nodes.launch.stdout }}" }
edges: [launch -> after]
`;

const pids: number[] = [];
let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-bg-"));
});
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await cleanup();
});

async function runFlow(detach: boolean | undefined): Promise<number> {
  await writeFile(path.join(dir, "flow.yaml"), flow(detach));
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, timeout: 60_000 });
  const pid = Number(/launched:(\d+)/.exec(r.stderr)?.[1]);
  if (pid > 0) pids.push(pid);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(pid).toBeGreaterThan(0);
  expect(r.stderr).toMatch(/after launched:\d+/);
  return pid;
}

test.each([undefined, false])("detach: %s (the default): the background child of a successful command is killed when the node ends", async (detach) => {
  const pid = await runFlow(detach);
  expect(await survivors([pid])).toEqual([]);
});

test("detach: true: the background child outlives the node and the CLI (reparented, ppid 1)", async () => {
  const pid = await runFlow(true);
  // Still alive a while after the CLI exited; its parent is gone, so it belongs to init now.
  await new Promise((r) => setTimeout(r, 500));
  expect(await isAlive(pid)).toBe(true);
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  expect(ppid).not.toBe(process.pid);
  expect(await survivors([pid], 0)).toEqual([pid]);
});

test("`atomiton nodes shell-command` documents detach", async () => {
  const r = await atomiton(["nodes", "shell-command"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toMatch(/detach\s+boolean, default false\n\s+Leave what the command started in the background/);
});

test("a background child that keeps the command's stdout open does not hold the node: it ends when the command exits", async () => {
  // `sleep 312 & echo …` without a redirect: the sleep inherits the output pipe, and the node waited
  // for the pipe to close (for ever) instead of for the command to exit.
  await writeFile(path.join(dir, "flow.yaml"), "name: held\nnodes:\n  - id: launch\n    type: shell-command\n    parameters: { command: 'sleep 312 & echo launched:$!' }\n");
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, timeout: 20_000 });
  const pid = Number(/launched:(\d+)/.exec(r.stderr)?.[1]);
  if (pid > 0) pids.push(pid);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(pid).toBeGreaterThan(0);
  expect(await survivors([pid])).toEqual([]);
});

test("detach: true with a background child that keeps the command's output open (`server &`): the node ends when the command exits, and the child lives on", async () => {
  // The node waited for the pipes, so for as long as the child ran: for ever for a server.
  await writeFile(path.join(dir, "flow.yaml"), "name: held\nnodes:\n  - id: launch\n    type: shell-command\n    parameters: { command: 'sleep 313 & echo launched:$!', detach: true }\n");
  const r = await atomiton(["run", "flow.yaml", "--reporter", "json"], { cwd: dir, timeout: 20_000 });
  const finish = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; nodeId?: string; durationMs?: number; output?: { stdout?: string } })
    .find((e) => e.type === "node:finish" && e.nodeId === "launch");
  const pid = Number(/launched:(\d+)/.exec(finish?.output?.stdout ?? "")?.[1]);
  if (pid > 0) pids.push(pid);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(finish?.durationMs).toBeLessThan(10_000);
  expect(await isAlive(pid)).toBe(true);
});

test("a process that left the command's process group (setsid) and holds its output does not keep the CLI alive after the run", async () => {
  await writeFile(path.join(dir, "flow.yaml"), "name: escaped\nnodes:\n  - id: launch\n    type: shell-command\n    parameters: { command: 'setsid sleep 314 & echo launched:$!' }\n");
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, timeout: 30_000 });
  const pid = Number(/launched:(\d+)/.exec(r.stderr)?.[1]);
  if (pid > 0) pids.push(pid);
  // execa's timeout would have killed the CLI (exit code undefined) had it waited for the sleep.
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/run succeeded/);
});

test.each([
  { name: "detach: true", command: "sleep 315 & printf 'no-newline-result'", detach: true },
  { name: "a setsid escapee", command: "setsid sleep 316 & printf 'no-newline-result'", detach: false },
])("$name holding the pipes: the command's last line without a newline is kept in stdout (closing the pipes early lost it)", async ({ command, detach }) => {
  await writeFile(path.join(dir, "flow.yaml"), `name: partial\nnodes:\n  - id: launch\n    type: shell-command\n    parameters: { command: "${command}", detach: ${detach} }\n`);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "json"], { cwd: dir, timeout: 30_000 });
  for (const pid of (await import("node:child_process")).execSync("pgrep -f 'sleep 31[56]' || true").toString().trim().split("\n").filter(Boolean).map(Number)) pids.push(pid);
  expect(r.exitCode, r.stderr).toBe(0);
  const finish = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; nodeId?: string; output?: { stdout?: string } })
    .find((e) => e.type === "node:finish" && e.nodeId === "launch");
  expect(finish?.output?.stdout).toBe("no-newline-result");
});
