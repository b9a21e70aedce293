/**
 * Messages between `atomiton worker`'s main thread and its engine thread, sent as one array per
 * event-loop turn instead of one `postMessage` each. Every message wakes the other thread; on the
 * project's 2-core VMs a wake-up cost the engine thread about 100 µs per `done` reply (a third of
 * its Redis writes' cost), and the replies of runs whose final saves came back in one Redis reply
 * are ready in the same turn. Measured: docs/performance.md, "7 December 2026, fourth session".
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
