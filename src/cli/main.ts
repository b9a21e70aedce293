import { runCli } from "./program.js";

// `atomiton … | head` closes stdout early: that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// The only place that decides the process's exit code.
process.exitCode = await runCli(process.argv.slice(2));
