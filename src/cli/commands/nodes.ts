import type { Command } from "commander";
import { suggest } from "../../composite/suggest.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { detectTerminal } from "../../reporters/detect-terminal.js";
import { ExitCode } from "../exit-codes.js";
import { stdoutStyle, type CliIO } from "../io.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { collect } from "../parse-flags.js";
import { describeNode, renderNodeDoc, renderNodeTable } from "../render-node-doc.js";

interface NodesFlags {
  json?: boolean;
  nodes?: string[];
  color?: boolean;
}

export function registerNodes(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("nodes")
    .description("List the node catalog, or show one node type's parameters, ports and example")
    .argument("[type]", "a node type (or alias) to document")
    .option("--json", "print JSON instead of text")
    .option("--nodes <path>", "also load custom node modules from a file, directory or package (repeatable)", collect)
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton nodes
  $ atomiton nodes http-request
  $ atomiton nodes --nodes ./nodes
  $ atomiton nodes transform --json | jq '.parameters[].name'

Exit codes: 0 ok, 2 unknown node type.`,
    )
    .action(async (type: string | undefined, flags: NodesFlags) => {
      setExit(await nodesCommand(type, flags, io));
    });
}

export async function nodesCommand(type: string | undefined, flags: NodesFlags, io: CliIO): Promise<number> {
  const catalog = await loadCatalogForCli(flags.nodes ?? [], io);
  const style = stdoutStyle(io, flags.color);
  const terminal = detectTerminal({ stream: io.stdout, env: io.env });
  if (type === undefined) {
    if (flags.json) {
      const docs = catalog.all().map((d) => describeNode(d, catalog.sourceOf(d.type) ?? "builtin"));
      io.stdout.write(`${JSON.stringify(docs, null, 2)}\n`);
      return ExitCode.ok;
    }
    // Truncate descriptions to the terminal only when a person is reading; pipes get whole lines.
    io.stdout.write(renderNodeTable(catalog, style, io.stdout.isTTY ? terminal.columns : undefined));
    return ExitCode.ok;
  }
  const def = catalog.get(type);
  if (!def) {
    const guess = suggest(type, catalog.names());
    throw new AtomitonError(ErrorCode.UNKNOWN_TYPE, `unknown node type "${type}"${guess ? `: did you mean "${guess}"?` : ""}`, {
      retryable: false,
      hint: `known types: ${catalog.types().join(", ")}${flags.nodes?.length ? "" : " (custom nodes need --nodes <path>)"}`,
    });
  }
  const doc = describeNode(def, catalog.sourceOf(type) ?? "builtin");
  io.stdout.write(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : renderNodeDoc(doc, style, terminal.columns));
  return ExitCode.ok;
}
