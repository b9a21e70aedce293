import { lstat, mkdir, stat } from "node:fs/promises";
import path from "node:path";

export interface EnsureDirOptions {
  /** The mode of each directory made (before the umask); existing ones are left as they are. */
  mode?: number;
}

/**
 * `mkdir -p`, one level at a time. Node's `mkdir(..., { recursive: true })` spins forever at 100% CPU
 * when a parent exists but refuses children with ENOENT (any path under /proc); here a second
 * ENOENT after the parent was made is final.
 */
export async function ensureDir(dir: string, options: EnsureDirOptions = {}): Promise<void> {
  try {
    await mkdir(dir, options.mode);
    return;
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "EEXIST") {
      if (await isDirectory(dir)) return;
      const link = await lstat(dir).then((s) => s.isSymbolicLink(), () => false);
      throw Object.assign(new Error(`ENOTDIR: '${dir}' is ${link ? "a symbolic link to a missing path or to a file" : "a file"}, not a directory`), { code: "ENOTDIR", path: dir });
    }
    const parent = path.dirname(dir);
    if (errno !== "ENOENT" || parent === dir) throw error;
    await ensureDir(parent, options);
  }
  try {
    await mkdir(dir, options.mode);
  } catch (error) {
    // Another process may have made it meanwhile.
    if (errnoOf(error) !== "EEXIST" || !(await isDirectory(dir))) throw error;
  }
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
