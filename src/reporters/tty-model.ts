import type { SerializedError } from "../errors.js";
import type { LogLevel, NodeFinishEvent, PlanNodeInfo, RunStartEvent } from "../events/event-map.js";
import { IterationCounter } from "./count-text.js";
import { logLines, maxAttemptsOf, shortErrorText } from "./event-text.js";
import { sanitizeLine } from "./text.js";
import type { Reporter, RunEventOf } from "./types.js";

export const RowState = {
  pending: "pending",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
} as const;
export type RowState = (typeof RowState)[keyof typeof RowState];

/** One visible row: a node of the plan. A loop-body node is ONE row counting its iterations. */
export interface Row {
  readonly id: string;
  readonly info: PlanNodeInfo;
  readonly depth: number;
  readonly parent: Row | undefined;
  readonly children: Row[];
  state: RowState;
  startTs: number | undefined;
  durationMs: number | undefined;
  attempt: number;
  retry: { attempt: number; max: number | undefined; after: string } | undefined;
  progress: { value: number; message: string | undefined } | undefined;
  lastLog: { level: LogLevel; text: string } | undefined;
  error: SerializedError | undefined;
  reason: string | undefined;
  /** Iterations of a loop-body node. */
  iterRunning: number;
  iterDone: number;
  iterFailed: number;
  iterDurationMs: number;
  /** For a container row: the iteration count it announced in a progress message ("12/40"). */
  iterTotal: number | undefined;
  final: boolean;
}

const MAX_LOG_TEXT = 400;

/**
 * The tty reporter's state, updated in O(1) per event (a Map lookup and counters; finishing a
 * container also finishes its body rows, O(body) once). Views read it on their own clock.
 */
export class TtyModel implements Reporter {
  readonly rows = new Map<string, Row>();
  readonly roots: Row[] = [];
  /** Rows with a running node, oldest first. */
  readonly running = new Set<Row>();
  readonly failed: Row[] = [];
  name = "";
  /** Event time of run:start. */
  startTs: number | undefined;
  /** Event time of run:finish; freezes the clock. */
  endTs: number | undefined;
  // Local clock minus event clock at run:start, so live times work for replays and skewed clocks.
  private clockOffset = 0;
  runId: string | undefined;
  /** Rows that ended succeeded, failed or skipped; cancelled ones are counted apart. */
  done = 0;
  cancelled = 0;
  /** The run's status from run:finish; undefined until then (and when it never came). */
  status: "succeeded" | "failed" | "cancelled" | undefined;
  private readonly iterationCounter = new IterationCounter();
  finished = false;
  /** Called when a row reaches its final state (the listr2 view settles its task). */
  onSettle: ((row: Row) => void) | undefined;

  // The model takes events through the reporters' hooks (`report(model, event)`, types.ts), one
  // method per event type. A second run:start and the run:finish of another run are ignored.

  onRunStart(event: RunStartEvent): void {
    if (this.runId === undefined) this.start(event);
  }

  onRunFinish(event: RunEventOf<"run:finish">): void {
    if (event.runId !== this.runId) return;
    this.endTs = event.ts;
    this.status = event.status;
    this.finishAll(event.status === "succeeded");
  }

  onNodeStart(event: RunEventOf<"node:start">): void {
    const row = this.openRow(event);
    if (row === undefined) return;
    this.markRunning(row, event.ts);
    if (event.iteration === undefined) {
      row.attempt = event.attempt;
      row.progress = undefined;
    } else row.iterRunning++;
  }

  onNodeRetry(event: RunEventOf<"node:retry">): void {
    const row = this.openRow(event);
    if (row !== undefined) row.retry = { attempt: event.attempt, max: maxAttemptsOf(event), after: shortErrorText(event.error) };
  }

  onNodeProgress(event: RunEventOf<"node:progress">): void {
    const row = this.openRow(event);
    if (row === undefined) return;
    row.progress = { value: event.progress, message: event.message };
    const total = /(\d+)\s*\/\s*(\d+)/.exec(event.message ?? "");
    if (total !== null && row.children.length > 0) row.iterTotal = Number(total[2]);
  }

  onNodeLog(event: RunEventOf<"node:log">): void {
    const row = this.openRow(event);
    if (row === undefined) return;
    const lines = logLines(event.message);
    const last = lines[lines.length - 1] ?? "";
    row.lastLog = { level: event.level, text: sanitizeLine(last.slice(0, MAX_LOG_TEXT)) };
  }

  onNodeFinish(event: NodeFinishEvent): void {
    const row = this.openRow(event);
    if (row !== undefined) this.finishNode(row, event);
  }

  private start(event: RunStartEvent): void {
    this.runId = event.runId;
    this.name = event.composite.name;
    this.startTs = event.ts;
    this.clockOffset = Date.now() - event.ts;
    const byId = new Map(event.nodes.map((n) => [n.id, n]));
    const build = (info: PlanNodeInfo, parent: Row | undefined, depth: number): Row => {
      const row: Row = {
        id: info.id,
        info,
        depth,
        parent,
        children: [],
        state: RowState.pending,
        startTs: undefined,
        durationMs: undefined,
        attempt: 1,
        retry: undefined,
        progress: undefined,
        lastLog: undefined,
        error: undefined,
        reason: undefined,
        iterRunning: 0,
        iterDone: 0,
        iterFailed: 0,
        iterDurationMs: 0,
        iterTotal: undefined,
        final: false,
      };
      this.rows.set(info.id, row);
      return row;
    };
    // Parents first, whatever the order of the list; a parent id that is not in the list makes a root.
    const childrenOf = new Map<string | undefined, PlanNodeInfo[]>();
    for (const node of event.nodes) {
      const parent = node.parent !== undefined && byId.has(node.parent) && node.parent !== node.id ? node.parent : undefined;
      const list = childrenOf.get(parent) ?? [];
      list.push(node);
      childrenOf.set(parent, list);
    }
    const attach = (parent: Row | undefined, depth: number): void => {
      for (const info of childrenOf.get(parent?.id) ?? []) {
        if (this.rows.has(info.id)) continue;
        const row = build(info, parent, depth);
        (parent === undefined ? this.roots : parent.children).push(row);
        attach(row, depth + 1);
      }
    };
    attach(undefined, 0);
  }

  /** "Now" on the events' clock (the run:finish time once the run ended). */
  now(): number {
    return this.endTs ?? Date.now() - this.clockOffset;
  }

  /** The row of the event's node while it is still open. */
  private openRow(event: { nodeId: string }): Row | undefined {
    const row = this.rows.get(event.nodeId);
    return row !== undefined && !row.final ? row : undefined;
  }

  private markRunning(row: Row, ts: number): void {
    if (row.state !== RowState.pending) return;
    row.state = RowState.running;
    row.startTs = ts;
    this.running.add(row);
    if (row.parent !== undefined) this.markRunning(row.parent, ts);
  }

  /** Loop iterations that ran (3 items × 2 body nodes is 3). */
  get iterations(): number {
    return this.iterationCounter.count;
  }

  private finishNode(row: Row, event: NodeFinishEvent): void {
    this.iterationCounter.addFinish(row.id);
    if (event.iteration !== undefined) {
      // Iterations are a loop's: a group or parallel body inside a loop carries the loop's iteration too.
      if (row.parent?.info.type === "loop") this.iterationCounter.addBodyFinish(row.parent.id, event.iteration);
      row.iterRunning = Math.max(0, row.iterRunning - 1);
      row.iterDone++;
      row.iterDurationMs += event.durationMs;
      if (event.status === "failed") {
        row.iterFailed++;
        row.error ??= event.error;
      }
      if (row.state === RowState.pending) this.markRunning(row, event.ts);
      return;
    }
    row.durationMs = event.durationMs;
    row.error = event.error ?? row.error;
    row.reason = event.reason;
    this.settle(row, event.status);
    for (const child of row.children) this.settleChild(child, row);
  }

  /** A body row ends with its container: failed if an iteration failed, else its container's fate. */
  private settleChild(row: Row, parent: Row): void {
    if (!row.final) {
      row.durationMs = row.iterDurationMs;
      if (row.iterFailed > 0) this.settle(row, RowState.failed);
      else if (row.iterDone > 0) this.settle(row, RowState.succeeded);
      else {
        row.reason = parent.state === RowState.succeeded ? "no iterations" : `${parent.id} ${parent.state}`;
        this.settle(row, parent.state === RowState.failed ? RowState.cancelled : RowState.skipped);
      }
    }
    for (const child of row.children) this.settleChild(child, row);
  }

  private settle(row: Row, state: RowState): void {
    if (row.final) return;
    row.state = state;
    row.final = true;
    this.running.delete(row);
    if (state === RowState.cancelled) this.cancelled++;
    else this.done++;
    if (state === RowState.failed) this.failed.push(row);
    this.onSettle?.(row);
  }

  /** Ends every row still open: at run:finish, or at close() when run:finish never came. */
  finishAll(runSucceeded: boolean): void {
    if (this.finished) return;
    this.finished = true;
    const visit = (row: Row): void => {
      if (!row.final) {
        if (row.iterDone > 0) row.durationMs = row.iterDurationMs;
        const pending = row.state === RowState.pending;
        row.reason ??= pending ? "not run" : "still running when the run ended";
        this.settle(row, runSucceeded && pending ? RowState.skipped : RowState.cancelled);
      }
      for (const child of row.children) visit(child);
    };
    for (const root of this.roots) visit(root);
  }
}
