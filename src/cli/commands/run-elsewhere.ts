import type { Command } from "commander";
import { AtomitonError, ErrorCode } from "../../errors.js";
import type { RunFlags } from "./run.js";

/** Flags only a run in this process honours, by mode: with them, `--queue`/`--remote` would run something else than asked. */
const HERE_ONLY: [keyof RunFlags, string][] = [
  ["dryRun", "--dry-run"],
  ["pin", "--pin"],
  ["resume", "--resume"],
  ["watch", "--watch"],
  ["debounce", "--debounce"],
  ["profile", "--profile"],
  ["break", "--break"],
  ["step", "--step"],
  ["breakOnError", "--break-on-error"],
  ["storage", "--storage"],
  ["dataDir", "--data-dir"],
  ["redis", "--redis"],
  ["workdir", "--workdir"],
  ["secret", "--secret"],
];

/** What each mode cannot take besides: the other mode's own flags (and `--strict`, which the server does not apply). */
const NOT_WITH: Record<"--queue" | "--remote", [keyof RunFlags, string][]> = {
  "--queue": [...HERE_ONLY, ["remote", "--remote"], ["token", "--token"]],
  // The server loads its own node types (`serve --nodes`); the queue's submitter validates with --nodes.
  "--remote": [...HERE_ONLY, ["queueName", "--queue-name"], ["queueTimeout", "--queue-timeout"], ["strict", "--strict"], ["nodes", "--nodes"]],
};

/**
 * `--queue` and `--remote` hand the run to a worker or a server, which honour neither a dry run
 * nor pins, breakpoints, a local storage…: such a flag is a usage error (exit 2) before anything
 * is sent, never silently dropped (`--dry-run --queue` used to run the composite for real).
 */
export function checkElsewhereFlags(flags: RunFlags, command: Command): void {
  const mode = flags.queue !== undefined ? "--queue" : "--remote";
  const clashing = NOT_WITH[mode].filter(([key]) => flags[key] !== undefined && command.getOptionValueSource(key) === "cli").map(([, flag]) => flag);
  if (clashing.length === 0) return;
  const where = mode === "--queue" ? "a worker" : "the server";
  const them = clashing.length === 1 ? "it" : "them";
  throw new AtomitonError(ErrorCode.USAGE, `${clashing.join(", ")} ${clashing.length === 1 ? "does" : "do"} not work with ${mode}: the run happens on ${where}, which would ignore ${them}`, {
    retryable: false,
    hint: clashing.includes("--nodes") ? "the server uses the node types it was started with: atomiton serve --nodes <path>" : `drop ${them}, or run here without ${mode}`,
  });
}

/** Flags that only mean something with another one: given alone they would be dropped without a word. */
const NEEDS: [keyof RunFlags, string, string, (flags: RunFlags) => boolean][] = [
  ["debounce", "--debounce", "--watch", (f) => f.watch === true],
  ["token", "--token", "--remote", (f) => f.remote !== undefined],
  ["queueTimeout", "--queue-timeout", "--queue", (f) => f.queue !== undefined],
  ["queueName", "--queue-name", "--queue or --storage redis", (f) => f.queue !== undefined || f.storage === "redis"],
  ["redis", "--redis", "--storage redis", (f) => f.storage === "redis"],
  ["dataDir", "--data-dir", "--storage filesystem (the default)", (f) => f.storage === "filesystem"],
];

/** A flag given without the one that gives it a meaning (`--debounce` without `--watch`) is a usage error (exit 2). */
export function checkFlagsHaveTheirMode(flags: RunFlags, command: Command): void {
  const alone = NEEDS.filter(([key, , , has]) => flags[key] !== undefined && command.getOptionValueSource(key) === "cli" && !has(flags));
  if (alone.length === 0) return;
  const [, flag, needs] = alone[0]!;
  throw new AtomitonError(ErrorCode.USAGE, `${flag} works only with ${needs}${alone.length > 1 ? ` (and ${alone.slice(1).map(([, f, n]) => `${f} with ${n}`).join(", ")})` : ""}`, {
    retryable: false,
    hint: `add ${needs.replace(/ \(.*\)$/, "")}, or drop ${alone.map(([, f]) => f).join(", ")}`,
  });
}
