import { statSync, type Stats } from "node:fs";
import { lstat, realpath, unlink } from "node:fs/promises";
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

/**
 * Before the run: an `--output` that names a directory (or a path under a file) would fail only
 * after every node had run, side effects and all.
 */
export function checkOutputTarget(file: string | undefined, cwd: string, flag = "--output", example = "output.json"): void {
  if (!file || file === "-") return;
  const target = path.resolve(cwd, file);
  if (statOf(target)?.isDirectory()) {
    throw new AtomitonError(ErrorCode.USAGE, `${flag} ${file}: ${target} is a directory`, { retryable: false, hint: `name a file, e.g. ${flag} ${path.join(file, example)}` });
  }
  // `afile/`: a file with a slash after it would be written over as if the slash were not there.
  if (/[\\/]$/.test(file)) {
    throw new AtomitonError(ErrorCode.USAGE, `${flag} ${file}: a file name cannot end with a slash`, { retryable: false, hint: `did you mean ${flag} ${file.replace(/[\\/]+$/, "")}, or ${flag} ${path.join(file, example)} in a directory?` });
  }
  for (let dir = path.dirname(target); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const found = statOf(dir);
    if (found === undefined) continue;
    if (!found.isDirectory()) throw new AtomitonError(ErrorCode.USAGE, `${flag} ${file}: ${dir} is a file, not a directory`, { retryable: false, hint: "choose a path whose folders are folders" });
    return;
  }
}

/** What is at `file`; undefined when nothing is (ENOENT, or ENOTDIR: a file on the way). */
function statOf(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Print the output to stdout and/or write it (atomically) to `file`; `-` means stdout only. An output
 * that is bytes (a Buffer) is written as those bytes, to a file or a pipe (a terminal gets its summary).
 */
export async function writeOutput(
  output: unknown,
  options: { file?: string | undefined; stdout?: ReporterStream | undefined; cwd: string; redact?: ((t: string) => string) | undefined; redactBytes?: ((b: Uint8Array) => Uint8Array) | undefined; ofARun?: boolean },
): Promise<void> {
  const bytes = output instanceof Uint8Array ? (options.redactBytes?.(output) ?? output) : undefined;
  const text = (): string => {
    const rendered = options.redact ? options.redact(renderOutput(output)) : renderOutput(output);
    return rendered.endsWith("\n") ? rendered : `${rendered}\n`;
  };
  if (options.file && options.file !== "-") {
    const target = path.resolve(options.cwd, options.file);
    try {
      await writeFileAtomic(target, bytes ?? text());
    } catch (error) {
      throw new AtomitonError(ErrorCode.FILE, `could not write the output to ${options.file}: ${(error as Error).message}`, {
        retryable: false,
        cause: error,
        hint: `check that the --output directory exists or can be made, and is writable${options.ofARun === false ? "" : " (the run record holds the output too)"}`,
      });
    }
    return;
  }
  if (bytes !== undefined && options.stdout !== undefined && options.stdout.isTTY !== true) options.stdout.write(bytes);
  else options.stdout?.write(text());
}

/**
 * A run with no output (it failed, or its last node returned nothing) and `--output FILE`: a file
 * left there by an earlier run would pass for this run's output (a CI step uploads it), so it is
 * removed. Only a regular file is, found through symlinks as the output was written through them:
 * `--output /dev/null`, a named pipe or a device is left alone (unlinking /dev/null as root took the
 * machine's device away). Returns whether there was one.
 */
export async function removeStaleOutput(file: string | undefined, cwd: string): Promise<boolean> {
  if (!file || file === "-") return false;
  try {
    const target = await realpath(path.resolve(cwd, file));
    if (!(await lstat(target)).isFile()) return false;
    await unlink(target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new AtomitonError(ErrorCode.FILE, `the run has no output, and the earlier file at ${file} could not be removed: ${(error as Error).message}`, { retryable: false, cause: error, hint: "remove it yourself: it is not this run's output" });
  }
}
