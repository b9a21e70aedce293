import { platform as osPlatform } from "node:os";

export type ColorLevel = 0 | 1 | 2 | 3;

export interface DetectTerminalOptions {
  stream: { isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  /** Defaults to `os.platform()`; only Windows changes the unicode decision. */
  platform?: NodeJS.Platform;
}

export interface TerminalInfo {
  /** A human is watching: TTY, not CI, not `TERM=dumb`. Live renderers need this. */
  interactive: boolean;
  color: boolean;
  /** chalk level: 0 when `color` is false. */
  colorLevel: ColorLevel;
  unicode: boolean;
  columns: number;
}

/**
 * The one place that decides how to write to a stream (STYLE "Terminal output").
 * - interactive: `stream.isTTY`, `CI` unset (or "false"/"0") and `TERM` is not "dumb".
 * - color: `NO_COLOR` (non-empty) → off; else `FORCE_COLOR` ("0"/"false" → off, else on,
 *   "2"/"3" pick the level); else on for a TTY whose `TERM` is not "dumb".
 * - unicode: the logic of `is-unicode-supported`, plus an explicit non-UTF-8 locale → ASCII.
 *
 * @example
 * const term = detectTerminal({ stream: process.stderr, env: process.env });
 */
export function detectTerminal({ stream, env, platform = osPlatform() }: DetectTerminalOptions): TerminalInfo {
  const tty = stream.isTTY === true;
  const dumb = env.TERM === "dumb";
  const colorLevel = detectColorLevel(tty && !dumb, env);
  return {
    interactive: tty && !isCI(env) && !dumb,
    color: colorLevel > 0,
    colorLevel,
    unicode: isUnicodeSupported(env, platform),
    columns: detectColumns(stream, env),
  };
}

/** `CI` set to anything but "", "false" or "0". */
export function isCI(env: Record<string, string | undefined>): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
}

function detectColorLevel(ttyCapable: boolean, env: Record<string, string | undefined>): ColorLevel {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === "0" || force === "false") return 0;
    const n = Number.parseInt(force, 10);
    if (n === 2 || n === 3) return n;
    return Math.max(1, ttyCapable ? naturalLevel(env) : 1) as ColorLevel;
  }
  return ttyCapable ? naturalLevel(env) : 0;
}

function naturalLevel(env: Record<string, string | undefined>): ColorLevel {
  if (env.COLORTERM === "truecolor" || env.COLORTERM === "24bit") return 3;
  if (env.TERM !== undefined && /-256(color)?$/i.test(env.TERM)) return 2;
  return 1;
}

/** `is-unicode-supported`, plus: an explicit locale without UTF-8 (`LANG=C`) means ASCII. */
function isUnicodeSupported(env: Record<string, string | undefined>, platform: NodeJS.Platform): boolean {
  const { TERM, TERM_PROGRAM } = env;
  if (platform !== "win32") {
    if (TERM === "linux" || TERM === "dumb") return false;
    const locale = env.LC_ALL || env.LC_CTYPE || env.LANG;
    return locale === undefined || locale === "" || /utf-?8/i.test(locale);
  }
  return (
    Boolean(env.WT_SESSION) ||
    Boolean(env.TERMINUS_SUBLIME) ||
    env.ConEmuTask === "{cmd::Cmder}" ||
    TERM_PROGRAM === "Terminus-Sublime" ||
    TERM_PROGRAM === "vscode" ||
    TERM === "xterm-256color" ||
    TERM === "alacritty" ||
    TERM === "rxvt-unicode" ||
    TERM === "rxvt-unicode-256color" ||
    env.TERMINAL_EMULATOR === "JetBrains-JediTerm"
  );
}

function detectColumns(stream: { columns?: number }, env: Record<string, string | undefined>): number {
  if (typeof stream.columns === "number" && stream.columns > 0) return stream.columns;
  const fromEnv = Number.parseInt(env.COLUMNS ?? "", 10);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}
