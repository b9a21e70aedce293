import path from "node:path";
import type { FSWatcher } from "chokidar";
import { isNodeFileName } from "../../nodes/load-custom-nodes.js";
import type { WatchPaths } from "./collect-watch-paths.js";

export const FileEvent = { add: "add", change: "change", unlink: "unlink" } as const;
export type FileEvent = (typeof FileEvent)[keyof typeof FileEvent];

export interface FileWatcher {
  /** Watch exactly these paths from now on; returns the files that were added and removed. */
  sync(paths: WatchPaths): WatchSyncResult;
  /** Number of files watched (directories not counted). */
  readonly count: number;
  close(): Promise<void>;
}

export interface WatchSyncResult {
  added: string[];
  removed: string[];
}

/**
 * A chokidar watcher (loaded lazily) over the files of a run. It watches their directories
 * (depth 0) and ignores every other entry, which survives what file-level watches do not: a file
 * deleted and re-created, an editor's rename-on-save, a file created just as it became watched.
 * Only events for watched files, or for node files inside a watched node directory, reach
 * `onEvent`. Native fs events, no polling: an idle watcher costs no CPU.
 */
export async function createFileWatcher(paths: WatchPaths, onEvent: (file: string, event: FileEvent) => void): Promise<FileWatcher> {
  const { watch } = await import("chokidar");
  let files = new Set(paths.files);
  let nodeDirs = new Set(paths.dirs);
  let roots = rootsOf(paths);
  const relevant = (file: string): boolean => files.has(file) || (nodeDirs.has(path.dirname(file)) && isNodeFileName(path.basename(file)));
  // Read on every decision, so changing the sets changes what is watched. A folder on the way to a
  // watched directory that does not exist yet is seen too, so its creation is heard.
  const ignored = (p: string): boolean => {
    const abs = path.resolve(p);
    return !roots.has(abs) && !relevant(abs) && ![...roots].some((r) => isWithin(r, abs));
  };
  const watcher: FSWatcher = watch([...roots], { ignoreInitial: true, depth: 0, ignored });
  const handle = (event: FileEvent) => (file: string) => {
    const abs = path.resolve(file);
    if (relevant(abs)) onEvent(abs, event);
  };
  watcher.on(FileEvent.add, handle(FileEvent.add));
  watcher.on(FileEvent.change, handle(FileEvent.change));
  watcher.on(FileEvent.unlink, handle(FileEvent.unlink));
  // A watched directory that did not exist yet (a `ref:` or node file in a folder not made yet), or
  // a folder on its way, appeared: chokidar reports the folder but nothing inside it, then or later,
  // unless the watched directories in it are added again. Their watched files count as changed,
  // whether they came with it (`mkdir -p && cp`, a checkout) or come after: the re-run after the
  // debounce reads what is there by then.
  watcher.on("addDir", (dir: string) => {
    const abs = path.resolve(dir);
    const appeared = [...roots].filter((r) => isWithin(r, abs));
    if (appeared.length === 0 && !relevant(abs)) return;
    if (appeared.length > 0) watcher.add(appeared);
    const inside = [...files].filter((f) => f === abs || appeared.includes(path.dirname(f)));
    for (const file of inside.length > 0 ? inside : [abs]) onEvent(file, FileEvent.add);
  });
  // A watch error (EACCES, too many watchers) must not end watch mode.
  watcher.on("error", () => undefined);
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));

  return {
    sync(next) {
      const oldFiles = files;
      const nextRoots = rootsOf(next);
      files = new Set(next.files);
      nodeDirs = new Set(next.dirs);
      const addRoots = [...nextRoots].filter((r) => !roots.has(r));
      const dropRoots = [...roots].filter((r) => !nextRoots.has(r));
      roots = nextRoots;
      if (dropRoots.length > 0) watcher.unwatch(dropRoots);
      if (addRoots.length > 0) watcher.add(addRoots);
      return { added: next.files.filter((f) => !oldFiles.has(f)), removed: [...oldFiles].filter((f) => !files.has(f)) };
    },
    get count() {
      return files.size;
    },
    close: () => watcher.close(),
  };
}

/** `dir` is `ancestor` or inside it. */
function isWithin(dir: string, ancestor: string): boolean {
  return dir === ancestor || dir.startsWith(ancestor.endsWith(path.sep) ? ancestor : ancestor + path.sep);
}

/** The directories to watch: each file's directory and each node directory. */
function rootsOf(paths: WatchPaths): Set<string> {
  return new Set([...paths.files.map((f) => path.dirname(f)), ...paths.dirs]);
}
