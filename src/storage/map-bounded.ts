/** How many stored records `mapBounded` reads and parses at once (the size of libuv's thread pool). */
export const READ_AT_ONCE = 4;

/**
 * `load` of every id, a few at a time, each result passed through `keep` as soon as it is read; the
 * results come back in the order of `ids` (`undefined` where `load` gave nothing). What `keep` drops
 * can be freed before the next reads: a data dir of years of runs holds gigabytes of records (outputs
 * of many MiB each), and reading them all at once, each kept whole, filled the heap.
 */
export async function mapBounded<T, R>(ids: readonly string[], load: (id: string) => Promise<T | undefined>, keep: (value: T) => R): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array<R | undefined>(ids.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const k = next++;
      const value = await load(ids[k]!);
      results[k] = value === undefined ? undefined : keep(value);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_AT_ONCE, ids.length) }, worker));
  return results;
}
