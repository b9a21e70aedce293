import path from "node:path";
import type { LoadResult } from "../composite/load-composite.js";

export interface Bundle {
  text: string;
  /** The main file, relative to the bundle's root. */
  file: string;
  /** Its `ref:` files, relative to the main file's directory. */
  files: Record<string, string>;
  /** Texts by the names the server uses in problems, for code frames. */
  sources: Map<string, string>;
}

/** The main file `main` (its `text`) and the `ref:` files `loaded` read, named relative to their common directory. */
export function bundleOf(main: string, text: string, loaded: LoadResult): Bundle {
  const all = new Map<string, string>([[main, text]]);
  for (const [name, source] of loaded.sources) all.set(path.resolve(name), source);
  const root = commonDir([...all.keys()]);
  const files: Record<string, string> = {};
  const sources = new Map<string, string>();
  for (const [abs, source] of all) {
    sources.set(path.relative(root, abs), source);
    if (abs !== main) files[path.relative(path.dirname(main), abs)] = source;
  }
  return { text, file: path.relative(root, main), files, sources };
}

function commonDir(files: string[]): string {
  let dir = path.dirname(files[0]!);
  while (!files.every((f) => f.startsWith(dir === path.sep ? dir : dir + path.sep))) dir = path.dirname(dir);
  return dir;
}
