import path from "node:path";
import type { Command } from "commander";
import { parse as parseYamlText } from "yaml";
import { sourceOf } from "../../composite/load-composite.js";
import { compositePath, loadCompositeArg, STDIN_ARG } from "../composite-arg.js";
import { didYouMean, suggest } from "../../composite/suggest.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { detectTerminal } from "../../reporters/detect-terminal.js";
import type { Storage } from "../../storage/types.js";
import { ExitCode } from "../exit-codes.js";
import { stderrStyle, stdoutStyle, type CliIO } from "../io.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { openStorage, renderStorageLocation } from "../open-storage.js";
import { collect } from "../parse-flags.js";
import { renderProblems, summarizeProblems } from "../print-problems.js";
import { renderTable } from "../render-table.js";
import { escapeControlCharacters } from "../../terminal-text.js";
import { addStorageOptions } from "./runs.js";
import { bundleOf } from "../composite-bundle.js";
import { storedRefsKey } from "../../serve/load-source.js";

interface StoreFlags {
  storage: string;
  dataDir?: string;
  redis?: string;
  queueName?: string;
  color?: boolean;
}

interface AddFlags extends StoreFlags {
  id?: string;
  force?: boolean;
  nodes?: string[];
}

const PREFIX = "composites/";
const keyOf = (id: string) => `${PREFIX}${id}.yaml`;
/** Stored ids are one storage-key segment. */
const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function registerComposites(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const composites = program
    .command("composites")
    .description("Manage composites kept in storage (composites/<id>.yaml); run one with `atomiton run <id>`")
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton composites add flow.yaml
  $ atomiton composites list
  $ atomiton run hello
  $ atomiton composites show hello > hello.yaml
  $ atomiton composites remove hello`,
    );
  // `list` is the default: a mistyped command (`composites lsit`) reaches it as an extra word (no
  // declared argument, so its help reads `list [options]`, not `list [options] [command...]`).
  addStorageOptions(composites.command("list", { isDefault: true }).description("List stored composites").allowExcessArguments())
    .addHelpText("after", "\nExamples:\n  $ atomiton composites list\n  $ atomiton composites list --data-dir ./.atomiton")
    .action(async (flags: StoreFlags, command: Command) => {
      const words = command.args;
      if (words.length > 0) {
        const names = ["add", "list", "show", "remove"];
        throw new AtomitonError(ErrorCode.USAGE, `unknown composites command "${words[0]}"`, { retryable: false, hint: didYouMean(words[0]!, names) || `the commands: ${names.join(", ")}` });
      }
      setExit(await listComposites(flags, io));
    });
  addStorageOptions(
    composites
      .command("add")
      .description("Validate a composite file and store it under its `id` (else its file name)")
      .argument("<file>", "a composite YAML file (- reads it from stdin, with --id)")
      .option("--id <id>", "store under this id instead")
      .option("--force", "replace a stored composite with the same id")
      .option("--nodes <path>", "load custom node modules to validate against (repeatable)", collect),
  )
    .addHelpText("after", "\nExamples:\n  $ atomiton composites add flow.yaml\n  $ atomiton composites add flows/nightly.yaml --id nightly --force")
    .action(async (file: string, flags: AddFlags) => setExit(await addComposite(file, flags, io)));
  addStorageOptions(composites.command("show").description("Print a stored composite's YAML").argument("<id>", "a stored composite id"))
    .addHelpText("after", "\nExamples:\n  $ atomiton composites show hello\n  $ atomiton composites show hello > hello.yaml")
    .action(async (id: string, flags: StoreFlags) => {
      const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
      const text = await storage.loadText(keyOf(await resolveCompositeId(storage, id)));
      io.stdout.write(text?.endsWith("\n") ? text : `${text ?? ""}\n`);
      setExit(ExitCode.ok);
    });
  addStorageOptions(composites.command("remove").alias("rm").description("Delete a stored composite").argument("<id>", "a stored composite id"))
    .addHelpText("after", "\nExamples:\n  $ atomiton composites remove hello")
    .action(async (id: string, flags: StoreFlags) => {
      const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
      const resolved = await resolveCompositeId(storage, id);
      await storage.delete(keyOf(resolved));
      await storage.delete(storedRefsKey(resolved));
      io.stdout.write(`removed ${resolved}\n`);
      setExit(ExitCode.ok);
    });
}

async function storedIds(storage: Storage): Promise<string[]> {
  return (await storage.list(PREFIX)).filter((k) => k.endsWith(".yaml") && !k.slice(PREFIX.length).includes("/")).map((k) => k.slice(PREFIX.length, -".yaml".length));
}

async function resolveCompositeId(storage: Storage, id: string): Promise<string> {
  const ids = await storedIds(storage);
  if (ids.includes(id)) return id;
  const guess = suggest(id, ids);
  throw new AtomitonError(ErrorCode.NOT_FOUND, `no stored composite "${id}"${guess ? `: did you mean "${guess}"?` : ""}`, {
    retryable: false,
    hint: ids.length === 0 ? "store one with: atomiton composites add flow.yaml" : `stored: ${ids.join(", ")}`,
  });
}

async function listComposites(flags: StoreFlags, io: CliIO): Promise<number> {
  const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
  const ids = await storedIds(storage);
  if (ids.length === 0) {
    io.stdout.write("no stored composites (add one with: atomiton composites add flow.yaml)\n");
    return ExitCode.ok;
  }
  const style = stdoutStyle(io, flags.color);
  const rows = await Promise.all(
    ids.map(async (id) => {
      const doc = readDoc((await storage.loadText(keyOf(id))) ?? "");
      const nodes = Array.isArray(doc?.nodes) ? String(doc.nodes.length) : "?";
      // Name and description are the file's text: shown, never obeyed.
      return [id, typeof doc?.name === "string" ? doc.name : "", nodes, typeof doc?.description === "string" ? doc.description : ""].map(escapeControlCharacters);
    }),
  );
  const columns = [{ header: "ID" }, { header: "NAME", shrink: true }, { header: "NODES", align: "right" as const }, { header: "DESCRIPTION", shrink: true }];
  io.stdout.write(renderTable(columns, rows, { header: (t) => style.chalk.bold(t), ...(io.stdout.isTTY ? { maxWidth: detectTerminal({ stream: io.stdout, env: io.env }).columns } : {}) }));
  return ExitCode.ok;
}

function readDoc(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = parseYamlText(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function addComposite(file: string, flags: AddFlags, io: CliIO): Promise<number> {
  const abs = compositePath(file, io.cwd);
  const catalog = await loadCatalogForCli(flags.nodes ?? [], io);
  const loaded = await loadCompositeArg(file, io.cwd, { catalog });
  const style = stderrStyle(io, flags.color);
  if (loaded.problems.length > 0) io.stderr.write(renderProblems(loaded.problems, loaded.sources, style));
  if (!loaded.ok || !loaded.composite) {
    io.stderr.write(`${style.chalk.red(`${style.symbols.failed} not stored:`)} ${summarizeProblems(loaded.problems)}\n`);
    return ExitCode.invalid;
  }
  // What was validated is what is stored: the file is not read again.
  const text = sourceOf(loaded, abs)!;
  const declared = readDoc(text)?.id;
  const id = flags.id ?? (declared !== undefined ? String(declared) : path.basename(abs).replace(/\.ya?ml$/i, ""));
  if (!ID_PATTERN.test(id)) {
    const piped = file === STDIN_ARG && flags.id === undefined && declared === undefined;
    throw new AtomitonError(ErrorCode.USAGE, piped ? "a composite read from stdin needs an id to be stored under" : `"${id}" cannot be a stored composite id`, { retryable: false, hint: piped ? "pass --id <id>, or give it an `id:`" : "ids may contain letters, digits, `.`, `_` and `-`; pass --id <id>" });
  }
  const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
  const key = keyOf(id);
  // Without --force, an exclusive create: of several `composites add --id same` at once, one stores it.
  if (flags.force) await storage.saveText(key, text);
  else if (!(await storage.createText(key, text))) {
    throw new AtomitonError(ErrorCode.USAGE, `a composite "${id}" is already stored`, { retryable: false, hint: "pass --force to replace it, or --id <other> to store it under another id" });
  }
  // Its ref: files are stored beside it, laid out as here, so that `run <id>` finds them (as --remote sends them).
  const { file: main, files } = bundleOf(abs, text, loaded);
  const refs = Object.keys(files).length;
  if (refs > 0) await storage.saveText(storedRefsKey(id), JSON.stringify({ file: main, files }));
  else if (flags.force) await storage.delete(storedRefsKey(id));
  const where = storage.type === "memory" ? "memory" : renderStorageLocation(storage, key, io.cwd);
  const withRefs = refs === 0 ? "" : ` with its ${refs} ref: file${refs === 1 ? "" : "s"}`;
  io.stdout.write(`stored ${id}${withRefs} (${where}); run it with: atomiton run ${id}\n`);
  return ExitCode.ok;
}

/**
 * What `run <id>` says when no composite is stored under that id: the stored one whose `name:` it
 * is (`composites add flow.yaml` stores "people" under the file's name, flow), else the closest id.
 */
export async function storedCompositeHint(storage: Storage, wanted: string): Promise<string | undefined> {
  const ids = await storedIds(storage).catch(() => [] as string[]);
  for (const id of ids) {
    const doc = readDoc((await storage.loadText(keyOf(id)).catch(() => undefined)) ?? "");
    if (doc?.name === wanted) return `stored composite "${id}" is named "${wanted}": run it by its id, atomiton run ${id}`;
  }
  const guess = suggest(wanted, ids);
  return guess === undefined ? undefined : `did you mean the stored composite "${guess}"?`;
}
