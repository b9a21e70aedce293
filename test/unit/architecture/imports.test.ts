import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");

/** The table in src/ARCHITECTURE.md: part → parts it may import. */
export function readAllowedTable(markdown: string): Map<string, Set<string>> {
  const table = new Map<string, Set<string>>();
  for (const line of markdown.split("\n")) {
    const m = /^\|\s*([a-z]+)\s*\|\s*([a-z, ]+?)\s*\|$/.exec(line);
    if (!m || m[1] === "part") continue;
    table.set(m[1]!, new Set(m[2]!.split(",").map((s) => s.trim()).filter(Boolean)));
  }
  return table;
}

function partOf(file: string): string {
  const rel = relative(SRC, file).split("/");
  return rel.length === 1 ? (rel[0] === "index.ts" ? "index" : "base") : rel[0]!;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(p);
    else if (/\.ts$/.test(entry.name)) yield p;
  }
}

/** Every relative import of a file: `from "…"`, `import("…")`, `import "…"`, type-only included. */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (let m = re.exec(source); m; m = re.exec(source)) specs.push(m[1]!);
  return specs;
}

export function findForbiddenArrows(table: Map<string, Set<string>>, files: Iterable<[string, string]>): string[] {
  const bad: string[] = [];
  for (const [file, source] of files) {
    const from = partOf(file);
    if (from === "index") continue;
    const allowed = table.get(from);
    for (const spec of importsOf(source)) {
      const to = partOf(resolve(dirname(file), spec));
      if (to === from) continue;
      if (!allowed) bad.push(`${relative(SRC, file)}: part "${from}" is not in the table`);
      else if (!allowed.has(to)) bad.push(`${relative(SRC, file)} imports ${spec}: ${from} → ${to} is not allowed`);
    }
  }
  return bad;
}

describe("src/ layout", () => {
  const table = readAllowedTable(readFileSync(join(SRC, "ARCHITECTURE.md"), "utf8"));

  it("reads the table of allowed directions", () => {
    expect(table.get("js")).toEqual(new Set(["base"]));
    expect(table.get("cli")?.has("conductor")).toBe(true);
    expect(table.get("conductor")?.has("cli")).toBe(false);
  });

  it("every import of src/ points along an allowed arrow", () => {
    const files = [...sourceFiles(SRC)].map((f) => [f, readFileSync(f, "utf8")] as [string, string]);
    expect(files.length).toBeGreaterThan(50);
    expect(findForbiddenArrows(table, files)).toEqual([]);
  });

  it("no source file is over 400 lines (a longer one is split where it has two jobs)", () => {
    const long = [...sourceFiles(SRC)].map((f) => [relative(SRC, f), readFileSync(f, "utf8").split("\n").length - 1] as const).filter(([, lines]) => lines > 400);
    expect(long).toEqual([]);
  });

  it.each([
    ["conductor/x.ts", 'import { a } from "../reporters/json.js";', "conductor → reporters"],
    ["nodes/builtin/x.ts", 'import type { C } from "../../conductor/run-state.js";', "nodes → conductor"],
    ["js/x.ts", 'const m = await import("../nodes/catalog.js");', "js → nodes"],
    ["storage/x.ts", 'import "../cli/main.js";', "storage → cli"],
  ])("a forbidden import in %s is caught (%s)", (file, source, arrow) => {
    const found = findForbiddenArrows(table, [[join(SRC, file), source]]);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`${arrow} is not allowed`);
  });
});
