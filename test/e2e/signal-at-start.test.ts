import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { BIN, ROOT, useTempDir } from "../helpers/cli.js";

// README "Exit codes": the CLI traps SIGINT, SIGTERM and SIGHUP from its first line and exits 130
// whenever one arrives. Compiling dist/cli-bundle.cjs takes 100–200 ms; a signal in that time used to
// kill the process by the signal (SIGTERM 143, SIGHUP 129). The preload prints a line when the CLI
// starts reading the bundle: the signal is sent at some point after it, never by a clock alone, so the
// test holds on a slow machine too (a later signal lands in the run, which is cancelled: 130 as well).
// Without the code cache, so loading lasts as long as it can.
const ANNOUNCE = pathToFileURL(path.join(ROOT, "test/fixtures/announce-bundle-read.mjs")).href;

let dir: string;
useTempDir((d) => (dir = d));

/** The built CLI running a flow that waits 60 s, and a promise of the moment it starts reading its bundle. */
function startLongRun(): { child: ReturnType<typeof execa>; readingBundle: Promise<void>; stderr: () => string } {
  writeFileSync(path.join(dir, "flow.yaml"), "name: wait\nnodes:\n  - { id: wait, type: delay, parameters: { duration: 60s } }\n");
  const child = execa(process.execPath, ["--import", ANNOUNCE, BIN, "run", "flow.yaml", "--reporter", "plain", "--storage", "memory"], {
    cwd: dir,
    reject: false,
    stdin: "ignore",
    env: { CI: "true", NO_COLOR: "1", ATOMITON_DISABLE_COMPILE_CACHE: "1" },
    timeout: 30_000,
  });
  let stderr = "";
  const readingBundle = new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("reading the bundle\n")) resolve();
    });
    void child.finally(() => reject(new Error(`the CLI exited before reading its bundle:\n${stderr}`)));
  });
  return { child, readingBundle, stderr: () => stderr };
}

describe("an interrupt signal during start-up", () => {
  const cases = (["SIGINT", "SIGTERM", "SIGHUP"] as const).flatMap((signal) => [0, 20, 60, 100, 200].map((ms) => ({ signal, ms })));
  test.each(cases)("$signal $ms ms after the CLI starts reading its bundle: exit 130, not death by the signal", async ({ signal, ms }) => {
    const run = startLongRun();
    await run.readingBundle;
    await new Promise((resolve) => setTimeout(resolve, ms));
    run.child.kill(signal);
    const r = await run.child;
    expect(r.signal, run.stderr()).toBeUndefined();
    expect(r.exitCode, run.stderr()).toBe(130);
  });

  test("once the run has started, SIGINT still cancels it through the run's own handler", async () => {
    const run = startLongRun();
    await run.readingBundle;
    // The plain reporter prints the node's start once the run is under way and trapping the signals.
    while (!/wait\s+started/.test(run.stderr())) await new Promise((resolve) => setTimeout(resolve, 20));
    run.child.kill("SIGINT");
    const r = await run.child;
    expect(r.exitCode, run.stderr()).toBe(130);
    expect(run.stderr()).toContain("SIGINT received: cancelling the run");
  });
});
