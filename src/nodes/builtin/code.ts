import { z } from "zod";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { defineNode } from "../define-node.js";
import { usesAwait } from "../../js/check-syntax.js";
import { awaitWithSignal, checkReturnType, cloneable, RETURN_TYPES } from "./js-helpers.js";

const SCOPE_NAMES = ["$input", "$inputs", "$vars", "$env", "$nodes", "$item", "$index", "$now", "$run"] as const;
const NODES_AT = SCOPE_NAMES.indexOf("$nodes");

/** Words of a body that may return a promise without `await`. */
const MAY_RETURN_PROMISE = /\b(?:Promise|async|then)\b/;

export default defineNode({
  type: "code",
  title: "Code",
  description: "Run a JavaScript function body (sync or async) over the input; `data` is the input.",
  category: "logic",
  parameters: z.object({
    code: z.string().default("return data;").describe("A JS function body; `return` the result. `data` is the input; $vars, $env, $nodes, $item, $index are in scope"),
    inputParams: z.string().default("data").describe("Comma-separated names the body receives: each gets the input port of that name, else the primary input"),
    returnType: z.enum(RETURN_TYPES).default("any").describe("Fail the node unless the result has this type"),
    async: z.boolean().default(false).describe("Allow `await` in the body (detected automatically when the body uses await)"),
  }),
  inputs: [{ id: "input", description: "The value bound to `data` (and every name in inputParams)" }],
  outputs: [{ id: "output", description: "What the body returns" }],
  rawParameters: ["code"],
  javascript: { code: "body" },
  example: `- id: totals
  type: code
  parameters:
    code: |
      const total = data.reduce((sum, row) => sum + Number(row.amount), 0);
      return { total, count: data.length };`,
  async execute(ctx) {
    const { code, inputParams, returnType } = ctx.parameters;
    if (code.trim() === "") throw new AtomitonError(ErrorCode.CODE, "no code provided", { retryable: false, hint: "set `code` to a function body that returns a value" });
    const names = inputParams.split(",").map((s) => s.trim()).filter(Boolean);
    for (const n of names) {
      if (!/^[A-Za-z_$][\w$]*$/.test(n)) throw new AtomitonError(ErrorCode.PARAM, `inputParams: "${n}" is not a valid JavaScript name`, { retryable: false });
    }
    // A body that may hand back a promise without `await` (`return Promise.resolve(x)`, an async helper
    // it calls, `.then(…)`) runs as async too, so its value is awaited rather than refused.
    const isAsync = ctx.parameters.async || usesAwait(code) || MAY_RETURN_PROMISE.test(code);
    const scope = ctx.scope;
    const args = [...names.map((n) => (n in ctx.inputs ? ctx.inputs[n] : ctx.input)), ...SCOPE_NAMES.map((n) => scope[n])];
    if (ctx.isolation === "worker") {
      const { runIsolated } = await import("../../js/run-isolated.js");
      const result = await runIsolated({ kind: "body", body: code, params: [...names, ...SCOPE_NAMES], args: cloneable(args), async: isAsync }, { signal: ctx.signal, ...(ctx.timeoutMs !== undefined ? { timeoutMs: ctx.timeoutMs } : {}) });
      checkReturnType(result, returnType);
      return result;
    }
    const fn = ctx.sandbox.compileBody(code, [...names, ...SCOPE_NAMES], { async: isAsync, origin: `node "${ctx.nodeId}"` });
    // `$nodes` holds every finished node's output: copied into the sandbox entry by entry, when read.
    const options = { timeoutMs: ctx.timeoutMs, lazy: [names.length + NODES_AT] };
    const result = isAsync ? await awaitWithSignal(ctx.sandbox.callAsync(fn, args, options), ctx.signal) : ctx.sandbox.call(fn, args, options);
    checkReturnType(result, returnType);
    return result;
  },
});
