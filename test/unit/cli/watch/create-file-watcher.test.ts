import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createFileWatcher, type FileEvent, type FileWatcher } from "../../../../src/cli/watch/create-file-watcher.js";

let dir: string;
let watcher: FileWatcher | undefined;
let events: string[];
let notify: (() => void) | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-watcher-"));
  events = [];
  watcher = undefined;
});
afterEach(async () => {
  await watcher?.close();
  await rm(dir, { recursive: true, force: true });
});

const p = (name: string) => path.join(dir, name);
const onEvent = (file: string, event: FileEvent) => {
  events.push(`${event} ${path.relative(dir, file)}`);
  notify?.();
};

/** Wait (bounded) until an event matching `want` arrived. */
async function eventually(want: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!events.includes(want)) {
    if (Date.now() > deadline) throw new Error(`no "${want}" event within ${timeoutMs} ms; got: ${events.join(", ") || "none"}`);
    await new Promise<void>((resolve) => {
      notify = resolve;
      setTimeout(resolve, 100);
    });
  }
}

describe("createFileWatcher", () => {
  test("reports changes to watched files only, and node files added to a watched node directory", async () => {
    await mkdir(p("nodes"));
    await writeFile(p("flow.yaml"), "a");
    await writeFile(p("other.yaml"), "a");
    watcher = await createFileWatcher({ files: [p("flow.yaml")], dirs: [p("nodes")] }, onEvent);
    expect(watcher.count).toBe(1);
    await writeFile(p("other.yaml"), "b");
    await writeFile(p("nodes/notes.txt"), "not a node file");
    await writeFile(p("nodes/greet.test.ts"), "a test, not a node");
    await writeFile(p("flow.yaml"), "b");
    await eventually("change flow.yaml");
    await writeFile(p("nodes/greet.ts"), "export default 1;");
    await eventually(`add ${path.join("nodes", "greet.ts")}`);
    expect(events).toEqual(["change flow.yaml", `add ${path.join("nodes", "greet.ts")}`]);
  });

  test("sync watches new files at once and drops removed ones; a deleted file is seen when re-created", async () => {
    await writeFile(p("flow.yaml"), "a");
    await writeFile(p("old.yaml"), "a");
    watcher = await createFileWatcher({ files: [p("flow.yaml"), p("old.yaml")], dirs: [] }, onEvent);
    const result = watcher.sync({ files: [p("flow.yaml"), p("new.yaml")], dirs: [] });
    expect(result).toEqual({ added: [p("new.yaml")], removed: [p("old.yaml")] });
    await writeFile(p("new.yaml"), "created later");
    await eventually("add new.yaml");
    await unlink(p("flow.yaml"));
    await eventually("unlink flow.yaml");
    await writeFile(p("flow.yaml"), "back again");
    await eventually("add flow.yaml");
    await writeFile(p("old.yaml"), "b");
    await writeFile(p("flow.yaml"), "and again");
    await eventually("change flow.yaml");
    expect(events.filter((e) => e.includes("old.yaml"))).toEqual([]);
    // An editor's safe save: write a temp file, rename it over the original. (chokidar drops a
    // second event for a path within a few ms of the first; a trailing debounce makes that harmless.)
    await new Promise((resolve) => setTimeout(resolve, 200));
    events.length = 0;
    await writeFile(p(".flow.yaml.swp"), "saved by an editor");
    await rename(p(".flow.yaml.swp"), p("flow.yaml"));
    await eventually("change flow.yaml");
  });
});
