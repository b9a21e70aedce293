import path from "node:path";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { writeFileAtomic } from "../../storage/write-file-atomic.js";
import type { RunProfile } from "./build-profile.js";
import { renderTimelineSvg } from "./render-svg.js";
import { renderTrace } from "./render-trace.js";

export const TIMELINE_FORMATS = ["text", "svg", "trace"] as const;
export type TimelineFormat = (typeof TIMELINE_FORMATS)[number];

/** `--format`: text (default), svg or trace; anything else is a usage error. */
export function parseTimelineFormat(value: string | undefined): TimelineFormat {
  if (value === undefined) return "text";
  if ((TIMELINE_FORMATS as readonly string[]).includes(value)) return value as TimelineFormat;
  throw new AtomitonError(ErrorCode.USAGE, `--format must be one of ${TIMELINE_FORMATS.join(", ")}, got "${value}"`, {
    retryable: false,
    hint: "svg draws a Gantt chart; trace writes Chrome Trace Event JSON for Perfetto, chrome://tracing or speedscope",
  });
}

/** The picture (`svg`) or the Chrome trace (`trace`) of a run's profile. */
export function renderProfile(profile: RunProfile, format: "svg" | "trace"): string {
  return format === "svg" ? renderTimelineSvg(profile) : renderTrace(profile);
}

/** Writes `text` to `file` (relative to `cwd`) atomically; a failure is an E_FILE error naming the file. */
export async function writeTextFile(file: string, text: string, cwd: string, what: string): Promise<string> {
  const target = path.resolve(cwd, file);
  try {
    await writeFileAtomic(target, text);
  } catch (error) {
    // The code alone (a system error's message names the temp file); the writer's own errors say where.
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === undefined || code === "ENOTDIR" || code === "EISDIR" ? (error as Error).message : code;
    throw new AtomitonError(ErrorCode.FILE, `cannot write the ${what} to ${file}: ${reason}`, { retryable: false, cause: error, hint: "check that the directory is writable" });
  }
  return target;
}
