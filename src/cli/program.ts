import { Command, CommanderError } from "commander";
import { suggest } from "../composite/suggest.js";
import { AtomitonError, ErrorCode } from "../errors.js";
import { ExitCode } from "./exit-codes.js";
import { handleError } from "./handle-error.js";
import { closeOpenedStorages } from "./open-storage.js";
import { processIO, type CliIO } from "./io.js";
import { registerRun } from "./commands/run.js";
import { registerValidate } from "./commands/validate.js";
import { registerNodes } from "./commands/nodes.js";
import { registerGraph } from "./commands/graph.js";
import { registerSchema } from "./commands/schema.js";
import { registerInit } from "./commands/init.js";
import { registerRuns } from "./commands/runs.js";
import { registerReplay } from "./commands/replay.js";
import { registerComposites } from "./commands/composites.js";
import { registerServe } from "./commands/serve.js";
import { registerWorker } from "./commands/worker.js";
import { VERSION } from "../version.js";

/** Build the commander program. Commands report their exit code through `setExit`. */
export function createProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name("atomiton")
    .description("Run YAML composites of typed nodes: exact errors before anything runs, honest exit codes, live progress.")
    .version(VERSION, "-v, --version")
    .option("--no-color", "disable colours (NO_COLOR and FORCE_COLOR are honoured too)")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // The argument parser's own errors (an unknown option or command, a missing or extra
      // argument) in the CLI's one error style: `✖ E_USAGE …` and a hint (its did-you-mean).
      outputError: (text) => void handleError(usageError(text), io, program.opts().color === false ? false : undefined),
    })
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton run examples/hello.yaml
  $ atomiton validate flow.yaml
  $ atomiton run flow.yaml --reporter plain --var limit=5

Exit codes: 0 success, 1 the run failed, 2 invalid usage or composite, 130 interrupted.`,
    );
  registerRun(program, io, setExit);
  registerValidate(program, io, setExit);
  registerNodes(program, io, setExit);
  registerGraph(program, io, setExit);
  registerSchema(program, io, setExit);
  registerInit(program, io, setExit);
  registerRuns(program, io, setExit);
  registerReplay(program, io, setExit);
  registerComposites(program, io, setExit);
  registerServe(program, io, setExit);
  registerWorker(program, io, setExit);
  // Global --no-color reaches every command's flags.
  program.hook("preAction", (_root, action) => {
    if (program.opts().color === false) action.setOptionValue("color", false);
  });
  return program;
}

/** commander's "error: unknown option '--reportr'\n(Did you mean --reporter?)" as an E_USAGE error. */
function usageError(text: string): AtomitonError {
  const [first = "", ...rest] = text.trim().split("\n");
  const hint = rest.join(" ").trim().replace(/^\((.*)\)$/, "$1");
  return new AtomitonError(ErrorCode.USAGE, first.replace(/^error: /, ""), {
    retryable: false,
    hint: hint ? `${hint.charAt(0).toLowerCase()}${hint.slice(1)}` : "atomiton --help lists the commands, atomiton <command> --help their options",
  });
}

/**
 * `atomiton help rnu`: commander prints the general help and exits 0, so a mistyped command reads
 * as success. It is the usage error `atomiton rnu` gives, with the same did-you-mean.
 */
function checkHelpTopic(program: Command, argv: readonly string[]): void {
  const [first, topic] = argv;
  if (first !== "help" || topic === undefined || topic.startsWith("-")) return;
  const names = [...program.commands.flatMap((c) => [c.name(), ...c.aliases()]), "help"];
  if (names.includes(topic)) return;
  const guess = suggest(topic, names);
  throw new AtomitonError(ErrorCode.USAGE, `unknown command '${topic}'`, { retryable: false, hint: guess ? `did you mean ${guess}?` : "atomiton --help lists the commands" });
}

/** Run the CLI with `argv` (without node and script) and resolve with the exit code. */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let code: number = ExitCode.ok;
  const program = createProgram(io, (c) => {
    code = c;
  });
  try {
    checkHelpTopic(program, argv);
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return ExitCode.ok;
      return ExitCode.invalid;
    }
    return handleError(error, io, program.opts().color === false ? false : undefined);
  } finally {
    await closeOpenedStorages();
  }
}
