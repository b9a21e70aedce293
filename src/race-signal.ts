/**
 * Settle with `promise`, or reject with `toError(signal)` as soon as the signal aborts. Work that
 * cannot itself be interrupted keeps running but is ignored. The one place this race is written;
 * the conductor and the nodes wrap it with their own error.
 */
export function raceSignal<T>(promise: PromiseLike<T>, signal: AbortSignal, toError: (signal: AbortSignal) => unknown = (s) => s.reason): Promise<T> {
  if (signal.aborted) {
    Promise.resolve(promise).catch(() => undefined);
    return Promise.reject(toError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(toError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
