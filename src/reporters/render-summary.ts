import type { RunStatus, StatusCounts } from "../events/event-map.js";
import type { SerializedError } from "../errors.js";
import type { CriticalPath } from "./critical-path.js";
import { errorDetailLines, errorText } from "./event-text.js";
import { formatDuration } from "./format-duration.js";
import type { NodeFailure, RunStats, TimedNode } from "./run-stats.js";
import type { Style } from "./style.js";
import { truncate } from "../terminal-width.js";

export interface SummaryInput {
  /** Undefined when the reporter closed before run:finish. */
  status: RunStatus | undefined;
  durationMs: number;
  counts: StatusCounts;
  /** Loop iterations that ran (each counted once, whatever its number of body nodes). */
  iterations: number;
  failures: readonly NodeFailure[];
  /** All failures, including those not kept in `failures`. */
  failureCount: number;
  /** Failures by the node's `onError` (all of them, kept in `failures` or not). */
  failureKinds?: { fail: number; continue: number; route: number };
  /** Top-level nodes reused from an earlier run (`--resume`; counted in `counts.succeeded`). */
  reused?: number;
  /** Top-level failed nodes the run went past (counted in `counts.failed`). */
  wentOn?: { continue: number; route: number };
  slowest: readonly TimedNode[];
  /** The run's own error (run timeout, cancellation) when no node carries it. */
  runError?: SerializedError;
  /**
   * The chain of top-level nodes that decided the run's length (inferred from plan levels and
   * times); found when asked, as it sorts the nodes and most summaries do not show it.
   */
  criticalPath?: () => CriticalPath | undefined;
}

export interface RenderSummaryOptions {
  /** Prefix the last line with the run's status symbol. */
  symbol?: boolean;
  /** List the slowest nodes (tty: yes; plain and github: with `--verbose`). */
  slowest?: boolean;
  /** Name the critical path and its share of the run (default true; every reporter with a summary). */
  criticalPath?: boolean;
  /** List failed nodes with code, message and hint. */
  failures?: boolean;
  /** How many failures to list (default 10). */
  maxFailures?: number;
  /**
   * The terminal's columns: a long node id in the failures and the slowest nodes is cut (with an
   * ellipsis) so that it fits, as `atomiton runs` cuts names. Unset (not a terminal): never cut.
   */
  width?: number;
}

/** The input for `renderSummary` from the stats a reporter collected. */
export function summaryFromStats(stats: RunStats, nowTs: number): SummaryInput {
  const finish = stats.finish;
  const input: SummaryInput = {
    status: finish?.status,
    durationMs: finish?.durationMs ?? stats.elapsed(nowTs),
    counts: stats.finalCounts(),
    iterations: stats.iterations,
    failures: stats.failures,
    failureCount: stats.failureCount,
    failureKinds: stats.failureKinds,
    wentOn: stats.wentOn,
    reused: stats.reused,
    slowest: stats.slowest,
  };
  if (finish?.error !== undefined) input.runError = finish.error;
  input.criticalPath = () => stats.paths.criticalPath();
  return input;
}

/** `run succeeded in 1.23s — 4 succeeded, 0 failed, 1 skipped` (`, 2 cancelled` when any). */
export function renderSummaryLine(input: SummaryInput, style: Style): string {
  const c = style.chalk;
  const { counts } = input;
  const parts = [
    `${counts.succeeded} succeeded${input.reused ? ` (${input.reused} reused)` : ""}`,
    counts.failed > 0 ? c.red(`${counts.failed} failed`) + wentOnText(input.wentOn) : `${counts.failed} failed`,
    `${counts.skipped} skipped`,
  ];
  if (counts.cancelled > 0) parts.push(c.yellow(`${counts.cancelled} cancelled`));
  if (input.iterations > 0) parts.push(`${input.iterations} iterations`);
  // Without run:finish the run did not end here (a killed process, a replay of an abandoned run).
  const head = input.status === undefined ? `run did not finish (last event at ${formatDuration(input.durationMs)})` : `run ${colorStatus(input.status, style)} in ${formatDuration(input.durationMs)}`;
  return `${head} ${style.dash} ${parts.join(", ")}`;
}

/**
 * The end-of-run block: failures (code, message, hint), the slowest nodes, then the summary line.
 *
 * @example
 * renderSummary(summaryFromStats(stats, Date.now()), style, { symbol: true, slowest: true, failures: true });
 */
export function renderSummary(input: SummaryInput, style: Style, options: RenderSummaryOptions = {}): string {
  const c = style.chalk;
  const lines: string[] = [];
  if (options.failures !== false && input.failureCount > 0) {
    const kinds = input.failureKinds ?? { fail: input.failureCount, continue: 0, route: 0 };
    for (const kind of ["fail", "continue", "route"] as const) {
      if (kinds[kind] === 0) continue;
      const failures = input.failures.filter((f) => (f.onError ?? "fail") === kind);
      const max = options.maxFailures ?? 10;
      lines.push(kind === "fail" ? c.red.bold(`Failed (${kinds.fail}):`) : c.yellow.bold(FAILURE_HEADINGS[kind](kinds[kind], style.dash)));
      for (const failure of failures.slice(0, max)) {
        const color = kind === "fail" ? c.red : c.yellow;
        // The label (and the error's code after it) stay on the first line; the message may wrap.
        const label = options.width === undefined ? failure.label : truncate(failure.label, Math.max(8, options.width - 6 - failure.error.code.length), style.unicode ? "…" : "...");
        lines.push(`  ${color(style.symbols.failed)} ${c.bold(label)} ${color(errorText(failure.error))}`);
        // The lines a message announces (a command's last stderr lines), as written.
        for (const detail of errorDetailLines(failure.error)) lines.push(`      ${c.dim("|")} ${detail}`);
        if (failure.error.hint) lines.push(`      ${c.dim(`hint: ${failure.error.hint}`)}`);
      }
      const hidden = kinds[kind] - Math.min(max, failures.length);
      if (hidden > 0) lines.push(c.dim(`  and ${hidden} more`));
    }
  }
  if (input.runError !== undefined && input.failureCount === 0 && input.status !== "succeeded") {
    lines.push(`${c.red(style.symbols.failed)} ${c.red(errorText(input.runError))}`);
  }
  if (options.slowest && input.slowest.length > 0) {
    const list = input.slowest.map((n) => `${slowestId(n, input.slowest.length, style, options.width)} ${c.dim(formatDuration(n.durationMs))}`);
    lines.push(`${c.dim("Slowest:")} ${list.join(c.dim(` ${style.dot} `))}`);
  }
  const path = options.criticalPath === false ? undefined : input.criticalPath?.();
  if (path !== undefined && path.nodes.length >= 2) lines.push(renderCriticalPathLine(path, input.durationMs, style));
  const line = renderSummaryLine(input, style);
  lines.push(options.symbol ? `${statusSymbol(input.status, style)} ${line}` : line);
  return lines.join("\n");
}

/** A slowest node's id, cut so that the `Slowest:` line fits `width`: each entry gets an equal share. */
function slowestId(node: TimedNode, count: number, style: Style, width: number | undefined): string {
  if (width === undefined) return node.nodeId;
  const share = Math.floor((width - "Slowest: ".length - 3 * (count - 1)) / count);
  return truncate(node.nodeId, Math.max(8, share - 1 - formatDuration(node.durationMs).length), style.unicode ? "…" : "...");
}

const PATH_HEAD = 3;
const PATH_TAIL = 2;

/**
 * `Critical path: a → b → c 1.20s of 1.50s (80%)`: the nodes whose wall time added up to the run's
 * length (a long path keeps its first and last nodes and the count).
 */
export function renderCriticalPathLine(path: CriticalPath, runMs: number, style: Style): string {
  const c = style.chalk;
  const arrow = style.unicode ? " → " : " -> ";
  const ids = path.nodes;
  const shown = ids.length <= PATH_HEAD + PATH_TAIL + 1 ? ids : [...ids.slice(0, PATH_HEAD), style.unicode ? "…" : "...", ...ids.slice(-PATH_TAIL)];
  const count = shown.length < ids.length ? ` (${ids.length} nodes)` : "";
  const share = runMs > 0 ? ` (${Math.min(100, Math.round((path.busyMs / runMs) * 100))}%)` : "";
  return `${c.dim("Critical path:")} ${shown.join(c.dim(arrow))}${count} ${c.dim(`${formatDuration(path.busyMs)} of ${formatDuration(runMs)}${share}`)}`;
}

const FAILURE_HEADINGS = {
  continue: (n: number, dash: string) => `Failed, run went on (${n}) ${dash} onError: continue passed null on:`,
  route: (n: number, dash: string) => `Failed, routed (${n}) ${dash} onError: route sent the error to the error port:`,
};

/** ` (1 continued)`, ` (1 continued, 2 routed)`, or nothing. */
function wentOnText(wentOn: SummaryInput["wentOn"]): string {
  if (wentOn === undefined) return "";
  const parts = [wentOn.continue > 0 ? `${wentOn.continue} continued` : "", wentOn.route > 0 ? `${wentOn.route} routed` : ""].filter(Boolean);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

function colorStatus(status: RunStatus, style: Style): string {
  const c = style.chalk;
  if (status === "succeeded") return c.green(status);
  if (status === "failed") return c.red(status);
  return c.yellow(status);
}

function statusSymbol(status: RunStatus | undefined, style: Style): string {
  const { chalk: c, symbols } = style;
  if (status === "succeeded") return c.green(symbols.succeeded);
  if (status === "failed") return c.red(symbols.failed);
  return c.yellow(symbols.cancelled);
}
