import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { plainControls } from "../../../src/composite/normalize.js";
import { NodeControlSchema } from "../../../src/composite/raw-schema.js";

// normalize skips NodeControlSchema's parse for nodes `plainControls` accepts (issue 17). That is
// exact only if zod accepts every such node and gives back the same control values.

const value = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, 3, -1, 1.5, "", "x", "n1", "bad id", "fail", "continue", "route", "vm", "worker", "250ms", [], ["a"], {}, { a: 1 }, Object.create(null) as object),
  fc.string(),
  fc.integer(),
);
const KEYS = ["id", "type", "name", "description", "parameters", "data", "timeout", "retry", "onError", "if", "enabled", "isolation", "ref", "nodes", "edges", "position"];
const node = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 8 }).map((n) => ({ id: "n1", type: "edit-fields", ...n }));
const CONTROLS = ["onError", "if", "enabled", "isolation", "ref", "timeout", "retry"] as const;

describe("plainControls", () => {
  test("every node it accepts, zod accepts with the same control values", () => {
    let accepted = 0;
    fc.assert(
      fc.property(node, (n: Record<string, unknown>) => {
        if (!plainControls(n)) return;
        accepted++;
        const parsed = NodeControlSchema.safeParse(n);
        expect(parsed.success).toBe(true);
        const data = parsed.data as Record<string, unknown>;
        for (const k of CONTROLS) expect(data[k]).toEqual(n[k]);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(50);
  });

  test("leaves to zod what needs converting or reporting", () => {
    const base = { id: "a", type: "edit-fields" };
    expect(plainControls(base)).toBe(true);
    for (const extra of [{ timeout: "1s" }, { retry: 2 }, { id: "bad id" }, { id: 3 }, { type: "" }, { name: null }, { parameters: [] }, { onError: "retry" }, { enabled: "yes" }, { ref: "" }, { nodes: {} }]) {
      expect(plainControls({ ...base, ...extra })).toBe(false);
    }
  });
});
