import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterEach, beforeEach } from "vitest";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(ROOT, "bin/atomiton.js");
export const EXAMPLES = path.join(ROOT, "examples");
export const COMPAT = path.resolve(ROOT, "../shared/compat");

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Spawn the built CLI (never throws on a non-zero exit). `NO_COLOR` and `CI` are set unless overridden. */
export async function atomiton(args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeout?: number } = {}): Promise<CliResult> {
  const r = await execa("node", [BIN, ...args], {
    reject: false,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", CI: "true", ...(options.env ?? {}) },
    extendEnv: true,
    timeout: options.timeout ?? 60_000,
    ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
}

/** A fresh temp dir, removed by the returned cleanup. */
export async function tempDir(prefix = "atomiton-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A fresh temp dir for every test of the file, removed after it: `useTempDir((d) => (dir = d))`. */
export function useTempDir(set: (dir: string) => void, prefix?: string): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const made = await tempDir(prefix);
    cleanup = made.cleanup;
    set(made.dir);
  });
  afterEach(async () => {
    await cleanup?.();
  });
}

/** tmux is installed (the pseudo-terminal tests are skipped, visibly, without it). */
export const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/**
 * An empty tmux config for the test servers (`tmux -f TMUX_CONF`). Not `/dev/null`: the tests must not
 * depend on it being a character device (tmux's server also needs that — .ci/run checks it).
 */
export const TMUX_CONF = (() => {
  const file = path.join(os.tmpdir(), `atomiton-tmux-${process.pid}.conf`);
  writeFileSync(file, "");
  return file;
})();
