import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { createProtocolJsonSchema, renderProtocolJsonSchema } from "../../../src/serve/protocol-schema.js";
import { METHODS } from "../../../src/serve/protocol.js";
import { ROOT } from "../../helpers/cli.js";

describe("schema/protocol.json", () => {
  test("is the schema generated from the zod schemas (regenerate: node bin/atomiton.js schema --protocol -o schema/protocol.json)", () => {
    expect(readFileSync(path.join(ROOT, "schema/protocol.json"), "utf8")).toBe(renderProtocolJsonSchema());
  });

  test("has every method of SPEC §9 and §11 (debug.*) with params and result", () => {
    const schema = createProtocolJsonSchema() as { methods: Record<string, { params: object; result: object }> };
    expect(Object.keys(schema.methods).sort()).toEqual(
      ["auth", "initialize", "validate", "run.start", "run.cancel", "run.wait", "runs.list", "runs.get", "events.subscribe", "events.unsubscribe", "nodes.list", "debug.setBreakpoints", "debug.continue", "debug.step", "debug.skip", "debug.set", "debug.evaluate"].sort(),
    );
    for (const m of Object.values(schema.methods)) expect(m).toMatchObject({ params: expect.any(Object), result: expect.any(Object) });
  });

  test("describes the notifications a client receives: run.event, debug.paused, events.error, events.end", () => {
    const schema = createProtocolJsonSchema() as { notifications: Record<string, object> };
    expect(Object.keys(schema.notifications).sort()).toEqual(["debug.paused", "events.end", "events.error", "run.event"]);
  });

  test.each([
    ["run.start", { path: "a.yaml" }, true],
    ["run.start", { text: "x", path: "a.yaml" }, false],
    ["run.start", {}, false],
    ["validate", { text: "name: x" }, true],
    ["validate", {}, false],
    ["events.subscribe", { runId: "r", fromSeq: 3 }, true],
    ["events.subscribe", { all: true }, true],
    ["events.subscribe", { fromSeq: -1, runId: "r" }, false],
    ["run.wait", { runId: "r", timeout: "5s" }, true],
    ["run.wait", { runId: "r", timeout: "soon" }, false],
    ["run.start", { path: "a.yaml", timeout: "5 minutes" }, false],
    ["run.start", { path: "a.yaml", timeout: 1500 }, true],
    ["runs.list", { status: "weird" }, false],
  ] as const)("%s params %j valid: %s", (method, params, ok) => {
    expect(METHODS[method].params.safeParse(params).success).toBe(ok);
  });
});
