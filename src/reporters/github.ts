import { isAbsolute, sep } from "node:path";
import { relativeInside } from "../relative-path.js";
import type { NodeFinishEvent } from "../events/event-map.js";
import { errorDetailLines, errorText } from "./event-text.js";
import { detectTerminal } from "./detect-terminal.js";
import { guard } from "./guard.js";
import { PlainLines } from "./plain-lines.js";
import { renderSummary, summaryFromStats } from "./render-summary.js";
import { nodeLabel, RunStats } from "./run-stats.js";
import { createStyle } from "./style.js";
import type { Reporter, ReporterOptions } from "./types.js";

/** GitHub shows at most 10 error annotations per step; more are noise. */
const MAX_ANNOTATIONS = 10;
/** Buffered log characters per node before lines are dropped (with a note). */
const MAX_GROUP_CHARS = 1_000_000;

/** `GITHUB_ACTIONS=true` is set by the runner for every step. */
export function isGitHubActions(env: Record<string, string | undefined>): boolean {
  return env.GITHUB_ACTIONS === "true";
}

/** Escapes a workflow command's message (`::error::<data>`). */
export function escapeGithubData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Escapes a workflow command property value (`file=`, `title=`). */
export function escapeGithubProperty(text: string): string {
  return escapeGithubData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

interface GroupBuffer {
  lines: string[];
  chars: number;
  dropped: number;
}

/**
 * The `plain` lines on stderr, for GitHub Actions logs, plus:
 * - each node's log lines are held back and printed when it finishes, folded in
 *   `::group::<node id>` … `::endgroup::` (nodes run concurrently, so live lines would interleave);
 * - a failed node adds `::error file=<composite file>,line=<node line>,title=<node id> failed::<message>`
 *   (file relative to `GITHUB_WORKSPACE`; the first failure of a loop-body node only; at most 10);
 * - a run error no node carries (run timeout) adds `::error title=run failed::<message>`.
 *
 * @example
 * if (isGitHubActions(process.env)) reporter = createGithubReporter({ ...streams });
 */
export function createGithubReporter(options: ReporterOptions): Reporter {
  const { env } = options;
  const style = createStyle(detectTerminal({ stream: options.stderr, env }), options.color);
  const stats = new RunStats(options.predecessors);
  const lines = new PlainLines(stats, style);
  const verbose = options.verbose === true;
  const out = options.stderr;
  const write = (text: string | undefined): void => {
    if (text !== undefined) out.write(`${text}\n`);
  };
  const groups = new Map<string, GroupBuffer>();
  const annotated = new Set<string>();
  let annotations = 0;
  let closed = false;

  const flushGroup = (key: string): void => {
    const group = groups.get(key);
    if (group === undefined) return;
    groups.delete(key);
    write(`::group::${escapeGithubData(key)}`);
    for (const line of group.lines) write(line);
    if (group.dropped > 0) write(`… ${group.dropped} more log lines dropped`);
    write("::endgroup::");
  };

  const annotate = (event: NodeFinishEvent): void => {
    if (annotated.has(event.nodeId) || annotations >= MAX_ANNOTATIONS) return;
    annotated.add(event.nodeId);
    annotations++;
    const label = nodeLabel(event.nodeId, event.iteration);
    const props: string[] = [];
    const file = annotationFile(stats.composite?.file, env.GITHUB_WORKSPACE);
    if (file !== undefined) {
      props.push(`file=${escapeGithubProperty(file)}`);
      const line = stats.nodes.get(event.nodeId)?.line;
      if (line !== undefined) props.push(`line=${line}`);
    }
    props.push(`title=${escapeGithubProperty(`${label} failed`)}`);
    const hint = event.error?.hint === undefined ? "" : `\nhint: ${event.error.hint}`;
    const details = errorDetailLines(event.error, 10).map((line) => `\n${line}`).join("");
    write(`::error ${props.join(",")}::${escapeGithubData(`${errorText(event.error) || "failed"}${details}${hint}`)}`);
  };

  return {
    ...lines.sharedHooks(out, write, verbose),
    onNodeLog: guard(out, (event) => {
      const key = nodeLabel(event.nodeId, event.iteration);
      let group = groups.get(key);
      if (group === undefined) {
        group = { lines: [], chars: 0, dropped: 0 };
        groups.set(key, group);
      }
      for (const line of lines.nodeLog(event, verbose)) {
        if (group.chars + line.length > MAX_GROUP_CHARS) group.dropped++;
        else {
          group.lines.push(line);
          group.chars += line.length;
        }
      }
    }),
    onNodeFinish: guard(out, (event) => {
      flushGroup(nodeLabel(event.nodeId, event.iteration));
      write(lines.nodeFinish(event));
      if (event.status === "failed") annotate(event);
    }),
    onRunFinish: guard(out, (event) => {
      // Another run's run:finish (RunStats keeps only this run's) prints nothing.
      if (stats.finish !== event) return;
      for (const key of [...groups.keys()]) flushGroup(key);
      const error = event.error;
      if (error !== undefined && event.status !== "succeeded" && annotated.size === 0) {
        const file = annotationFile(stats.composite?.file, env.GITHUB_WORKSPACE);
        const fileProp = file === undefined ? "" : `file=${escapeGithubProperty(file)},`;
        write(`::error ${fileProp}title=run ${event.status}::${escapeGithubData(errorText(error))}`);
      }
      write(renderSummary(summaryFromStats(stats, event.ts), style, { slowest: verbose, failures: true }));
    }),
    close: async () => {
      for (const key of [...groups.keys()]) flushGroup(key);
      if (stats.isUnfinished() && !closed) write(renderSummary(summaryFromStats(stats, stats.lastTs ?? 0), style, { slowest: verbose, failures: true }));
      closed = true;
    },
  };
}

/** The composite's path as GitHub links it: relative to the workspace, forward slashes. */
export function annotationFile(file: string | undefined, workspace: string | undefined): string | undefined {
  if (file === undefined || file === "") return undefined;
  let path = file;
  if (workspace !== undefined && workspace !== "" && isAbsolute(file)) path = relativeInside(workspace, file) ?? file;
  return path.split(sep).join("/");
}
