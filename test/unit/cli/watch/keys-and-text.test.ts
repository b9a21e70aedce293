import { EventEmitter } from "node:events";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { createStyle } from "../../../../src/reporters/style.js";
import { listenForKeys, type KeyInput, type WatchKey } from "../../../../src/cli/watch/listen-keys.js";
import { createWatchText } from "../../../../src/cli/watch/watch-text.js";

class FakeStdin extends EventEmitter implements KeyInput {
  isTTY = true;
  isRaw = false;
  paused = true;
  encoding: string | undefined;
  setRawMode(mode: boolean) {
    this.isRaw = mode;
  }
  setEncoding(encoding: BufferEncoding) {
    this.encoding = encoding;
  }
  resume() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
}

describe("listenForKeys", () => {
  test("raw mode on a TTY: q, Ctrl-C and Ctrl-D quit, r and Enter re-run, other keys do nothing; restore undoes it all", () => {
    const stdin = new FakeStdin();
    const keys: WatchKey[] = [];
    const restore = listenForKeys(stdin, (k) => keys.push(k));
    expect(restore).toBeTypeOf("function");
    expect(stdin.isRaw).toBe(true);
    expect(stdin.paused).toBe(false);
    stdin.emit("data", "x");
    stdin.emit("data", "r");
    stdin.emit("data", "\r");
    stdin.emit("data", "q\u0003");
    stdin.emit("data", Buffer.from("\u0004"));
    expect(keys).toEqual(["rerun", "rerun", "quit", "quit", "quit"]);
    restore!();
    expect(stdin.isRaw).toBe(false);
    expect(stdin.paused).toBe(true);
    expect(stdin.listenerCount("data")).toBe(0);
    stdin.emit("data", "q");
    expect(keys).toHaveLength(5);
  });

  test("not a TTY: no key handling, stdin untouched", () => {
    const stdin = new FakeStdin();
    stdin.isTTY = false;
    expect(listenForKeys(stdin, () => undefined)).toBeUndefined();
    expect(stdin.listenerCount("data")).toBe(0);
    expect(stdin.paused).toBe(true);
    expect(listenForKeys(undefined, () => undefined)).toBeUndefined();
  });
});

describe("createWatchText", () => {
  const cwd = path.resolve("/project");
  const style = createStyle({ interactive: false, color: false, colorLevel: 0, unicode: true, columns: 80 });
  const files = ["flow.yaml", "atomiton.config.json", "nodes/greet.ts"].map((f) => path.join(cwd, f));
  const change = { kind: "change" as const, files: [path.join(cwd, "flow.yaml")] };

  test("plain lines, one per event", () => {
    const t = createWatchText({ interactive: false, keys: false, style, cwd });
    expect(
      [
        t.renderStart(files),
        t.renderRunStart({ kind: "initial" }),
        t.renderRunEnd(0, 3),
        t.renderCancel(change),
        t.renderRunEnd(130, 3),
        t.renderRunStart(change),
        t.renderWatchChange([path.join(cwd, "parts/sub.yaml")], [path.join(cwd, "old.yaml")]),
        t.renderRunEnd(2, 3),
        t.renderRunStart({ kind: "key" }),
        t.renderStop(130),
      ].join(""),
    ).toBe(
      [
        `[watch] watching 3 files: flow.yaml, atomiton.config.json, ${path.join("nodes", "greet.ts")}`,
        "[watch] run succeeded (exit 0); watching 3 files for changes",
        "[watch] change: flow.yaml → cancelling the run in flight",
        "[watch] run cancelled (exit 130); watching 3 files for changes",
        "[watch] change: flow.yaml → re-running",
        `[watch] now watching ${path.join("parts", "sub.yaml")}`,
        "[watch] no longer watching old.yaml",
        "[watch] not run: see the errors above (exit 2); watching 3 files for changes",
        "[watch] r pressed → re-running",
        "[watch] stopped (a run was interrupted)",
        "",
      ].join("\n"),
    );
  });

  test.each([
    [true, "watching 3 files — press q to quit, r to re-run"],
    [false, "watching 3 files — press Ctrl-C to quit"],
  ])("on a TTY (keys %s) the status line says how to quit and re-run", (keys, line) => {
    const t = createWatchText({ interactive: true, keys, style, cwd });
    expect(t.renderRunEnd(0, 3).trim()).toBe(line);
    expect(t.renderRunStart(change).trim()).toBe("↻ change: flow.yaml — re-running");
  });
});
