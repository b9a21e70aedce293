import { EventEmitter } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { AtomitonError } from "../../../../src/errors.js";
import { FakeStream } from "../../reporters/fake-streams.js";
import { runWatch, type SignalSource, type WatchHost } from "../../../../src/cli/watch/run-watch.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-runwatch-"));
  await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - id: a\n    type: log\n");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fakeIO() {
  const stderr = new FakeStream({ isTTY: false });
  return {
    io: { stdout: new FakeStream({ isTTY: false }), stderr, env: { CI: "true", NO_COLOR: "1" }, cwd: dir },
    stderr: () => stderr.text(),
  };
}

class FakeSignals extends EventEmitter implements SignalSource {}

class FakeStdin extends EventEmitter {
  isTTY = true;
  isRaw = false;
  setRawMode(mode: boolean) {
    this.isRaw = mode;
  }
  setEncoding() {}
  resume() {}
  pause() {}
}

/** A run that lasts until aborted (or `ms`), recording how it ended. */
function slowRun(log: string[], ms = 60_000): WatchHost["runOnce"] {
  return (signal) =>
    new Promise((resolve) => {
      log.push("start");
      const timer = setTimeout(() => resolve(0), ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        log.push("aborted");
        resolve(130);
      });
    });
}

const until = async (ok: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("runWatch", () => {
  test("the first SIGINT stops (130 mid-run) and removes its listeners; a second one while stopping forces the exit", async () => {
    const { io, stderr } = fakeIO();
    const signals = new FakeSignals();
    const log: string[] = [];
    const forced: number[] = [];
    let release: (code: number) => void = () => undefined;
    const host: WatchHost = {
      signals,
      forceExit: (code) => forced.push(code),
      // The run ignores its signal for a while, like a node that does not honour it.
      runOnce: () => new Promise((resolve) => ((release = resolve), log.push("start"))),
    };
    const done = runWatch("flow.yaml", {}, io, host);
    await until(() => log.length === 1);
    signals.emit("SIGINT", "SIGINT");
    signals.emit("SIGINT", "SIGINT");
    expect(forced).toEqual([130]);
    release(130);
    expect(await done).toBe(130);
    expect(signals.listenerCount("SIGINT") + signals.listenerCount("SIGTERM")).toBe(0);
    expect(stderr()).toMatch(/\[watch\] stopped \(a run was interrupted\)\n$/);
  });

  test("q on a TTY stops while idle with exit 0 and restores raw mode; r re-runs", async () => {
    const { io } = fakeIO();
    const stdin = new FakeStdin();
    const log: string[] = [];
    const done = runWatch("flow.yaml", {}, io, { stdin, runOnce: slowRun(log, 0) });
    await until(() => log.length === 1);
    expect(stdin.isRaw).toBe(true);
    stdin.emit("data", "r");
    await until(() => log.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    stdin.emit("data", "q");
    expect(await done).toBe(0);
    expect(stdin.isRaw).toBe(false);
    expect(stdin.listenerCount("data")).toBe(0);
  });

  test.each([
    ["a command-line error ends watching with its exit code", new AtomitonError("E_USAGE", 'unknown reporter "fancy"', { retryable: false }), true],
    ["an error tied to a file keeps watching", new AtomitonError("E_CUSTOM_NODE", "nodes/x.ts: no default export", { retryable: false, details: { file: "/x/nodes/x.ts" } }), false],
  ])("%s", async (_name, error, ends) => {
    const { io, stderr } = fakeIO();
    const signals = new FakeSignals();
    const done = runWatch("flow.yaml", {}, io, { signals, runOnce: () => Promise.reject(error) });
    if (!ends) {
      await until(() => stderr().includes("watching 1 file for changes"));
      signals.emit("SIGTERM", "SIGTERM");
    }
    expect(await done).toBe(ends ? 2 : 0);
    expect(stderr()).toContain(`✖ ${error.code} ${error.message}`);
  });

  test.each([
    [undefined, {}, /--watch needs a composite file/],
    ["nope.yaml", {}, /--watch: nope\.yaml is not a file/],
    ["flow.yaml", { resume: "20260101T000000-abcdef" }, /--watch and --resume do not go together/],
    ["flow.yaml", { debounce: "soon" }, /--debounce must be a whole number/],
  ])("refuses %s %j before watching anything", async (target, flags, message) => {
    const { io } = fakeIO();
    await expect(runWatch(target, flags, io, { runOnce: async () => 0 })).rejects.toThrow(message);
  });
});
