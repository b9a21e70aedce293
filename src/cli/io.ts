import { detectTerminal } from "../reporters/detect-terminal.js";
import { createStyle, type Style } from "../reporters/style.js";
import type { ReporterStream } from "../reporters/types.js";

/** The streams and environment a command works with (tests pass their own). */
export interface CliIO {
  stdout: ReporterStream;
  stderr: ReporterStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Style for messages on stderr, honouring `--no-color`. */
export function stderrStyle(io: CliIO, color?: boolean): Style {
  return createStyle(detectTerminal({ stream: io.stderr, env: io.env }), color);
}

export function stdoutStyle(io: CliIO, color?: boolean): Style {
  return createStyle(detectTerminal({ stream: io.stdout, env: io.env }), color);
}
