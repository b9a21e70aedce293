import { ensureDir } from "../../storage/ensure-dir.js";
import { existsSync, readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { ExitCode } from "../exit-codes.js";
import { stdoutStyle, type CliIO } from "../io.js";

interface InitFlags {
  force?: boolean;
  color?: boolean;
}

/** The two starter composites' last nodes and edges: greet -> shout -> announce. */
const SHOUT_AND_LOG = `  - id: shout
    type: transform
    parameters:
      expression: "return data.toUpperCase()"
  - id: announce
    type: log
    parameters:
      message: "{{ $input }}"
edges:
  - greet -> shout
  - shout -> announce
`;

const FLOW = `# yaml-language-server: $schema=./node_modules/atomiton/schema/composite.json
name: starter
description: Greet someone with the custom greet node, shout it, and log the result.
variables:
  name: { type: string, default: world, description: Who to greet }
nodes:
  - id: greet
    type: greet # a custom node: nodes/greet.ts
    parameters:
      name: "{{ $vars.name }}"
${SHOUT_AND_LOG}`;

const NODE = `import { z } from "zod";
import { defineNode } from "atomiton";

/**
 * A custom node: use it as \`type: greet\`; atomiton.config.json loads ./nodes (or pass \`--nodes ./nodes\`).
 * \`execute\` sees its parameters typed and validated by the zod schema, defaults filled in.
 */
export default defineNode({
  type: "greet",
  title: "Greet",
  description: "Build a greeting for \`name\`.",
  category: "custom",
  parameters: z.object({
    name: z.string().min(1).default("world").describe("Who to greet"),
    punctuation: z.enum(["!", ".", "?"]).default("!").describe("How the greeting ends"),
  }),
  inputs: [{ id: "input", description: "Not used" }],
  outputs: [{ id: "output", description: "The greeting" }],
  example: \`- id: greet
  type: greet
  parameters: { name: Ada }\`,
  execute(ctx) {
    const greeting = \`Hello, \${ctx.parameters.name}\${ctx.parameters.punctuation}\`;
    ctx.log("info", greeting);
    return greeting;
  },
});
`;

const NODE_TEST = `import { describe, expect, test } from "vitest";
import greet from "./greet.js";

type Context = Parameters<typeof greet.execute>[0];

/** The smallest context \`execute\` needs: validated parameters, a signal and a log. */
function context(parameters: Record<string, unknown>): { ctx: Context; logs: string[] } {
  const logs: string[] = [];
  const ctx = {
    input: undefined,
    inputs: {},
    parameters: greet.parameters.parse(parameters),
    signal: new AbortController().signal,
    log: (level: string, message: string) => logs.push(\`\${level}: \${message}\`),
    progress: () => undefined,
    runId: "test-run",
    nodeId: "greet",
    nodeType: "greet",
    attempt: 1,
    workdir: process.cwd(),
    vars: {},
    env: {},
  } as unknown as Context;
  return { ctx, logs };
}

describe("greet", () => {
  test("greets by name and logs the greeting", async () => {
    const { ctx, logs } = context({ name: "Ada" });
    expect(await greet.execute(ctx)).toBe("Hello, Ada!");
    expect(logs).toEqual(["info: Hello, Ada!"]);
  });

  test("defaults to the world", async () => {
    const { ctx } = context({ punctuation: "." });
    expect(await greet.execute(ctx)).toBe("Hello, world.");
  });

  test("rejects an empty name", () => {
    expect(greet.parameters.safeParse({ name: "" }).success).toBe(false);
  });
});
`;

/** `atomiton init flow.yaml`: one composite that runs as it is (built-in nodes only, no project around it). */
const standaloneFlow = (name: string, schema: string): string => `# yaml-language-server: $schema=${schema}
name: ${JSON.stringify(name)}
description: Greet someone, shout it, and log the result.
variables:
  name: { type: string, default: world, description: Who to greet }
nodes:
  - id: greet
    type: code
    parameters:
      code: "return \`Hello, \${$vars.name}!\`"
${SHOUT_AND_LOG}`;

const CONFIG = `${JSON.stringify({ nodes: ["./nodes"] }, null, 2)}\n`;

/** The files `atomiton init` writes, relative to the target directory. */
export const SCAFFOLD: readonly { file: string; text: string; what: string }[] = [
  { file: "flow.yaml", text: FLOW, what: "a composite: greet -> shout -> announce" },
  { file: "nodes/greet.ts", text: NODE, what: "a custom node (TypeScript, loads without a build step)" },
  { file: "nodes/greet.test.ts", text: NODE_TEST, what: "a vitest test of the node" },
  { file: "atomiton.config.json", text: CONFIG, what: 'lists "./nodes" as the custom node directory' },
];

/**
 * Written only where missing, never overwritten (not even with --force): they make the directory a
 * project of its own. Without a package.json there, the printed `npm install --save-dev …` installs
 * into the nearest package.json above (a repository, the atomiton checkout itself) and edits it; and
 * vitest takes the nearest vitest config above, whose `include` may not see nodes/greet.test.ts.
 */
const PROJECT_FILES: readonly { file: string; text: (root: string) => string; what: string }[] = [
  {
    file: "package.json",
    text: (root) => `${JSON.stringify({ name: packageName(root), private: true, scripts: { start: "atomiton run flow.yaml", test: "vitest run" } }, null, 2)}\n`,
    what: "makes this directory its own npm project (npm install goes here)",
  },
  {
    file: "vitest.config.mjs",
    text: () => "// This project's own vitest settings (else vitest would use a config of a directory above).\nexport default { test: { include: [\"**/*.test.ts\"] } };\n",
    what: "this project's vitest settings (not those of a directory above)",
  },
];

/** An npm package name from the directory's name (lower case, URL-safe). */
function packageName(root: string): string {
  return (
    path
      .basename(root)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+/, "")
      .slice(0, 214) || "atomiton-project"
  );
}

export function registerInit(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("init")
    .description("Scaffold a starter composite, a typed custom node with its test, and atomiton.config.json")
    .argument("[dir]", "where to create the files, or a .yaml/.yml file to write one starter composite to", ".")
    .option("--force", "overwrite files that already exist")
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton init
  $ atomiton init my-flow && cd my-flow && atomiton run flow.yaml --watch
  $ atomiton init . --force
  $ atomiton init flows/nightly.yaml      # one starter composite, built-in nodes only

Exit codes: 0 created, 2 a file exists (use --force).`,
    )
    .action(async (dir: string, flags: InitFlags) => {
      setExit(await initCommand(dir, flags, io));
    });
}

export async function initCommand(dir: string, flags: InitFlags, io: CliIO): Promise<number> {
  const root = path.resolve(io.cwd, dir);
  // A YAML file name asks for that file, not a directory named so: one composite that runs as it is.
  if (/\.ya?ml$/i.test(dir) && !(existsSync(root) && statSync(root).isDirectory())) return initComposite(root, flags, io);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new AtomitonError(ErrorCode.USAGE, `init needs a directory, and ${dir} is ${statSync(root).isFile() ? "a file" : "not one (a pipe, a socket or a device)"}`, { retryable: false, hint: "atomiton init <new or existing directory>" });
  }
  // Overwritten with --force only when it is a file: writing to a pipe would wait for a reader, for good.
  const special = SCAFFOLD.find((f) => existsSync(path.join(root, f.file)) && !statSync(path.join(root, f.file)).isFile());
  if (special) throw new AtomitonError(ErrorCode.USAGE, `init would write ${special.file} in ${path.relative(io.cwd, root) || "."}, which is not a regular file`, { retryable: false, hint: "remove it, or choose another directory: atomiton init <dir>" });
  const existing = SCAFFOLD.filter((f) => existsSync(path.join(root, f.file))).map((f) => f.file);
  if (existing.length > 0 && !flags.force) {
    throw new AtomitonError(ErrorCode.USAGE, `init would overwrite ${existing.join(", ")} in ${path.relative(io.cwd, root) || "."}`, {
      retryable: false,
      hint: "pass --force to overwrite them, or choose another directory: atomiton init <dir>",
    });
  }
  const missing = PROJECT_FILES.filter((f) => !existsSync(path.join(root, f.file)));
  const writes = [...SCAFFOLD, ...missing.map((f) => ({ file: f.file, text: f.text(root), what: f.what }))];
  for (const f of writes) {
    const target = path.join(root, f.file);
    try {
      await ensureDir(path.dirname(target));
      await writeFile(target, f.text);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AtomitonError(ErrorCode.FILE, `init cannot write ${path.relative(io.cwd, target) || target}: ${code ?? (error as Error).message}`, {
        retryable: false,
        hint: code === "EACCES" || code === "EPERM" || code === "EROFS" ? "choose a directory you can write to" : "check the path: atomiton init <new or existing directory>",
      });
    }
  }
  const style = stdoutStyle(io, flags.color);
  const c = style.chalk;
  const shown = path.relative(io.cwd, root) || ".";
  const width = Math.max(...writes.map((f) => f.file.length));
  const out = [`${c.green(style.symbols.succeeded)} created a starter project in ${shown}`];
  for (const f of writes) out.push(`  ${f.file.padEnd(width)}  ${c.dim(f.what)}`);
  out.push("", c.bold("Next steps:"));
  if (shown !== ".") out.push(`  cd ${shown.includes(" ") ? JSON.stringify(shown) : shown}`);
  // atomiton is not on the npm registry: install it from the checkout (or unpacked tarball) this CLI runs from.
  const checkout = packageRoot() ?? "/path/to/atomiton";
  const quoted = /[\s"'$]/.test(checkout) ? JSON.stringify(checkout) : checkout;
  out.push(`  npm install --save-dev ${quoted} zod vitest   ${c.dim("# atomiton from this checkout (it is not on npm); zod and vitest for the node's test")}`);
  out.push(`  npx atomiton run flow.yaml            ${c.dim("# atomiton.config.json loads ./nodes")}`);
  out.push(`  npx atomiton run flow.yaml --watch    ${c.dim("# re-runs as you edit flow.yaml or nodes/greet.ts")}`);
  out.push("  npx atomiton nodes greet");
  out.push("  npx vitest run nodes");
  out.push("", c.dim(`To type \`atomiton\` without npx, put it on PATH: \`npm link\` (or \`npm install -g .\`) in ${quoted}.`));
  io.stdout.write(`${out.join("\n")}\n`);
  return ExitCode.ok;
}

/** `atomiton init flow.yaml`: writes the one composite (its directory created), never over a file without --force. */
async function initComposite(file: string, flags: InitFlags, io: CliIO): Promise<number> {
  const shown = path.relative(io.cwd, file) || file;
  if (existsSync(file) && !statSync(file).isFile()) {
    throw new AtomitonError(ErrorCode.USAGE, `init would write ${shown}, which is not a regular file`, { retryable: false, hint: "remove it, or choose another name: atomiton init <name>.yaml" });
  }
  if (existsSync(file) && !flags.force) {
    throw new AtomitonError(ErrorCode.USAGE, `init would overwrite ${shown}`, { retryable: false, hint: "pass --force to overwrite it, or choose another name: atomiton init <name>.yaml" });
  }
  try {
    await ensureDir(path.dirname(file));
    await writeFile(file, standaloneFlow(path.basename(file).replace(/\.ya?ml$/i, ""), schemaPathFor(file, io.cwd)));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AtomitonError(ErrorCode.FILE, `init cannot write ${shown}: ${code ?? (error as Error).message}`, { retryable: false, hint: "choose a path you can write to" });
  }
  const style = stdoutStyle(io, flags.color);
  const quoted = /[\s"'$]/.test(shown) ? JSON.stringify(shown) : shown;
  io.stdout.write(`${style.chalk.green(style.symbols.succeeded)} created ${shown} ${style.chalk.dim("(a composite of built-in nodes: greet -> shout -> announce)")}\n\n${style.chalk.bold("Next steps:")}\n  atomiton run ${quoted}\n  atomiton run ${quoted} --var name=Ada\n`);
  return ExitCode.ok;
}

/**
 * The editor's `$schema` path for a composite written to `file`: the yaml-language-server resolves it
 * against the file's directory, and the project's node_modules is in the current directory
 * (`flows/x.yaml` gets `../node_modules/…`).
 */
function schemaPathFor(file: string, cwd: string): string {
  const rel = path.relative(path.dirname(file), path.join(cwd, "node_modules/atomiton/schema/composite.json")).split(path.sep).join("/");
  return rel.startsWith("../") ? rel : `./${rel}`;
}

/** The directory of the atomiton package this CLI runs from (a checkout, or where npm put it). */
function packageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown };
      if (pkg.name === "atomiton") return dir;
    } catch {
      // no package.json here: go up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
