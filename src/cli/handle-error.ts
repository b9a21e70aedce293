import { AtomitonError } from "../errors.js";
import { escapeControlCharacters } from "../terminal-text.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import type { CliIO } from "./io.js";
import { stderrStyle } from "./io.js";

const BUG_URL = "https://github.com/atomiton/atomiton/issues/new";

/**
 * Print an error the way people need it: a user error is one red line with its code and a hint
 * (never a stack); anything unexpected prints the stack and asks for a bug report. The exit code
 * comes from the error's code (`exitCodeFor`): 2 for bad input, 1 for failed work, 130 for a cancel.
 */
export function handleError(error: unknown, io: CliIO, color?: boolean): ExitCode {
  const style = stderrStyle(io, color);
  const c = style.chalk;
  if (error instanceof AtomitonError) {
    // A message may quote a file, a record or a node (a name, a value): it is shown, never obeyed.
    io.stderr.write(`${c.red(`${style.symbols.failed} ${error.code}`)} ${escapeControlCharacters(error.message)}\n`);
    if (error.hint) io.stderr.write(`  ${c.cyan("hint:")} ${escapeControlCharacters(error.hint)}\n`);
    return exitCodeFor(error.code);
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`${c.red(`${style.symbols.failed} internal error`)} atomiton hit a bug it did not expect.\n${c.dim(escapeControlCharacters(stack))}\n`);
  io.stderr.write(`Please report it with the command you ran and this output: ${BUG_URL}\n`);
  return ExitCode.runFailed;
}
