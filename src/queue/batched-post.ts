/**
 * Messages between `atomiton worker`'s main thread and its engine thread, sent as one array per
 * event-loop turn instead of one `postMessage` each. A message to a thread that sleeps wakes it:
 * 23–30 µs of the sender's time in isolation on the project's 2-core VMs, and under load the
 * profiles put ~100 µs of the engine thread on each `done` reply; replies of runs whose final saves
 * came back in one Redis reply are ready in the same turn. With the worker's log written per turn,
 * worker CPU per queued no-op 10-node run fell 1.51 → 1.21 ms (docs/performance.md, "7 December
 * 2026, fourth session").
 *
 * Order is kept: messages go out in the order posted, so a cancel never overtakes its run.
 */
export function createBatchedPost<T>(send: (batch: T[]) => void): (message: T) => void {
  let pending: T[] | undefined;
  const flush = (): void => {
    const batch = pending!;
    pending = undefined;
    send(batch);
  };
  return (message) => {
    if (pending === undefined) {
      pending = [];
      setImmediate(flush);
    }
    pending.push(message);
  };
}
