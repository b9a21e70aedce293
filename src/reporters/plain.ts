import { detectTerminal } from "./detect-terminal.js";
import { guard } from "./guard.js";
import { PlainLines } from "./plain-lines.js";
import { renderSummary, summaryFromStats } from "./render-summary.js";
import { RunStats } from "./run-stats.js";
import { createStyle } from "./style.js";
import type { Reporter, ReporterOptions } from "./types.js";

/**
 * One timestamped line per event on stderr, for CI logs and pipes (no TTY needed).
 * Lines: `[  0.012s] fetch                 started` / `succeeded 12ms` / `failed 3ms E_CODE: message`
 * / `retry 2/3 in 500ms: E_CODE: message` / `| <log line>` (`warn: `/`error: ` prefixed) /
 * `skipped: <reason>`. Debug logs and progress (one line per 25% step) only with `verbose`.
 * Ends with the failures (code, message, hint) and `run succeeded in 1.23s — 4 succeeded, …`.
 *
 * @example
 * const reporter = createPlainReporter({ stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export function createPlainReporter(options: ReporterOptions): Reporter {
  const verbose = options.verbose === true;
  const terminal = detectTerminal({ stream: options.stderr, env: options.env });
  const style = createStyle(terminal, options.color);
  // On a terminal, long node ids in the summary are cut to its width (as `atomiton runs` does); in a pipe or a log, never.
  const summaryOptions = { slowest: verbose, failures: true, ...(options.stderr.isTTY ? { width: terminal.columns } : {}) };
  const stats = new RunStats(options.predecessors);
  const lines = new PlainLines(stats, style);
  const out = options.stderr;
  let closed = false;
  // While the debugger's prompt is open (`pause`), lines wait here: written, they would land in the
  // line being typed. They follow, in order, when the run goes on.
  let held: string[] | undefined;
  const write = (text: string | undefined): void => {
    if (text === undefined) return;
    if (held !== undefined) held.push(text);
    else out.write(`${text}\n`);
  };
  const release = (): void => {
    const lines = held;
    held = undefined;
    if (lines !== undefined && lines.length > 0) out.write(`${lines.join("\n")}\n`);
  };

  return {
    ...lines.sharedHooks(out, write, verbose),
    onNodeLog: guard(out, (event) => {
      for (const line of lines.nodeLog(event, verbose)) write(line);
    }),
    onNodeFinish: guard(out, (event) => write(lines.nodeFinish(event))),
    onRunFinish: guard(out, (event) => {
      // Another run's run:finish (RunStats keeps only this run's) prints nothing.
      if (stats.finish === event) write(renderSummary(summaryFromStats(stats, event.ts), style, summaryOptions));
    }),
    pause: async () => {
      if (!closed) held ??= [];
    },
    resume: release,
    close: async () => {
      release();
      // A run that ended without run:finish (the CLI closed early) still gets its summary.
      if (stats.isUnfinished() && !closed) write(renderSummary(summaryFromStats(stats, stats.lastTs ?? 0), style, summaryOptions));
      closed = true;
    },
  };
}
