import type { Pause } from "../../conductor/debug-session.js";
import { toJsonSafe } from "../../events/json-safe.js";
import type { Style } from "../../reporters/style.js";
import { truncate } from "../../reporters/text.js";
import { escapeControlCharacters } from "../../terminal-text.js";

/** Lines of one value shown before "… n more lines (more: all)". */
export const VALUE_LINES = 12;

export interface RenderValueResult {
  text: string;
  /** The value was cut: `more` prints `full`. */
  truncated: boolean;
  full: string;
}

/** Replaces the run's secret values with `***` in text shown at the prompt. */
export type Redact = (text: string) => string;

/**
 * A value pretty-printed as JSON, indented, cut to `maxLines` lines of `width` columns. Secrets are
 * redacted before the cut, so a line cut inside a secret does not show its first characters.
 */
export function renderValue(value: unknown, style: Style, options: { width: number; indent?: string; maxLines?: number; redact?: Redact | undefined }): RenderValueResult {
  const indent = options.indent ?? "    ";
  const json = value === undefined ? "undefined" : JSON.stringify(toJsonSafe(value), null, 2);
  // JSON escapes C0 controls but not C1 (8-bit CSI) or bidi ones: the data is shown, never obeyed.
  const pretty = escapeControlCharacters(options.redact ? options.redact(json) : json);
  const lines = pretty.split("\n");
  const max = options.maxLines ?? VALUE_LINES;
  const width = Math.max(20, options.width - indent.length);
  const ellipsis = style.unicode ? "…" : "...";
  let cut = lines.length > max;
  const shown = lines.slice(0, max).map((line) => {
    const t = truncate(line, width, ellipsis);
    if (t !== line) cut = true;
    return `${indent}${t}`;
  });
  if (lines.length > max) shown.push(`${indent}${style.chalk.dim(`${ellipsis} ${lines.length - max} more line${lines.length - max === 1 ? "" : "s"} (more: show all)`)}`);
  else if (cut) shown.push(`${indent}${style.chalk.dim("(more: show the whole value)")}`);
  return { text: shown.join("\n"), truncated: cut, full: pretty.split("\n").map((l) => `${indent}${l}`).join("\n") };
}

/** The pause header, the node's parameters and inputs, and the commands, in the live view's style. */
export function renderPause(pause: Pause, style: Style, width: number, redact?: Redact): { text: string; full: string[] } {
  const t = pause.target;
  const c = style.chalk;
  const where = t.iteration !== undefined ? ` [iteration ${t.iteration}]` : "";
  const why = pause.reason === "error" ? c.red(`${style.symbols.failed} failed`) : pause.reason === "step" ? c.cyan("step") : c.cyan("breakpoint");
  const lines = [``, `${c.yellow(style.symbols.pointer)} ${c.bold("paused")} ${pause.reason === "error" ? "at" : "before"} ${c.bold(t.nodeId)} ${c.dim(`(${t.type})`)}${where} · ${why}${pause.reason === "error" ? c.dim(t.attempt === 0 ? " before it started" : ` after attempt ${t.attempt}`) : ""}`];
  const full: string[] = [];
  if (t.error) lines.push(`  ${c.red(`${t.error.code}: ${escapeControlCharacters(redact ? redact(t.error.message) : t.error.message)}`)}`);
  if ("index" in t || "item" in t) {
    lines.push(`  ${c.dim("$index")} ${String(t.index)}`);
    const item = renderValue(t.item, style, { width, maxLines: 4, redact });
    lines.push(`  ${c.dim("$item")}`, item.text);
    full.push(item.full);
  }
  const params = pause.parameters();
  lines.push(`  ${c.dim("parameters")}`);
  if (params.ok) {
    const shown = renderValue(params.parameters, style, { width, redact });
    lines.push(shown.text);
    full.push(shown.full);
  } else {
    lines.push(`    ${c.red(escapeControlCharacters(redact ? redact(params.message) : params.message))}`);
  }
  for (const [port, value] of Object.entries(t.inputs)) {
    if (value === undefined) continue; // a root node of a run without input
    lines.push(`  ${c.dim(`input ${port}`)}`);
    const shown = renderValue(value, style, { width, redact });
    lines.push(shown.text);
    full.push(shown.full);
  }
  // Broken between commands, never inside one, when the terminal is narrower than the line.
  const commands = `${COMMANDS_LINE}${pause.reason === "error" ? " · r retry" : ""}`.split(" · ");
  let line = "";
  for (const command of commands) {
    if (line !== "" && 2 + line.length + 3 + command.length > width) {
      lines.push(c.dim(`  ${line}`));
      line = command;
    } else line = line === "" ? command : `${line} · ${command}`;
  }
  lines.push(c.dim(`  ${line}`));
  return { text: `${lines.join("\n")}\n`, full };
}

export const COMMANDS_LINE = "c continue · s step · k [json] skip · set <param>=<value> · p <expr> · o <id> · b <id> · more · q quit · ? help";

export const HELP_TEXT = `  c               continue: run this node, stop at the next breakpoint
  s               step: run this node, stop before the next one that starts
  k [json]        skip: do not run it; it outputs null, or the JSON given
  set <p>=<v>     change a parameter (checked by the node's schema); v is JSON or text
  p <expr>        evaluate in the node's template scope: p $input.id, p $nodes.fetch, p $item
  o <id>          the output of an upstream node
  r               retry a failed node (--break-on-error) with the parameters as set
  b <id>          add or remove a breakpoint (kept across watch re-runs)
  i               show the node again (parameters, inputs)
  more            the last value shown, whole
  q               cancel the run (exit 130; the record is saved as cancelled)
`;
