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
  const entries = new Map<string, Buffer>();

  return {
    type: "memory",
    location: "memory",
    async read(key) {
      assertValidKey(key);
      const data = entries.get(key);
      return data === undefined ? undefined : Buffer.from(data);
    },
    async write(key, data) {
      assertValidKey(key);
      entries.set(key, Buffer.from(data));
    },
    async append(key, data) {
      assertValidKey(key);
      const previous = entries.get(key);
      entries.set(key, previous === undefined ? Buffer.from(data) : Buffer.concat([previous, data]));
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
