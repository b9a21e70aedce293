import { execFileSync } from "node:child_process";
import { open, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { BIN, EXAMPLES, hasTmux, TMUX_CONF, useTempDir } from "../helpers/cli.js";

// A composite read from a named pipe or a device (`mkfifo`, `<(cmd)`): it waits for its writer, and an interrupt
// while it waits ends the process at once (it used to hang until `kill -9`).
const hasMkfifo = (() => {
  try {
    execFileSync("mkfifo", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasMkfifo) console.warn("named-pipe tests skipped: no mkfifo (coreutils)");

describe.skipIf(!hasMkfifo || process.platform === "win32")("a composite file that is a named pipe", () => {
  let dir = "";
  useTempDir((d) => (dir = d));

  const fifo = (name: string): string => {
    const file = path.join(dir, name);
    execFileSync("mkfifo", [file]);
    return file;
  };

  test.each(["SIGTERM", "SIGINT", "SIGHUP"] as const)("%s while validate waits for a writer: exit 130 at once", async (signal) => {
    const file = fifo("nobody-writes.yaml");
    const child = execa("node", [BIN, "validate", file], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1_000)); // started and waiting on the pipe
    child.kill(signal);
    const r = await child;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(130);
  });

  test("--input @pipe and --pin id=@pipe: interruptible while they wait (130), read once written", async () => {
    const waiting = fifo("input-nobody.json");
    const child = execa("node", [BIN, "run", path.join(EXAMPLES, "hello.yaml"), "--input", `@${waiting}`, "--storage", "memory"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1_000));
    child.kill("SIGINT");
    expect((await child).exitCode).toBe(130);

    const later = fifo("pin.json");
    const pinned = execa("node", [BIN, "run", path.join(EXAMPLES, "hello.yaml"), "--pin", `greet=@${later}`, "--reporter", "json", "--storage", "memory"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    const writer = await open(later, "w");
    await writer.writeFile('{ "greeting": "Pinned Text" }');
    await writer.close();
    const r = await pinned;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('"nodeId":"greet"');
    expect(r.stdout).toContain("PINNED TEXT ... pinned text");
  });

  test("composites add of a pipe stores the text it validated (the pipe is read once)", async () => {
    const file = fifo("piped.yaml");
    const child = execa("node", [BIN, "composites", "add", file, "--id", "piped", "--data-dir", path.join(dir, "data")], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    const hello = await readFile(path.join(EXAMPLES, "hello.yaml"), "utf8");
    const writer = await open(file, "w");
    await writer.writeFile(hello);
    await writer.close();
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, "data", "composites", "piped.yaml"), "utf8")).toBe(hello);
  });

  test("--watch on a pipe is refused with a hint that fits (not \"not a directory\")", async () => {
    const file = fifo("watched.yaml");
    const r = await execa("node", [BIN, "run", file, "--watch"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 20_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("is not a file");
    expect(r.stderr).toContain("watch mode watches a regular file, not a pipe or a device");
  });

  test("a ref: to a pipe is a located problem, not a blocked read", async () => {
    fifo("part.yaml");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(dir, "main.yaml"), "nodes:\n  - { id: part, type: group, ref: ./part.yaml }\n");
    const r = await execa("node", [BIN, "validate", "main.yaml"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/E_REF main\.yaml:2:\d+ node "part": ref is not a regular file \(a pipe, a socket or a device\)/);
  });

  test("replay and runs show --timeline of a run read from a pipe do not wait on the pipe again", async () => {
    const file = fifo("once.yaml");
    const child = execa("node", [BIN, "run", file, "--reporter", "silent"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    const writer = await open(file, "w");
    await writer.writeFile(await readFile(path.join(EXAMPLES, "hello.yaml")));
    await writer.close();
    expect((await child).exitCode).toBe(0);
    const id = (await readdir(path.join(dir, ".atomiton/runs"))).find((f) => f.endsWith(".json"))!.slice(0, -5);
    // The recorded path is the pipe, which nobody writes to now: reading it for the edges would hang.
    const replay = await execa("node", [BIN, "replay", id, "--reporter", "plain"], { reject: false, cwd: dir, env: { NO_COLOR: "1" }, stdin: "ignore", timeout: 15_000 });
    expect(replay.timedOut).toBe(false);
    expect(replay.exitCode, replay.stderr).toBe(0);
    expect(replay.stderr).toMatch(/run succeeded/);
    const timeline = await execa("node", [BIN, "runs", "show", id, "--timeline"], { reject: false, cwd: dir, env: { NO_COLOR: "1" }, stdin: "ignore", timeout: 15_000 });
    expect(timeline.timedOut).toBe(false);
    expect(timeline.exitCode, timeline.stderr).toBe(0);
  });

  test("run reads what a writer sends later, and runs it", async () => {
    const file = fifo("later.yaml");
    const child = execa("node", [BIN, "run", file, "--reporter", "plain", "--storage", "memory"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    const writer = await open(file, "w");
    await writer.writeFile(await readFile(path.join(EXAMPLES, "hello.yaml")));
    await writer.close();
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/run hello started · 4 nodes · later\.yaml[\s\S]*run succeeded/);
  });

  test("file-system read and write of a named pipe: a timeout ends the run and the process (no pool thread left waiting); with a peer, the bytes pass", async () => {
    const pipe = fifo("data.pipe");
    const node = (operation: string, extra = "") => `nodes:\n  - { id: n, type: file-system, timeout: 1s, parameters: { operation: ${operation}, path: data.pipe${extra} } }\n`;
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(dir, "read.yaml"), node("read"));
    await writeFile(path.join(dir, "write.yaml"), node("write", ", content: hello"));
    const run = (file: string) => execa("node", [BIN, "run", file, "--reporter", "plain", "--storage", "memory"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 20_000 });
    // Nobody writes: the read times out, and the process exits (it stayed for as long as nobody wrote).
    const unread = await run("read.yaml");
    expect(unread.timedOut).toBe(false);
    expect(unread.exitCode).toBe(1);
    expect(unread.stderr).toContain('E_TIMEOUT: node "n" timed out after 1s');
    // Nobody reads: the write fails at once, saying so.
    const unwritten = await run("write.yaml");
    expect(unwritten.timedOut).toBe(false);
    expect(unwritten.exitCode).toBe(1);
    expect(unwritten.stderr).toContain(`ENXIO: no process is reading the named pipe '${pipe}'`);
    // With a peer, the bytes pass both ways.
    const reading = run("read.yaml");
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(pipe, "from a writer");
    expect((await reading).stdout).toContain("from a writer");
    const reader = readFile(pipe, "utf8");
    const wrote = await run("write.yaml");
    expect(wrote.exitCode, wrote.stderr).toBe(0);
    expect(await reader).toBe("hello");
  });

  // spreadsheet and image said "cannot read … it is a directory" of a pipe, and never read one.
  test.each([
    ["spreadsheet", "in.csv", "{ path: in.csv }", "name,n\nada,1\n", '"name": "ada"'],
    ["image", "in.svg", "{ operation: metadata, path: in.svg }", '<svg xmlns="http://www.w3.org/2000/svg" width="7" height="5"/>', '"width": 7'],
  ])("%s of a named pipe: a timeout ends the wait (not \"it is a directory\"); a writer's bytes are read", async (type, name, parameters, content, expected) => {
    const pipe = fifo(name);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(dir, "flow.yaml"), `nodes:\n  - { id: n, type: ${type}, timeout: 1s, parameters: ${parameters} }\n`);
    const run = () => execa("node", [BIN, "run", "flow.yaml", "--reporter", "plain", "--storage", "memory", "--output", "-"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 20_000 });
    const unwritten = await run();
    expect(unwritten.stderr).not.toContain("directory");
    expect(unwritten.stderr).toContain('E_TIMEOUT: node "n" timed out after 1s');
    expect(unwritten.exitCode).toBe(1);
    const reading = run();
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(pipe, content);
    const read = await reading;
    expect(read.exitCode, read.stderr).toBe(0);
    expect(read.stdout).toContain(expected);
  });
});

describe.skipIf(process.platform === "win32")("a composite file that is a device", () => {
  test("one that never ends (/dev/zero) stops at 256 MiB with a located error, not a full memory", async () => {
    const r = await execa("node", [BIN, "validate", "/dev/zero"], { reject: false, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 60_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_FILE /dev/zero:1:1 cannot read /dev/zero: it gave more than 256 MiB without ending");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("--nodes naming a device is a clear error, not a module loader reading without end", async () => {
    const r = await execa("node", [BIN, "run", path.join(EXAMPLES, "hello.yaml"), "--nodes", "/dev/zero"], { reject: false, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_CUSTOM_NODE --nodes /dev/zero: not a regular file (a pipe, a socket or a device)");
  });

  test("an empty one (/dev/null) is an empty composite", async () => {
    const r = await execa("node", [BIN, "validate", "/dev/null"], { reject: false, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_SCHEMA /dev/null:1:1 a composite must be a YAML mapping");
  });
});

describe.skipIf(!hasTmux)("at a terminal (tmux): Ctrl-C while loading", () => {
  let dir = "";
  useTempDir((d) => (dir = d));

  // `run` shows a spinner while it loads; ora's cursor restore (signal-exit) listens to the signals
  // from then on, and the CLI's own fallback stepped aside for it: Ctrl-C did nothing.
  test.each([
    ["validate /dev/stdin (waiting for a line)", () => ["validate", "/dev/stdin"]],
    ["run of a named pipe nobody writes to (the spinner showing)", () => (execFileSync("mkfifo", [path.join(dir, "p.yaml")]), ["run", path.join(dir, "p.yaml"), "--storage", "memory"])],
  ])("%s: exit 130 at once", async (_name, argv) => {
    const socket = `atomiton-special-${process.pid}-${Date.now()}`;
    const tmux = (...args: string[]) => execa("tmux", ["-L", socket, ...args], { reject: false });
    try {
      const command = [process.execPath, BIN, ...argv()].map((a) => `'${a}'`).join(" ");
      await tmux("-f", TMUX_CONF, "new-session", "-d", "-s", "s", "-x", "100", "-y", "10", `env -u CI -u NO_COLOR TERM=xterm-256color ${command}; echo EXIT=$?; sleep 30`);
      await new Promise((r) => setTimeout(r, 1_500)); // started, reading the terminal
      await tmux("send-keys", "-t", "s", "C-c");
      let text = "";
      for (let i = 0; i < 50 && !/EXIT=\d+/.test(text); i++) {
        await new Promise((r) => setTimeout(r, 100));
        text = String((await tmux("capture-pane", "-p", "-t", "s")).stdout ?? "");
      }
      expect(text).toContain("EXIT=130");
    } finally {
      await tmux("kill-server");
    }
  });
});

describe("a composite file over 256 MiB", () => {
  let dir = "";
  useTempDir((d) => (dir = d));

  test("is refused by its size, as a file and as a ref: (a located error, no stack trace)", async () => {
    const { truncate, writeFile } = await import("node:fs/promises");
    await writeFile(path.join(dir, "huge.yaml"), "");
    await truncate(path.join(dir, "huge.yaml"), 300 * 1024 * 1024); // sparse: nothing is written
    await writeFile(path.join(dir, "main.yaml"), "nodes:\n  - { id: g, type: group, ref: ./huge.yaml }\n");
    const direct = await execa("node", [BIN, "validate", "huge.yaml"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    expect(direct.exitCode).toBe(2);
    expect(direct.stderr).toContain("E_FILE huge.yaml:1:1 cannot read huge.yaml: it is 300 MiB, over the 256 MiB a file read here may be");
    const ref = await execa("node", [BIN, "validate", "main.yaml"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    expect(ref.exitCode).toBe(2);
    expect(ref.stderr).toMatch(/E_REF main\.yaml:2:\d+ node "g": cannot read the ref file: it is 300 MiB/);
    for (const r of [direct, ref]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.skipIf(!hasMkfifo || process.platform !== "linux")("init where it cannot write", () => {
  let dir = "";
  useTempDir((d) => (dir = d));

  test("a path the system refuses is E_FILE (exit 1), not an internal error with a stack trace", async () => {
    const r = await execa("node", [BIN, "init", "/proc/atomiton-no-such-dir"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/E_FILE init cannot write \S*proc\/atomiton-no-such-dir\/flow\.yaml: ENOENT/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  test("--force over a scaffold file that is a named pipe is refused, not a write that waits for a reader", async () => {
    execFileSync("mkfifo", [path.join(dir, "flow.yaml")]);
    const r = await execa("node", [BIN, "init", ".", "--force"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_USAGE init would write flow.yaml in ., which is not a regular file");
  });
});

describe("odd but honest inputs", () => {
  let dir = "";
  useTempDir((d) => (dir = d));

  test("--input @file with a byte order mark is read as JSON (editors on Windows write one)", async () => {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(dir, "bom.json"), '\ufeff{ "greeting": "Bom Text" }');
    const r = await execa("node", [BIN, "run", path.join(EXAMPLES, "hello.yaml"), "--pin", "greet=@bom.json", "--storage", "memory", "--reporter", "silent"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("BOM TEXT ... bom text");
  });

  test("an empty run id matches no run (it matched every run as a prefix)", async () => {
    const first = await execa("node", [BIN, "run", path.join(EXAMPLES, "hello.yaml"), "--reporter", "silent"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    expect(first.exitCode, first.stderr).toBe(0);
    for (const argv of [["replay", ""], ["runs", "show", ""], ["run", "--resume", ""]]) {
      const r = await execa("node", [BIN, ...argv], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
      expect(r.exitCode, `${argv.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/no run ""|--resume : no such run/);
    }
  });
});
