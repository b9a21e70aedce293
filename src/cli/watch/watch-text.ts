import path from "node:path";
import type { Style } from "../../reporters/style.js";
import type { RunTrigger } from "./watch-session.js";

export interface WatchTextOptions {
  /** A person is watching (TTY): short styled lines. Otherwise one `[watch] …` line per event. */
  interactive: boolean;
  /** Keypresses work (stdin is a TTY in raw mode). */
  keys: boolean;
  style: Style;
  cwd: string;
}

/** The lines watch mode prints, TTY or plain. Each `render*` returns a line with its newline. */
export interface WatchText {
  renderStart(files: readonly string[]): string;
  renderRunStart(trigger: RunTrigger): string;
  renderCancel(trigger: RunTrigger): string;
  renderRunEnd(code: number, watched: number): string;
  renderWatchChange(added: readonly string[], removed: readonly string[]): string;
  renderStop(code: number): string;
}

const OUTCOME: Readonly<Record<number, string>> = { 0: "run succeeded", 1: "run failed", 2: "not run: see the errors above", 130: "run cancelled" };

/** Build the watch-mode texts for a stream's style. */
export function createWatchText(options: WatchTextOptions): WatchText {
  const { style, interactive } = options;
  const c = style.chalk;
  const show = (file: string): string => {
    const rel = path.relative(options.cwd, file);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
  };
  const list = (files: readonly string[], max = 5): string =>
    files.length <= max ? files.map(show).join(", ") : `${files.slice(0, max).map(show).join(", ")} and ${files.length - max} more`;
  const why = (trigger: RunTrigger): string => (trigger.kind === "change" ? `change: ${list(trigger.files, 3)}` : trigger.kind === "key" ? "r pressed" : "start");
  const plural = (n: number): string => `${n} file${n === 1 ? "" : "s"}`;
  const quitHelp = options.keys ? "press q to quit, r to re-run" : "press Ctrl-C to quit";

  if (!interactive) {
    return {
      renderStart: (files) => `[watch] watching ${plural(files.length)}: ${list(files, 8)}\n`,
      renderRunStart: (trigger) => (trigger.kind === "initial" ? "" : `[watch] ${why(trigger)} → re-running\n`),
      renderCancel: (trigger) => `[watch] ${why(trigger)} → cancelling the run in flight\n`,
      renderRunEnd: (code, watched) => `[watch] ${OUTCOME[code] ?? "run ended"} (exit ${code}); watching ${plural(watched)} for changes\n`,
      renderWatchChange: (added, removed) =>
        `${added.length > 0 ? `[watch] now watching ${list(added, 8)}\n` : ""}${removed.length > 0 ? `[watch] no longer watching ${list(removed, 8)}\n` : ""}`,
      renderStop: (code) => `[watch] stopped${code === 130 ? " (a run was interrupted)" : ""}\n`,
    };
  }
  const arrow = style.unicode ? "↻" : ">";
  return {
    renderStart: () => "",
    renderRunStart: (trigger) => (trigger.kind === "initial" ? "" : `\n${c.cyan(arrow)} ${c.bold(why(trigger))} ${c.dim(style.dash)} re-running\n`),
    renderCancel: (trigger) => `${c.yellow(style.symbols.cancelled)} ${why(trigger)} ${c.dim(style.dash)} cancelling the run in flight\n`,
    renderRunEnd: (_code, watched) => `\n${c.cyan.bold("watching")} ${c.bold(plural(watched))} ${c.dim(style.dash)} ${c.dim(quitHelp)}\n`,
    renderWatchChange: (added, removed) =>
      `${added.length > 0 ? c.dim(`+ watching ${list(added)}\n`) : ""}${removed.length > 0 ? c.dim(`- not watching ${list(removed)}\n`) : ""}`,
    renderStop: () => c.dim("stopped watching\n"),
  };
}
