import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import os from "node:os";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";
import { startServe } from "../helpers/serve.js";

// `-` reads the composite from stdin, for run, validate and graph: problems say `<stdin>:line:col`,
// `ref:` paths resolve against the current directory, and a terminal or an empty stdin is a usage error.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-stdin-");

const WITH_REF = `nodes:
  - id: g
    type: group
    ref: ./sub/child.yaml
`;

async function writeChild(): Promise<void> {
  await mkdir(path.join(dir, "sub"));
  await writeFile(path.join(dir, "sub/child.yaml"), "nodes:\n  - id: s\n    type: log\n    parameters: { message: from-the-ref }\n");
}

describe("a composite piped in as -", () => {
  test("run - runs it, its ref: resolved against the current directory", async () => {
    await writeChild();
    const r = await atomiton(["run", "-", "--reporter", "plain", "--storage", "memory"], { cwd: dir, input: WITH_REF });
    expect(r.stderr).toContain("from-the-ref");
    expect(r.exitCode, r.stderr).toBe(0);
  });

  test.each([["run", "-", "--storage", "memory"], ["validate", "-"], ["graph", "-"]])("%s %s: problems are located at <stdin>:line:col", async (...args) => {
    const r = await atomiton(args, { cwd: dir, input: "nodes:\n  - id: a\n    type: lgo\n" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('E_UNKNOWN_TYPE <stdin>:3:11 node "a": unknown node type "lgo"');
    expect(r.stderr).toContain("> 3 |     type: lgo");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
  });

  test("validate - and a file together: each is reported under its name", async () => {
    await writeChild();
    const r = await atomiton(["validate", "-", "sub/child.yaml"], { cwd: dir, input: WITH_REF });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("✔ <stdin> is valid");
    expect(r.stdout).toContain("✔ sub/child.yaml is valid");
  });

  test.each([
    { what: "an empty stdin", stdin: "ignore" as const },
    { what: "a closed stdin", stdin: "closed" as const },
  ])("$what is a usage error, not an empty composite", async ({ stdin }) => {
    const r =
      stdin === "closed"
        ? await execa("sh", ["-c", `exec node "${BIN}" run - --storage memory <&-`], { cwd: dir, reject: false, env: { NO_COLOR: "1", CI: "true" } })
        : await execa("node", [BIN, "run", "-", "--storage", "memory"], { cwd: dir, reject: false, stdin: "ignore", env: { NO_COLOR: "1", CI: "true" } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('E_USAGE "-" reads the composite from stdin, and stdin gave nothing (empty or closed)');
    expect(r.stderr).toContain("hint: pipe the composite in");
  });

  test("stdin on a terminal is a usage error at once (no wait for typing)", async () => {
    // script(1) gives the command a pseudo-terminal as its stdin.
    const r = await execa("script", ["-qec", `node "${BIN}" run - --storage memory`, "/dev/null"], { cwd: dir, reject: false, stdin: "ignore", env: { NO_COLOR: "1", CI: "true" } });
    expect(r.stdout).toContain('E_USAGE "-" reads the composite from stdin, and stdin is a terminal');
    expect(r.exitCode).toBe(2);
  });

  test.each([["run", ""], ["validate", ""], ["graph", " "]])("%s with an empty path is a usage error (it was reported as the current directory)", async (command, arg) => {
    const r = await atomiton([command, arg], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_USAGE the composite's path is empty");
    expect(r.stderr).not.toContain("is a directory");
  });

  test("a run of a piped composite is resumed and replayed from stdin again (it looked for a file named <stdin>)", async () => {
    const flow = "nodes:\n  - id: a\n    type: code\n    parameters: { code: \"return 1\" }\n";
    const first = await atomiton(["run", "-", "--reporter", "silent", "--data-dir", ".data"], { cwd: dir, input: flow });
    expect(first.exitCode, first.stderr).toBe(0);
    const runs = await atomiton(["runs", "--json", "--data-dir", ".data"], { cwd: dir });
    const runId = (JSON.parse(runs.stdout) as { runId: string }[])[0]!.runId;
    const resumed = await atomiton(["run", "--resume", runId, "--reporter", "plain", "--data-dir", ".data"], { cwd: dir, input: flow });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("1 succeeded (1 reused)");
    const replayed = await atomiton(["replay", runId, "--from", "a", "--reporter", "plain", "--data-dir", ".data"], { cwd: dir, input: flow });
    expect(replayed.exitCode, replayed.stderr).toBe(0);
    const unpiped = await atomiton(["replay", runId, "--from", "a", "--data-dir", ".data"], { cwd: dir });
    expect(unpiped.exitCode).toBe(2);
    expect(unpiped.stderr).toContain('E_USAGE "-" reads the composite from stdin, and stdin gave nothing');
    expect(unpiped.stderr).not.toContain("file not found");
  });

  test("composites add - stores a piped composite under --id, with its ref: files from the current directory", async () => {
    await writeChild();
    const noId = await atomiton(["composites", "add", "-", "--data-dir", ".data"], { cwd: dir, input: WITH_REF });
    expect(noId.exitCode).toBe(2);
    expect(noId.stderr).toContain("E_USAGE a composite read from stdin needs an id to be stored under");
    const add = await atomiton(["composites", "add", "-", "--id", "piped", "--data-dir", ".data"], { cwd: dir, input: WITH_REF });
    expect(add.exitCode, add.stderr).toBe(0);
    expect(add.stdout).toContain("stored piped with its 1 ref: file");
    const run = await atomiton(["run", "piped", "--reporter", "plain", "--data-dir", ".data"], { cwd: dir });
    expect(run.stderr).toContain("from-the-ref");
    expect(run.exitCode, run.stderr).toBe(0);
  });

  test("validate - - is a usage error before anything is read (the second - found stdin used up)", async () => {
    const r = await atomiton(["validate", "-", "-"], { cwd: dir, input: WITH_REF });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('E_USAGE "-" (stdin) is given more than once');
    expect(r.stdout).toBe("");
  });

  test("run - --remote sends the piped composite with its ref: files", async () => {
    await writeChild();
    const serve = await startServe(["--storage", "memory"], { cwd: os.tmpdir() });
    try {
      const r = await atomiton(["run", "-", "--remote", serve.url, "--token", serve.token, "--reporter", "plain"], { cwd: dir, input: WITH_REF });
      expect(r.stderr).toContain("from-the-ref");
      expect(r.exitCode, r.stderr).toBe(0);
    } finally {
      await serve.stop();
    }
  });

  test.each([["--input", "@/dev/stdin"], ["--input", "@-"], ["--pin", "a=@/dev/stdin"]])("run - with %s %s is a usage error (stdin is the composite's)", async (flag, value) => {
    const r = await atomiton(["run", "-", flag, value, "--storage", "memory"], { cwd: dir, input: "nodes:\n  - id: a\n    type: log\n    parameters: { message: hi }\n" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`E_USAGE "-" reads the composite from stdin, and ${value} would read stdin too`);
  });

  test("--watch cannot watch stdin", async () => {
    const r = await atomiton(["run", "-", "--watch"], { cwd: dir, input: WITH_REF });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_USAGE --watch cannot watch stdin (-)");
  });
});
