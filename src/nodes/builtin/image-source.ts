import path from "node:path";
import { ErrorCode, NonRetryableError } from "../../errors.js";
import { isBytes, readInputFile, resolvePath } from "./file-utils.js";

/** An image to process: its bytes, the name it goes by and the file it came from. */
export interface ImageSource {
  bytes: Buffer;
  /** Source basename (`sample-photo.png`), or `image` for anonymous bytes. */
  name: string;
  /** Absolute path of the source file, when it came from one. */
  path?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isBytes(value);
}

function readImageFile(file: string, signal: AbortSignal, role: string): Promise<Buffer> {
  return readInputFile(file, signal, `the ${role}`);
}

/**
 * Load an image from what a workflow passes around: a path, `{ path }` (a file-list entry),
 * bytes, a data: URL, or a previous image node's output `{ data, name, … }` (or an HTTP
 * response whose `data` is bytes). Returns undefined when `value` is none of these.
 */
export async function loadImage(value: unknown, workdir: string, signal: AbortSignal, role = "image"): Promise<ImageSource | undefined> {
  if (typeof value === "string" && value !== "") {
    const dataUrl = /^data:image\/[\w.+-]+;base64,(.*)$/s.exec(value);
    if (dataUrl) return { bytes: Buffer.from(dataUrl[1] ?? "", "base64"), name: "image" };
    const file = resolvePath(workdir, value);
    return { bytes: await readImageFile(file, signal, role), name: path.basename(file), path: file };
  }
  if (isBytes(value)) return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength), name: "image" };
  if (!isRecord(value)) return undefined;
  const filePath = [value.path, value.sourcePath, value.filePath].find((v): v is string => typeof v === "string" && v !== "");
  const resolved = filePath === undefined ? undefined : resolvePath(workdir, filePath);
  const name = typeof value.name === "string" && value.name ? value.name : resolved ? path.basename(resolved) : "image";
  if (isBytes(value.data)) {
    const data = value.data;
    return { bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength), name, ...(resolved ? { path: resolved } : {}) };
  }
  if (resolved) return { bytes: await readImageFile(resolved, signal, role), name, path: resolved };
  return undefined;
}

/** Like `loadImage`, but a missing or unusable value is a non-retryable E_NODE_INPUT error. */
export async function requireImage(value: unknown, workdir: string, signal: AbortSignal, role: string, hint: string): Promise<ImageSource> {
  const image = await loadImage(value, workdir, signal, role);
  if (image) return image;
  const got = value === undefined ? "nothing" : value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
  throw new NonRetryableError(`image: expected the ${role} as a path, bytes or an image item, got ${got}`, { code: ErrorCode.NODE_INPUT, hint });
}
