import { spawnSync } from "node:child_process";

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
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => killAllChildren("SIGKILL"));
  }
}

export function unregisterChild(pid: number): void {
  groups.delete(pid);
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
    if (signal === "SIGKILL") groups.delete(pid);
  }
  return count;
}
