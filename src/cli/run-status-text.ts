import type { Style } from "../reporters/style.js";

/** How `runs` and `runs show` write a run's or a node's status. */
export function statusText(status: string | undefined, style: Style): string {
  const c = style.chalk;
  const s = style.symbols;
  switch (status) {
    case "succeeded":
      return c.green(`${s.succeeded} succeeded`);
    case "failed":
      return c.red(`${s.failed} failed`);
    case "cancelled":
      return c.yellow(`${s.cancelled} cancelled`);
    case "skipped":
      return c.dim(`${s.skipped} skipped`);
    case "running":
      return c.cyan(`${s.running} running`);
    case "abandoned":
      return c.red(`${s.failed} abandoned (its process is gone)`);
    case "interrupted":
      return c.red(`${s.failed} interrupted (started, never finished)`);
    default:
      return c.dim(status ?? "pending");
  }
}

/**
 * A loop-body node's iterations: `×3` when they all ended alike, else by status (`×3: 2 succeeded,
 * 1 failed`): the node's own status is its worst iteration's, and `failed ×3` read as three failures.
 */
export function iterationsText(iterations: Partial<Record<string, number>> | undefined, style: Style): string {
  const counts = Object.entries(iterations ?? {}).filter(([, n]) => (n ?? 0) > 0) as [string, number][];
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return "";
  return style.chalk.dim(counts.length === 1 ? ` ×${total}` : ` ×${total}: ${counts.map(([status, n]) => `${n} ${status}`).join(", ")}`);
}

/**
 * A node without a final status in a record: one that started (an attempt counted) is running, or,
 * in a run whose process is gone, was interrupted; one that did not start is pending.
 */
export function unfinishedStatus(runStatus: string, attempts: number | undefined): string | undefined {
  const started = (attempts ?? 0) > 0;
  if (runStatus === "abandoned") return started ? "interrupted" : "pending";
  if (runStatus === "running") return started ? "running" : "pending";
  return started ? "interrupted" : undefined;
}
