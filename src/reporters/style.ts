import { Chalk, type ChalkInstance } from "chalk";
import type { TerminalInfo } from "./detect-terminal.js";

/** The status symbols, one character each so columns stay aligned. */
export interface Symbols {
  succeeded: string;
  failed: string;
  skipped: string;
  cancelled: string;
  warning: string;
  running: string;
  pending: string;
  pointer: string;
}

const UNICODE_SYMBOLS: Symbols = {
  succeeded: "✔",
  failed: "✖",
  skipped: "↓",
  cancelled: "◼",
  warning: "⚠",
  running: "●",
  pending: "◻",
  pointer: "›",
};

// Plain ASCII, not figures' "√ × ‼" fallbacks: a `LANG=C` terminal garbles any byte above 127.
const ASCII_SYMBOLS: Symbols = {
  succeeded: "+",
  failed: "x",
  skipped: "-",
  cancelled: "~",
  warning: "!",
  running: "*",
  pending: ".",
  pointer: ">",
};

const UNICODE_SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const ASCII_SPINNER = ["-", "\\", "|", "/"];

export interface Style {
  /** A private chalk instance at the level this stream allows; never the global `chalk`. */
  chalk: ChalkInstance;
  color: boolean;
  unicode: boolean;
  symbols: Symbols;
  spinner: readonly string[];
  /** "—" or "-". */
  dash: string;
  /** "·" or "|". */
  dot: string;
}

/** Colours and symbols for one stream; `color` (from `--no-color`) overrides the detection. */
export function createStyle(terminal: TerminalInfo, color?: boolean): Style {
  const level = color === false ? 0 : color === true ? Math.max(1, terminal.colorLevel) : terminal.colorLevel;
  const unicode = terminal.unicode;
  return {
    chalk: new Chalk({ level: level as 0 | 1 | 2 | 3 }),
    color: level > 0,
    unicode,
    symbols: unicode ? UNICODE_SYMBOLS : ASCII_SYMBOLS,
    spinner: unicode ? UNICODE_SPINNER : ASCII_SPINNER,
    dash: unicode ? "—" : "-",
    dot: unicode ? "·" : "|",
  };
}
