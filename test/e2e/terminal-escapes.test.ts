import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { execa } from "execa";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";

// Text from a composite file or a node (names, log lines, error messages, problems) reaches the
// terminal with its control characters shown as escapes: a file cannot clear the screen, move the
// cursor, set the window title or reorder the line. Our own colours stay; the JSON stays faithful.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-escapes-");

// ESC[2J clears the screen, ESC]0;…BEL sets the window title, CR rewrites the line, U+202E reverses it.
const EVIL = String.raw`\e[2J\e]0;pwned\a\rX\u202eY`;
const SHOWN = String.raw`\x1b[2J\x1b]0;pwned\x07\x0dX\u202eY`;

const COMPOSITE = `name: "evil${EVIL}"
nodes:
  - id: say
    type: log
    name: "say${EVIL}"
    parameters:
      message: "hello${EVIL}"
  - id: boom
    type: code
    parameters:
      code: "throw new Error('bad\\\\u001b[2Jthing\\\\r!')"
edges:
  - say -> boom
`;

/** Raw control characters other than LF and our own SGR colours (`ESC[…m`). */
function foreignControls(text: string): string[] {
  const withoutColours = text.replace(/\u001b\[[0-9;]*m/g, "");
  return [...withoutColours.matchAll(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g)].map((m) => JSON.stringify(m[0]));
}

describe("untrusted text on the terminal", () => {
  test.each([
    { reporter: "plain", env: {} },
    { reporter: "plain", env: { NO_COLOR: undefined, FORCE_COLOR: "1" } },
    { reporter: "github", env: { GITHUB_ACTIONS: "true" } },
  ])("$reporter reporter ($env) shows names, logs and errors escaped", async ({ reporter, env }) => {
    await writeFile(path.join(dir, "evil.yaml"), COMPOSITE);
    const r = await atomiton(["run", "evil.yaml", "--reporter", reporter, "--data-dir", ".data"], { cwd: dir, env });
    expect(r.exitCode).toBe(1);
    const all = r.stdout + r.stderr;
    expect(foreignControls(all)).toEqual([]);
    expect(all).toContain(`evil${SHOWN}`);
    expect(all).toContain(`hello${SHOWN}`);
    expect(all).toContain(String.raw`E_NODE: bad\x1b[2Jthing\x0d!`);
    if (env.FORCE_COLOR) expect(r.stderr).toMatch(/\u001b\[3\dm/); // our colours are still there
  });

  test("the tty reporter on a terminal (script(1)) shows them escaped too, around its own cursor moves", async () => {
    await writeFile(path.join(dir, "evil.yaml"), COMPOSITE);
    const r = await execa("script", ["-qec", `stty cols 100; node "${BIN}" run evil.yaml --storage memory`, "/dev/null"], { cwd: dir, reject: false, stdin: "ignore", env: { CI: undefined, TERM: "xterm-256color" } });
    expect(r.stdout).toContain("\u001b[?25l"); // the live view (it hides the cursor), not plain lines
    expect(r.stdout).toContain(String.raw`E_NODE: bad\x1b[2Jthing\x0d!`);
    expect(r.stdout).not.toContain("\u001b[2J");
    expect(r.stdout).not.toContain("\u001b]0;");
    expect(r.stdout).not.toContain("\u202e");
  });

  test("the json reporter stays valid and carries the text as it was", async () => {
    await writeFile(path.join(dir, "evil.yaml"), COMPOSITE);
    const r = await atomiton(["run", "evil.yaml", "--reporter", "json", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; composite?: { name: string }; message?: string });
    expect(events.find((e) => e.type === "run:start")?.composite?.name).toBe("evil\u001b[2J\u001b]0;pwned\u0007\rX\u202eY");
    expect(events.find((e) => e.type === "node:log")?.message).toBe("hello\u001b[2J\u001b]0;pwned\u0007\rX\u202eY");
  });

  test("runs, runs show and the run's error read from records show escapes", async () => {
    await writeFile(path.join(dir, "evil.yaml"), COMPOSITE);
    const run = await atomiton(["run", "evil.yaml", "--reporter", "silent", "--data-dir", ".data"], { cwd: dir });
    expect(run.exitCode).toBe(1);
    const list = await atomiton(["runs", "--data-dir", ".data"], { cwd: dir });
    expect(list.exitCode).toBe(0);
    expect(foreignControls(list.stdout + list.stderr)).toEqual([]);
    expect(list.stdout).toContain(`evil${SHOWN}`);
    const id = /^(\S+)\s+\S+ failed/m.exec(list.stdout)?.[1];
    expect(id, list.stdout).toBeDefined();
    const show = await atomiton(["runs", "show", id!, "--timeline", "--data-dir", ".data"], { cwd: dir });
    expect(show.exitCode).toBe(0);
    expect(foreignControls(show.stdout + show.stderr)).toEqual([]);
    expect(show.stdout).toContain(String.raw`bad\x1b[2Jthing\x0d!`);
  });

  test("validate: problems quoting the file, and the code frame, show escapes with the caret in place", async () => {
    await writeFile(path.join(dir, "bad.yaml"), `nodes:\n  - id: a\n    type: "lo\u001b[2Jg\r"\n    parameters: { message: hi }\n`);
    const r = await atomiton(["validate", "bad.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(foreignControls(r.stdout + r.stderr)).toEqual([]);
    expect(r.stderr).toContain(String.raw`lo\x1b[2Jg\x0d`);
    const lines = r.stderr.split("\n");
    const marked = lines.findIndex((l) => l.includes("> 3 |"));
    expect(marked, r.stderr).toBeGreaterThan(-1);
    expect(lines[marked]![lines[marked + 1]!.indexOf("^")]).toBe('"');
  });

  test("an error message quoting a stored value shows escapes", async () => {
    const r = await atomiton(["runs", "show", "no\u001b]0;t\u0007such", "--data-dir", ".data"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(foreignControls(r.stderr)).toEqual([]);
    expect(r.stderr).toContain(String.raw`no\x1b]0;t\x07such`);
  });
});
