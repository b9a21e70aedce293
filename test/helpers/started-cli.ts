import { execa, type ResultPromise } from "execa";
import { BIN } from "./cli.js";

/** The built CLI, started and still running: the test reacts to what it prints, not to a clock. */
export interface StartedCli {
  child: ResultPromise<{ reject: false; stdin: "ignore" }>;
  /** Resolves with stderr so far once it matches `pattern`; rejects when the CLI exits first or `withinMs` runs out. */
  waitFor(pattern: RegExp, withinMs?: number): Promise<string>;
}

/** Spawn `atomiton <args>` (`NO_COLOR`, `CI` set) and follow its stderr. */
export function startCli(args: readonly string[], options: { cwd: string; timeout?: number }): StartedCli {
  const child = execa("node", [BIN, ...args], { cwd: options.cwd, reject: false, env: { CI: "true", NO_COLOR: "1" }, stdin: "ignore", timeout: options.timeout ?? 30_000 });
  let stderr = "";
  let exited = false;
  const waiters = new Set<() => void>();
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const w of waiters) w();
  });
  void child.finally(() => {
    exited = true;
    for (const w of waiters) w();
  });
  const waitFor = (pattern: RegExp, withinMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(stderr);
      };
      const timer = setTimeout(() => done(new Error(`no ${pattern} on stderr within ${withinMs}ms:\n${stderr}`)), withinMs);
      const check = () => {
        if (pattern.test(stderr)) done();
        else if (exited) done(new Error(`the CLI exited before printing ${pattern}:\n${stderr}`));
      };
      waiters.add(check);
      check();
    });
  return { child, waitFor };
}

/** `child:<pid>` lines the plain reporter printed for a shell node's stdout. */
export function childPids(stderr: string): number[] {
  return [...stderr.matchAll(/\| child\d*:(\d+)$/gm)].map((m) => Number(m[1]));
}
