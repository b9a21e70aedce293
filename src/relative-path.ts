import path from "node:path";

/** `file` relative to `dir` when it lies inside it (`a/b.yaml`), else undefined. */
export function relativeInside(dir: string, file: string): string | undefined {
  const rel = path.relative(dir, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : undefined;
}
