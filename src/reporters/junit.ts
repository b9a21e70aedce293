import { AtomitonError, ErrorCode, type SerializedError } from "../errors.js";
import type { NodeFinishEvent, NodeLogEvent, NodeStatus } from "../events/event-map.js";
import { errorText, logLines } from "./event-text.js";
import { guard } from "./guard.js";
import { renderJunit, type JunitCase, type JunitSuite } from "./render-junit.js";
import { RunStats } from "./run-stats.js";
import type { Reporter, ReporterOptions } from "./types.js";
import { writeFileAtomic } from "../storage/write-file-atomic.js";

/** Logs kept per testcase; beyond it a note says how many lines were dropped. */
const MAX_LOG_CHARS = 1_000_000;
/** Failed iterations listed per testcase. */
const MAX_FAILED_ITERATIONS = 100;

interface CaseState {
  status: NodeStatus | undefined;
  durationMs: number;
  error: SerializedError | undefined;
  reason: string | undefined;
  attempt: number;
  iterations: number;
  iterationStatus: Record<NodeStatus, number>;
  failedIterations: { iteration: number; error: SerializedError | undefined }[];
  log: string[];
  logChars: number;
  droppedLines: number;
}

/**
 * JUnit XML for CI test tabs, written on `close()` to `options.output` (atomically: temp file +
 * rename) or to stdout. One testsuite per run, one testcase per node of the plan (classname = the
 * composite's name, name = the node id). A loop-body node is ONE testcase aggregating its
 * iterations: time is their sum, it fails if any iteration failed (the failure lists them),
 * it is skipped only when no iteration ran. Skipped and cancelled nodes, and nodes that never
 * finished, are `<skipped message=reason/>`. `<system-out>` holds the node's logs (ANSI stripped,
 * capped at 1 MB per node).
 *
 * @example
 * const reporter = createJunitReporter({ ...streams, output: "reports/atomiton.xml" });
 */
export function createJunitReporter(options: ReporterOptions): Reporter {
  const stats = new RunStats(options.predecessors);
  const cases = new Map<string, CaseState>();
  const caseFor = (nodeId: string): CaseState => {
    let state = cases.get(nodeId);
    if (state === undefined) {
      state = newCase();
      cases.set(nodeId, state);
    }
    return state;
  };

  return {
    onEvent: guard(options.stderr, (event) => void stats.add(event)),
    onRunStart: guard(options.stderr, (event) => {
      for (const node of event.nodes) caseFor(node.id);
    }),
    onNodeLog: guard(options.stderr, (event) => addLog(caseFor(event.nodeId), event)),
    onNodeFinish: guard(options.stderr, (event) => addFinish(caseFor(event.nodeId), event)),
    close: async () => {
      const xml = renderJunit(toSuite(stats, cases));
      const target = options.output;
      if (target === undefined || target === "" || target === "-") {
        options.stdout.write(xml);
        return;
      }
      try {
        await writeFileAtomic(target, xml);
      } catch (error) {
        throw new AtomitonError(ErrorCode.FILE, `could not write the JUnit report to ${target}: ${(error as Error).message}`, {
          retryable: false,
          cause: error,
          hint: "check that the --output directory is writable",
        });
      }
    },
  };
}

function newCase(): CaseState {
  return {
    status: undefined,
    durationMs: 0,
    error: undefined,
    reason: undefined,
    attempt: 1,
    iterations: 0,
    iterationStatus: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
    failedIterations: [],
    log: [],
    logChars: 0,
    droppedLines: 0,
  };
}

function addLog(state: CaseState, event: NodeLogEvent): void {
  const prefix = `${event.iteration === undefined ? "" : `[#${event.iteration}] `}${event.level === "info" ? "" : `${event.level}: `}`;
  for (const text of logLines(event.message)) {
    const line = prefix + text;
    if (state.logChars + line.length > MAX_LOG_CHARS) {
      state.droppedLines++;
      continue;
    }
    state.log.push(line);
    state.logChars += line.length + 1;
  }
}

function addFinish(state: CaseState, event: NodeFinishEvent): void {
  state.durationMs += event.durationMs;
  if (event.iteration === undefined) {
    state.status = event.status;
    state.error = event.error;
    state.reason = event.reason;
    state.attempt = event.attempt;
    return;
  }
  state.iterations++;
  state.iterationStatus[event.status]++;
  if (event.status === "failed" && state.failedIterations.length < MAX_FAILED_ITERATIONS) {
    state.failedIterations.push({ iteration: event.iteration, error: event.error });
  }
  if (event.reason !== undefined) state.reason ??= event.reason;
}

function toSuite(stats: RunStats, cases: Map<string, CaseState>): JunitSuite {
  const suite: JunitSuite = {
    name: stats.composite?.name ?? "atomiton",
    durationMs: stats.finish?.durationMs ?? 0,
    cases: [...cases].map(([nodeId, state]) => toCase(nodeId, state, stats.finish === undefined)),
  };
  if (stats.composite?.file !== undefined) suite.file = stats.composite.file;
  if (stats.runId !== undefined) suite.runId = stats.runId;
  if (stats.startTs !== undefined) suite.startTs = stats.startTs;
  if (stats.finish?.error !== undefined && stats.finish.status !== "succeeded") suite.runError = stats.finish.error;
  return suite;
}

function toCase(nodeId: string, state: CaseState, runUnfinished: boolean): JunitCase {
  const c: JunitCase = { name: nodeId, durationMs: state.durationMs };
  const failedIterations = state.iterationStatus.failed;
  if (state.status === "failed" || failedIterations > 0) {
    c.failure = failureOf(state);
  } else if (state.status === "skipped" || state.status === "cancelled") {
    c.skipped = state.reason === undefined ? state.status : `${state.status}: ${state.reason}`;
  } else if (state.status === undefined && state.iterationStatus.succeeded === 0) {
    if (state.iterations > 0) c.skipped = `no iteration ran${state.reason === undefined ? "" : `: ${state.reason}`}`;
    else c.skipped = runUnfinished ? "not run: the run did not finish" : "not run";
  }
  const out = [...state.log];
  // --resume: a succeeded node with a reason is one whose earlier output was reused.
  if (state.status === "succeeded" && state.reason !== undefined) out.unshift(`${state.reason} (not run again)`);
  if (state.droppedLines > 0) out.push(`… ${state.droppedLines} more log lines dropped (over ${MAX_LOG_CHARS} characters)`);
  if (out.length > 0) c.systemOut = out.join("\n");
  return c;
}

function failureOf(state: CaseState): NonNullable<JunitCase["failure"]> {
  const failedIterations = state.iterationStatus.failed;
  if (state.status === "failed" || failedIterations === 0) {
    const error = state.error ?? { code: ErrorCode.NODE, message: "failed", retryable: false };
    const details = [error.message];
    if (error.hint !== undefined) details.push(`hint: ${error.hint}`);
    if (state.attempt > 1) details.push(`attempts: ${state.attempt}`);
    for (const f of state.failedIterations) details.push(`iteration ${f.iteration}: ${errorText(f.error)}`);
    if (error.stack !== undefined) details.push(error.stack);
    return { message: errorText(error), type: error.code, details: details.join("\n") };
  }
  const first = state.failedIterations[0]?.error;
  const details = state.failedIterations.map((f) => `iteration ${f.iteration}: ${errorText(f.error)}`);
  if (failedIterations > state.failedIterations.length) details.push(`… and ${failedIterations - state.failedIterations.length} more`);
  return {
    message: `${failedIterations} of ${state.iterations} iterations failed${first === undefined ? "" : `; first: ${errorText(first)}`}`,
    type: first?.code ?? ErrorCode.NODE,
    details: details.join("\n"),
  };
}
