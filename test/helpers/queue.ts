import { execa, type ResultPromise } from "execa";
import { BIN, ROOT } from "./cli.js";

/** A real `atomiton worker` process (the built CLI), its stderr collected. */
export interface WorkerProcess {
  readonly pid: number;
  readonly proc: ResultPromise;
  log(): string;
  /** Resolves once the log matches (rejects after `withinMs`). */
  waitFor(pattern: RegExp, withinMs?: number): Promise<void>;
  /** SIGTERM (or the given signal) and wait for the exit; resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | undefined>;
}

export async function startWorker(url: string, namespace: string, args: string[] = [], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<WorkerProcess> {
  const proc = execa("node", [BIN, "worker", "--redis", url, "--queue", namespace, ...args], {
    reject: false,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", CI: "true", ...(options.env ?? {}) },
    stdin: "ignore",
    buffer: false,
  });
  let text = "";
  proc.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  proc.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const handle: WorkerProcess = {
    pid: proc.pid!,
    proc,
    log: () => text,
    async waitFor(pattern, withinMs = 30_000) {
      const deadline = Date.now() + withinMs;
      while (!pattern.test(text)) {
        if (proc.exitCode !== null) throw new Error(`worker exited (${proc.exitCode}) before ${pattern}:\n${text}`);
        if (Date.now() > deadline) throw new Error(`worker log did not match ${pattern} within ${withinMs} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const result = await proc;
      return result.exitCode;
    },
  };
  await handle.waitFor(/taking runs from/);
  return handle;
}

/** Polls `check` until it returns a value other than undefined (rejects after `withinMs`). */
export async function eventually<T>(check: () => Promise<T | undefined>, withinMs: number, what: string): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
