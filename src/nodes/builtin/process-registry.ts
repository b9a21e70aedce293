import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeSync } from "node:fs";

/**
 * Child process groups started by nodes (shell-command) that may still be alive. Each child is
 * spawned detached, as the leader of its own process group, so killing `-pid` reaches the whole
 * tree (grandchildren included). The CLI calls `killAllChildren()` on SIGINT/SIGTERM; as a last
 * resort every group still registered is SIGKILLed when the process exits.
 */
const groups = new Set<number>();

/** Process group ids (= leader pids) of children that have not been confirmed gone. */
export const activeChildren: ReadonlySet<number> = groups;

let exitHookInstalled = false;

/** Remember a child process group until `unregisterChild`. */
export function registerChild(pid: number): void {
  groups.add(pid);
  tellReaper(`+${pid}`);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => killAllChildren("SIGKILL"));
  }
}

export function unregisterChild(pid: number): void {
  if (groups.delete(pid)) tellReaper(`-${pid}`);
}

/**
 * The reaper: a small process of its own (started with the first child, in its own process group)
 * that holds the list of registered groups and, when its stdin ends because this process is gone
 * however it went (`kill -9` included, which runs no exit hook), sends each group still listed
 * SIGTERM, then SIGKILL a second later. Signals meant for the terminal's process group do not reach
 * it. It costs one process per CLI run that starts a child, and one short pipe write per child.
 * What it cannot cover: a kill in the moment between a child's spawn and its registration (the time
 * execa takes to return, milliseconds) leaves that child running.
 */
const REAPER = `
const groups = new Set();
let buffered = "";
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => {});
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buffered += d;
  for (let nl = buffered.indexOf("\\n"); nl !== -1; nl = buffered.indexOf("\\n")) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const pid = Number(line.slice(1));
    if (line[0] === "+") groups.add(pid); else groups.delete(pid);
  }
});
const kill = (signal) => { for (const pid of groups) { try { process.kill(-pid, signal); } catch {} } };
process.stdin.on("end", () => {
  if (groups.size === 0) process.exit(0);
  kill("SIGTERM");
  setTimeout(() => { kill("SIGKILL"); process.exit(0); }, 1000);
});
`;

let reaper: ChildProcess | undefined;

/**
 * Start the reaper if it is not running yet. Called before the first child is spawned, so that a
 * `kill -9` right after the spawn finds it there (started after the child, it could come too late).
 */
export function ensureReaper(): void {
  if (process.platform === "win32") return;
  if (reaper === undefined) {
    reaper = spawn(process.execPath, ["-e", REAPER], { stdio: ["pipe", "ignore", "ignore"], detached: true });
    reaper.on("error", () => undefined);
    reaper.stdin!.on("error", () => undefined);
    // Neither the process nor its pipe keeps this one alive.
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void }).unref?.();
  }
}

function tellReaper(line: string): void {
  if (process.platform === "win32") return;
  ensureReaper();
  const stdin = reaper!.stdin!;
  // Written synchronously to the pipe's fd: a stream write waits for the event loop, and a
  // `kill -9` before that turn would leave the reaper without the child's pid (seen in tests).
  // The stream (`_handle.fd`, node's pipe handle) takes over when that is not possible.
  const fd = (stdin as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd === "number" && fd >= 0 && stdin.writableLength === 0) {
    try {
      writeSync(fd, `${line}\n`);
      return;
    } catch {
      // EAGAIN (a full pipe) and the like: queue it on the stream instead.
    }
  }
  stdin.write(`${line}\n`);
}

/** True while any process of the group (or the process, on Windows) exists. */
export function isGroupAlive(pid: number): boolean {
  try {
    process.kill(process.platform === "win32" ? pid : -pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === "EPERM";
  }
}

/**
 * Send `signal` to the whole process tree led by `pid`. Returns false when nothing was left to
 * signal. On Windows (no process groups) `taskkill /T /F` ends the tree.
 */
export function killProcessTree(pid: number, signal: NodeJS.Signals = "SIGTERM"): boolean {
  if (process.platform === "win32") {
    const result = spawnSync("taskkill", ["/pid", String(pid), "/T", "/F"], { stdio: "ignore", windowsHide: true });
    return result.status === 0;
  }
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // The group is gone (ESRCH); fall back to the process itself in case it was not a group leader.
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** Signal every registered child process tree (synchronously). Returns how many were signalled. */
export function killAllChildren(signal: NodeJS.Signals = "SIGTERM"): number {
  let count = 0;
  for (const pid of [...groups]) {
    if (killProcessTree(pid, signal)) count += 1;
    if (signal === "SIGKILL") unregisterChild(pid);
  }
  return count;
}
