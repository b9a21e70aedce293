import { z } from "zod";
import { defineNode } from "../define-node.js";
import { cloneable } from "./js-helpers.js";
import { unwrapExpression } from "../../js/templates.js";

export default defineNode({
  type: "condition",
  title: "Condition",
  description: "Evaluate a JS expression and pass the input on through the `true` or the `false` port; the other branch is skipped.",
  category: "logic",
  parameters: z.object({
    expression: z.string().min(1).describe("A JS expression over $input, $inputs, $vars, $env, $nodes, $item, $index, e.g. `$input.length > 0`"),
  }),
  inputs: [{ id: "input" }],
  outputs: [
    { id: "true", description: "Receives the input when the expression is truthy" },
    { id: "false", description: "Receives the input when the expression is falsy" },
  ],
  rawParameters: ["expression"],
  javascript: { expression: "expression" },
  example: `nodes:
  - id: has-rows
    type: condition
    parameters: { expression: "$input.length > 0" }
  - id: report
    type: log
    parameters: { message: "{{ $input.length }} rows" }
  - id: notify-empty
    type: log
    parameters: { message: no rows }
edges:
  - has-rows.true -> report
  - has-rows.false -> notify-empty`,
  async execute(ctx) {
    const { expr } = unwrapExpression(ctx.parameters.expression);
    if (ctx.isolation === "worker") {
      const { runIsolated } = await import("../../js/run-isolated.js");
      const s = ctx.scope;
      const scope = cloneable({ ...s, $nodes: { ...(s.$nodes as object) } });
      const verdict = await runIsolated({ kind: "expression", expr, scope }, ctx.timeoutMs === undefined ? { signal: ctx.signal } : { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
      return verdict ? { true: ctx.input } : { false: ctx.input };
    }
    const fn = ctx.sandbox.compileExpression(expr, `node "${ctx.nodeId}" expression`);
    const result = Boolean(ctx.sandbox.evaluate(fn, ctx.scope, ctx.timeoutMs));
    return result ? { true: ctx.input } : { false: ctx.input };
  },
});
