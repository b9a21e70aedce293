import { report } from "../../../src/reporters/types.js";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { AtomitonError } from "../../../src/errors.js";
import type { RunEvent } from "../../../src/events/event-map.js";
import { createJunitReporter } from "../../../src/reporters/junit.js";
import type { ReporterOptions } from "../../../src/reporters/types.js";
import { buildRunEvents, EventsBuilder } from "./events-fixture.js";
import { fakeStreams } from "./fake-streams.js";

interface Testcase {
  "@_name": string;
  "@_classname": string;
  "@_time": string;
  failure?: { "@_message": string; "@_type": string; "#text"?: string };
  error?: { "@_message": string; "@_type": string };
  skipped?: { "@_message": string };
  "system-out"?: string;
}
interface Parsed {
  testsuites: {
    "@_tests": string;
    testsuite: { "@_name": string; "@_tests": string; "@_failures": string; "@_errors": string; "@_skipped": string; "@_time": string; testcase: Testcase[] };
  };
}

const parser = new XMLParser({ ignoreAttributes: false, htmlEntities: true, isArray: (name) => name === "testcase", trimValues: false });

function parse(xml: string): Parsed["testsuites"]["testsuite"] {
  expect(XMLValidator.validate(xml)).toBe(true);
  return (parser.parse(xml) as Parsed).testsuites.testsuite;
}

async function runToStdout(events: RunEvent[], extra: Partial<ReporterOptions> = {}): Promise<string> {
  const s = fakeStreams(false, {}, extra);
  const reporter = createJunitReporter(s.options);
  for (const event of events) report(reporter, event);
  expect(s.stdout.raw()).toBe(""); // written on close only
  await reporter.close!();
  expect(s.stderr.raw()).toBe("");
  return s.stdout.raw();
}

function byName(suite: Parsed["testsuites"]["testsuite"], name: string): Testcase {
  const found = suite.testcase.find((c) => c["@_name"] === name);
  if (found === undefined) throw new Error(`no testcase ${name}`);
  return found;
}

describe("junit reporter", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "atomiton-junit-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("one testsuite per run, one testcase per node, with failure, skipped and system-out", async () => {
    const suite = parse(await runToStdout(buildRunEvents()));
    expect(suite["@_name"]).toBe("release-notes");
    expect({ tests: suite["@_tests"], failures: suite["@_failures"], errors: suite["@_errors"], skipped: suite["@_skipped"], time: suite["@_time"] }).toEqual({
      tests: "5",
      failures: "1",
      errors: "0",
      skipped: "1",
      time: "0.850",
    });
    expect(suite.testcase.map((c) => c["@_name"])).toEqual(["fetch", "each", "each-body", "write", "notify"]);
    expect(suite.testcase.every((c) => c["@_classname"] === "release-notes")).toBe(true);

    const write = byName(suite, "write");
    expect(write["@_time"]).toBe("0.003");
    expect(write.failure?.["@_type"]).toBe("E_FILE");
    expect(write.failure?.["@_message"]).toBe("E_FILE: EACCES: permission denied, open 'out/RELEASE_NOTES.md'");
    expect(write.failure?.["#text"]).toContain("hint: check that out/ is writable");

    expect(byName(suite, "notify").skipped?.["@_message"]).toBe('skipped: upstream "write" failed');
    expect(byName(suite, "fetch")["system-out"]).toBe("GET https://api.example.test/pulls\nwarn: slow response");
    expect(byName(suite, "fetch").failure).toBeUndefined();
  });

  test("a loop-body node is one testcase aggregating its iterations", async () => {
    const suite = parse(await runToStdout(buildRunEvents({ failIteration: 1 })));
    const body = byName(suite, "each-body");
    expect(body["@_time"]).toBe("0.015");
    expect(body.failure?.["@_message"]).toBe("1 of 3 iterations failed; first: E_CODE: boom at 1");
    expect(body.failure?.["@_type"]).toBe("E_CODE");
    expect(body.failure?.["#text"]).toBe("iteration 1: E_CODE: boom at 1");
    expect(body["system-out"]).toBe("[#0] item 0\n[#1] item 1\n[#2] item 2");
    expect(suite["@_failures"]).toBe("2"); // each-body and its loop `each`
    expect(byName(suite, "write").skipped?.["@_message"]).toBe('skipped: upstream "each" failed');
  });

  test("escapes markup, strips ANSI and replaces characters XML 1.0 forbids", async () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "x", name: 'a<b>&"c"' }, nodes: [{ id: "sh", type: "shell-command" }], plan: [["sh"]] });
    b.add("node:log", { nodeId: "sh", level: "info", message: "\u001b[31m<red>\u001b[0m & \u0000nul\u0007bell ]]> \ud800lone" });
    b.add("node:finish", {
      nodeId: "sh",
      status: "failed",
      durationMs: 1,
      attempt: 1,
      error: { code: "E_COMMAND", message: 'exit 1: "quoted" <tag>\ttab\nnext line', retryable: false },
    });
    b.add("run:finish", { status: "failed", durationMs: 2, counts: { succeeded: 0, failed: 1, skipped: 0, cancelled: 0 } });
    const xml = await runToStdout(b.events);
    const suite = parse(xml);
    expect(suite["@_name"]).toBe('a<b>&"c"');
    const sh = byName(suite, "sh");
    expect(sh["system-out"]).toBe("<red> & \uFFFDnul\uFFFDbell ]]> \uFFFDlone");
    expect(sh.failure?.["@_message"]).toBe('E_COMMAND: exit 1: "quoted" <tag>\ttab');
    expect(xml).not.toMatch(/[\u0000-\u0008\u001b]/);
  });

  test("nodes that never finished are skipped; a run error no node carries becomes an <error>", async () => {
    const b = new EventsBuilder();
    b.add("run:start", { composite: { id: "t", name: "t" }, nodes: [{ id: "slow", type: "delay" }, { id: "after", type: "log" }], plan: [["slow"], ["after"]] });
    b.add("node:start", { nodeId: "slow", attempt: 1 });
    b.wait(5000).add("run:finish", {
      status: "failed",
      durationMs: 5000,
      counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
      error: { code: "E_TIMEOUT", message: "run timed out after 5s", retryable: false },
    });
    const suite = parse(await runToStdout(b.events));
    expect(byName(suite, "slow").skipped?.["@_message"]).toBe("not run");
    const run = byName(suite, "(run)");
    expect(run.error?.["@_type"]).toBe("E_TIMEOUT");
    expect(run.error?.["@_message"]).toBe("E_TIMEOUT: run timed out after 5s");
    expect({ tests: suite["@_tests"], errors: suite["@_errors"], skipped: suite["@_skipped"] }).toEqual({ tests: "3", errors: "1", skipped: "2" });
  });

  test("closing before run:finish still writes a valid report", async () => {
    const events = buildRunEvents().slice(0, 5);
    const suite = parse(await runToStdout(events));
    expect(byName(suite, "fetch").skipped?.["@_message"]).toBe("not run: the run did not finish");
  });

  test("writes --output atomically (temp file + rename), creating the directory, nothing on stdout", async () => {
    const target = join(dir, "reports", "junit.xml");
    const s = fakeStreams(false, {}, { output: target });
    const reporter = createJunitReporter(s.options);
    for (const event of buildRunEvents()) report(reporter, event);
    await reporter.close!();
    expect(s.stdout.raw()).toBe("");
    expect(parse(await readFile(target, "utf8"))["@_tests"]).toBe("5");
    expect(await readdir(join(dir, "reports"))).toEqual(["junit.xml"]);
  });

  test.each(["-", ""])("output %j means stdout", async (output) => {
    expect(parse(await runToStdout(buildRunEvents(), { output }))["@_tests"]).toBe("5");
  });

  test("an unwritable --output rejects close() with E_FILE and leaves no temp file", async () => {
    const blocker = join(dir, "file");
    await writeFile(blocker, "not a directory");
    const s = fakeStreams(false, {}, { output: join(blocker, "junit.xml") });
    const reporter = createJunitReporter(s.options);
    for (const event of buildRunEvents()) report(reporter, event);
    const error = await reporter.close!().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AtomitonError);
    expect((error as AtomitonError).code).toBe("E_FILE");
    expect(await readdir(dir)).toEqual(["file"]);
  });
});
