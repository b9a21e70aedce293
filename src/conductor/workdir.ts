import path from "node:path";
import type { Composite } from "../composite/model.js";

export interface WorkdirOptions {
  /** An explicit working directory (`--workdir`), relative to `cwd`. Wins over `settings.workdir`. */
  workdir?: string | undefined;
  /** The process's directory: the base of `workdir`, and the working directory when nothing is set. */
  cwd: string;
}

/**
 * The directory relative paths in node parameters resolve against: `--workdir` (relative to the
 * cwd), else the composite's `settings.workdir` (relative to the composite's file; to the cwd for a
 * stored composite, which has no file on disk), else the cwd.
 *
 * @example
 * resolveWorkdir({ settings: { workdir: "data" }, file: "/p/flows/a.yaml" } as Composite, { cwd: "/p" }); // "/p/flows/data"
 */
export function resolveWorkdir(composite: Pick<Composite, "settings" | "file">, options: WorkdirOptions): string {
  if (options.workdir !== undefined) return path.resolve(options.cwd, options.workdir);
  const fromSettings = composite.settings.workdir;
  if (fromSettings === undefined) return options.cwd;
  const base = composite.file !== undefined && path.isAbsolute(composite.file) ? path.dirname(composite.file) : options.cwd;
  return path.resolve(base, fromSettings);
}
