import { ExitCode } from "./exit-codes.js";

/**
 * The signals that interrupt a command, handled alike: Ctrl-C (SIGINT), `kill` and service managers
 * (SIGTERM), and a closed terminal or a dropped SSH session (SIGHUP). Each exits 130, in every phase
 * (README "Exit codes"), never by the signal itself: so the CLI's own cleanup always runs.
 */
export const INTERRUPT_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

/** Where interrupt signals are heard: the process, or a stand-in in tests. */
export interface SignalSource {
  on(event: InterruptSignal, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: InterruptSignal, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * How many of the CLI's own handlers listen to the process's interrupt signals now. Not the
 * process's listener count: a library adds its own (ora's cursor restore, through signal-exit, stays
 * after the spinner stops, and re-raises the signal only when it is the only listener), and the
 * fallback must not step aside for it: Ctrl-C at a terminal was ignored while a run loaded.
 */
// Kept on the process, not in this module: the CLI's bundle and its lazily loaded commands may each hold a copy of it.
const TRAPPING = Symbol.for("atomiton.interruptHandlers");
const shared = process as unknown as Record<symbol, number | undefined>;
const trapping = (change = 0): number => (shared[TRAPPING] = (shared[TRAPPING] ?? 0) + change);

/** Listen to every interrupt signal; returns the function that stops listening. */
export function onInterrupt(listener: (signal: NodeJS.Signals) => void, source: SignalSource = process): () => void {
  for (const signal of INTERRUPT_SIGNALS) source.on(signal, listener);
  const own = source === process;
  if (own) trapping(+1);
  let listening = true;
  return () => {
    if (listening && own) trapping(-1);
    listening = false;
    for (const signal of INTERRUPT_SIGNALS) source.off(signal, listener);
  };
}

/**
 * Outside a command's own handling (loading, validating, listing, saving after the run), an
 * interrupt signal exits 130 at once instead of killing the process by the signal (which a shell
 * reports as 143 for SIGTERM, 129 for SIGHUP). A command that traps the signals itself (run, serve,
 * watch) adds its own listener; this one then steps aside.
 */
export function exitOnInterrupt(): void {
  const fallback = (): void => {
    if (trapping() > 0) return;
    // process.exit runs the exit hooks: the process registry SIGKILLs any child group still registered.
    process.exit(ExitCode.interrupted);
  };
  for (const signal of INTERRUPT_SIGNALS) process.on(signal, fallback);
}

/**
 * Interrupt signals as "stop", then "stop now": the first signal calls `first`, a repeat of a signal
 * already received calls `again` (a second Ctrl-C). Another kind of signal after the first belongs to
 * the same stop and changes nothing: service managers send SIGTERM and SIGHUP together (systemd's
 * SendSIGHUP), and a terminal closed after Ctrl-C sends SIGHUP. The stop then still saves its record
 * instead of exiting with it left `running`.
 */
export function onInterruptTwice(first: (signal: NodeJS.Signals) => void, again: (signal: NodeJS.Signals) => void, source: SignalSource = process): () => void {
  const seen = new Set<NodeJS.Signals>();
  return onInterrupt((signal) => {
    if (seen.size === 0) {
      seen.add(signal);
      first(signal);
    } else if (seen.has(signal)) again(signal);
    else seen.add(signal);
  }, source);
}

/**
 * How to stop at once after `signal`: only a repeat of the same signal does (see onInterruptTwice),
 * so after a SIGTERM from `kill` or `timeout`, one Ctrl-C is part of the same stop, not "again".
 */
export function stopAtOnceHint(signal: NodeJS.Signals): string {
  return signal === "SIGINT" ? "press Ctrl-C again to exit at once" : `send ${signal} again to exit at once`;
}

/** Shows the terminal's cursor again (a live view hides it) before an exit that skips the view's own cleanup. */
export function showCursor(stream: { isTTY?: boolean; write(text: string): unknown }): void {
  if (stream.isTTY === true) stream.write("\u001b[?25h");
}
