import { survivePipeClose } from "./closed-streams.js";
import { runCli } from "./program.js";

/**
 * The command line after `--version`: the entry of the CLI bundle (dist/cli-bundle.cjs), which
 * src/cli/main.ts compiles with a V8 code cache (see compile-cache.ts), after it has trapped the
 * interrupt signals. Returns the exit code.
 */
export async function start(argv: readonly string[]): Promise<number> {
  // `atomiton … | head` closes stdout early: stop writing to it, and let the run finish and be saved.
  const streams = survivePipeClose();
  // No exitOnInterrupt() here: src/cli/main.ts installs it before this file is even compiled, and a
  // second one would see the first as a command's handler and step aside, as would the first.
  const code = await runCli(argv);
  // Output that could not be written (a full disk) is not a success, whatever the command did.
  return code === 0 && streams.lost() !== undefined ? 1 : code;
}
