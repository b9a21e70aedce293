import { report, reporterListens, type Reporter } from "../../../src/reporters/types.js";
import { describe, expect, test } from "vitest";
import {
  createReporter,
  isReporterName,
  parseReporterName,
  REPORTER_NAMES,
  ReportersMap,
  resolveReporterName,
  type ReporterName,
} from "../../../src/reporters/create-reporter.js";
import { buildRunEvents } from "./events-fixture.js";
import { ANSI_PATTERN, fakeStreams } from "./fake-streams.js";

const ENVS: Record<string, Record<string, string>> = {
  none: {},
  NO_COLOR: { NO_COLOR: "1" },
  FORCE_COLOR: { FORCE_COLOR: "1" },
  CI: { CI: "true" },
};

describe("resolveReporterName", () => {
  test.each([
    { name: "auto", isTTY: true, env: {}, resolved: "tty" },
    { name: "auto", isTTY: false, env: {}, resolved: "plain" },
    { name: "auto", isTTY: true, env: { CI: "true" }, resolved: "plain" },
    { name: "auto", isTTY: true, env: { TERM: "dumb" }, resolved: "plain" },
    { name: "auto", isTTY: true, env: { GITHUB_ACTIONS: "true" }, resolved: "github" },
    { name: "auto", isTTY: false, env: { GITHUB_ACTIONS: "true", CI: "true" }, resolved: "github" },
    { name: "tty", isTTY: true, env: {}, resolved: "tty" },
    { name: "tty", isTTY: false, env: {}, resolved: "plain" },
    { name: "tty", isTTY: true, env: { CI: "1" }, resolved: "plain" },
    { name: "json", isTTY: true, env: {}, resolved: "json" },
    { name: "github", isTTY: false, env: {}, resolved: "github" },
    { name: "silent", isTTY: true, env: {}, resolved: "silent" },
  ] as const)("$name with isTTY $isTTY and $env → $resolved", ({ name, isTTY, env, resolved }) => {
    expect(resolveReporterName(name, { stderr: { isTTY } as never, env })).toBe(resolved);
  });

  test("names", () => {
    expect(REPORTER_NAMES).toEqual(["auto", "tty", "plain", "json", "junit", "github", "silent"]);
    expect(isReporterName("junit")).toBe(true);
    expect(isReporterName("xml")).toBe(false);
  });
});

const STDOUT_REPORTERS = new Set<ReporterName>(["json", "junit"]);

/** What the contract says: progress on stderr, results on stdout, colour by NO_COLOR > FORCE_COLOR > TTY. */
function expectedAnsi(name: ReporterName, isTTY: boolean, env: Record<string, string>): boolean {
  if (STDOUT_REPORTERS.has(name) || name === "silent") return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR) return true;
  return isTTY;
}

describe("createReporter", () => {
  const cases = REPORTER_NAMES.flatMap((name) =>
    [true, false].flatMap((isTTY) => Object.keys(ENVS).map((envName) => ({ name, isTTY, envName }))),
  );

  test.each(cases)("$name, isTTY $isTTY, env $envName: right stream, ANSI as decided", async ({ name, isTTY, envName }) => {
    const env = ENVS[envName] ?? {};
    const s = fakeStreams(isTTY, env);
    const reporter = await createReporter(name, s.options);
    for (const event of buildRunEvents()) report(reporter, event);
    await reporter.close?.();

    const progress = s.stderr.raw();
    const results = s.stdout.raw();
    if (name === "silent") {
      expect(progress + results).toBe("");
      return;
    }
    if (STDOUT_REPORTERS.has(name)) {
      expect(progress).toBe("");
      expect(results).toContain("write");
    } else {
      expect(results).toBe("");
      expect(s.stderr.text()).toContain("run failed in 850ms");
    }
    expect(ANSI_PATTERN.test(progress + results)).toBe(expectedAnsi(name, isTTY, env));
  });
});

describe("one registry, optional hooks", () => {
  test("the --reporter names are auto and the registry's keys, in order; each resolves to itself or plain", () => {
    expect(REPORTER_NAMES).toEqual(["auto", ...Object.keys(ReportersMap)]);
    for (const name of Object.keys(ReportersMap) as (keyof typeof ReportersMap)[]) {
      expect(resolveReporterName(name, { stderr: { isTTY: false } as never, env: {} })).toBe(ReportersMap[name].interactive ? "plain" : name);
    }
  });

  test("an unknown name is the usage error every command gives, with the names", () => {
    expect(parseReporterName("json")).toBe("json");
    expect(() => parseReporterName("xml")).toThrow(expect.objectContaining({ code: "E_USAGE", message: 'unknown reporter "xml"', hint: `use one of ${REPORTER_NAMES.join(", ")}` }));
  });

  test("report calls onEvent for every event, then the hook of its type; a reporter without hooks is fine", () => {
    const seen: string[] = [];
    const reporter: Reporter = {
      onEvent: (e) => seen.push(`any ${e.type}`),
      onNodeFinish: (e) => seen.push(`finish ${e.nodeId}`),
      onRunFinish: (e) => seen.push(`run ${e.status}`),
    };
    const events = buildRunEvents();
    for (const event of events) report(reporter, event);
    for (const event of events) report({}, event);
    const expected = events.flatMap((e) => [`any ${e.type}`, ...(e.type === "node:finish" ? [`finish ${e.nodeId}`] : e.type === "run:finish" ? [`run ${e.status}`] : [])]);
    expect(seen).toEqual(expected);
    expect(seen.filter((s) => s.startsWith("finish ")).length).toBeGreaterThan(1);
  });
});

describe("reporterListens", () => {
  // The CLI subscribes a reporter to the run's events only when it has a hook: `silent` has none,
  // so a silent run has no listener and the conductor takes its fast path (builds no events).
  test.each(Object.keys(ReportersMap))("%s", async (name) => {
    const reporter = await createReporter(name as ReporterName, fakeStreams(false).options);
    expect(reporterListens(reporter)).toBe(name !== "silent");
    await reporter.close?.();
  });

  test("any one hook, or onEvent, counts", () => {
    expect(reporterListens({})).toBe(false);
    expect(reporterListens({ close: async () => undefined, pause: async () => undefined })).toBe(false);
    expect(reporterListens({ onRunFinish: () => undefined })).toBe(true);
    expect(reporterListens({ onEvent: () => undefined })).toBe(true);
  });
});
