import { stripVTControlCharacters } from "node:util";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";

// A composite with a 5,000-character name: on a 100-column terminal, `runs` and `composites list`
// cut the name column to fit (they printed one 5,000-character row).

let dir: string;
useTempDir((d) => (dir = d), "atomiton-long-names-");

/** The command's stdout on a pseudo-terminal 100 columns wide (script(1)). */
async function onTerminal(args: string): Promise<string> {
  const r = await execa("script", ["-qec", `stty cols 100; node "${BIN}" ${args}`, "/dev/null"], { cwd: dir, reject: false, stdin: "ignore", env: { NO_COLOR: "1" } });
  expect(r.exitCode, r.stdout).toBe(0);
  return stripVTControlCharacters(r.stdout);
}

describe("a very long composite name on a terminal", () => {
  test.each([["runs"], ["composites list"]])("%s fits the terminal's width", async (command) => {
    await writeFile(path.join(dir, "long.yaml"), `name: "${"n".repeat(5000)}"\nnodes:\n  - id: a\n    type: log\n    parameters: { message: hi }\n`);
    expect((await atomiton(["run", "long.yaml", "--reporter", "silent", "--data-dir", ".data"], { cwd: dir })).exitCode).toBe(0);
    expect((await atomiton(["composites", "add", "long.yaml", "--data-dir", ".data"], { cwd: dir })).exitCode).toBe(0);
    const out = await onTerminal(`${command} --data-dir .data`);
    const lines = out.split(/\r?\n/).filter((l) => l !== "");
    expect(lines.length, out).toBe(2);
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(100);
    expect(lines[1]).toContain("nnnnnnnnnn…");
  });
});
