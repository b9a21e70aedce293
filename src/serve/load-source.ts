import { realpathSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadComposite, loadCompositeFromText, type LoadOptions, type LoadResult } from "../composite/load-composite.js";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { Storage } from "../storage/types.js";
import { z } from "zod";

/** Error code of a `path` that leaves the server's workdir (SPEC §9 "Limits"). */
export const E_PATH = "E_PATH";

/** Where a composite comes from in `validate` and `run.start`. */
export interface CompositeSource {
  path?: string | undefined;
  text?: string | undefined;
  compositeId?: string | undefined;
  /** With `text`: its file name, relative (locations, and the base of `files`). */
  file?: string | undefined;
  /** With `text`: the `ref:` files it includes, by path relative to `file`'s directory. */
  files?: Record<string, string> | undefined;
}

/**
 * Resolves `p` inside `workdir` and refuses anything that leaves it (`..`, an absolute path
 * elsewhere, a symlink pointing out): E_PATH.
 */
export function resolveInside(workdir: string, p: string, what = "path"): string {
  const root = realpathOr(workdir);
  const abs = path.resolve(root, p);
  const real = realpathOr(abs);
  for (const candidate of [abs, real]) {
    const rel = path.relative(root, candidate);
    if (rel.startsWith("..") || path.isAbsolute(rel) || p.includes("\0")) {
      throw new AtomitonError(E_PATH, `${what} "${p}" is outside the server's workdir ${root}`, {
        retryable: false,
        hint: "give a path relative to the workdir the server was started with (--workdir), or send the composite as `text`",
      });
    }
  }
  return abs;
}

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Loads and validates a composite from a path (inside the workdir), text (with the `ref:` files sent
 * along, laid out in a temp dir so refs resolve as they did on the client) or a stored id.
 */
export async function loadSource(source: CompositeSource, options: { workdir: string; storage: Storage; load: Omit<LoadOptions, "file"> }): Promise<LoadResult> {
  if (source.path !== undefined) return loadComposite(resolveInside(options.workdir, source.path), options.load);
  if (source.compositeId !== undefined) {
    const loaded = await loadStoredComposite(options.storage, source.compositeId, options.load);
    if (loaded === undefined) {
      throw new AtomitonError(ErrorCode.NOT_FOUND, `no stored composite "${source.compositeId}"`, { retryable: false, hint: "store one with `atomiton composites add <file>`" });
    }
    return loaded;
  }
  const text = source.text ?? "";
  const name = safeRelative(source.file ?? "composite.yaml", "file");
  const files = Object.entries(source.files ?? {});
  if (files.length > 0) return loadBundle(text, name, files, options.load);
  // No bundle: refs (if any) resolve against the workdir, like a file there.
  const file = resolveInside(options.workdir, name, "file");
  const result = renameFiles(loadCompositeFromText(text, { ...options.load, file }), (abs) => (abs === file ? name : undefined));
  if (result.composite) result.composite.file = name;
  return result;
}

/** The key under which `composites add` keeps a composite's `ref:` files: `{ file, files }`, as `run.start` takes them. */
export function storedRefsKey(id: string): string {
  return `composites/${id}.refs.json`;
}

const StoredRefs = z.object({ file: z.string(), files: z.record(z.string(), z.string()) });

/**
 * A composite stored with `composites add` (`composites/<id>.yaml`), with the `ref:` files stored
 * beside it laid out as they were when it was added; undefined when no composite has that id.
 */
export async function loadStoredComposite(storage: Storage, id: string, load: Omit<LoadOptions, "file">): Promise<LoadResult | undefined> {
  const key = `composites/${id}.yaml`;
  const text = await storage.loadText(key).catch(() => undefined);
  if (text === undefined) return undefined;
  const refsKey = storedRefsKey(id);
  const refs = await storage.loadText(refsKey).catch(() => undefined);
  if (refs === undefined) return loadCompositeFromText(text, { ...load, file: key });
  let stored: z.infer<typeof StoredRefs>;
  try {
    stored = StoredRefs.parse(JSON.parse(refs));
  } catch {
    throw new AtomitonError(ErrorCode.STORAGE, `the ref: files stored with composite "${id}" (${refsKey}) cannot be read`, { retryable: false, hint: `store it again: atomiton composites add <file> --id ${id} --force` });
  }
  return loadBundle(text, safeRelative(stored.file, "file"), Object.entries(stored.files), load);
}

/** `text` and its `ref:` files laid out in a temp dir, so that refs resolve as they did where they were written. */
async function loadBundle(text: string, name: string, files: [string, string][], load: Omit<LoadOptions, "file">): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-serve-"));
  try {
    const main = path.join(dir, name);
    await layOut(main, text, name, "file");
    // Each file once: a key naming the main file (or another key's file) would silently replace it.
    const taken = new Map<string, string>([[main, `the main file "${name}"`]]);
    for (const [rel, content] of files) {
      const target = path.resolve(path.dirname(main), safeRelative(rel, "files key", true));
      if (path.relative(dir, target).startsWith("..") || target === dir) throw badBundle(rel);
      const other = taken.get(target);
      if (other !== undefined) throw new AtomitonError(E_PATH, `files key "${rel}" names the same file as ${other}`, { retryable: false, hint: "send each file once: `files` holds the ref: files, not the main file (that is `text`)" });
      taken.set(target, `files key "${rel}"`);
      await layOut(target, content, rel, "files key");
    }
    // Locations and records name the client's files, not the temp dir.
    const result = renameFiles(await loadComposite(main, load), (abs) => {
      const rel = path.relative(dir, abs);
      return rel.startsWith("..") ? undefined : rel;
    });
    if (result.composite) result.composite.file = name;
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Problems and sources name files as the client knows them. */
function renameFiles(result: LoadResult, rename: (abs: string) => string | undefined): LoadResult {
  const map = (file: string) => rename(path.resolve(file)) ?? file;
  for (const p of result.problems) if (p.file !== undefined) p.file = map(p.file);
  result.sources = new Map([...result.sources].map(([k, v]) => [map(k), v]));
  return result;
}

/**
 * Writes one file of the bundle. A name that is a directory of the bundle (`.`, `a/` or `a` when
 * `a/b` is another file) is E_PATH, not an internal EISDIR/ENOTDIR.
 */
async function layOut(target: string, content: string, name: string, what: string): Promise<void> {
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "ENOTDIR" && code !== "EEXIST") throw error;
    throw new AtomitonError(E_PATH, `${what} "${name}" cannot be laid out: it names a directory of the bundle, or a file where a directory is needed (${code})`, {
      retryable: false,
      hint: "name each file by its own path; no name may be the directory of another",
    });
  }
}

/** A relative path to a file, without NUL; `..` only for `files` keys (checked against the bundle's root after). */
function safeRelative(p: string, what: string, allowUp = false): string {
  if (p === "" || p.includes("\0") || path.isAbsolute(p)) throw badBundle(p, what);
  const normalized = path.normalize(p);
  if (!allowUp && normalized.split(path.sep).includes("..")) throw badBundle(p, what);
  // `.`, `a/..`, `a/`: a directory, not a file.
  if (normalized === "." || normalized.endsWith(path.sep) || path.basename(normalized) === "..") throw badBundle(p, what);
  return normalized;
}

function badBundle(p: string, what = "files key"): AtomitonError {
  return new AtomitonError(E_PATH, `${what} "${p}" is not a relative path to a file inside the bundle`, {
    retryable: false,
    hint: "name the main file and its ref: files by paths relative to one root directory (no absolute paths, no NUL)",
  });
}
