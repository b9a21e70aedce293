import type { RunEvent } from "../events/event-map.js";
import { detectTerminal } from "./detect-terminal.js";
import { guard } from "./guard.js";
import { renderSummary, summaryFromStats } from "./render-summary.js";
import { RunStats } from "./run-stats.js";
import { createStyle } from "./style.js";
import { startCollapsedView } from "./tty-collapsed.js";
import { startListrView, type TtyView } from "./tty-listr.js";
import { TtyModel } from "./tty-model.js";
import { report, type Reporter, type ReporterOptions } from "./types.js";

/** Above this many nodes the live view collapses to running + failed rows and a counts line. */
export const COLLAPSE_ABOVE = 30;

export interface TtyReporterOptions extends ReporterOptions {
  /** Node count above which the collapsed view is used (default `COLLAPSE_ABOVE`). */
  collapseAbove?: number;
  /** Collapsed view: milliseconds between frames (default 100). */
  frameMs?: number;
}

/**
 * The live view for an interactive terminal, on stderr (needs a TTY; `createReporter` falls back
 * to `plain` otherwise). Up to 30 nodes: a listr2 tree, one row per node with spinner, ✔/✖/↓,
 * durations, `retry 2/3`, the latest log line of running nodes, and loop-body nodes as one row
 * counting iterations (`12/40` when the loop reports its total in a progress message).
 * Larger graphs: a collapsed frame of at most 10 running and 5 failed rows under a counts line
 * (`1,234/2,000 done · 8 running · 0 failed`). Events cost O(1); frames are drawn at ≤ 10 fps.
 * `close()` stops the view and prints failures (code, message, hint), the 5 slowest nodes and
 * the summary line. listr2 is imported here, lazily, so other commands never load it.
 *
 * @example
 * const reporter = await createTtyReporter({ stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function createTtyReporter(options: TtyReporterOptions): Promise<Reporter> {
  const listr2 = await import("listr2");
  const terminal = detectTerminal({ stream: options.stderr, env: options.env });
  const style = createStyle(terminal, options.color);
  const stream = options.stderr;
  const collapseAbove = options.collapseAbove ?? COLLAPSE_ABOVE;
  const stats = new RunStats(options.predecessors);
  const model = new TtyModel();
  let view: TtyView | undefined;
  let closed = false;
  let paused = false;

  const startView = (): TtyView => {
    // Read at every frame: a terminal resized mid-run is drawn at its new width.
    const columns = () => (typeof stream.columns === "number" && stream.columns > 0 ? stream.columns : terminal.columns);
    const common = { listr2, model, style, stream, columns };
    if (model.rows.size > collapseAbove) {
      return startCollapsedView(options.frameMs === undefined ? common : { ...common, frameMs: options.frameMs });
    }
    return startListrView(common);
  };

  return {
    onEvent: guard(stream, (event: RunEvent) => {
      if (closed || !stats.add(event)) return;
      report(model, event);
      if (event.type === "run:start" && view === undefined && !paused) view = startView();
    }),
    pause: async () => {
      if (paused || closed) return;
      paused = true;
      const live = view;
      view = undefined;
      if (live !== undefined) await live.suspend();
    },
    resume: () => {
      if (!paused) return;
      paused = false;
      if (!closed && stats.runId !== undefined) view = startView();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (view !== undefined) await view.stop();
      if (stats.runId === undefined) return;
      const summary = renderSummary(summaryFromStats(stats, model.now()), style, { symbol: true, slowest: true, failures: true, width: terminal.columns });
      stream.write(`\n${summary}\n`);
    },
  };
}
