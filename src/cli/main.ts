// `atomiton --version` is answered before anything else loads: it is the cold start people feel most.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  const { VERSION } = await import("../version.js");
  process.stdout.write(`${VERSION}\n`);
} else {
  // `atomiton … | head` closes stdout early: stop writing to it, and let the run finish and be saved.
  const { survivePipeClose } = await import("./closed-streams.js");
  survivePipeClose();
  // SIGINT, SIGTERM and SIGHUP exit 130 in every phase, also before a command traps them.
  const { exitOnInterrupt } = await import("./interrupt-signals.js");
  exitOnInterrupt();
  const { runCli } = await import("./program.js");
  // The only place that decides the process's exit code.
  process.exitCode = await runCli(argv);
}
