import type { Reporter } from "./types.js";

/** Prints nothing (`--reporter silent`); the run's output and exit code still speak. No hook at all. */
export function createSilentReporter(): Reporter {
  return {};
}
