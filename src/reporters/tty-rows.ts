import { errorText } from "./event-text.js";
import { formatDuration } from "./format-duration.js";
import type { Style } from "./style.js";
import { formatCount, truncate } from "./text.js";
import { RowState, type Row, type TtyModel } from "./tty-model.js";

export interface RowRenderContext {
  style: Style;
  /** Epoch ms "now", for the elapsed time of running rows. */
  now: number;
  /** Visible characters available for the text (after indentation and icon). */
  width: number;
}

/** The row's status symbol; running rows show the current spinner frame. */
export function renderRowIcon(row: Row, spinnerFrame: string, style: Style): string {
  const { chalk: c, symbols } = style;
  switch (row.state) {
    case RowState.pending:
      return c.dim(symbols.pending);
    case RowState.running:
      return row.retry === undefined ? c.cyan(spinnerFrame) : c.yellow(spinnerFrame);
    case RowState.succeeded:
      return c.green(symbols.succeeded);
    case RowState.failed:
      return c.red(symbols.failed);
    case RowState.skipped:
      return c.yellow(symbols.skipped);
    case RowState.cancelled:
      return c.yellow(symbols.cancelled);
  }
}

/**
 * `fetch 1.2s retry 2/3` (+ a second line `› <latest log line>` while running, when `withLog`),
 * `body 12/40 1 failed`, `fetch 12ms`, `fetch 3ms E_HTTP_STATUS: 404 Not Found`, `write skipped: …`.
 * Every line is cut to `ctx.width`.
 */
export function renderRowText(row: Row, ctx: RowRenderContext, withLog: boolean): string {
  const { chalk: c, symbols } = ctx.style;
  const parts: string[] = [row.state === RowState.pending ? c.dim(row.id) : row.id];
  if (row.info.name !== undefined && row.info.name !== row.id) parts.push(c.dim(row.info.name));
  const iterations = iterationText(row, ctx.style);
  switch (row.state) {
    case RowState.pending:
      break;
    case RowState.running: {
      parts.push(c.dim(formatDuration(ctx.now - (row.startTs ?? ctx.now))));
      if (iterations !== "") parts.push(iterations);
      const progress = progressText(row);
      if (progress !== "") parts.push(c.cyan(progress));
      if (row.retry !== undefined) {
        const max = row.retry.max === undefined ? "" : `/${row.retry.max}`;
        parts.push(c.yellow(`retry ${row.retry.attempt}${max}${row.retry.after === "" ? "" : ` after ${row.retry.after}`}`));
      }
      break;
    }
    case RowState.succeeded:
      parts.push(c.dim(formatDuration(row.durationMs ?? 0)));
      if (iterations !== "") parts.push(iterations);
      if (row.children.length > 0 && row.progress?.message) parts.push(c.dim(row.progress.message));
      if (row.attempt > 1) parts.push(c.yellow(`after ${row.attempt} attempts`));
      if (row.reason !== undefined) parts.push(c.dim(row.reason)); // "reused from run …" (--resume)
      break;
    case RowState.failed:
      parts.push(c.dim(formatDuration(row.durationMs ?? 0)));
      if (iterations !== "") parts.push(iterations);
      if (row.children.length > 0 && row.progress?.message) parts.push(c.dim(row.progress.message));
      if (row.error !== undefined) parts.push(c.red(errorText(row.error)));
      break;
    case RowState.skipped:
    case RowState.cancelled:
      if (iterations !== "") parts.push(iterations);
      parts.push(c.dim(row.reason === undefined ? row.state : `${row.state}: ${row.reason}`));
      break;
  }
  const ellipsis = ctx.style.unicode ? "…" : ".";
  const first = truncate(parts.join(" "), ctx.width, ellipsis);
  if (!withLog || row.state !== RowState.running || row.lastLog === undefined || row.lastLog.text === "") return first;
  const { level, text } = row.lastLog;
  const paint = level === "error" ? c.red : level === "warn" ? c.yellow : c.dim;
  return `${first}\n${truncate(paint(`${symbols.pointer} ${text}`), ctx.width, ellipsis)}`;
}

/**
 * The collapsed view's header: `1,234/2,000 done · 8 running · 0 failed · 12.3s`
 * (`· 7 cancelled` when nodes were cancelled, which do not count as done; `· 40 iterations` when
 * loop bodies ran).
 */
export function renderCountsLine(model: TtyModel, style: Style, now: number): string {
  const c = style.chalk;
  const sep = c.dim(` ${style.dot} `);
  const parts = [
    `${formatCount(model.done)}/${formatCount(model.rows.size)} done`,
    `${formatCount(model.running.size)} running`,
    model.failed.length > 0 ? c.red(`${formatCount(model.failed.length)} failed`) : `0 failed`,
  ];
  if (model.cancelled > 0) parts.push(c.yellow(`${formatCount(model.cancelled)} cancelled`));
  if (model.iterations > 0) parts.push(`${formatCount(model.iterations)} iterations`);
  parts.push(c.dim(formatDuration(now - (model.startTs ?? now))));
  return parts.join(sep);
}

function iterationText(row: Row, style: Style): string {
  if (row.parent === undefined || (row.iterDone === 0 && row.iterRunning === 0)) return "";
  const total = row.parent.iterTotal;
  const count = total === undefined ? `${formatCount(row.iterDone)} done` : `${formatCount(row.iterDone)}/${formatCount(total)}`;
  const failed = row.iterFailed > 0 ? ` ${style.chalk.red(`${formatCount(row.iterFailed)} failed`)}` : "";
  return `${style.chalk.cyan(count)}${failed}`;
}

function progressText(row: Row): string {
  const p = row.progress;
  if (p === undefined) return "";
  const pct = `${Math.round(Math.min(1, Math.max(0, p.value)) * 100)}%`;
  return p.message === undefined || p.message === "" ? pct : `${pct} ${p.message}`;
}
