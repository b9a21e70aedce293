import { z } from "zod";
import { AtomitonError, ErrorCode, toNodeError } from "../../errors.js";
import { defineNode, type NodeContext } from "../define-node.js";
import { runPool } from "./run-pool.js";
import { unwrapExpression } from "../../js/templates.js";

export default defineNode({
  type: "loop",
  title: "Loop",
  description: "Run the body once per item (forEach), N times (times) or while an expression holds; results are collected in order.",
  category: "logic",
  container: true,
  parameters: z.object({
    mode: z.enum(["forEach", "times", "while"]).optional().describe("forEach (default), times or while"),
    loopType: z.enum(["forEach", "times", "while"]).optional().describe("Editor name of `mode`"),
    items: z.array(z.unknown()).optional().describe("forEach: the items (default: the input)"),
    iterateOver: z.string().optional().describe("forEach: when the input is an object, the field holding the array (e.g. `files`)"),
    count: z.number().int().min(0).default(10).describe("times: how many iterations"),
    condition: z.string().optional().describe("while: a JS expression checked before each iteration; sees $index and $last (the previous result)"),
    maxIterations: z.number().int().min(1).default(1000).describe("Safety cap on iterations"),
    concurrency: z.number().int().min(1).optional().describe("Iterations at once (default 1; a parallel node at the body's root sets it for editor files)"),
    breakOnError: z.boolean().default(true).describe("Fail the loop at the first failed iteration; false records `{ error }` for that item and goes on"),
    collectResults: z.boolean().default(true).describe("Output the body's results (false: output the item count)"),
  }).superRefine((value, issue) => {
    // Known before anything runs: a count over the cap failed only after building the whole range.
    // A while loop without its condition failed only when it started, after the nodes before it.
    if ((value.mode ?? value.loopType) === "while" && value.condition === undefined) {
      issue.addIssue({ code: "custom", path: [value.mode === undefined ? "loopType" : "mode"], message: 'a while loop needs a `condition` expression (e.g. condition: "$index < 5")' });
    }
    if ((value.mode ?? value.loopType) === "times" && value.count > value.maxIterations) {
      issue.addIssue({ code: "custom", path: ["count"], message: `count ${value.count} is more than maxIterations (${value.maxIterations}); raise maxIterations or lower count` });
    }
  }),
  inputs: [{ id: "input", description: "The array to iterate (forEach)" }],
  outputs: [{ id: "results", description: "The body's output per iteration, in item order" }],
  portAliases: { complete: "results", output: "results" },
  rawParameters: ["condition"],
  javascript: { condition: "expression" },
  scopeNames: { condition: ["$last"] },
  example: `- id: each-file
  type: loop
  parameters: { concurrency: 4 }
  nodes:
    - id: upper
      type: transform
      parameters: { expression: "return $item.toUpperCase()" }`,
  async execute(ctx) {
    const p = ctx.parameters;
    const mode = p.mode ?? p.loopType ?? "forEach";
    const runBody = ctx.runBody ?? (async (input: unknown) => input);
    const concurrency = p.concurrency ?? ctx.body?.parallelConcurrency ?? 1;
    if (mode === "while") return runWhile(ctx, runBody);

    if (mode === "times" && p.count > p.maxIterations) {
      throw new AtomitonError(ErrorCode.PARAM, `count ${p.count} is more than maxIterations (${p.maxIterations})`, { retryable: false, hint: "raise maxIterations or lower count" });
    }
    const items = mode === "times" ? Array.from({ length: p.count }, (_, i) => i) : resolveItems(ctx);
    if (items.length > p.maxIterations) {
      throw new AtomitonError(ErrorCode.NODE_INPUT, `loop has ${items.length} items, more than maxIterations (${p.maxIterations})`, { retryable: false, hint: "raise maxIterations or limit the input" });
    }
    let done = 0;
    const total = items.length;
    ctx.progress(0, `0/${total}`);
    const results = await runPool(items, concurrency, ctx.signal, async (item, index) => {
      try {
        return await runBody(item, { item, index });
      } catch (error) {
        if (p.breakOnError || ctx.signal.aborted) throw error;
        const e = toNodeError(error);
        ctx.log("warn", `iteration ${index} failed: ${e.message}`);
        return { error: { code: e.code, message: e.message } };
      } finally {
        done++;
        ctx.progress(done / Math.max(total, 1), `${done}/${total}`);
      }
    });
    return p.collectResults ? results : results.length;
  },
});

function resolveItems(ctx: NodeContext<{ items?: unknown[] | undefined; iterateOver?: string | undefined }>): unknown[] {
  const { items, iterateOver } = ctx.parameters;
  if (items) return items;
  let input = ctx.input;
  if (input !== null && typeof input === "object" && !Array.isArray(input) && iterateOver && iterateOver in input) {
    input = (input as Record<string, unknown>)[iterateOver];
  }
  if (Array.isArray(input)) return input;
  if (input === undefined || input === null) return [];
  return [input];
}

async function runWhile(ctx: NodeContext<{ condition?: string | undefined; maxIterations: number; collectResults: boolean; breakOnError: boolean }>, runBody: (input: unknown, scope: { item?: unknown; index?: number }) => Promise<unknown>): Promise<unknown> {
  const { condition, maxIterations } = ctx.parameters;
  if (!condition) throw new AtomitonError(ErrorCode.PARAM, "while loops need a `condition` expression", { retryable: false, hint: 'e.g. condition: "$index < 5"' });
  const fn = ctx.sandbox.compileExpression(unwrapExpression(condition).expr, `node "${ctx.nodeId}" condition`);
  const results: unknown[] = [];
  let last: unknown = ctx.input;
  for (let index = 0; ; index++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const scope = { ...ctx.scope, $index: index, $last: last, iteration: index, lastResult: last };
    if (!ctx.sandbox.evaluate(fn, scope, ctx.timeoutMs)) break;
    if (index >= maxIterations) throw new AtomitonError(ErrorCode.NODE, `while loop still true after maxIterations (${maxIterations})`, { retryable: false });
    last = await runBody(last, { item: last, index });
    results.push(last);
    ctx.progress(0, `${index + 1}`);
  }
  return ctx.parameters.collectResults ? results : results.length;
}
