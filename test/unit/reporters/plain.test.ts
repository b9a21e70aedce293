import path from "node:path";
import { report } from "../../../src/reporters/types.js";
import { describe, expect, test } from "vitest";
import { createPlainReporter } from "../../../src/reporters/plain.js";
import type { Reporter } from "../../../src/reporters/types.js";
import { buildRunEvents, EventsBuilder } from "./events-fixture.js";
import { ANSI_PATTERN, fakeStreams, normalizeDurations } from "./fake-streams.js";
import type { RunEvent } from "../../../src/events/event-map.js";

async function feed(reporter: Reporter, events: Iterable<RunEvent>): Promise<void> {
  for (const event of events) report(reporter, event);
  await reporter.close!();
}

describe("plain reporter", () => {
  test("one line per event on stderr, fixed columns, summary last; nothing on stdout", async () => {
    const s = fakeStreams(false);
    await feed(createPlainReporter(s.options), buildRunEvents());
    expect(s.stdout.raw()).toBe("");
    expect(s.stderr.raw()).not.toMatch(ANSI_PATTERN);
    expect(normalizeDurations(s.stderr.text())).toMatchInlineSnapshot(`
      "[T] run release-notes started · 4 nodes + 1 in bodies · flows/release.yaml
      [T] fetch                started
      [T] fetch                | GET https://api.example.test/pulls
      [T] fetch                retry 2/3 in <d>: E_HTTP_STATUS: 503 Service Unavailable
      [T] fetch                started (attempt 2)
      [T] fetch                | warn: slow response
      [T] fetch                succeeded <d>
      [T] each                 started
      [T] each-body#0          started
      [T] each-body#0          | item 0
      [T] each-body#0          succeeded <d>
      [T] each-body#1          started
      [T] each-body#1          | item 1
      [T] each-body#1          succeeded <d>
      [T] each-body#2          started
      [T] each-body#2          | item 2
      [T] each-body#2          succeeded <d>
      [T] each                 succeeded <d>
      [T] write                started
      [T] write                failed <d> E_FILE: EACCES: permission denied, open 'out/RELEASE_NOTES.md'
      [T] notify               skipped: upstream "write" failed
      Failed (1):
        ✖ write E_FILE: EACCES: permission denied, open 'out/RELEASE_NOTES.md'
            hint: check that out/ is writable
      Critical path: fetch → each → write <d> of <d> (98%)
      run failed in <d> — 2 succeeded, 1 failed, 1 skipped, 3 iterations
      "
    `);
  });

  test("elapsed time is relative to run:start; the last line is the summary", async () => {
    const s = fakeStreams(false);
    await feed(createPlainReporter(s.options), buildRunEvents());
    const lines = s.stderr.text().trimEnd().split("\n");
    expect(lines[0]).toBe("[  0.000s] run release-notes started · 4 nodes + 1 in bodies · flows/release.yaml");
    expect(lines).toContain("[  0.512s] fetch                started (attempt 2)");
    expect(lines.at(-1)).toBe("run failed in 850ms — 2 succeeded, 1 failed, 1 skipped, 3 iterations");
  });

  test("the composite's file is shown as typed: relative to the current directory when inside it, else absolute", async () => {
    const first = async (file: string) => {
      const s = fakeStreams(false);
      await feed(createPlainReporter(s.options), buildRunEvents({ file }));
      return s.stderr.text().split("\n")[0];
    };
    expect(await first(path.join(process.cwd(), "flows", "release.yaml"))).toMatch(/ · flows\/release\.yaml$/);
    const outside = path.join(path.dirname(process.cwd()), "elsewhere", "release.yaml");
    expect(await first(outside)).toMatch(new RegExp(` · ${outside.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`));
  });

  test("a failing loop iteration is labelled with its iteration", async () => {
    const s = fakeStreams(false);
    await feed(createPlainReporter(s.options), buildRunEvents({ failIteration: 1 }));
    expect(s.stderr.text()).toMatch(/\] each-body#1 +failed 5ms E_CODE: boom at 1\n/);
    expect(s.stderr.text()).toMatch(/\] write +skipped: upstream "each" failed\n/);
  });

  test("debug logs and progress only with verbose; progress one line per 25% step", async () => {
    const build = (): RunEvent[] => {
      const b = new EventsBuilder();
      b.add("run:start", { composite: { id: "p", name: "p" }, nodes: [{ id: "dl", type: "http-request" }], plan: [["dl"]] });
      b.wait(1).add("node:start", { nodeId: "dl", attempt: 1 });
      b.add("node:log", { nodeId: "dl", level: "debug", message: "socket open" });
      for (const p of [0.1, 0.2, 0.26, 0.3, 0.55, 0.9, 1]) b.wait(1).add("node:progress", { nodeId: "dl", progress: p, message: `${p * 100}%` });
      b.wait(1).add("node:finish", { nodeId: "dl", status: "succeeded", durationMs: 9, attempt: 1 });
      b.wait(1).add("run:finish", { status: "succeeded", durationMs: 10, counts: { succeeded: 1, failed: 0, skipped: 0, cancelled: 0 } });
      return b.events;
    };
    const quiet = fakeStreams(false);
    await feed(createPlainReporter(quiet.options), build());
    expect(quiet.stderr.text()).not.toMatch(/progress|socket/);

    const verbose = fakeStreams(false, {}, { verbose: true });
    await feed(createPlainReporter(verbose.options), build());
    const text = verbose.stderr.text();
    expect(text).toMatch(/dl +\| debug: socket open/);
    expect(text.match(/progress \d+%/g)).toEqual(["progress 25%", "progress 50%", "progress 75%", "progress 100%"]);
    expect(text).toMatch(/Slowest: dl 9ms/);
  });

  test("multi-line log messages become one line each, with the node label", async () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "x", name: "x" }, nodes: [{ id: "sh", type: "shell-command" }], plan: [["sh"]] });
    b.add("node:log", { nodeId: "sh", level: "error", message: "line one\r\nline two\n" });
    const s = fakeStreams(false);
    await feed(createPlainReporter(s.options), b.events);
    expect(normalizeDurations(s.stderr.text()).split("\n").slice(1, 3)).toEqual([
      "[T] sh                   | error: line one",
      "[T] sh                   | error: line two",
    ]);
  });

  test.each([
    { env: {}, isTTY: false, ansi: false },
    { env: {}, isTTY: true, ansi: true },
    { env: { NO_COLOR: "1" }, isTTY: true, ansi: false },
    { env: { FORCE_COLOR: "1" }, isTTY: false, ansi: true },
    { env: { CI: "true" }, isTTY: false, ansi: false },
  ])("ANSI $ansi with $env and isTTY $isTTY", async ({ env, isTTY, ansi }) => {
    const s = fakeStreams(isTTY, env);
    await feed(createPlainReporter(s.options), buildRunEvents());
    expect(ANSI_PATTERN.test(s.stderr.raw())).toBe(ansi);
  });

  test("--no-color (color: false) beats FORCE_COLOR", async () => {
    const s = fakeStreams(true, { FORCE_COLOR: "3" }, { color: false });
    await feed(createPlainReporter(s.options), buildRunEvents());
    expect(s.stderr.raw()).not.toMatch(ANSI_PATTERN);
  });

  test("closing before run:finish still ends with a summary, once", async () => {
    const s = fakeStreams(false);
    const reporter = createPlainReporter(s.options);
    for (const event of buildRunEvents().slice(0, 7)) report(reporter, event);
    await reporter.close!();
    await reporter.close!();
    const lines = s.stderr.text().trimEnd().split("\n");
    expect(lines.at(-1)).toBe("run did not finish (last event at 812ms) — 1 succeeded, 0 failed, 0 skipped");
    expect(lines.filter((l) => l.startsWith("run did not finish"))).toHaveLength(1);
  });

  test("a reporter bug never throws out of onEvent", () => {
    const s = fakeStreams(false);
    const reporter = createPlainReporter(s.options);
    const broken = { type: "node:finish", runId: "r", ts: 0, nodeId: "x", status: "failed", durationMs: 1, attempt: 1, error: null } as unknown as RunEvent;
    expect(() => report(reporter, broken)).not.toThrow();
    expect(() => report(reporter, broken)).not.toThrow();
    expect(s.stderr.text().match(/reporter error/g)?.length).toBe(1);
  });
});
