import type { RunEvent, RunEventName } from "../events/event-map.js";
import type { Predecessors } from "./critical-path.js";

/** A writable stream as reporters see it: `isTTY`/`columns` are read, never assigned. */
export type ReporterStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };

/** Where a reporter writes and the environment it decides from; reporters never read `process.*`. */
export interface ReporterStreams {
  stdout: ReporterStream;
  stderr: ReporterStream;
  env: Record<string, string | undefined>;
}

/**
 * Receives the events of one run (SPEC §5) and renders them. Every member is optional (vitest's
 * `Reporter` is the model): a reporter implements the hooks it needs, and `report` calls them.
 * Hooks must be cheap and never throw (wrap them in `guard`).
 */
export interface Reporter {
  /** Every event, in order (run:start … run:finish), before the hook of its type. */
  onEvent?(event: RunEvent): void;
  onRunStart?(event: RunEventOf<"run:start">): void;
  onNodeStart?(event: RunEventOf<"node:start">): void;
  onNodeProgress?(event: RunEventOf<"node:progress">): void;
  onNodeLog?(event: RunEventOf<"node:log">): void;
  onNodeRetry?(event: RunEventOf<"node:retry">): void;
  onNodeFinish?(event: RunEventOf<"node:finish">): void;
  onRunFinish?(event: RunEventOf<"run:finish">): void;
  /** Flush/close (stop the live renderer, write the JUnit file). Awaited by the CLI after run:finish. */
  close?(): Promise<void>;
  /** The debugger paused the run: stop drawing (a live view) until `resume`, so the prompt has the terminal. */
  pause?(): Promise<void>;
  resume?(): void;
}

export type RunEventOf<K extends RunEventName> = Extract<RunEvent, { type: K }>;

/** The hook of each event type. */
export const REPORTER_HOOKS = {
  "run:start": "onRunStart",
  "node:start": "onNodeStart",
  "node:progress": "onNodeProgress",
  "node:log": "onNodeLog",
  "node:retry": "onNodeRetry",
  "node:finish": "onNodeFinish",
  "run:finish": "onRunFinish",
} as const satisfies Record<RunEventName, keyof Reporter>;

/** Whether a reporter has any hook for events (`silent` has none: the run then needs no listener, and takes the fast path). */
export function reporterListens(reporter: Reporter): boolean {
  return reporter.onEvent !== undefined || Object.values(REPORTER_HOOKS).some((hook) => reporter[hook] !== undefined);
}

/** Hand one event to a reporter: `onEvent`, then the hook of its type, each when it has one. */
export function report(reporter: Reporter, event: RunEvent): void {
  reporter.onEvent?.(event);
  const hook = reporter[REPORTER_HOOKS[event.type]] as ((e: RunEvent) => void) | undefined;
  hook?.call(reporter, event);
}

export interface ReporterOptions extends ReporterStreams {
  /** `false` (`--no-color`) disables colour, `true` forces it; unset: decided by `detectTerminal`. */
  color?: boolean;
  /** JUnit: file to write (atomically) on close; unset or `-` writes to stdout. */
  output?: string;
  /** plain/github: also print debug logs and progress lines. */
  verbose?: boolean;
  /** The composite's edges (ids a node waits for), when known: the summary's critical path is then exact, not inferred. */
  predecessors?: Predecessors;
}
