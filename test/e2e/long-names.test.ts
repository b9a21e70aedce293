import { stripVTControlCharacters } from "node:util";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import stringWidth from "string-width";
import { describe, expect, test } from "vitest";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";

// A composite with a 5,000-character name: on a 100-column terminal, `runs` and `composites list`
// cut the name column to fit (they printed one 5,000-character row).

let dir: string;
useTempDir((d) => (dir = d), "atomiton-long-names-");

/** The command's stdout on a pseudo-terminal 100 columns wide (script(1)). */
async function onTerminal(args: string): Promise<string> {
  const r = await execa("script", ["-qec", `stty cols 100; node "${BIN}" ${args}`, "/dev/null"], { cwd: dir, reject: false, stdin: "ignore", env: { NO_COLOR: "1", CI: undefined, TERM: "xterm-256color" } });
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

// Node ids of 300 characters: on a 100-column terminal, the summary's "Failed" and "Slowest:" lines
// and `runs show` cut them (they printed them whole, one line wrapping over four).
describe("a very long node id on a terminal", () => {
  const failing = "n".repeat(300);
  const passing = "m".repeat(300);
  const composite = `name: long ids\nnodes:\n  - id: ${passing}\n    type: log\n    parameters: { message: hi }\n  - id: ${failing}\n    type: code\n    parameters: { code: 'throw new Error("nope")' }\n`;

  /** The lines of a command on the 100-column pseudo-terminal (stdout and stderr together). */
  async function linesOnTerminal(args: string, exitCode: number): Promise<string[]> {
    const r = await execa("script", ["-qec", `stty cols 100; node "${BIN}" ${args}`, "/dev/null"], { cwd: dir, reject: false, stdin: "ignore", env: { NO_COLOR: "1", CI: undefined, TERM: "xterm-256color" } });
    expect(r.exitCode, r.stdout).toBe(exitCode);
    return stripVTControlCharacters(r.stdout).split(/\r?\n|\r/);
  }
  /** Up to the error code: the part that must fit (the message after it may wrap). */
  const head = (line: string) => line.slice(0, line.indexOf("E_NODE") + "E_NODE".length);

  test.each([["tty"], ["plain"]])("the %s reporter's summary cuts them to the width", async (reporter) => {
    await writeFile(path.join(dir, "ids.yaml"), composite);
    const lines = await linesOnTerminal(`run ids.yaml --reporter ${reporter} --data-dir .data`, 1);
    const failed = lines.filter((l) => /^ {2}[✖x] n/.test(l));
    expect(failed.length, lines.join("\n")).toBe(1);
    expect([...head(failed[0]!)].length, failed[0]).toBeLessThanOrEqual(100);
    expect(failed[0]).toMatch(/n… E_NODE: nope$/);
    if (reporter === "tty") {
      const slowest = lines.filter((l) => l.startsWith("Slowest:"));
      expect(slowest.length, lines.join("\n")).toBe(1);
      expect([...slowest[0]!].length, slowest[0]).toBeLessThanOrEqual(100);
      expect(slowest[0]).toMatch(/^Slowest: [nm]+… \S+ · [nm]+… \S+$/);
    }
  });

  test("runs show cuts them in the table and the failure line", async () => {
    await writeFile(path.join(dir, "ids.yaml"), composite);
    expect((await atomiton(["run", "ids.yaml", "--reporter", "silent", "--data-dir", ".data"], { cwd: dir })).exitCode).toBe(1);
    const runId = (JSON.parse((await atomiton(["runs", "--json", "--data-dir", ".data"], { cwd: dir })).stdout) as { runId: string }[])[0]!.runId;
    const lines = (await linesOnTerminal(`runs show ${runId} --data-dir .data`, 0)).filter((l) => l !== "");
    expect(lines.some((l) => l.startsWith("nnnnnnnn") && l.includes("…")), lines.join("\n")).toBe(true);
    for (const line of lines) expect([...(line.includes("E_NODE") ? head(line) : line)].length, line).toBeLessThanOrEqual(100);
  });
});

// CJK characters and emoji take two columns: a name of them is cut by columns, not by characters
// (counted as one column each, a 100-character row took about 190 columns and wrapped).
describe("a long name of wide characters on a terminal", () => {
  test.each([["runs"], ["composites list"]])("%s fits the terminal's width in columns, and its columns line up", async (command) => {
    await writeFile(path.join(dir, "wide.yaml"), `name: "${"名前🚀".repeat(1000)}"\nnodes:\n  - id: a\n    type: log\n    parameters: { message: hi }\n`);
    expect((await atomiton(["run", "wide.yaml", "--reporter", "silent", "--data-dir", ".data"], { cwd: dir })).exitCode).toBe(0);
    expect((await atomiton(["composites", "add", "wide.yaml", "--data-dir", ".data"], { cwd: dir })).exitCode).toBe(0);
    const lines = (await onTerminal(`${command} --data-dir .data`)).split(/\r?\n/).filter((l) => l !== "");
    expect(lines.length, lines.join("\n")).toBe(2);
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(100);
    expect(lines[1]).toMatch(/名前🚀名?前?…/);
    // The column after the name lines up in the header and the row (in terminal columns): STARTED
    // starts at the same column; NODES, right-aligned, ends at the same column as the row's "1".
    if (command === "runs") {
      expect(stringWidth(lines[1]!.slice(0, lines[1]!.search(/\d{4}-\d\d-\d\d/)))).toBe(stringWidth(lines[0]!.slice(0, lines[0]!.indexOf("STARTED"))));
    } else {
      expect(lines[1]).toMatch(/ 1$/);
      expect(stringWidth(lines[1]!)).toBe(stringWidth(lines[0]!.slice(0, lines[0]!.indexOf("NODES") + "NODES".length)));
    }
  });
});
