import { z } from "zod";
import { defineNode } from "../define-node.js";
import { durationSchema, parseDuration, timeoutOrNone } from "../../js/duration.js";
import { AtomitonError, ErrorCode, NonRetryableError, TimeoutError } from "../../errors.js";
import { abortError } from "./abort.js";
import { resolvePath, statOrUndefined } from "./file-utils.js";
import { runProcess } from "./run-process.js";
import { stringifyJsonSafe } from "../../events/json-safe.js";

const ENCODINGS = ["utf8", "utf-8", "utf16le", "latin1", "ascii"] as const;
const scalar = z.union([z.string(), z.number(), z.boolean()]);

function parseArgsString(text: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.map((a) => String(a)) : undefined;
  } catch {
    return undefined;
  }
}

const parameters = z
  .object({
    program: z.string().min(1).optional().describe("The program to run (looked up on PATH), without a shell. Use with `args`"),
    args: z
      .union([z.array(scalar), z.string()])
      .default([])
      .describe("Arguments for `program`, passed as-is (no quoting or globbing); a JSON array string is accepted"),
    command: z.string().min(1).optional().describe("A shell command line (`ls -l | wc -l`). Runs through the shell unless `shell: false`, in which case it is split on spaces into program and arguments (no quoting: use `program` and `args` for arguments with spaces)"),
    shell: z
      .union([z.boolean(), z.string().min(1)])
      .optional()
      .describe("Run through a shell: true (/bin/sh, cmd.exe on Windows) or a shell path. Default: true with `command`, false with `program`"),
    cwd: z.string().min(1).optional().describe("Working directory, relative to the run's working directory (default: the working directory). Alias workingDirectory"),
    env: z.record(z.string(), scalar).default({}).describe("Environment variables for the command, merged over the run's environment. Alias environment"),
    extendEnv: z.boolean().default(true).describe("false: the command sees only `env` (plus PATH), not the run's environment"),
    stdin: z.unknown().optional().describe("Text written to the command's standard input (objects as JSON). When unset, stdin is closed (the input is not piped)"),
    timeout: durationSchema
      .optional()
      .describe("Kill the command (its whole process tree) after this long: ms or 30s/2m. Fails with E_TIMEOUT unless allowFailure"),
    allowFailure: z.boolean().default(false).describe("Return the result instead of failing on a non-zero exit code, a signal or a timeout"),
    encoding: z.enum(ENCODINGS).default("utf8").describe("Encoding of stdout and stderr"),
    logOutput: z.boolean().default(true).describe("Stream stdout lines as info logs and stderr lines as warn logs while the command runs (a line is logged up to 64 KiB characters; the output keeps it whole)"),
    detach: z
      .boolean()
      .default(false)
      .describe("Leave what the command started in the background (`server &`) running after it exits, also after the run; the node ends when the command exits, and the output pipes close then, so redirect what it starts (`server > server.log 2>&1 &`). Default false: when the command exits, every process it left in its process group is killed (SIGTERM, then SIGKILL)"),
  })
  .superRefine((value, issue) => {
    if (value.program === undefined && value.command === undefined) {
      issue.addIssue({ code: "custom", path: ["program"], message: "set `program` (with `args`) or `command`" });
    } else if (value.program !== undefined && value.command !== undefined) {
      issue.addIssue({ code: "custom", path: ["command"], message: "set either `program` (with `args`) or `command`, not both" });
    } else if (value.command !== undefined && value.args.length > 0) {
      // They were silently dropped: `command: sh, args: [-c, …]` ran a bare `sh`.
      issue.addIssue({ code: "custom", path: ["args"], message: "`args` goes with `program`; with `command`, write the arguments in the command line (or use `program` and `args`)" });
    }
    // Without a shell the line is split on spaces only (execa's parseCommandString): quotes would
    // be passed on as characters (`git commit -m "fix bug"` committed `"fix`).
    // Only quotes around words with spaces (what quoting is for): the schema also sees the command
    // once its templates are filled in, where an apostrophe of the data (O'Brien) is not quoting.
    if (value.command !== undefined && value.shell === false && /"[^"]*\s[^"]*"|'[^']*\s[^']*'/.test(value.command)) {
      issue.addIssue({ code: "custom", path: ["command"], message: "with `shell: false` the command line is split on spaces only, so quotes would be passed on as characters; use `program` and `args` for arguments with spaces, or leave `shell` on" });
    }
    if (typeof value.args === "string" && !parseArgsString(value.args)) {
      issue.addIssue({ code: "custom", path: ["args"], message: 'expected a list of arguments (a YAML list, or a JSON array string such as \'["-l", "src"]\')' });
    }
  });

/** The result of a shell-command node. */
export interface ShellCommandResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  command: string;
  durationMs: number;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function shorten(text: string, max: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, "; ");
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

function lastLines(text: string, count: number): string {
  return text.split(/\r?\n/).filter((l) => l.trim() !== "").slice(-count).join("\n");
}

/**
 * Run a program (no shell) or a shell command line. Output lines stream as log events; abort
 * (timeout, cancel, fail-fast) kills the whole process tree, and so does the command's own end
 * unless `detach: true`.
 */
export default defineNode({
  type: "shell-command",
  title: "Shell command",
  description: "Run a program with arguments (no shell unless shell: true) or a shell command line; stream its output; fail on a non-zero exit unless allowFailure.",
  category: "system",
  parameters,
  inputs: [{ id: "input", description: "Not piped to the command; use `stdin: \"{{ $input }}\"` to do that" }],
  outputs: [
    { id: "output", description: "{ exitCode, signal, stdout, stderr, timedOut, command, durationMs } (stdout/stderr without the final newline)" },
    { id: "error", description: "The failure, when onError: route" },
  ],
  parameterAliases: { workingDirectory: "cwd", environment: "env" },
  example: `- id: build
  type: shell-command
  parameters: { program: npm, args: [run, build], timeout: 5m }
- id: count
  type: shell-command
  parameters: { command: "ls src | wc -l" }`,
  async execute(ctx): Promise<ShellCommandResult> {
    const p = ctx.parameters;
    const useShell = p.shell ?? p.command !== undefined;
    let file: string;
    let args: string[];
    if (p.command !== undefined) {
      if (useShell) {
        file = p.command;
        args = [];
      } else {
        const { parseCommandString } = await import("execa");
        [file = "", ...args] = parseCommandString(p.command);
      }
    } else {
      file = p.program ?? "";
      args = typeof p.args === "string" ? (parseArgsString(p.args) ?? []) : p.args.map((a) => String(a));
    }
    if (!file) throw new NonRetryableError("shell-command: nothing to run", { code: ErrorCode.NODE_INPUT, hint: "set `program` or `command`" });
    const display = p.command !== undefined ? p.command : [file, ...args].map(quote).join(" ");

    const cwd = resolvePath(ctx.workdir, p.cwd ?? ".");
    if (!(await statOrUndefined(cwd))?.isDirectory()) {
      throw new NonRetryableError(`cannot run \`${display}\`: the working directory ${cwd} does not exist`, { code: ErrorCode.COMMAND, hint: "fix `cwd` (relative paths resolve against the run's working directory)", details: { cwd } });
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined && (p.extendEnv || k === "PATH")) env[k] = v;
    for (const [k, v] of Object.entries(p.env)) env[k] = String(v);
    const stdin = p.stdin === undefined || p.stdin === null ? undefined : typeof p.stdin === "string" || p.stdin instanceof Uint8Array ? p.stdin : stringifyJsonSafe(p.stdin, { binary: "base64" });
    const timeoutMs = timeoutOrNone(p.timeout === undefined ? undefined : parseDuration(p.timeout));

    if (ctx.signal.aborted) throw abortError(ctx.signal, `command \`${display}\``);
    ctx.log("debug", `$ ${display}${cwd === ctx.workdir ? "" : `  (in ${cwd})`}`);
    const outcome = await runProcess({
      file,
      args,
      shell: useShell,
      cwd,
      env,
      stdin,
      encoding: p.encoding === "utf-8" ? "utf8" : p.encoding,
      signal: ctx.signal,
      timeoutMs,
      timeoutError: () => new TimeoutError(`command \`${display}\` timed out after ${timeoutMs}ms`, { retryable: true, details: { command: display, timeoutMs } }),
      // A timeout with allowFailure returns the result; everything else that aborts rejects at once.
      waitOnTimeout: p.allowFailure,
      detach: p.detach,
      ...(p.logOutput ? { onStdoutLine: (line: string) => ctx.log("info", line), onStderrLine: (line: string) => ctx.log("warn", line), logDrained: () => ctx.logDrained?.() } : {}),
    });
    if (outcome.spawnError) {
      const errno = outcome.spawnError;
      const notFound = errno === "ENOENT";
      throw new NonRetryableError(`cannot run \`${display}\`: ${notFound ? `program "${file}" was not found` : `spawn failed (${errno})`}`, {
        code: ErrorCode.COMMAND,
        hint: notFound ? "check the program name and PATH, or use `command:` to run it through a shell" : errno === "EACCES" ? "the program is not executable (chmod +x)" : undefined,
        details: { command: display, errno },
      });
    }
    const result: ShellCommandResult = {
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      timedOut: outcome.timedOut,
      command: display,
      durationMs: outcome.durationMs,
    };
    if (outcome.maxBuffer) {
      throw new NonRetryableError(`command \`${display}\` produced more output than can be kept in memory`, { code: ErrorCode.COMMAND, hint: "redirect the output to a file, or set `logOutput: false` and filter it in the command" });
    }
    const failed = result.timedOut || result.signal !== null || result.exitCode !== 0;
    if (failed && !p.allowFailure) {
      const tail = lastLines(result.stderr, 5) || lastLines(result.stdout, 5);
      const how = result.signal !== null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      // The first line says what happened (the full command is in details); the lines after it are the
      // output's last lines, which reporters show (the last one on the node's own line).
      throw new AtomitonError(ErrorCode.COMMAND, `command \`${shorten(display, 80)}\` ${how}${tail ? `:\n${tail}` : " and printed nothing"}`, {
        retryable: true,
        hint: "set `allowFailure: true` to continue with the result instead of failing",
        details: { command: display, exitCode: result.exitCode, signal: result.signal, stderrTail: lastLines(result.stderr, 20) },
      });
    }
    return result;
  },
});
