import { readFileSync } from "node:fs";

/** A process with this pid exists on this machine (EPERM: it does, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * When the process `pid` started, as a mark that no later process with the same pid shares: on
 * Linux the boot id and the start time in clock ticks (`/proc/<pid>/stat`, field 22); undefined
 * where that cannot be read (other systems, no /proc).
 */
export function processStartMark(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return start && /^\d+$/.test(start) ? `${boot}:${start}` : undefined;
  } catch {
    return undefined;
  }
}

let own: { mark: string | undefined } | undefined;

/** This process's `processStartMark`, read once (two reads of /proc), when first asked for. */
export function ownStartMark(): string | undefined {
  return (own ??= { mark: processStartMark(process.pid) }).mark;
}

/**
 * The process that wrote `startMark` (from `processStartMark`) still runs as `pid`. Pids are reused:
 * in a container the same command gets the same small pid after every restart, and after a reboot
 * any process may hold an old one, so an alive pid alone does not say the writer is still there.
 * Without a mark (older records, other systems) an alive pid is taken as the writer.
 */
export function isSameProcess(pid: number, startMark: string | undefined): boolean {
  if (!isProcessAlive(pid)) return false;
  if (startMark === undefined) return true;
  const now = processStartMark(pid);
  return now === undefined || now === startMark;
}
