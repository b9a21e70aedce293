/**
 * `atomiton run flow.yaml | head -2`: the reader of stdout (or stderr) goes away while the run goes
 * on. A closed pipe is not the run's business: from the first EPIPE on, writes to that stream are
 * dropped, and the run finishes, saves its record and exits with its own code — what `git log | head`
 * users expect. A terminal that hung up (SIGHUP, then EIO on write) is treated alike.
 *
 * Any other write error (a full disk: `> out.txt` with ENOSPC, `2>/dev/full`) loses output the user
 * asked for: the stream is dropped the same way, so the run still finishes and saves its record, the
 * error is told once on the other stream (when that is stderr), and `lost()` returns it, so that the
 * command does not exit 0.
 */
export function survivePipeClose(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): { lost(): NodeJS.ErrnoException | undefined } {
  let lost: NodeJS.ErrnoException | undefined;
  for (const stream of streams) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      silence(stream);
      if (error.code === "EPIPE" || error.code === "EIO" || error.code === "ERR_STREAM_DESTROYED") return;
      if (lost !== undefined) return;
      lost = error;
      // The command may have returned its code already (the last output is written as it ends).
      if (!process.exitCode) process.exitCode = 1;
      const name = stream === process.stdout ? "stdout" : stream === process.stderr ? "stderr" : "an output stream";
      if (stream !== process.stderr) process.stderr.write(`✖ E_IO cannot write to ${name}: ${error.message}; what was to go there from now on is lost (exit 1)\n`);
    });
  }
  return { lost: () => lost };
}

/** Make `stream.write` a no-op that still calls its callback (reporters may wait for it). */
function silence(stream: NodeJS.WriteStream): void {
  stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") queueMicrotask(() => (done as () => void)());
    return true;
  }) as NodeJS.WriteStream["write"];
}
