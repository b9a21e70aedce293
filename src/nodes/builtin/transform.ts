import { z } from "zod";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { defineNode } from "../define-node.js";
import { awaitWithSignal, checkReturnType, cloneable, RETURN_TYPES } from "./js-helpers.js";
import { OPERATIONS, type TransformParams } from "../../js/transform-operations.js";
import { usesAwait } from "../../js/check-syntax.js";

export default defineNode({
  type: "transform",
  title: "Transform",
  description: "map/filter/reduce/sort/group/flatten/unique/reverse/limit/skip/slice an array with JS functions, or run a JS body over `data`.",
  category: "data",
  parameters: z.object({
    operation: z.enum(OPERATIONS).default("map").describe("What to do with the input array"),
    transformFunction: z.string().optional().describe("A JS function: `item => item.price * 2`, `(item, index) => { … }`; for reduce `(acc, item) => …`; for sort a comparator; for group a key function. A bare expression over `item` also works. It sees only its own arguments, not $vars, $input or $nodes (use `expression` or a `code` node for those)"),
    expression: z.string().optional().describe("A JS function body over `data` (the whole input), e.g. `return data.filter(r => r.active)`. Takes precedence over operation"),
    code: z.string().optional().describe("Same as expression (editor files use either name)"),
    inputParams: z.string().optional().describe("With code/expression: the name the input is bound to (default `data`)"),
    returnType: z.enum(RETURN_TYPES).optional().describe("With code/expression: fail unless the result has this type"),
    async: z.boolean().optional().describe("With code/expression: allow `await`"),
    sortKey: z.string().optional().describe("sort/group: the field (dotted path) to order or group by"),
    sortDirection: z.enum(["asc", "desc"]).default("asc").describe("sort: order"),
    groupKey: z.string().optional().describe("group: the field (dotted path) to group by"),
    reduceInitial: z.unknown().optional().describe("reduce: the initial accumulator (JSON text is parsed)"),
    flattenDepth: z.number().int().min(1).max(100).default(1).describe("flatten: how many levels"),
    uniqueKey: z.string().optional().describe("unique: dedupe by this field instead of the whole item"),
    limitCount: z.number().int().min(0).default(10).describe("limit: keep the first N items"),
    skipCount: z.number().int().min(0).default(0).describe("skip: drop the first N items"),
    sliceStart: z.number().int().default(0).describe("slice: start index"),
    sliceEnd: z.number().int().optional().describe("slice: end index (exclusive; default the end)"),
    inputType: z.string().optional().describe("Editor metadata; ignored"),
    outputType: z.string().optional().describe("Editor metadata; ignored"),
  }),
  inputs: [{ id: "input", description: "An array (a non-array counts as one item and yields one value)" }],
  outputs: [{ id: "output", description: "The transformed value" }],
  rawParameters: ["transformFunction", "expression", "code"],
  javascript: { transformFunction: "function", expression: "body", code: "body" },
  example: `- id: titles
  type: transform
  parameters:
    operation: map
    transformFunction: "pr => \`- \${pr.title}\`"`,
  async execute(ctx) {
    const p = ctx.parameters;
    const body = p.expression ?? p.code;
    if (body !== undefined) {
      const name = (p.inputParams ?? "data").split(",")[0]!.trim() || "data";
      const isAsync = p.async === true || usesAwait(body);
      const s = ctx.scope;
      const params = [name, "$vars", "$env", "$nodes", "$item", "$index"];
      if (ctx.isolation === "worker") {
        const { runIsolated } = await import("../../js/run-isolated.js");
        const args = cloneable([ctx.input, s.$vars, s.$env, { ...(s.$nodes as object) }, s.$item, s.$index]);
        const result = await runIsolated({ kind: "body", body, params, args, async: isAsync }, isolatedOptions(ctx));
        if (p.returnType) checkReturnType(result, p.returnType);
        return result;
      }
      const fn = ctx.sandbox.compileBody(body, params, { async: isAsync, origin: `node "${ctx.nodeId}"` });
      const args = [ctx.input, s.$vars, s.$env, s.$nodes, s.$item, s.$index];
      const options = { timeoutMs: ctx.timeoutMs, lazy: [3] };
      const result = isAsync ? await awaitWithSignal(ctx.sandbox.callAsync(fn, args, options), ctx.signal) : ctx.sandbox.call(fn, args, options);
      if (p.returnType) checkReturnType(result, p.returnType);
      return result;
    }
    const single = !Array.isArray(ctx.input);
    const items: unknown[] = single ? (ctx.input === undefined ? [] : [ctx.input]) : (ctx.input as unknown[]);
    if (p.operation === "group" && !p.groupKey && !p.sortKey && p.transformFunction === undefined) {
      throw new AtomitonError(ErrorCode.PARAM, "group needs `groupKey` (or a key function in transformFunction)", { retryable: false });
    }
    let result: unknown;
    if (ctx.isolation === "worker") {
      const { runIsolated } = await import("../../js/run-isolated.js");
      const source = p.transformFunction === undefined ? undefined : functionSource(p.transformFunction);
      result = await runIsolated({ kind: "transform", items: cloneable(items), params: p as TransformParams, ...(source === undefined ? {} : { fn: source }) }, isolatedOptions(ctx));
    } else {
      const fn = p.transformFunction === undefined ? undefined : ctx.sandbox.compileFunctionValue(functionSource(p.transformFunction), `node "${ctx.nodeId}" transformFunction`);
      result = ctx.sandbox.transform(items, p as TransformParams, fn, ctx.timeoutMs);
    }
    if (single && Array.isArray(result)) return result.length === 0 ? null : result[0];
    return result;
  },
});

/** A function's source; a dotted path or bare expression becomes `(item, index) => (expr)`. */
function functionSource(source: string): string {
  const text = source.trim();
  if (text === "") throw new AtomitonError(ErrorCode.PARAM, "transformFunction is empty", { retryable: false });
  const looksLikeFunction = text.includes("=>") || /^(async\s+)?function\b/.test(text);
  return looksLikeFunction ? text : `(item, index) => (${text})`;
}

function isolatedOptions(ctx: { signal: AbortSignal; timeoutMs?: number }): { signal: AbortSignal; timeoutMs?: number } {
  return ctx.timeoutMs === undefined ? { signal: ctx.signal } : { signal: ctx.signal, timeoutMs: ctx.timeoutMs };
}
