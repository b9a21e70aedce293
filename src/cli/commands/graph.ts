import type { Command } from "commander";
import { loadCompositeArg } from "../composite-arg.js";
import type { Composite } from "../../composite/model.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import type { Catalog } from "../../nodes/catalog.js";
import { detectTerminal } from "../../reporters/detect-terminal.js";
import { ExitCode } from "../exit-codes.js";
import { stderrStyle, type CliIO } from "../io.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { collect } from "../parse-flags.js";
import { renderProblems, summarizeProblems } from "../print-problems.js";
import { renderAsciiGraph } from "../render-ascii-graph.js";
import { renderDot } from "../render-dot.js";
import { GRAPH_FORMATS, isGraphFormat, type GraphFormat } from "../render-graph.js";
import { escapeControlDeep } from "../../terminal-text.js";
import { renderMermaid } from "../render-mermaid.js";

interface GraphFlags {
  format: string;
  nodes?: string[];
  color?: boolean;
}

export function registerGraph(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("graph")
    .description("Draw a composite's graph: an ASCII drawing for the terminal, mermaid for Markdown, or Graphviz dot")
    .argument("<file>", "a composite YAML file (- reads it from stdin)")
    .option("-f, --format <format>", GRAPH_FORMATS.join("|"), "ascii")
    .option("--nodes <path>", "load custom node modules (repeatable)", collect)
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton graph flow.yaml
  $ atomiton graph flow.yaml --format mermaid >> README.md
  $ atomiton graph flow.yaml --format dot | dot -Tsvg > flow.svg

Exit codes: 0 ok, 2 invalid composite or usage.`,
    )
    .action(async (file: string, flags: GraphFlags) => {
      setExit(await graphCommand(file, flags, io));
    });
}

export async function graphCommand(file: string, flags: GraphFlags, io: CliIO): Promise<number> {
  if (!isGraphFormat(flags.format)) {
    throw new AtomitonError(ErrorCode.USAGE, `unknown --format "${flags.format}"`, { retryable: false, hint: `use one of ${GRAPH_FORMATS.join(", ")}` });
  }
  const catalog = await loadCatalogForCli(flags.nodes ?? [], io);
  const loaded = await loadCompositeArg(file, io.cwd, { catalog });
  const style = stderrStyle(io, flags.color);
  if (loaded.problems.length > 0) io.stderr.write(renderProblems(loaded.problems, loaded.sources, style));
  if (!loaded.ok || !loaded.composite) {
    io.stderr.write(`${style.chalk.red(`${style.symbols.failed} cannot draw ${file}:`)} ${summarizeProblems(loaded.problems)}\n`);
    return ExitCode.invalid;
  }
  const terminal = detectTerminal({ stream: io.stdout, env: io.env });
  io.stdout.write(renderGraphAs(loaded.composite, flags.format, catalog, { unicode: terminal.unicode, width: terminal.columns }));
  return ExitCode.ok;
}

/** The composite in one of the graph formats. */
export function renderGraphAs(composite: Composite, format: GraphFormat, catalog: Catalog, ascii: { unicode: boolean; width: number }): string {
  switch (format) {
    case "mermaid":
      return renderMermaid(composite, catalog);
    case "dot":
      return renderDot(composite, catalog);
    case "ascii":
      // Drawn for a terminal: the file's names show their control characters as escapes.
      return renderAsciiGraph(escapeControlDeep(composite), catalog, ascii);
  }
}
