/**
 * Map `items` through `worker` with at most `limit` in flight, keeping result order. Rejects with
 * the first error (the caller's signal is what stops the others) or when `signal` aborts.
 */
export function runPool<T, R>(items: readonly T[], limit: number, signal: AbortSignal, worker: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  if (items.length === 0) return Promise.resolve(results);
  return new Promise<R[]>((resolve, reject) => {
    let next = 0;
    let active = 0;
    let finished = 0;
    let failed = false;
    const launch = (): void => {
      while (!failed && active < limit && next < items.length) {
        if (signal.aborted) {
          failed = true;
          reject(signal.reason);
          return;
        }
        const index = next++;
        active++;
        worker(items[index]!, index).then(
          (value) => {
            results[index] = value;
            active--;
            finished++;
            if (finished === items.length) resolve(results);
            else launch();
          },
          (error: unknown) => {
            active--;
            if (!failed) {
              failed = true;
              reject(error);
            }
          },
        );
      }
    };
    launch();
  });
}
