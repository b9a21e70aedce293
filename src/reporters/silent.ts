import type { Reporter } from "./types.js";

/** Prints nothing (`--reporter silent`); the run's output and exit code still speak. */
export function createSilentReporter(): Reporter {
  return {
    onEvent: () => {},
    close: async () => {},
  };
}
