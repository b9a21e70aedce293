import type { Command } from "commander";
import { loadCompositeArg, STDIN_ARG, STDIN_NAME } from "../composite-arg.js";
import type { Problem } from "../../composite/problem.js";
import { allNodes } from "../../composite/normalize.js";
import { nodeCountText } from "../../reporters/count-text.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { ExitCode } from "../exit-codes.js";
import { stderrStyle, stdoutStyle, type CliIO } from "../io.js";
import { renderProblems, summarizeProblems } from "../print-problems.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { collect } from "../parse-flags.js";

interface ValidateFlags {
  format: "text" | "json";
  strict?: boolean;
  nodes?: string[];
  color?: boolean;
}

export function registerValidate(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("validate")
    .description("Check composite files without running anything: every problem with file:line:col, a code frame and a hint")
    .argument("<files...>", "composite YAML files (- reads one from stdin)")
    .option("--format <format>", "text or json", "text")
    .option("--strict", "treat warnings (unknown keys, ignored editor settings) as errors")
    .option("--nodes <path>", "load custom node modules (repeatable)", collect)
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton validate flow.yaml
  $ atomiton validate flows/*.yaml --strict
  $ atomiton validate flow.yaml --format json | jq '.[].problems[].code'

Exit codes: 0 valid (warnings allowed unless --strict), 2 invalid.`,
    )
    .action(async (files: string[], flags: ValidateFlags) => {
      if (flags.format !== "text" && flags.format !== "json") {
        throw new AtomitonError(ErrorCode.USAGE, `unknown --format "${String(flags.format)}"`, { retryable: false, hint: "use one of text, json" });
      }
      if (files.filter((f) => f === STDIN_ARG).length > 1) {
        throw new AtomitonError(ErrorCode.USAGE, `"${STDIN_ARG}" (stdin) is given more than once`, { retryable: false, hint: "stdin holds one composite: give - once" });
      }
      const catalog = await loadCatalogForCli(flags.nodes ?? [], io);
      const reports: { file: string; valid: boolean; problems: Problem[] }[] = [];
      let anyInvalid = false;
      for (const file of files) {
        const result = await loadCompositeArg(file, io.cwd, { catalog, strict: flags.strict ?? false });
        anyInvalid ||= !result.ok;
        reports.push({ file, valid: result.ok, problems: result.problems });
        if (flags.format === "text") {
          const style = stderrStyle(io, flags.color);
          if (result.problems.length > 0) io.stderr.write(renderProblems(result.problems, result.sources, style));
          const counts = summarizeProblems(result.problems);
          const out = stdoutStyle(io, flags.color);
          const shown = file === STDIN_ARG ? STDIN_NAME : file;
          if (result.ok) {
            const n = result.composite?.nodes.length ?? 0;
            const all = result.composite ? [...allNodes(result.composite)].length : 0;
            io.stdout.write(`${out.chalk.green(out.symbols.succeeded)} ${shown} is valid (${nodeCountText(n, all - n)}; ${counts})\n`);
          } else {
            io.stdout.write(`${out.chalk.red(out.symbols.failed)} ${shown}: ${counts}\n`);
          }
        }
      }
      if (flags.format === "json") io.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
      setExit(anyInvalid ? ExitCode.invalid : ExitCode.ok);
    });
}
