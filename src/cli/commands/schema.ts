import path from "node:path";
import type { Command } from "commander";
import { renderCompositeJsonSchema } from "../../composite/json-schema.js";
import { ExitCode } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { collect } from "../parse-flags.js";
import { checkOutputTarget, writeOutput } from "../write-output.js";

interface SchemaFlags {
  nodes?: string[];
  output?: string;
  protocol?: boolean;
}

export function registerSchema(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("schema")
    .description("Print the JSON Schema (draft 2020-12) of the composite format, generated from the zod schemas, for editors")
    .option("--nodes <path>", "include custom node types and their parameters (repeatable)", collect)
    .option("-o, --output <file>", "write the schema to a file instead of stdout")
    .option("--protocol", "the schemas of the serve protocol's messages instead (schema/protocol.json)")
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton schema > schema/composite.json
  $ atomiton schema --protocol -o schema/protocol.json
  $ atomiton schema --nodes ./nodes -o .atomiton/composite.schema.json

Point your editor at it with a first line in the YAML file:
  # yaml-language-server: $schema=./node_modules/atomiton/schema/composite.json`,
    )
    .action(async (flags: SchemaFlags) => {
      // A directory or a path through a file is a usage error, as for `run --output`.
      checkOutputTarget(flags.output, io.cwd, "--output", flags.protocol ? "protocol.json" : "composite.json");
      const text = flags.protocol
        ? (await import("../../serve/protocol-schema.js")).renderProtocolJsonSchema()
        : renderCompositeJsonSchema(await loadCatalogForCli(flags.nodes ?? [], io));
      await writeOutput(text, { file: flags.output, stdout: io.stdout, cwd: io.cwd, ofARun: false });
      if (flags.output && flags.output !== "-") io.stderr.write(`wrote ${path.relative(io.cwd, path.resolve(io.cwd, flags.output))}\n`);
      setExit(ExitCode.ok);
    });
}
