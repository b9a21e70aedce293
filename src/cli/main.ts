import { runCli } from "./program.js";

// The only place that decides the process's exit code.
process.exitCode = await runCli(process.argv.slice(2));
