import { createInterface, type Interface } from "node:readline";
import { DebugSession, type Pause } from "../../conductor/debug-session.js";
import { didYouMean } from "../../composite/suggest.js";
import { toNodeError } from "../../errors.js";
import type { Style } from "../../reporters/style.js";
import type { Reporter, ReporterStream } from "../../reporters/types.js";
import { parseFlagValue } from "../parse-flags.js";
import { escapeControlCharacters } from "../../terminal-text.js";
import { HELP_TEXT, renderPause, renderValue, type Redact } from "./render-pause.js";

export interface TtyDebuggerOptions {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  stderr: ReporterStream;
  style: Style;
  breakpoints: readonly string[];
  step: boolean;
  breakOnError: boolean;
}

/**
 * The `--break` / `--step` / `--break-on-error` prompt on a terminal. Each pause suspends the live
 * view (the reporter's `pause`), prints the node (parameters, inputs, `$item`/`$index` in loop
 * bodies) and reads commands with node's readline until one of c, s, k, r, q ends it; the view
 * then goes on. One session serves every run of a `--watch` (breakpoints added with `b` stay).
 */
export class TtyDebugger {
  readonly session: DebugSession;
  private reporter: Reporter | undefined;
  private cancel: ((how: string) => void) | undefined;
  private rl: Interface | undefined;
  private lastFull: string | undefined;
  /** Commands typed at the prompt, newest first (readline's order). */
  private history: string[] = [];
  /** The prompt's line is on the screen, not ended by Enter: the cursor is at its end. */
  private lineOpen = false;

  constructor(private readonly options: TtyDebuggerOptions) {
    this.session = new DebugSession({
      breakpoints: options.breakpoints,
      step: options.step,
      breakOnError: options.breakOnError,
      onPause: (pause) => void this.onPause(pause),
    });
  }

  /**
   * The run about to start: its reporter (suspended while paused), how `q` cancels it, its node ids
   * (for `b`), and how its secrets are redacted: what the prompt shows has them as `***`, as the
   * rest of the terminal output does.
   */
  attach(reporter: Reporter, cancel: (how: string) => void, nodeIds?: readonly string[], redact?: Redact): void {
    this.reporter = reporter;
    this.cancel = cancel;
    this.nodeIds = nodeIds;
    this.redact = redact;
    // Each run (a --watch re-run) starts as the command line says: `c` in the last run ended its
    // stepping, `s` at its last node left it on; neither is this run's.
    this.session.stepping = this.options.step;
  }
  private nodeIds: readonly string[] | undefined;
  private redact: Redact | undefined;

  /** The run ended: close the prompt if one is open (a cancelled run), restore the terminal. */
  detach(): void {
    this.closePrompt();
    this.reporter = undefined;
    this.cancel = undefined;
    this.redact = undefined;
  }

  private get width(): number {
    return typeof this.options.stderr.columns === "number" && this.options.stderr.columns > 20 ? this.options.stderr.columns : 80;
  }

  /** Everything the prompt prints goes through here (error messages and `p` problems can hold a secret too). */
  private write(text: string): void {
    this.options.stderr.write(this.redact ? this.redact(text) : text);
  }

  private async onPause(pause: Pause): Promise<void> {
    await this.reporter?.pause?.();
    if (!pause.isOpen) return;
    const shown = renderPause(pause, this.options.style, this.width, this.redact);
    this.lastFull = shown.full.join("\n");
    this.write(shown.text);
    // One history for every pause (of every --watch run): ↑ recalls a command typed at an earlier one.
    const rl = createInterface({ input: this.options.stdin, output: this.options.stderr as NodeJS.WritableStream, terminal: true, historySize: HISTORY_SIZE, history: this.history });
    rl.on("history", (history: string[]) => {
      this.history = history;
    });
    this.rl = rl;
    const { chalk, symbols } = this.options.style;
    rl.setPrompt(`${chalk.yellow(symbols.pointer)} ${chalk.bold(`debug ${pause.nodeId}`)} ${chalk.dim(symbols.pointer)} `);
    // Raw mode turns Ctrl-C into a key: it cancels the run, as it does while running.
    rl.on("SIGINT", () => this.quit(pause, "Ctrl-C"));
    // Ctrl-Z suspends the process as usual; back with `fg`, readline leaves its input paused, and
    // with nothing left to wait for the run ended as a node waiting on a promise nothing could settle.
    rl.on("SIGCONT", () => {
      if (this.rl === rl && pause.isOpen) this.prompt(rl);
    });
    // Ctrl-D (end of input) or a terminal that went away: nobody can answer the prompt any more,
    // so it is `q` (the run cancelled and recorded, exit 130), never a silent exit with the run
    // left open. closePrompt() clears this.rl before closing, so the prompt's own close is not this.
    const gone = (): void => {
      if (this.rl === rl && pause.isOpen) this.quit(pause, "end of input");
    };
    rl.on("close", gone);
    // A closed terminal fails the raw-mode switch and reads with EIO: without a listener the
    // interface's 'error' event ended the process before the run was recorded.
    rl.on("error", gone);
    rl.on("line", (line) => {
      this.lineOpen = false;
      if (!pause.isOpen) return;
      this.command(pause, line.trim());
      if (pause.isOpen) this.prompt(rl);
    });
    this.prompt(rl);
    await pause.done;
    this.closePrompt();
    this.reporter?.resume?.();
  }

  private prompt(rl: Interface): void {
    rl.prompt();
    this.lineOpen = true;
  }

  private closePrompt(): void {
    const rl = this.rl;
    this.rl = undefined;
    if (!rl) return;
    // The run ended under the prompt (another node failed, a --watch change): what follows starts
    // on a line of its own, not after what was being typed.
    if (this.lineOpen) this.write("\n");
    this.lineOpen = false;
    try {
      rl.close();
      this.options.stdin.setRawMode?.(false);
    } catch {
      // The terminal is gone (EIO): nothing to restore.
    }
    (this.options.stdin as NodeJS.ReadStream).pause?.();
  }

  /** Cancels the run from the prompt; `how` says by what (`q`, Ctrl-C, the end of input) in its record. */
  private quit(pause: Pause, how: string): void {
    this.lineOpen = false;
    this.write(`${this.options.style.chalk.yellow("cancelling the run")}\n`);
    this.cancel?.(how);
    pause.abandon();
  }

  /** One command line at the prompt. */
  private command(pause: Pause, line: string): void {
    const { chalk, symbols } = this.options.style;
    const space = line.indexOf(" ");
    const word = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? "" : line.slice(space + 1).trim();
    // A problem may quote the data (an expression's error): shown, never obeyed.
    const problem = (text: string): void => this.write(`  ${chalk.red(`${symbols.failed} ${escapeControlCharacters(text)}`)}\n`);
    const show = (value: unknown): void => {
      const r = renderValue(value, this.options.style, { width: this.width, redact: this.redact });
      this.lastFull = r.full;
      this.write(`${r.text}\n`);
    };
    switch (word) {
      case "":
        return;
      case "c":
      case "continue":
        return pause.go();
      case "s":
      case "step":
        return pause.step();
      case "k":
      case "skip": {
        if (rest === "") return pause.skip(null);
        try {
          return pause.skip(JSON.parse(rest));
        } catch (e) {
          return problem(`k ${rest}: not JSON (${(e as Error).message}); e.g. k {"ok":true} or k "text"`);
        }
      }
      case "r":
      case "retry":
        if (!pause.retry()) problem("r retries a failed node (with --break-on-error); this one has not run yet: c runs it");
        return;
      case "q":
      case "quit":
        return this.quit(pause, "q");
      case "set": {
        const eq = rest.indexOf("=");
        if (eq <= 0) return problem("set <param>=<value>, e.g. set url=http://127.0.0.1:8080 or set count=3");
        const param = rest.slice(0, eq).trim();
        const result = pause.set(param, parseFlagValue(rest.slice(eq + 1)));
        if (!result.ok) return problem(`set ${param}: ${result.message} (nothing changed)`);
        this.write(`  ${chalk.green(symbols.succeeded)} ${param} set; the node runs with:\n`);
        return show(result.parameters);
      }
      case "p":
      case "print":
        if (rest === "") return problem("p <expression>, e.g. p $input, p $nodes.fetch.status, p $item");
        try {
          return show(pause.evaluate(rest));
        } catch (e) {
          return problem(toNodeError(e).message);
        }
      case "o":
      case "output": {
        if (rest === "") return problem("o <nodeId>: the output of an upstream node");
        const out = pause.target.output(rest);
        if (!out.found) return problem(`no output of "${rest}" yet (not upstream, not finished, or no such node)`);
        return show(out.value);
      }
      case "b":
      case "break": {
        if (rest === "") return this.write(`  breakpoints: ${[...this.session.breakpoints].join(", ") || "none"}\n`);
        const had = this.session.breakpoints.delete(rest);
        // As --break refuses it: a breakpoint on no node would never stop.
        if (!had && this.nodeIds !== undefined && !this.nodeIds.includes(rest)) {
          return problem(`b ${rest}: the composite has no node "${rest}"${hintFor(rest, this.nodeIds)}`);
        }
        if (!had) this.session.breakpoints.add(rest);
        return this.write(`  ${had ? "removed" : "added"} breakpoint ${rest}\n`);
      }
      case "i":
      case "info": {
        const shown = renderPause(pause, this.options.style, this.width, this.redact);
        this.lastFull = shown.full.join("\n");
        return this.write(shown.text);
      }
      case "more":
        return this.write(`${this.lastFull ?? "  nothing shown yet"}\n`);
      case "?":
      case "h":
      case "help":
        return this.write(HELP_TEXT);
      default:
        return problem(`unknown command "${word}" (? for help)`);
    }
  }
}

const HISTORY_SIZE = 100;

function hintFor(id: string, known: readonly string[]): string {
  const guess = didYouMean(id, known);
  return guess ? `; ${guess}` : "";
}
