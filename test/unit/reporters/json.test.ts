import { report } from "../../../src/reporters/types.js";
import { describe, expect, test } from "vitest";
import { createJsonReporter } from "../../../src/reporters/json.js";
import type { RunEvent } from "../../../src/events/event-map.js";
import { buildRunEvents, EventsBuilder } from "./events-fixture.js";
import { fakeStreams } from "./fake-streams.js";

async function run(events: RunEvent[], isTTY = false, env: Record<string, string | undefined> = {}) {
  const s = fakeStreams(isTTY, env);
  const reporter = createJsonReporter(s.options);
  for (const event of events) report(reporter, event);
  await reporter.close!();
  return s;
}

describe("json reporter", () => {
  test.each([
    { isTTY: false, env: {} },
    { isTTY: true, env: { FORCE_COLOR: "3" } },
    { isTTY: true, env: { CI: "1" } },
  ])("NDJSON on stdout, one parseable event per line, in order (isTTY $isTTY, $env)", async ({ isTTY, env }) => {
    const events = buildRunEvents();
    const s = await run(events, isTTY, env);
    const raw = s.stdout.raw();
    expect(raw.endsWith("\n")).toBe(true);
    expect(raw).not.toContain("\u001b");
    const lines = raw.trimEnd().split("\n");
    const parsed = lines.map((line) => JSON.parse(line) as RunEvent);
    expect(parsed.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(parsed).toEqual(JSON.parse(JSON.stringify(events)));
    expect(s.stderr.raw()).toBe("");
  });

  test("outputs JSON cannot hold are made safe: BigInt, Buffer, cycles", async () => {
    const b = new EventsBuilder();
    const output: Record<string, unknown> = { big: 2n ** 70n, image: Buffer.alloc(1234) };
    output.self = output;
    b.add("node:finish", { nodeId: "img", status: "succeeded", durationMs: 1, attempt: 1, output });
    const s = await run(b.events);
    const event = JSON.parse(s.stdout.raw()) as { output: unknown };
    expect(event.output).toEqual({ big: "1180591620717411303424", image: "<Buffer 1234 bytes>", self: "[Circular]" });
  });

  test("log messages with ANSI and newlines stay on one line", async () => {
    const b = new EventsBuilder();
    b.add("node:log", { nodeId: "sh", level: "info", message: "\u001b[31mred\u001b[0m\nsecond" });
    const s = await run(b.events);
    expect(s.stdout.raw().trimEnd().split("\n")).toHaveLength(1);
    expect((JSON.parse(s.stdout.raw()) as { message: string }).message).toBe("\u001b[31mred\u001b[0m\nsecond");
  });
});
