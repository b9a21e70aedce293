import { setTimeout as sleep } from "node:timers/promises";
import { activeChildren, isGroupAlive, killProcessTree, unregisterChild } from "../../nodes/builtin/process-registry.js";
import { KILL_GRACE_MS } from "../../nodes/builtin/run-process.js";

export interface ReapOptions {
  /** How long process groups get to exit after SIGTERM before SIGKILL (default: the shell node's grace). */
  graceMs?: number;
  /** How often to look (default 25 ms). */
  intervalMs?: number;
}

/**
 * Make sure no child process group started by a run survives it: SIGTERM what is still
 * registered, wait up to `graceMs` for the groups to go, SIGKILL the rest. Resolves with the
 * number of groups that had to be killed. Polls only while something is alive.
 */
export async function reapChildren(options: ReapOptions = {}): Promise<number> {
  const alive = () => [...activeChildren].filter((pid) => isGroupAlive(pid));
  let left = alive();
  for (const pid of [...activeChildren]) if (!left.includes(pid)) unregisterChild(pid);
  if (left.length === 0) return 0;
  for (const pid of left) killProcessTree(pid, "SIGTERM");
  const deadline = performance.now() + (options.graceMs ?? KILL_GRACE_MS);
  while (left.length > 0 && performance.now() < deadline) {
    await sleep(options.intervalMs ?? 25);
    left = left.filter((pid) => isGroupAlive(pid));
  }
  const killed = left.length;
  for (const pid of left) killProcessTree(pid, "SIGKILL");
  // SIGKILL cannot be ignored, but the kernel takes a moment; wait so the next run starts clean.
  for (let i = 0; i < 40 && left.length > 0; i++) {
    await sleep(options.intervalMs ?? 25);
    left = left.filter((pid) => isGroupAlive(pid));
  }
  for (const pid of [...activeChildren]) if (!isGroupAlive(pid)) unregisterChild(pid);
  return killed;
}
