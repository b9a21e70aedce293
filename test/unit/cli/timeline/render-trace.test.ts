import { describe, expect, test } from "vitest";
import { buildRunProfile } from "../../../../src/cli/timeline/build-profile.js";
import { renderTrace } from "../../../../src/cli/timeline/render-trace.js";
import { validateTrace } from "../../../helpers/trace-format.js";
import { buildRunEvents, syntheticRun } from "../../reporters/events-fixture.js";
import { levelledRun } from "./levelled-run.js";

const slots = (tid: number) => tid > 0;

describe("renderTrace", () => {
  test("a span per attempt on its slot's tid, retry delays, the run span, nodes that never ran as instants", () => {
    const events = buildRunEvents();
    const text = renderTrace(buildRunProfile(events));
    const spans = validateTrace(text, { disjointTids: slots });
    const trace = JSON.parse(text) as { traceEvents: { name: string; ph: string; tid: number; ts: number; args?: Record<string, unknown> }[]; otherData: Record<string, unknown> };
    // one node span per node:start (each attempt, each iteration)
    const starts = events.filter((e) => e.type === "node:start");
    const nodeSpans = spans.filter((s) => s.cat === "node");
    expect(nodeSpans.map((s) => `${s.name}#${s.args?.attempt}${s.args?.iteration === undefined ? "" : `[${s.args.iteration}]`}`).sort()).toEqual(
      starts.map((e) => `${e.nodeId}#${e.attempt}${e.iteration === undefined ? "" : `[${e.iteration}]`}`).sort(),
    );
    expect(nodeSpans.find((s) => s.name === "fetch" && s.args?.attempt === 1)).toMatchObject({ ts: 1000, dur: 11_000, tid: 1, args: { status: "retried" } });
    expect(spans.find((s) => s.cat === "retry")).toMatchObject({ name: "retry delay", ts: 12_000, dur: 500_000, tid: 1 });
    expect(spans.find((s) => s.cat === "run")).toMatchObject({ ts: 0, dur: 850_000, tid: 0 });
    // the node's profile rides on its last attempt
    expect(nodeSpans.find((s) => s.name === "fetch" && s.args?.attempt === 2)?.args).toMatchObject({ type: "http-request", wallMs: 812, attempts: 2, queueWaitMs: 1, critical: true });
    expect(trace.traceEvents.filter((e) => e.ph === "i").map((e) => e.name)).toEqual(["notify skipped"]);
    expect(trace.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => e.args?.name)).toEqual(["run", "slot 1", "slot 2"]);
    expect(trace.otherData).toMatchObject({ runId: "run-1", status: "failed", criticalPath: { nodes: ["fetch", "each", "write"] } });
  });

  test.each([
    ["1,000 independent nodes, 8 at a time", () => [...syntheticRun(1000, 8)], 1000],
    // 10 skipped nodes never start, 10 retried ones start twice
    ["1,000 nodes in 40 levels, 16 at a time, with retries", () => levelledRun(40, 25, 16), 1000],
  ])("%s: valid, one span per execution", (_name, make, expected) => {
    const events = make();
    const spans = validateTrace(renderTrace(buildRunProfile(events)), { disjointTids: slots });
    expect(spans.filter((s) => s.cat === "node")).toHaveLength(events.filter((e) => e.type === "node:start").length);
    expect(events.filter((e) => e.type === "node:start")).toHaveLength(expected);
  });

  test("the validator catches what a trace must not do", () => {
    const meta = (tid: number) => ({ name: "thread_name", ph: "M", ts: 0, pid: 1, tid, args: { name: `t${tid}` } });
    const x = (ts: number, dur: number, tid = 1) => ({ name: "s", ph: "X", ts, dur, pid: 1, tid });
    const trace = (...events: unknown[]) => JSON.stringify({ traceEvents: [meta(1), ...events] });
    expect(() => validateTrace(trace(x(0, 10), x(5, 10)))).toThrow(/without nesting/);
    expect(() => validateTrace(trace(x(0, 10), x(2, 3)), { disjointTids: slots })).toThrow(/must not overlap/);
    expect(validateTrace(trace(x(0, 10), x(2, 3)))).toHaveLength(2);
    expect(() => validateTrace(trace(x(5, 1), x(1, 1)))).toThrow(/goes back/);
    expect(() => validateTrace(trace(x(0, 1, 2)))).toThrow(/no thread_name/);
    expect(() => validateTrace(trace({ ...x(0, 1), dur: -1 }))).toThrow(/dur/);
  });
});
