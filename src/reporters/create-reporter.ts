import { detectTerminal } from "./detect-terminal.js";
import { createGithubReporter, isGitHubActions } from "./github.js";
import { createJsonReporter } from "./json.js";
import { createJunitReporter } from "./junit.js";
import { createPlainReporter } from "./plain.js";
import { createSilentReporter } from "./silent.js";
import { withTerminalSafeText } from "./terminal-safe.js";
import type { Reporter, ReporterOptions } from "./types.js";
import { AtomitonError, ErrorCode } from "../errors.js";

/** A reporter by name: how to make it, and whether it needs an interactive terminal. */
export interface ReporterEntry {
  /** Needs an interactive stderr; without one `plain` stands in (as listr2's `getRenderer` falls back). */
  interactive: boolean;
  create(options: ReporterOptions): Reporter | Promise<Reporter>;
}

/**
 * The one registry of reporters (vitest's `ReportersMap` is the model): `--reporter` names, their
 * order in help texts, and what each one makes all come from here. `auto` is not a reporter but a
 * choice among them (`resolveReporterName`).
 */
export const ReportersMap = {
  tty: { interactive: true, create: async (options) => withTerminalSafeText(await (await import("./tty.js")).createTtyReporter(options)) },
  plain: { interactive: false, create: (options) => withTerminalSafeText(createPlainReporter(options)) },
  json: { interactive: false, create: createJsonReporter },
  junit: { interactive: false, create: createJunitReporter },
  github: { interactive: false, create: (options) => withTerminalSafeText(createGithubReporter(options)) },
  silent: { interactive: false, create: createSilentReporter },
} as const satisfies Record<string, ReporterEntry>;

export type ReporterName = "auto" | keyof typeof ReportersMap;

export const REPORTER_NAMES: readonly ReporterName[] = ["auto", ...(Object.keys(ReportersMap) as (keyof typeof ReportersMap)[])];

export function isReporterName(name: string): name is ReporterName {
  return (REPORTER_NAMES as readonly string[]).includes(name);
}

/** A `--reporter` value as a reporter name, or the usage error every command gives for an unknown one. */
export function parseReporterName(name: string): ReporterName {
  if (isReporterName(name)) return name;
  throw new AtomitonError(ErrorCode.USAGE, `unknown reporter "${name}"`, { retryable: false, hint: `use one of ${REPORTER_NAMES.join(", ")}` });
}

/**
 * The reporter to use for a run. `auto`: `github` when `GITHUB_ACTIONS=true`, else `tty` when
 * stderr is interactive (`detectTerminal`), else `plain`. `tty` on a non-interactive stderr
 * (pipe, `CI`, `TERM=dumb`) falls back to `plain`, as listr2's `getRenderer` falls back.
 *
 * @example
 * const reporter = await createReporter("auto", { stdout: process.stdout, stderr: process.stderr, env: process.env });
 * bus.onAny((type, payload) => report(reporter, { type, ...payload } as RunEvent));
 * // … after run:finish
 * await reporter.close?.();
 */
export async function createReporter(name: ReporterName, options: ReporterOptions): Promise<Reporter> {
  return ReportersMap[resolveReporterName(name, options)].create(options);
}

/** The concrete reporter `name` stands for with these streams and this environment. */
export function resolveReporterName(name: ReporterName, options: Pick<ReporterOptions, "stderr" | "env">): Exclude<ReporterName, "auto"> {
  const interactive = (): boolean => detectTerminal({ stream: options.stderr, env: options.env }).interactive;
  if (name === "auto") {
    if (isGitHubActions(options.env)) return "github";
    return interactive() ? "tty" : "plain";
  }
  if (ReportersMap[name].interactive && !interactive()) return "plain";
  return name;
}
