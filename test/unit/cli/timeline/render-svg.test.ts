import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, test } from "vitest";
import { buildRunProfile } from "../../../../src/cli/timeline/build-profile.js";
import { renderTimelineSvg } from "../../../../src/cli/timeline/render-svg.js";
import { COLORS, escapeXml } from "../../../../src/cli/timeline/svg.js";
import type { RunEvent } from "../../../../src/events/event-map.js";
import { countColor, decodePng, hasRsvg, renderSvgToPng, RSVG_MISSING } from "../../../helpers/png.js";
import { buildRunEvents, EventsBuilder } from "../../reporters/events-fixture.js";
import { levelledRun } from "./levelled-run.js";

if (!hasRsvg) console.warn(RSVG_MISSING);

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });

/** Every `<g id=…>` group of the picture. */
function groupIds(svg: string): string[] {
  return [...svg.matchAll(/<g id="([^"]+)"/g)].map((m) => m[1]!);
}

function parse(svg: string): { svg: { width: string; height: string } } {
  expect(XMLValidator.validate(svg)).toBe(true);
  return parser.parse(svg) as { svg: { width: string; height: string } };
}

describe("renderTimelineSvg", () => {
  test("a small run: a row per slot and per node, well-formed XML", () => {
    const svg = renderTimelineSvg(buildRunProfile(buildRunEvents()));
    const doc = parse(svg);
    expect(doc.svg.width).toBe("1200");
    expect(groupIds(svg)).toEqual(["header", "axis", "lanes", "nodes", "legend"]);
    expect(svg).toContain("Critical path: fetch → each → write");
    expect(svg).toContain("each-body ×3");
    // the failed first attempt of fetch, its hatched retry delay, the failed write, skipped notify
    for (const fill of [COLORS.retried, COLORS["retry-wait"], COLORS.failed, COLORS.skipped, COLORS.succeeded]) expect(svg).toContain(`fill="${fill}"`);
    expect(svg).toMatch(/<title>fetch \(http-request\): succeeded · wall 812ms · queue wait 1ms · 2 attempts · output 15 B · on the critical path<\/title>/);
  });

  test("node ids with markup characters stay text", () => {
    const b = new EventsBuilder();
    const ids = ['a<b>&"c"', "it's", "ctl\u0001\u0007x", "lone\ud800"];
    b.add("run:start", { composite: { id: "<x>", name: 'name & "quotes"' }, nodes: ids.map((id) => ({ id, type: "code" })), plan: [ids] });
    for (const id of ids) b.add("node:start", { nodeId: id, attempt: 1 });
    b.wait(50);
    for (const id of ids) b.add("node:finish", { nodeId: id, status: "succeeded", durationMs: 50, attempt: 1 });
    b.add("run:finish", { status: "succeeded", durationMs: 50, counts: { succeeded: 4, failed: 0, skipped: 0, cancelled: 0 } });
    const svg = renderTimelineSvg(buildRunProfile(b.events));
    parse(svg);
    expect(svg).toContain("a&lt;b&gt;&amp;&quot;c&quot;");
    expect(svg).toContain("it&apos;s");
    expect(svg).toContain("ctl\ufffd\ufffdx");
    expect(svg).not.toMatch(/[\u0001\u0007]/);
    expect(escapeXml("lone\ud800 pair \ud83d\ude00")).toBe("lone\ufffd pair \ud83d\ude00");
  });

  test("1,000 nodes: rows per plan level, the longest nodes and the critical path; bounded size", () => {
    const events = levelledRun(40, 25, 16);
    const svg = renderTimelineSvg(buildRunProfile(events));
    const doc = parse(svg);
    expect(groupIds(svg)).toEqual(["header", "axis", "lanes", "levels", "longest", "critical-path", "legend"]);
    expect(svg).toContain("16 slots used");
    expect(svg).toContain("Nodes by plan level (1000 nodes: too many for a row each)");
    expect(svg).toContain("Longest 15 of 1000 nodes");
    expect(svg).toContain("Critical path: its 15 longest of 40 nodes");
    // 40 levels fold into 20 rows of 2
    expect(svg.match(/>levels \d+–\d+ · 50 nodes</g)).toHaveLength(20);
    expect(svg.length).toBeLessThan(150_000);
    expect((svg.match(/<rect /g) ?? []).length).toBeLessThan(2_500);
    // a fixed most: 24 slots, 24 level rows, 15 longest nodes, 15 of the critical path
    expect(Number(doc.svg.height)).toBeLessThan(1_800);
  });

  test("more slots than rows allow: a histogram of how many ran at once", () => {
    const b = new EventsBuilder();
    const ids = Array.from({ length: 40 }, (_, i) => `p${i}`);
    b.add("run:start", { composite: { id: "wide", name: "wide" }, nodes: ids.map((id) => ({ id, type: "delay" })), plan: [ids] });
    for (const id of ids) b.add("node:start", { nodeId: id, attempt: 1 });
    b.wait(100);
    for (const id of ids) b.add("node:finish", { nodeId: id, status: id === "p3" ? "failed" : "succeeded", durationMs: 100, attempt: 1 });
    b.add("run:finish", { status: "failed", durationMs: 100, counts: { succeeded: 39, failed: 1, skipped: 0, cancelled: 0 } });
    const svg = renderTimelineSvg(buildRunProfile(b.events));
    parse(svg);
    expect(groupIds(svg)).toEqual(["header", "axis", "concurrency", "nodes", "legend"]);
    expect(svg).toContain("40 at once");
  });

  test.skipIf(!hasRsvg)("renders to PNG with rsvg-convert: its size, and bars of every status above the legend", () => {
    const events: RunEvent[] = levelledRun(40, 25, 16);
    const svg = renderTimelineSvg(buildRunProfile(events));
    const doc = parse(svg);
    const png = decodePng(renderSvgToPng(svg));
    expect([png.width, png.height]).toEqual([Number(doc.svg.width), Number(doc.svg.height)]);
    const legendY = Number(/<g id="legend" transform="translate\(\d+,(\d+)\)"/.exec(svg)![1]);
    for (const status of ["succeeded", "failed", "skipped", "cancelled", "retried"] as const) {
      expect(countColor(png, COLORS[status], 0, legendY), status).toBeGreaterThan(20);
    }
  });
});
