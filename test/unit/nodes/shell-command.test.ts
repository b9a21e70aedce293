import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AtomitonError, ErrorCode } from "../../../src/errors.js";
import shellCommand from "../../../src/nodes/builtin/shell-command.js";
import { activeChildren, killAllChildren } from "../../../src/nodes/builtin/process-registry.js";
import { createTempDir, exampleParameters, parseParameters, rejectionOf, removeTempDir, runNode, startNode } from "../../helpers/node-context.js";

const posix = process.platform !== "win32";
let workdir: string;

beforeAll(async () => {
  workdir = await createTempDir("atomiton-shell-");
  await mkdir(path.join(workdir, "sub"));
});
afterAll(() => removeTempDir(workdir));

/** Alive and not a zombie (an orphan's zombie lingers when PID 1 does not reap). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe("shell-command parameters", () => {
  test("defaults", () => {
    expect(shellCommand.parameters.parse({ program: "ls" })).toEqual({
      program: "ls",
      args: [],
      env: {},
      extendEnv: true,
      allowFailure: false,
      encoding: "utf8",
      logOutput: true,
      detach: false,
    });
  });

  test.each([
    [{}, "program", "set `program`"],
    [{ program: "ls", command: "ls" }, "command", "not both"],
    [{ program: "ls", args: "-la" }, "args", "list of arguments"],
    [{ command: "sh", args: ["-c", "echo hi"] }, "args", "`args` goes with `program`"],
    [{ program: "ls", timeout: "fast" }, "timeout", "duration"],
  ])("rejects %j", (raw, key, message) => {
    const result = shellCommand.parameters.safeParse(raw);
    expect(result.success).toBe(false);
    const issue = result.error?.issues.find((i) => i.path[0] === key);
    expect(issue?.message).toContain(message);
  });

  test("accepts a JSON array string for args, and the editor aliases", async () => {
    const { output } = await runNode(shellCommand, { program: "sh", args: '["-c", "pwd; echo $GREETING"]', workingDirectory: "sub", environment: { GREETING: "hi" } }, { workdir });
    expect(output.stdout).toBe(`${path.join(workdir, "sub")}\nhi`);
  });

  test("has an example and declares the output port", async () => {
    const examples = await exampleParameters(shellCommand);
    expect(examples.length).toBeGreaterThan(0);
    for (const raw of examples) expect(parseParameters(shellCommand, raw)).toBeTruthy();
    expect(shellCommand.outputs[0]?.id).toBe("output");
  });
});

describe.skipIf(!posix)("shell-command execution", () => {
  test("runs a program with args without a shell (no globbing, no expansion)", async () => {
    const { output } = await runNode(shellCommand, { program: "echo", args: ["*", "$HOME", 42] }, { workdir });
    expect(output).toMatchObject({ exitCode: 0, signal: null, stdout: "* $HOME 42", stderr: "", timedOut: false, command: "echo '*' '$HOME' 42" });
    expect(output.durationMs).toBeGreaterThanOrEqual(0);
  });

  test("`command` alone runs through the shell", async () => {
    const { output } = await runNode(shellCommand, { command: "printf 'a\\nb\\n' | tr ab xy" }, { workdir });
    expect(output.stdout).toBe("x\ny");
    expect(output.command).toBe("printf 'a\\nb\\n' | tr ab xy");
  });

  test("`command` with shell: false and quotes is refused before anything runs: they would be passed on as characters", () => {
    const result = shellCommand.parameters.safeParse({ command: 'git commit -m "fix bug"', shell: false });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ["command"], message: expect.stringContaining("split on spaces only") });
    expect(shellCommand.parameters.safeParse({ command: 'git commit -m "fix bug"' }).success).toBe(true);
    // The schema also sees the command with its templates filled in: an apostrophe of the data is not quoting.
    expect(shellCommand.parameters.safeParse({ command: "echo O'Brien", shell: false }).success).toBe(true);
  });

  test("`command` with shell: false is split into program and arguments", async () => {
    const { output } = await runNode(shellCommand, { command: "echo a|b $HOME", shell: false }, { workdir });
    expect(output.stdout).toBe("a|b $HOME");
  });

  test("streams stdout lines as info and stderr lines as warn logs, before the command exits", async () => {
    const started = startNode(shellCommand, { command: "echo one; echo oops >&2; echo two; sleep 30" }, { workdir });
    let settled = false;
    void started.result.finally(() => (settled = true)).catch(() => undefined);
    expect(await waitFor(() => started.logs.some((l) => l.message === "two"), 5000)).toBe(true);
    expect(settled).toBe(false);
    // stdout and stderr are separate pipes: order is kept within each stream, not across them.
    expect(started.logs.filter((l) => l.level === "info").map((l) => l.message)).toEqual(["one", "two"]);
    expect(await waitFor(() => started.logs.some((l) => l.level === "warn"), 5000)).toBe(true);
    expect(started.logs.filter((l) => l.level === "warn").map((l) => l.message)).toEqual(["oops"]);
    started.controller.abort();
    await rejectionOf(started.result);
  });

  test("a line longer than 64 KiB is logged cut, with how much more it held; the output keeps every byte", async () => {
    const command = "head -c 200000 /dev/zero | tr '\\0' a; printf '\\nb\\r\\ntail'";
    const { output, logs } = await runNode(shellCommand, { command }, { workdir });
    expect(output.stdout).toBe(`${"a".repeat(200_000)}\nb\r\ntail`);
    const lines = logs.filter((l) => l.level === "info").map((l) => l.message);
    expect(lines).toEqual([`${"a".repeat(65_536)} … (${200_000 - 65_536} more characters)`, "b", "tail"]);
  });

  test("logOutput: false keeps the output out of the logs", async () => {
    const { output, logs } = await runNode(shellCommand, { command: "echo quiet", logOutput: false }, { workdir });
    expect(output.stdout).toBe("quiet");
    expect(logs.filter((l) => l.level !== "debug")).toEqual([]);
  });

  test.each([
    ["a string", "hello\nworld\n", "hello\nworld"],
    ["an object (as JSON)", { a: 1 }, '{"a":1}'],
  ])("stdin: %s is written to the command", async (_name, stdin, expected) => {
    const { output } = await runNode(shellCommand, { program: "cat", stdin }, { workdir, input: "not piped" });
    expect(output.stdout).toBe(expected);
  });

  test("without stdin the input is not piped and stdin is closed (cat does not hang)", async () => {
    const { output } = await runNode(shellCommand, { program: "cat" }, { workdir, input: "not piped" });
    expect(output.stdout).toBe("");
  });

  test("env is merged over the run environment; extendEnv: false keeps only env and PATH", async () => {
    const env = { PATH: process.env.PATH, FROM_RUN: "run" };
    const merged = await runNode(shellCommand, { command: 'echo "$FROM_RUN/$EXTRA"', env: { EXTRA: 7 } }, { workdir, env });
    expect(merged.output.stdout).toBe("run/7");
    const clean = await runNode(shellCommand, { command: 'echo "${FROM_RUN:-unset}/$EXTRA"', env: { EXTRA: "x" }, extendEnv: false }, { workdir, env });
    expect(clean.output.stdout).toBe("unset/x");
  });

  test("a non-zero exit fails with E_COMMAND (retryable), the exit code and the last stderr lines", async () => {
    const error = await rejectionOf(runNode(shellCommand, { command: "echo progress; echo 'fatal: broken' >&2; exit 3" }, { workdir }));
    expect(error).toBeInstanceOf(AtomitonError);
    expect(error.code).toBe(ErrorCode.COMMAND);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("exited with code 3");
    expect(error.message).toContain("fatal: broken");
    expect(error.details).toMatchObject({ exitCode: 3 });
  });

  test("allowFailure returns the result of a failing command", async () => {
    const { output } = await runNode(shellCommand, { command: "echo out; echo err >&2; exit 4", allowFailure: true }, { workdir });
    expect(output).toMatchObject({ exitCode: 4, stdout: "out", stderr: "err", timedOut: false });
  });

  test("a missing program is non-retryable E_COMMAND", async () => {
    const error = await rejectionOf(runNode(shellCommand, { program: "atomiton-no-such-program" }, { workdir }));
    expect(error.code).toBe(ErrorCode.COMMAND);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('program "atomiton-no-such-program" was not found');
  });

  test("a missing cwd is non-retryable and names the directory", async () => {
    const error = await rejectionOf(runNode(shellCommand, { program: "ls", cwd: "nope" }, { workdir }));
    expect(error.code).toBe(ErrorCode.COMMAND);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(path.join(workdir, "nope"));
  });

  test("timeout fails with E_TIMEOUT; with allowFailure the result says timedOut", async () => {
    const error = await rejectionOf(runNode(shellCommand, { program: "sleep", args: ["30"], timeout: "100ms" }, { workdir }));
    expect(error.code).toBe(ErrorCode.TIMEOUT);
    expect(error.message).toContain("timed out after 100ms");
    const { output } = await runNode(shellCommand, { program: "sleep", args: ["30"], timeout: 100, allowFailure: true }, { workdir });
    expect(output).toMatchObject({ timedOut: true, signal: "SIGTERM", exitCode: null });
  });
});

describe.skipIf(!posix)("shell-command cancellation", () => {
  test("abort rejects promptly with E_CANCELLED and kills the process", async () => {
    const before = new Set(activeChildren);
    const started = startNode(shellCommand, { program: "sleep", args: ["30"] }, { workdir });
    const fresh = (): number | undefined => [...activeChildren].find((p) => !before.has(p));
    expect(await waitFor(() => fresh() !== undefined, 2000)).toBe(true);
    const pid = fresh()!;
    expect(isAlive(pid)).toBe(true);
    started.controller.abort();
    const error = await rejectionOf(started.result);
    expect(error.code).toBe(ErrorCode.CANCELLED);
    expect(error.retryable).toBe(false);
    expect(await waitFor(() => !isAlive(pid), 3000)).toBe(true);
  });

  test("an AtomitonError abort reason is rethrown as it is", async () => {
    const started = startNode(shellCommand, { program: "sleep", args: ["30"] }, { workdir });
    const reason = new AtomitonError(ErrorCode.TIMEOUT, "node timed out after 1s", { retryable: true });
    setTimeout(() => started.controller.abort(reason), 50);
    expect(await rejectionOf(started.result)).toBe(reason);
  });

  test.each([
    ["a grandchild", "sleep 30 & echo $!; wait", 3000],
    ["a grandchild that ignores SIGTERM (SIGKILL after the grace period)", "trap '' TERM; sleep 30 & echo $!; wait", 6000],
  ])("abort kills the whole process tree: %s", async (_name, command, bound) => {
    const started = startNode(shellCommand, { command }, { workdir });
    expect(await waitFor(() => started.logs.some((l) => l.level === "info"), 5000)).toBe(true);
    const grandchild = Number(started.logs.find((l) => l.level === "info")?.message);
    expect(isAlive(grandchild)).toBe(true);
    started.controller.abort();
    expect((await rejectionOf(started.result)).code).toBe(ErrorCode.CANCELLED);
    expect(await waitFor(() => !isAlive(grandchild), bound)).toBe(true);
  }, 10_000);

  test("killAllChildren ends every running command tree (the CLI calls it on SIGINT)", async () => {
    const started = startNode(shellCommand, { command: "sleep 30 & echo $!; wait" }, { workdir });
    expect(await waitFor(() => started.logs.some((l) => l.level === "info"), 5000)).toBe(true);
    const grandchild = Number(started.logs.find((l) => l.level === "info")?.message);
    expect(killAllChildren("SIGKILL")).toBeGreaterThan(0);
    const error = await rejectionOf(started.result);
    expect(error.code).toBe(ErrorCode.COMMAND);
    expect(error.message).toContain("SIGKILL");
    expect(await waitFor(() => !isAlive(grandchild), 3000)).toBe(true);
  });

  test("an already aborted signal never starts the command", async () => {
    const started = startNode(shellCommand, { command: "echo should-not-run" }, { workdir });
    started.controller.abort();
    expect((await rejectionOf(started.result)).code).toBe(ErrorCode.CANCELLED);
    expect(started.logs.filter((l) => l.level === "info")).toEqual([]);
  });
});
