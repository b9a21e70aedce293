import { detectTerminal } from "./detect-terminal.js";
import { createGithubReporter, isGitHubActions } from "./github.js";
import { createJsonReporter } from "./json.js";
import { createJunitReporter } from "./junit.js";
import { createPlainReporter } from "./plain.js";
import { createSilentReporter } from "./silent.js";
import type { Reporter, ReporterOptions } from "./types.js";

export const REPORTER_NAMES = ["auto", "tty", "plain", "json", "junit", "github", "silent"] as const;
export type ReporterName = (typeof REPORTER_NAMES)[number];

/** Which reporters need an interactive terminal (`tty` falls back to `plain` without one). */
export const REPORTER_NEEDS_TTY: Readonly<Record<Exclude<ReporterName, "auto">, boolean>> = {
  tty: true,
  plain: false,
  json: false,
  junit: false,
  github: false,
  silent: false,
};

export function isReporterName(name: string): name is ReporterName {
  return (REPORTER_NAMES as readonly string[]).includes(name);
}

/**
 * The reporter to use for a run. `auto`: `github` when `GITHUB_ACTIONS=true`, else `tty` when
 * stderr is interactive (`detectTerminal`), else `plain`. `tty` on a non-interactive stderr
 * (pipe, `CI`, `TERM=dumb`) falls back to `plain`, as listr2's `getRenderer` falls back.
 *
 * @example
 * const reporter = await createReporter("auto", { stdout: process.stdout, stderr: process.stderr, env: process.env });
 * bus.on("*", (event) => reporter.onEvent(event));
 * // … after run:finish
 * await reporter.close();
 */
export async function createReporter(name: ReporterName, options: ReporterOptions): Promise<Reporter> {
  const resolved = resolveReporterName(name, options);
  switch (resolved) {
    case "tty": {
      const { createTtyReporter } = await import("./tty.js");
      return createTtyReporter(options);
    }
    case "plain":
      return createPlainReporter(options);
    case "json":
      return createJsonReporter(options);
    case "junit":
      return createJunitReporter(options);
    case "github":
      return createGithubReporter(options);
    case "silent":
      return createSilentReporter();
  }
}

/** The concrete reporter `name` stands for with these streams and this environment. */
export function resolveReporterName(name: ReporterName, options: Pick<ReporterOptions, "stderr" | "env">): Exclude<ReporterName, "auto"> {
  const interactive = (): boolean => detectTerminal({ stream: options.stderr, env: options.env }).interactive;
  if (name === "auto") {
    if (isGitHubActions(options.env)) return "github";
    return interactive() ? "tty" : "plain";
  }
  if (REPORTER_NEEDS_TTY[name] && !interactive()) return "plain";
  return name;
}
