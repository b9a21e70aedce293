import type { RunEvent } from "../events/event-map.js";

/** A writable stream as reporters see it: `isTTY`/`columns` are read, never assigned. */
export type ReporterStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };

/** Where a reporter writes and the environment it decides from; reporters never read `process.*`. */
export interface ReporterStreams {
  stdout: ReporterStream;
  stderr: ReporterStream;
  env: Record<string, string | undefined>;
}

/** Receives the events of one run (SPEC §5) and renders them. */
export interface Reporter {
  /** Called for every event in order (run:start … run:finish). Must be cheap; never throws. */
  onEvent(event: RunEvent): void;
  /** Flush/close (stop the live renderer, write the JUnit file). Awaited by the CLI after run:finish. */
  close(): Promise<void>;
  /** The debugger paused the run: stop drawing (a live view) until `resume`, so the prompt has the terminal. */
  pause?(): Promise<void>;
  resume?(): void;
}

export interface ReporterOptions extends ReporterStreams {
  /** `false` (`--no-color`) disables colour, `true` forces it; unset: decided by `detectTerminal`. */
  color?: boolean;
  /** JUnit: file to write (atomically) on close; unset or `-` writes to stdout. */
  output?: string;
  /** plain/github: also print debug logs and progress lines. */
  verbose?: boolean;
}
