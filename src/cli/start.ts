import { survivePipeClose } from "./closed-streams.js";
import { exitOnInterrupt } from "./interrupt-signals.js";
import { runCli } from "./program.js";

/**
 * The command line after `--version`: the entry of the CLI bundle (dist/cli-bundle.cjs), which
 * src/cli/main.ts compiles with a V8 code cache (see compile-cache.ts). Returns the exit code.
 */
export async function start(argv: readonly string[]): Promise<number> {
  // `atomiton … | head` closes stdout early: stop writing to it, and let the run finish and be saved.
  survivePipeClose();
  // SIGINT, SIGTERM and SIGHUP exit 130 in every phase, also before a command traps them.
  exitOnInterrupt();
  return runCli(argv);
}
