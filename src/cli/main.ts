// Interrupt signals exit 130 from the first line on (README "Exit codes"): compiling the bundle below
// takes 100–200 ms, and a signal in that time killed the process by the signal (143, 129). This one
// listener serves the whole process; a command that traps the signals itself (run, serve, watch)
// adds its own, and this one steps aside.
import { exitOnInterrupt } from "./interrupt-signals.js";

exitOnInterrupt();

// `atomiton --version` is answered before anything else loads: it is the cold start people feel most.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  const { VERSION } = await import("../version.js");
  process.stdout.write(`${VERSION}\n`);
} else {
  // The rest of the CLI is one CommonJS file compiled with a V8 code cache: most of a cold start
  // was compiling the CLI's source (`npm run bench`, "cold start"; docs/performance.md).
  const { loadCompiled } = await import("./compile-cache.js");
  const bundle = loadCompiled<{ start: (argv: readonly string[]) => Promise<number> }>(new URL("./cli-bundle.cjs", import.meta.url), (specifier) => import(specifier));
  // The only place that decides the process's exit code.
  process.exitCode = await bundle.exports.start(argv);
  await bundle.saveCache();
  // The command is done: once its output has reached the pipes (a write to a slow reader is queued,
  // and process.exit would drop the rest), a timer or socket that node code left open must not keep
  // the process (and a CI job) waiting. Unref'd, so a process with nothing left exits at once.
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  setTimeout(() => process.exit(), 500).unref();
}

/** Resolves once nothing of `stream` is left queued (or it closed: a reader that went away). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done).off("close", done).off("error", done);
      resolve();
    };
    stream.on("drain", done).on("close", done).on("error", done);
  });
}
