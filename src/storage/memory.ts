import { assertValidKey } from "./keys.js";
import type { StorageBackend } from "./types.js";

/**
 * Creates an in-process backend that keeps nothing after exit (`--storage memory`, tests).
 * It stores the encoded bytes, exactly what the filesystem would hold, so both backends accept and
 * refuse the same values and every `load` decodes a fresh deep copy callers cannot use to mutate it.
 *
 * @example
 * const storage = createStorage({ type: "memory" }); // wraps createMemoryBackend()
 */
export function createMemoryBackend(): StorageBackend {
  // Each key holds its chunks: `append` adds one (O(appended bytes), so an event log appended in
  // batches stays linear), and the first read joins them into one chunk.
  const entries = new Map<string, Buffer[]>();

  function joined(key: string): Buffer | undefined {
    const chunks = entries.get(key);
    if (chunks === undefined) return undefined;
    if (chunks.length > 1) chunks.splice(0, chunks.length, Buffer.concat(chunks));
    return chunks[0] ?? Buffer.alloc(0);
  }

  return {
    type: "memory",
    location: "memory",
    async read(key) {
      assertValidKey(key);
      const data = joined(key);
      return data === undefined ? undefined : Buffer.from(data);
    },
    async readFrom(key, start) {
      assertValidKey(key);
      const chunks = entries.get(key);
      if (chunks === undefined) return undefined;
      // Only the chunks past `start`: a log followed as it grows is not joined and copied whole each time.
      const tail: Buffer[] = [];
      let offset = 0;
      for (const chunk of chunks) {
        const end = offset + chunk.length;
        if (end > start) tail.push(start > offset ? chunk.subarray(start - offset) : chunk);
        offset = end;
      }
      return Buffer.concat(tail);
    },
    async write(key, data) {
      assertValidKey(key);
      entries.set(key, [Buffer.from(data)]);
    },
    async create(key, data) {
      assertValidKey(key);
      if (entries.has(key)) return false;
      entries.set(key, [Buffer.from(data)]);
      return true;
    },
    async append(key, data) {
      assertValidKey(key);
      const chunks = entries.get(key);
      if (chunks === undefined) entries.set(key, [Buffer.from(data)]);
      else chunks.push(Buffer.from(data));
    },
    async remove(key) {
      assertValidKey(key);
      return entries.delete(key);
    },
    async keys(prefix) {
      return [...entries.keys()].filter((key) => key.startsWith(prefix));
    },
    async has(key) {
      assertValidKey(key);
      return entries.has(key);
    },
    async assertWritable() {
      // Memory is always writable.
    },
  };
}
