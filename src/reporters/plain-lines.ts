import { relativeInside } from "../relative-path.js";
import type {
  NodeFinishEvent,
  NodeLogEvent,
  NodeProgressEvent,
  NodeRetryEvent,
  NodeStartEvent,
  RunStartEvent,
} from "../events/event-map.js";
import { nodeCountText } from "./count-text.js";
import { errorText, logLines, retryLine } from "./event-text.js";
import { formatDuration, formatElapsed } from "./format-duration.js";
import { nodeLabel, type RunStats } from "./run-stats.js";
import type { Style } from "./style.js";
import { guard } from "./guard.js";
import type { Reporter } from "./types.js";

const MIN_LABEL = 20;
const MAX_LABEL = 40;

/**
 * The line format shared by `plain` and `github`:
 * `[  0.012s] fetch                 succeeded 12ms` — elapsed since run:start, the node label
 * (`body#3` for a loop iteration) padded to a width fixed at run:start, then the event.
 */
export class PlainLines {
  private labelWidth = MIN_LABEL;
  // Last 25% step printed per node/iteration, for `--verbose` progress lines.
  private readonly progressStep = new Map<string, number>();

  constructor(
    private readonly stats: RunStats,
    private readonly style: Style,
  ) {}

  /**
   * The hooks every line-based reporter (plain, github) shares: `onEvent` keeps the run's stats, and
   * run:start, node:start, node:progress and node:retry print the same line. Each is guarded.
   */
  sharedHooks(out: NodeJS.WritableStream, write: (text: string | undefined) => void, verbose: boolean): Pick<Reporter, "onEvent" | "onRunStart" | "onNodeStart" | "onNodeProgress" | "onNodeRetry"> {
    return {
      onEvent: guard(out, (event) => void this.stats.add(event)),
      onRunStart: guard(out, (event) => write(this.runStart(event))),
      onNodeStart: guard(out, (event) => write(this.nodeStart(event))),
      onNodeProgress: guard(out, (event) => write(this.nodeProgress(event, verbose))),
      onNodeRetry: guard(out, (event) => write(this.nodeRetry(event))),
    };
  }

  runStart(event: RunStartEvent): string {
    let longest = 0;
    for (const node of event.nodes) longest = Math.max(longest, node.id.length + (node.parent === undefined ? 0 : 4));
    this.labelWidth = Math.min(MAX_LABEL, Math.max(this.labelWidth, longest));
    const { composite } = event;
    const where = composite.file === undefined ? "" : ` ${this.style.dot} ${relativeInside(process.cwd(), composite.file) ?? composite.file}`;
    const { topLevel, inBodies } = this.stats.nodeCounts();
    const count = nodeCountText(topLevel, inBodies);
    return this.line(event.ts, `run ${this.style.chalk.bold(composite.name)} started ${this.style.dot} ${count}${where}`);
  }

  nodeStart(event: NodeStartEvent): string {
    const attempt = event.attempt > 1 ? this.style.chalk.dim(` (attempt ${event.attempt})`) : "";
    return this.node(event.ts, event.nodeId, event.iteration, `started${attempt}`);
  }

  nodeRetry(event: NodeRetryEvent): string {
    return this.node(event.ts, event.nodeId, event.iteration, this.style.chalk.yellow(retryLine(event)));
  }

  nodeFinish(event: NodeFinishEvent): string {
    const c = this.style.chalk;
    const duration = c.dim(formatDuration(event.durationMs));
    const reason = event.reason === undefined ? "" : `: ${event.reason}`;
    let text: string;
    switch (event.status) {
      case "succeeded":
        // --resume: the output of an earlier run stood in; the node did not run.
        text = event.reused ? `${c.green("succeeded")} ${c.dim(`(${event.reason ?? "reused"})`)}` : `${c.green("succeeded")} ${duration}`;
        break;
      case "failed": {
        const onError = this.stats.nodes.get(event.nodeId)?.onError;
        const wentOn = onError === "continue" ? " (onError: continue, passing null on)" : onError === "route" ? " (onError: route, to the error port)" : "";
        text = `${c.red("failed")} ${duration} ${c.red(errorText(event.error))}${c.dim(wentOn)}`.trimEnd();
        break;
      }
      case "skipped":
        text = `${c.yellow("skipped")}${reason}`;
        break;
      default:
        text = `${c.yellow(event.status)}${reason}`;
    }
    this.progressStep.delete(nodeLabel(event.nodeId, event.iteration));
    return this.node(event.ts, event.nodeId, event.iteration, text);
  }

  /** One output line per line of the message; debug only when `verbose`. */
  nodeLog(event: NodeLogEvent, verbose: boolean): string[] {
    if (event.level === "debug" && !verbose) return [];
    const c = this.style.chalk;
    const level =
      event.level === "warn" ? c.yellow("warn: ") : event.level === "error" ? c.red("error: ") : event.level === "debug" ? c.dim("debug: ") : "";
    return logLines(event.message).map((text) => this.node(event.ts, event.nodeId, event.iteration, `${c.dim("|")} ${level}${text}`));
  }

  /** Progress is omitted unless `verbose`; then one line per 25% step of each node. */
  nodeProgress(event: NodeProgressEvent, verbose: boolean): string | undefined {
    if (!verbose) return undefined;
    const key = nodeLabel(event.nodeId, event.iteration);
    const step = Math.floor(Math.min(1, Math.max(0, event.progress)) * 4);
    if (step <= (this.progressStep.get(key) ?? 0)) return undefined;
    this.progressStep.set(key, step);
    const message = event.message === undefined ? "" : ` ${event.message}`;
    return this.node(event.ts, event.nodeId, event.iteration, this.style.chalk.dim(`progress ${step * 25}%${message}`));
  }

  /** A line without a node label (run error, notes). */
  line(ts: number, text: string): string {
    return `${this.style.chalk.dim(`[${formatElapsed(this.stats.elapsed(ts))}]`)} ${text}`;
  }

  private node(ts: number, nodeId: string, iteration: number | undefined, text: string): string {
    const label = nodeLabel(nodeId, iteration).padEnd(this.labelWidth);
    return this.line(ts, `${label} ${text}`);
  }
}
