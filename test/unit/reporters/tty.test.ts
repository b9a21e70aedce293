import { report } from "../../../src/reporters/types.js";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, test, vi } from "vitest";
import type { RunEvent } from "../../../src/events/event-map.js";
import { detectTerminal } from "../../../src/reporters/detect-terminal.js";
import { createStyle } from "../../../src/reporters/style.js";
import { renderCollapsedFrame } from "../../../src/reporters/tty-collapsed.js";
import { TtyModel } from "../../../src/reporters/tty-model.js";
import { renderRowText } from "../../../src/reporters/tty-rows.js";
import { createTtyReporter } from "../../../src/reporters/tty.js";
import type { Reporter } from "../../../src/reporters/types.js";
import { buildRunEvents, syntheticRun } from "./events-fixture.js";
import { ANSI_PATTERN, type FakeStream, fakeStreams } from "./fake-streams.js";

const plainStyle = createStyle(detectTerminal({ stream: { isTTY: false }, env: { LANG: "en_US.UTF-8" }, platform: "linux" }));

/** Feeds events, pausing after the retry until a live frame shows it. */
async function feedLive(reporter: Reporter, stderr: FakeStream, events: RunEvent[]): Promise<void> {
  for (const event of events) {
    report(reporter, event);
    if (event.type === "node:retry") await vi.waitFor(() => expect(stderr.text()).toContain("retry 2/3"), { timeout: 5000, interval: 20 });
  }
  await reporter.close!();
}

/** The text drawn by the last collapsed frame (frames start with "cursor to column 0"). */
function lastCollapsedFrame(raw: string): string {
  const start = raw.lastIndexOf("\u001b[G");
  const end = raw.indexOf("\u001b[?25h", start);
  return stripVTControlCharacters(raw.slice(start, end === -1 ? undefined : end)).trimEnd();
}

describe("tty reporter (listr2 tree)", () => {
  test("live rows with spinner and retry, final tree with symbols and durations, then the summary", async () => {
    const s = fakeStreams(true);
    await feedLive(await createTtyReporter(s.options), s.stderr, buildRunEvents());
    const text = s.stderr.text();
    expect(s.stdout.raw()).toBe("");
    // a live frame: spinner + retry on the running row and its latest log line below
    expect(text).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] fetch \S+ retry 2\/3 after E_HTTP_STATUS\n {2}› GET https:\/\/api\.example\.test\/pulls/);
    // the final tree stays on screen, then the summary
    const finalTree = text.slice(text.lastIndexOf("✔ fetch"));
    expect(finalTree.split("\n").slice(0, 4)).toEqual([
      "✔ fetch 812ms after 2 attempts",
      "✔ each 20ms 3/3",
      "✖ write 3ms E_FILE: EACCES: permission denied, open 'out/RELEASE_NOTES.md'",
      '↓ notify skipped: upstream "write" failed',
    ]);
    expect(text.trimEnd().split("\n").slice(-6)).toEqual([
      "Failed (1):",
      "  ✖ write E_FILE: EACCES: permission denied, open 'out/RELEASE_NOTES.md'",
      "      hint: check that out/ is writable",
      "Slowest: fetch 812ms · each 20ms · write 3ms",
      // fetch (811ms) + each (19ms) + write (3ms) of the run's 850ms
      "Critical path: fetch → each → write 833ms of 850ms (98%)",
      "✖ run failed in 850ms — 2 succeeded, 1 failed, 1 skipped, 3 iterations",
    ]);
    // the cursor is hidden while live and shown again
    expect(s.stderr.raw()).toContain("\u001b[?25l");
    expect(s.stderr.raw()).toContain("\u001b[?25h");
  });

  test("a failed loop iteration keeps the body row open under its loop, counting iterations", async () => {
    const s = fakeStreams(true);
    await feedLive(await createTtyReporter(s.options), s.stderr, buildRunEvents({ failIteration: 1 }));
    const text = s.stderr.text();
    const finalTree = text.slice(text.lastIndexOf("✔ fetch"));
    expect(finalTree.split("\n").slice(1, 3)).toEqual(["✖ each 20ms 3/3 E_CODE: 1 of 3 iterations failed", "  ✖ each-body 15ms 3/3 1 failed E_CODE: boom at 1"]);
  });

  test.each([
    { env: {}, ansi: true },
    { env: { NO_COLOR: "1" }, ansi: false },
    { env: { FORCE_COLOR: "0" }, ansi: false },
  ])("colour $ansi with $env on a TTY", async ({ env, ansi }) => {
    const s = fakeStreams(true, env);
    await feedLive(await createTtyReporter(s.options), s.stderr, buildRunEvents());
    expect(ANSI_PATTERN.test(s.stderr.raw())).toBe(ansi);
    expect(s.stderr.text()).toContain("✖ write");
  });

  test("falls back to ASCII symbols and spinner without a UTF-8 locale", async () => {
    const s = fakeStreams(true, { LANG: "C" });
    await feedLive(await createTtyReporter(s.options), s.stderr, buildRunEvents());
    const text = s.stderr.text();
    expect(text).toMatch(/[-\\|/] fetch \S+ retry 2\/3/);
    expect(text).toContain("+ fetch 812ms");
    expect(text).toContain("x write 3ms");
    expect(text).toContain("- notify skipped");
    expect(text).toContain("x run failed in 850ms - 2 succeeded");
    expect(text).not.toMatch(/[^\x00-\x7f]/);
  });

  test("closing before run:finish ends open rows as cancelled and still prints a summary", async () => {
    const s = fakeStreams(true);
    const reporter = await createTtyReporter(s.options);
    for (const event of buildRunEvents().slice(0, 3)) report(reporter, event);
    await reporter.close!();
    const text = s.stderr.text();
    expect(text).toContain("◼ fetch cancelled: still running when the run ended");
    expect(text).toContain("◼ write cancelled: not run");
    expect(text.trimEnd().split("\n").at(-1)).toMatch(/^◼ run did not finish \(last event at \S+\) — 0 succeeded, 0 failed, 0 skipped$/);
  });

  test("close() without any event prints nothing", async () => {
    const s = fakeStreams(true);
    const reporter = await createTtyReporter(s.options);
    await reporter.close!();
    expect(s.stderr.raw()).toBe("");
  });
});

describe("tty reporter (collapsed view)", () => {
  test("a 2,000-node run renders collapsed frames: running + failed rows and a counts line", async () => {
    const s = fakeStreams(true);
    const reporter = await createTtyReporter({ ...s.options, frameMs: 10 });
    const events = [...syntheticRun(2000)];
    const half = events.findIndex((e) => e.type === "node:finish" && e.nodeId === "n-1000");
    for (const event of events.slice(0, half)) report(reporter, event);
    // wait for a frame drawn mid-run
    await vi.waitFor(() => expect(lastCollapsedFrame(s.stderr.raw())).toContain("1,000/2,000 done"), { timeout: 5000, interval: 10 });
    const live = lastCollapsedFrame(s.stderr.raw()).split("\n");
    expect(live[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] big-graph {2}1,000\/2,000 done · 8 running · 2 failed · /);
    expect(live.filter((l) => /^ {2}[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] n-\d+/.test(l))).toHaveLength(8);
    expect(live.filter((l) => l.startsWith("  ✖ n-"))).toEqual(["  ✖ n-499 2ms E_NODE: node 499 broke", "  ✖ n-999 2ms E_NODE: node 999 broke"]);

    for (const event of events.slice(half)) report(reporter, event);
    await reporter.close!();
    const last = lastCollapsedFrame(s.stderr.raw()).split("\n");
    expect(last.length).toBeLessThan(40);
    expect(last[0]).toMatch(/^✖ big-graph {2}2,000\/2,000 done · 0 running · 4 failed · 4\.00s$/);
    expect(s.stderr.text().trimEnd().split("\n").at(-1)).toBe("✖ run failed in 4.00s — 1996 succeeded, 4 failed, 0 skipped");
    // 2,000 rows never reached listr2: no frame lists more than the capped rows
    expect(s.stderr.text()).not.toContain("n-1500 2ms\n  ✔");
  });

  test("a 10,000-node run stays collapsed and ends with the counts line", async () => {
    const s = fakeStreams(true);
    const reporter = await createTtyReporter(s.options);
    for (const event of syntheticRun(10_000, 64)) report(reporter, event);
    await reporter.close!();
    const last = lastCollapsedFrame(s.stderr.raw()).split("\n");
    expect(last[0]).toContain("10,000/10,000 done · 0 running · 20 failed");
    expect(last.length).toBeLessThan(40);
  });

  test.each([
    { nodes: 30, collapsed: false },
    { nodes: 31, collapsed: true },
  ])("$nodes nodes → collapsed $collapsed", async ({ nodes, collapsed }) => {
    const s = fakeStreams(true);
    const reporter = await createTtyReporter(s.options);
    for (const event of syntheticRun(nodes)) report(reporter, event);
    await reporter.close!();
    expect(s.stderr.text().includes(`${nodes}/${nodes} done`)).toBe(collapsed);
    expect(s.stderr.text().includes("✔ n-0 2ms")).toBe(!collapsed);
  });
});

describe("a terminal resized mid-run", () => {
  test("the collapsed view draws at the new width and erases the rows its last frame wrapped into", async () => {
    const s = fakeStreams(true);
    s.stderr.columns = 100;
    const reporter = await createTtyReporter({ ...s.options, frameMs: 5 });
    const events = [...syntheticRun(200)];
    const stop = events.findIndex((e) => e.type === "node:finish" && e.nodeId === "n-20");
    for (const event of events.slice(0, stop)) report(reporter, event);
    // A frame at 100 columns: its header is longer than 30.
    await vi.waitFor(() => expect(s.stderr.text()).toContain("20/200 done"), { timeout: 5000, interval: 5 });
    const before = s.stderr.chunks.length;
    const wide = lastCollapsedFrame(s.stderr.raw()).split("\n");
    expect(Math.max(...wide.map((l) => l.length))).toBeGreaterThan(30);
    s.stderr.columns = 30;
    await vi.waitFor(() => expect(s.stderr.chunks.length).toBeGreaterThan(before), { timeout: 5000, interval: 5 });
    const first = s.stderr.chunks.slice(before).join("");
    // Every line of the wide frame, wrapped at 30 columns by a terminal that reflows, is erased.
    const wrappedRows = wide.reduce((rows, line) => rows + Math.max(1, Math.ceil([...line].length / 30)), 0);
    expect(first.split("\u001b[1A").length - 1).toBe(wrappedRows);
    expect(wrappedRows).toBeGreaterThan(wide.length);
    const narrow = lastCollapsedFrame(s.stderr.raw()).split("\n");
    for (const line of narrow) expect([...line].length, line).toBeLessThan(30);
    await reporter.close!();
  });
});

describe("collapsed frame and rows", () => {
  test("at most 10 running rows, the 5 latest failures and 'more' lines", () => {
    const model = new TtyModel();
    const events = [...syntheticRun(3000, 40)];
    // stop while 40 nodes run and 5 have failed
    const stop = events.findIndex((e) => e.type === "node:finish" && e.nodeId === "n-2600");
    for (const event of events.slice(0, stop)) report(model, event);
    const frame = stripVTControlCharacters(renderCollapsedFrame(model, { style: plainStyle, now: model.startTs ?? 0, columns: 80, spinnerFrame: "⠋" }));
    const lines = frame.split("\n");
    expect(lines[0]).toMatch(/^⠋ big-graph {2}2,600\/3,000 done · 40 running · 5 failed · /);
    expect(lines.filter((l) => l.startsWith("  ⠋ n-"))).toHaveLength(10);
    expect(lines).toContain("  … 30 more running");
    expect(lines.filter((l) => l.startsWith("  ✖ "))).toHaveLength(5);
    expect(lines).toHaveLength(1 + 10 + 1 + 5);
  });

  test.each([
    { status: "cancelled", icon: "◼" },
    { status: "failed", icon: "✖" },
  ] as const)("a run that ended $status with no failed node gets $icon, and its cancelled nodes do not count as done", ({ status, icon }) => {
    const model = new TtyModel();
    const events = [...syntheticRun(100)];
    // Ctrl-C or the run's timeout after 40 nodes: the rest never finish, and no node failed.
    const stop = events.findIndex((e) => e.type === "node:finish" && e.nodeId === "n-40");
    for (const event of events.slice(0, stop)) report(model, event);
    const counts = { succeeded: 40, failed: 0, skipped: 0, cancelled: 60 };
    report(model, { type: "run:finish", runId: "run-big", ts: 1_000, status, durationMs: 1_000, counts } as RunEvent);
    const head = stripVTControlCharacters(renderCollapsedFrame(model, { style: plainStyle, now: 1_000, columns: 120, spinnerFrame: "⠋" })).split("\n")[0]!;
    expect(head).toMatch(new RegExp(`^${icon} big-graph {2}40/100 done · 0 running · 0 failed · 60 cancelled · `));
  });

  test("a body row counts iterations against the total its loop reports", () => {
    const model = new TtyModel();
    const events = buildRunEvents();
    const afterSecond = events.findIndex((e) => e.type === "node:progress" && e.message === "2/3");
    for (const event of events.slice(0, afterSecond + 2)) report(model, event);
    const body = model.rows.get("each-body");
    const loop = model.rows.get("each");
    if (body === undefined || loop === undefined) throw new Error("rows missing");
    expect({ state: body.state, done: body.iterDone, running: body.iterRunning, total: loop.iterTotal }).toEqual({ state: "running", done: 2, running: 1, total: 3 });
    const ctx = { style: plainStyle, now: body.startTs ?? 0, width: 80 };
    expect(stripVTControlCharacters(renderRowText(body, ctx, true))).toBe("each-body 0ms 2/3\n› item 1");
    expect(stripVTControlCharacters(renderRowText(loop, ctx, true))).toBe("each 1ms 67% 2/3");
  });

  test("a group inside a loop body: its iterations are the loop's (3 items are 3, not 6)", () => {
    const model = new TtyModel();
    const ev = (type: string, payload: object): RunEvent => ({ type, runId: "r", ts: 1_000, ...payload }) as RunEvent;
    report(model, ev("run:start", { composite: { id: "c", name: "c" }, nodes: [{ id: "L", type: "loop" }, { id: "G", type: "group", parent: "L" }, { id: "a", type: "code", parent: "G" }], plan: [["L"]] }));
    report(model, ev("node:start", { nodeId: "L", attempt: 1 }));
    for (const iteration of [0, 1, 2]) {
      for (const nodeId of ["G", "a"]) report(model, ev("node:start", { nodeId, attempt: 1, iteration }));
      for (const nodeId of ["a", "G"]) report(model, ev("node:finish", { nodeId, status: "succeeded", durationMs: 1, attempt: 1, iteration }));
    }
    report(model, ev("node:finish", { nodeId: "L", status: "succeeded", durationMs: 5, attempt: 1 }));
    expect(model.iterations).toBe(3);
  });

  test("a node reused by --resume says so on its row", () => {
    const model = new TtyModel();
    const start: RunEvent = { type: "run:start", runId: "r", ts: 0, composite: { id: "c", name: "c" }, nodes: [{ id: "first", type: "code" }], plan: [["first"]] };
    const finish: RunEvent = { type: "node:finish", runId: "r", ts: 1, nodeId: "first", status: "succeeded", durationMs: 0, attempt: 0, reused: true, reason: "reused from run r0" };
    report(model, start);
    report(model, finish);
    const row = model.rows.get("first")!;
    expect(stripVTControlCharacters(renderRowText(row, { style: plainStyle, now: 1, width: 80 }, false))).toBe("first 0ms reused from run r0");
  });

  test("the model keeps to its first run: another run's run:start and run:finish change nothing", () => {
    const model = new TtyModel();
    const start: RunEvent = { type: "run:start", runId: "r1", ts: 0, composite: { id: "c", name: "first" }, nodes: [{ id: "a", type: "code" }], plan: [["a"]] };
    report(model, start);
    report(model, { type: "node:start", runId: "r1", ts: 1, nodeId: "a", attempt: 1 });
    report(model, { ...start, runId: "r2", composite: { id: "d", name: "second" }, nodes: [{ id: "b", type: "code" }] });
    report(model, { type: "run:finish", runId: "r2", ts: 2, status: "failed", durationMs: 2 } as RunEvent);
    expect({ name: model.name, rows: [...model.rows.keys()], state: model.rows.get("a")?.state, finished: model.finished }).toEqual({ name: "first", rows: ["a"], state: "running", finished: false });
    report(model, { type: "run:finish", runId: "r1", ts: 3, status: "succeeded", durationMs: 3 } as RunEvent);
    expect({ state: model.rows.get("a")?.state, finished: model.finished, endTs: model.endTs }).toEqual({ state: "cancelled", finished: true, endTs: 3 });
  });

  test("rows are cut to the terminal width", () => {
    const model = new TtyModel();
    for (const event of buildRunEvents().slice(0, 3)) report(model, event);
    const fetch = model.rows.get("fetch");
    if (fetch === undefined) throw new Error("row missing");
    const text = stripVTControlCharacters(renderRowText(fetch, { style: plainStyle, now: fetch.startTs ?? 0, width: 20 }, true));
    expect(text.split("\n")).toEqual(["fetch 0ms", "› GET https://api.e…"]);
  });
});
