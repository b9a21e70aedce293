import { detectTerminal } from "../reporters/detect-terminal.js";
import type { CliIO } from "./io.js";

/** A spinner for the phases before a run ("loading flow.yaml", "validating", …). */
export interface PhaseSpinner {
  /** Name the current phase (the spinner shows it if the phase takes long enough to notice). */
  phase(text: string): void;
  /** Clear the spinner; call before the reporter starts. Idempotent. */
  stop(): void;
  /** Run `work` as phase `text`; the spinner stops if it throws. */
  during<T>(text: string, work: () => Promise<T> | T): Promise<T>;
}

interface OraLike {
  text: string;
  start(): unknown;
  stop(): unknown;
}

const NOOP: PhaseSpinner = { phase: () => undefined, stop: () => undefined, during: async (_text, work) => work() };

/**
 * An ora spinner on stderr, only when stderr is interactive (`detectTerminal`; never in CI or a
 * pipe, where ora is not even imported). It appears once the phases have lasted `delayMs`, so fast
 * runs do not flicker.
 * stdin is left alone (`discardStdin: false`) so Ctrl-C keeps reaching the run's signal handler.
 */
export function startPhaseSpinner(io: CliIO, options: { delayMs?: number; unicode?: boolean } = {}): PhaseSpinner {
  const terminal = detectTerminal({ stream: io.stderr, env: io.env });
  // ora divides by the stream's width: a TTY reporting 0 columns (a pty without a size) would hang it.
  if (!terminal.interactive || !(typeof io.stderr.columns === "number" && io.stderr.columns > 0)) return NOOP;
  let text = "";
  let spinner: OraLike | undefined;
  let stopped = false;
  let due = false;
  let ora: ((options: Record<string, unknown>) => OraLike) | undefined;
  const show = () => {
    if (stopped || !due || !ora || spinner) return;
    spinner = ora({
      text,
      stream: io.stderr,
      isEnabled: true,
      discardStdin: false,
      color: terminal.color ? "cyan" : false,
      ...(terminal.unicode ? {} : { spinner: { interval: 120, frames: ["-", "\\", "|", "/"] } }),
    });
    spinner.start();
  };
  // Import now (module loading needs free turns of the event loop, which busy phases lack), show later.
  void import("ora")
    .then((m) => {
      ora = m.default as unknown as typeof ora;
      show();
    })
    .catch(() => undefined);
  const timer = setTimeout(() => {
    due = true;
    show();
  }, options.delayMs ?? 120);
  timer.unref();
  const self: PhaseSpinner = {
    phase(next) {
      text = next;
      if (spinner) spinner.text = next;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      spinner?.stop();
    },
    async during(next, work) {
      self.phase(next);
      try {
        return await work();
      } catch (error) {
        self.stop();
        throw error;
      }
    },
  };
  return self;
}
