import { unlink } from "node:fs/promises";
import { AtomitonError, ErrorCode } from "../errors.js";
import { writeFileAtomic } from "../storage/write-file-atomic.js";
import path from "node:path";
import { stringifyJsonSafe } from "../events/json-safe.js";
import type { ReporterStream } from "../reporters/types.js";

/** Text of a run output: strings as they are, everything else as pretty JSON. */
export function renderOutput(output: unknown): string {
  if (typeof output === "string") return output;
  return JSON.stringify(JSON.parse(stringifyJsonSafe(output)), null, 2);
}

/** Print the output to stdout and/or write it (atomically) to `file`; `-` means stdout only. */
export async function writeOutput(
  output: unknown,
  options: { file?: string | undefined; stdout?: ReporterStream | undefined; cwd: string; redact?: ((t: string) => string) | undefined },
): Promise<void> {
  let text = renderOutput(output);
  if (options.redact) text = options.redact(text);
  if (options.file && options.file !== "-") {
    const target = path.resolve(options.cwd, options.file);
    try {
      await writeFileAtomic(target, text.endsWith("\n") ? text : `${text}\n`);
    } catch (error) {
      throw new AtomitonError(ErrorCode.FILE, `could not write the output to ${options.file}: ${(error as Error).message}`, {
        retryable: false,
        cause: error,
        hint: "check that the --output directory exists or can be made, and is writable (the run record holds the output too)",
      });
    }
    return;
  }
  options.stdout?.write(text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * A run with no output (it failed, or its last node returned nothing) and `--output FILE`: a file
 * left there by an earlier run would pass for this run's output (a CI step uploads it), so it is
 * removed. Returns whether there was one.
 */
export async function removeStaleOutput(file: string | undefined, cwd: string): Promise<boolean> {
  if (!file || file === "-") return false;
  try {
    await unlink(path.resolve(cwd, file));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new AtomitonError(ErrorCode.FILE, `the run has no output, and the earlier file at ${file} could not be removed: ${(error as Error).message}`, { retryable: false, cause: error, hint: "remove it yourself: it is not this run's output" });
  }
}
