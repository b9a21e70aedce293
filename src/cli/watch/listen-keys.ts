import { readFileSync } from "node:fs";
/** The slice of `process.stdin` keypress handling needs (tests pass a fake). */
export interface KeyInput {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: "data", listener: (chunk: string | Buffer) => void): unknown;
  off(event: "data", listener: (chunk: string | Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export const WatchKey = { quit: "quit", rerun: "rerun" } as const;
export type WatchKey = (typeof WatchKey)[keyof typeof WatchKey];

const KEYS: Readonly<Record<string, WatchKey>> = {
  q: WatchKey.quit,
  Q: WatchKey.quit,
  "\u0003": WatchKey.quit, // Ctrl-C (raw mode turns it into a byte, not SIGINT)
  "\u0004": WatchKey.quit, // Ctrl-D
  r: WatchKey.rerun,
  R: WatchKey.rerun,
  "\r": WatchKey.rerun,
};

const CTRL_Z = "\u001a";

/**
 * Read single keypresses from a TTY in raw mode. Returns a function that restores the terminal
 * (raw mode off, stdin paused so the process can exit), or undefined when `input` is no TTY.
 */
export function listenForKeys(input: KeyInput | undefined, onKey: (key: WatchKey) => void): (() => void) | undefined {
  if (!input?.isTTY || typeof input.setRawMode !== "function") return undefined;
  const wasRaw = input.isRaw === true;
  let restored = false;
  // Ctrl-Z (a byte in raw mode, not SIGTSTP): as in any program, the terminal as it was and the
  // process stopped; back with `fg`, raw mode again.
  const suspend = (): void => {
    input.setRawMode?.(wasRaw);
    process.once("SIGCONT", () => {
      if (!restored) input.setRawMode?.(true);
    });
    process.kill(process.pid, "SIGTSTP");
  };
  const onData = (chunk: string | Buffer): void => {
    for (const ch of String(chunk)) {
      if (ch === CTRL_Z) suspend();
      const key = KEYS[ch];
      if (key) onKey(key);
    }
  };
  input.setRawMode(true);
  input.setEncoding("utf8");
  input.on("data", onData);
  input.resume();
  return () => {
    if (restored) return;
    restored = true;
    input.off("data", onData);
    input.setRawMode?.(wasRaw);
    input.pause();
  };
}

/**
 * False when this process is a background job of its terminal (`atomiton run flow.yaml --watch &`):
 * switching the terminal to raw mode, or reading it, would stop the process (SIGTTOU, SIGTTIN), so
 * watch mode takes no keys then. Read from /proc/self/stat (its process group against the terminal's
 * foreground one); where there is no /proc, true.
 */
export function isForegroundJob(): boolean {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // After "pid (name) ": state ppid pgrp session tty_nr tpgid …
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pgrp = Number(fields[2]);
    const tpgid = Number(fields[5]);
    return !(tpgid > 0 && pgrp !== tpgid);
  } catch {
    return true;
  }
}
