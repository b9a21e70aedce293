/**
 * `atomiton run flow.yaml | head -2`: the reader of stdout (or stderr) goes away while the run goes
 * on. A closed pipe is not the run's business: from the first EPIPE on, writes to that stream are
 * dropped, and the run finishes, saves its record and exits with its own code — what `git log | head`
 * users expect. A terminal that hung up (SIGHUP, then EIO on write) is treated alike. Any other
 * stream error is still thrown.
 */
export function survivePipeClose(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "EIO" && error.code !== "ERR_STREAM_DESTROYED") throw error;
      silence(stream);
    });
  }
}

/** Make `stream.write` a no-op that still calls its callback (reporters may wait for it). */
function silence(stream: NodeJS.WriteStream): void {
  stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") queueMicrotask(() => (done as () => void)());
    return true;
  }) as NodeJS.WriteStream["write"];
}
