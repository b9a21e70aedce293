import { report } from "../../../src/reporters/types.js";
import { describe, expect, test } from "vitest";
import type { RunEvent } from "../../../src/events/event-map.js";
import { createGithubReporter, escapeGithubData, escapeGithubProperty, isGitHubActions } from "../../../src/reporters/github.js";
import { buildRunEvents, EventsBuilder } from "./events-fixture.js";
import { ANSI_PATTERN, fakeStreams } from "./fake-streams.js";

async function run(events: RunEvent[], env: Record<string, string | undefined> = {}, isTTY = false) {
  const s = fakeStreams(isTTY, { GITHUB_ACTIONS: "true", ...env });
  const reporter = createGithubReporter(s.options);
  for (const event of events) report(reporter, event);
  await reporter.close!();
  return s;
}

describe("github reporter", () => {
  test("a failed node becomes an ::error annotation with the composite file and the node's line", async () => {
    const s = await run(buildRunEvents());
    const errors = s.stderr.text().split("\n").filter((l) => l.startsWith("::error"));
    expect(errors).toEqual([
      "::error file=flows/release.yaml,line=30,title=write failed::E_FILE: EACCES: permission denied, open 'out/RELEASE_NOTES.md'%0Ahint: check that out/ is writable",
    ]);
    expect(s.stdout.raw()).toBe("");
  });

  test("without a composite file the annotation has only a title", async () => {
    const events = buildRunEvents().map((e) => (e.type === "run:start" ? { ...e, composite: { id: "r", name: "r" } } : e));
    const s = await run(events);
    expect(s.stderr.text()).toContain("::error title=write failed::E_FILE: EACCES");
  });

  test("the file is made relative to GITHUB_WORKSPACE", async () => {
    const s = await run(buildRunEvents({ file: "/home/runner/work/repo/flows/release.yaml" }), { GITHUB_WORKSPACE: "/home/runner/work/repo" });
    expect(s.stderr.text()).toContain("::error file=flows/release.yaml,line=30,title=write failed::");
  });

  test("a failing iteration annotates its body node once, at the body node's line", async () => {
    const s = await run(buildRunEvents({ failIteration: 1 }));
    const errors = s.stderr.text().split("\n").filter((l) => l.startsWith("::error"));
    expect(errors).toEqual([
      "::error file=flows/release.yaml,line=24,title=each-body#1 failed::E_CODE: boom at 1",
      "::error file=flows/release.yaml,line=20,title=each failed::E_CODE: 1 of 3 iterations failed",
    ]);
  });

  test("each node's logs are folded in ::group:: … ::endgroup:: when it finishes", async () => {
    const s = await run(buildRunEvents());
    const lines = s.stderr.text().split("\n");
    const open = lines.indexOf("::group::fetch");
    expect(open).toBeGreaterThan(0);
    expect(lines.slice(open + 1, open + 4).map((l) => l.replace(/^\[[^\]]+\] /, ""))).toEqual([
      "fetch                | GET https://api.example.test/pulls",
      "fetch                | warn: slow response",
      "::endgroup::",
    ]);
    expect(lines[open + 4]).toMatch(/fetch +succeeded 812ms$/);
    // no log line outside a group, and groups are balanced
    expect(lines.filter((l) => l.startsWith("::group::")).length).toBe(lines.filter((l) => l === "::endgroup::").length);
    expect(lines.filter((l) => l.startsWith("::group::"))).toEqual(["::group::fetch", "::group::each-body#0", "::group::each-body#1", "::group::each-body#2"]);
  });

  test("logs of a node that never finished are flushed at the end", async () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "x", name: "x" }, nodes: [{ id: "hang", type: "shell-command" }], plan: [["hang"]] });
    b.add("node:log", { nodeId: "hang", level: "info", message: "still here" });
    const s = await run(b.events);
    expect(s.stderr.text()).toMatch(/::group::hang\n.*still here\n::endgroup::\nrun did not finish \(last event at 0ms\) — 0 succeeded, 0 failed, 0 skipped\n$/);
  });

  test("a run error no node carries is annotated as the run's", async () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "x", name: "x", file: "x.yaml" }, nodes: [], plan: [] });
    b.add("run:finish", {
      status: "cancelled",
      durationMs: 1,
      counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
      error: { code: "E_CANCELLED", message: "interrupted", retryable: false },
    });
    const s = await run(b.events);
    expect(s.stderr.text()).toContain("::error file=x.yaml,title=run cancelled::E_CANCELLED: interrupted\n");
  });

  test.each([
    { env: {}, isTTY: false, ansi: false },
    { env: { FORCE_COLOR: "1" }, isTTY: false, ansi: true },
    { env: { NO_COLOR: "1" }, isTTY: true, ansi: false },
    { env: { CI: "true" }, isTTY: true, ansi: true },
  ])("ANSI $ansi with $env and isTTY $isTTY; commands stay at line start", async ({ env, isTTY, ansi }) => {
    const s = await run(buildRunEvents(), env, isTTY);
    expect(ANSI_PATTERN.test(s.stderr.raw())).toBe(ansi);
    expect(s.stderr.raw()).toMatch(/^::error /m);
  });

  test.each([
    ["50% done\r\nnext", "50%25 done%0D%0Anext", "50%25 done%0D%0Anext"],
    ["a:b,c", "a:b,c", "a%3Ab%2Cc"],
  ])("escapes %j as data %j and as property %j", (text, data, property) => {
    expect(escapeGithubData(text)).toBe(data);
    expect(escapeGithubProperty(text)).toBe(property);
  });

  test.each([
    [{ GITHUB_ACTIONS: "true" }, true],
    [{ GITHUB_ACTIONS: "false" }, false],
    [{}, false],
  ])("isGitHubActions(%j) → %s", (env, expected) => {
    expect(isGitHubActions(env)).toBe(expected);
  });
});
