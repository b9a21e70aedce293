import type * as Listr2 from "listr2";
import type { Style } from "./style.js";
import { formatCount, truncate, visibleLength } from "./text.js";
import type { TtyModel } from "./tty-model.js";
import type { TtyView } from "./tty-listr.js";
import { renderCountsLine, renderRowIcon, renderRowText } from "./tty-rows.js";
import type { ReporterStream } from "./types.js";

/** Running rows shown in the collapsed view. */
export const MAX_RUNNING_ROWS = 10;
/** Most recent failed rows shown in the collapsed view. */
export const MAX_FAILED_ROWS = 5;

export interface CollapsedFrameContext {
  style: Style;
  now: number;
  columns: number;
  spinnerFrame: string;
}

/**
 * One frame of the collapsed view, at most 1 + 10 + 1 + 5 + 1 lines whatever the graph size:
 * ```
 * ⠋ big-graph  1,234/2,000 done · 8 running · 1 failed · 4.20s
 *   ⠋ n-1235 1.02s
 *   … 3 more running
 *   ✖ n-17 3ms E_NODE: boom
 * ```
 * Work is O(shown rows): the running set is iterated only up to the cap.
 */
export function renderCollapsedFrame(model: TtyModel, ctx: CollapsedFrameContext): string {
  const { style, now, columns } = ctx;
  const c = style.chalk;
  const ellipsis = style.unicode ? "…" : ".";
  // The run's own status decides (a run ended by its timeout or Ctrl-C may have no failed node);
  // without a run:finish (the view closed first) it did not succeed.
  const headIcon = !model.finished
    ? c.cyan(ctx.spinnerFrame)
    : model.status === "succeeded"
      ? c.green(style.symbols.succeeded)
      : model.status === "cancelled"
        ? c.yellow(style.symbols.cancelled)
        : c.red(style.symbols.failed);
  const lines = [truncate(`${headIcon} ${c.bold(model.name)}  ${renderCountsLine(model, style, now)}`, columns - 1, ellipsis)];
  const width = columns - 5;
  let shown = 0;
  for (const row of model.running) {
    if (shown === MAX_RUNNING_ROWS) break;
    const text = renderRowText(row, { style, now, width }, false);
    lines.push(`  ${renderRowIcon(row, ctx.spinnerFrame, style)} ${text}`);
    shown++;
  }
  if (model.running.size > shown) lines.push(c.dim(`  ${ellipsis} ${formatCount(model.running.size - shown)} more running`));
  const failed = model.failed;
  const firstFailed = Math.max(0, failed.length - MAX_FAILED_ROWS);
  if (firstFailed > 0) lines.push(c.dim(`  ${ellipsis} ${formatCount(firstFailed)} earlier failures`));
  for (let i = firstFailed; i < failed.length; i++) {
    const row = failed[i];
    if (row !== undefined) lines.push(`  ${renderRowIcon(row, ctx.spinnerFrame, style)} ${renderRowText(row, { style, now, width }, false)}`);
  }
  return lines.join("\n");
}

export interface CollapsedViewOptions {
  listr2: typeof Listr2;
  model: TtyModel;
  style: Style;
  stream: ReporterStream;
  /** The terminal's width now (read at every frame, so a resize takes effect). */
  columns: () => number;
  /** Milliseconds between frames (default 100: 10 fps). */
  frameMs?: number;
}

const ERASE_LINE_UP = "\u001b[1A\u001b[2K";
const CURSOR_COLUMN_0 = "\u001b[G";

/**
 * The terminal rows `lines` take at `width`. Each line was cut to fit the width it was drawn at, so
 * this is one row per line unless the terminal narrowed since: then a terminal that reflows (tmux,
 * VTE, iTerm2, Windows Terminal) wraps each line over several rows, and all of them are erased.
 */
function rowsAt(lines: readonly string[], width: number): number {
  let rows = 0;
  for (const line of lines) rows += Math.max(1, Math.ceil(visibleLength(line) / Math.max(1, width)));
  return rows;
}

/**
 * The live view for large graphs, drawn by us: listr2's task list is fixed at creation and its
 * redraw cost grows with the number of tasks (SPEC §7), so a 10k-node graph cannot be one task per
 * node, and the running/failed rows change all the time. A timer draws `renderCollapsedFrame` at
 * most every `frameMs`, erasing the previous frame (cursor up + erase line, like log-update);
 * events only update the model. listr2's `ProcessOutput` holds back other writes to the stream
 * while the frame is live and prints them after it, as the listr2 view does.
 */
export function startCollapsedView(options: CollapsedViewOptions): TtyView {
  const { model, style, columns } = options;
  const processOutput = new options.listr2.ProcessOutput(
    options.stream as NodeJS.WriteStream,
    options.stream as NodeJS.WriteStream,
    { leaveEmptyLine: false },
  );
  const maxLines = typeof options.stream.rows === "number" && options.stream.rows > 2 ? options.stream.rows - 1 : Infinity;
  let previousLines: string[] = [];
  let previous = "";
  let previousWidth = 0;
  let tick = 0;

  const draw = (): void => {
    const width = columns();
    const frame = renderCollapsedFrame(model, {
      style,
      now: model.now(),
      columns: width,
      spinnerFrame: style.spinner[tick % style.spinner.length] ?? "*",
    });
    const lines = frame.split("\n").slice(0, maxLines);
    const text = `${lines.join("\n")}\n`;
    if (text === previous && width === previousWidth) return;
    previous = text;
    previousWidth = width;
    processOutput.toStdout(`${ERASE_LINE_UP.repeat(rowsAt(previousLines, width))}${CURSOR_COLUMN_0}${text}`, false);
    previousLines = lines;
  };

  processOutput.hijack();
  draw();
  const timer = setInterval(() => {
    tick++;
    draw();
  }, options.frameMs ?? 100);
  timer.unref();

  return {
    stop: async () => {
      clearInterval(timer);
      model.finishAll(false);
      draw();
      processOutput.release();
    },
    suspend: async () => {
      clearInterval(timer);
      draw();
      processOutput.release();
    },
  };
}
