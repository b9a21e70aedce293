import { z } from "zod";
import { AtomitonError, ErrorCode, toNodeError } from "../../errors.js";
import { defineNode } from "../define-node.js";
import { runPool } from "./run-pool.js";

export default defineNode({
  type: "parallel",
  title: "Parallel",
  description: "Run the body's branches concurrently under a limit (strategy all, allSettled or race). Without a body it passes its input on; inside a loop body its concurrency bounds the loop's iterations.",
  category: "logic",
  container: true,
  parameters: z.object({
    concurrency: z.number().int().min(1).default(5).describe("Branches (or, inside a loop, iterations) at once"),
    strategy: z.enum(["all", "allSettled", "race"]).default("all").describe("all: fail when a branch fails; allSettled: collect { status, value | error } per branch; race: the first branch to finish wins, the others are cancelled"),
    preserveOrder: z.boolean().default(true).describe("Results in branch order (always true; kept for editor files)"),
    timeout: z.number().int().min(0).optional().describe("Editor files' per-operation timeout in ms (use the node-level `timeout` instead)"),
  }),
  inputs: [{ id: "input", description: "Given to every branch" }],
  outputs: [{ id: "output", description: "Branch outputs in branch order (race: the winner's output)" }],
  example: `- id: fan-out
  type: parallel
  parameters: { concurrency: 2, strategy: allSettled }
  nodes:
    - { id: a, type: delay, parameters: { duration: 100ms } }
    - { id: b, type: delay, parameters: { duration: 200ms } }`,
  async execute(ctx) {
    const { concurrency, strategy } = ctx.parameters;
    const runBody = ctx.runBody;
    const branches = ctx.body?.branches ?? 0;
    if (!runBody || branches === 0) return ctx.input;
    const indexes = Array.from({ length: branches }, (_, i) => i);
    if (strategy === "all") return runPool(indexes, concurrency, ctx.signal, (branch) => runBody(ctx.input, { branch }));
    if (strategy === "allSettled") {
      return runPool(indexes, concurrency, ctx.signal, (branch) =>
        runBody(ctx.input, { branch }).then(
          (value) => ({ status: "fulfilled", value }),
          (error: unknown) => ({ status: "rejected", error: toNodeError(error) }),
        ),
      );
    }
    // race: first branch to succeed wins; the losers are cancelled by the abort of a local controller.
    const losers = new AbortController();
    const stop = () => losers.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", stop, { once: true });
    try {
      return await new Promise((resolve, reject) => {
        let failures = 0;
        for (const branch of indexes) {
          runBody(ctx.input, { branch, signal: losers.signal }).then(resolve, (error: unknown) => {
            if (++failures !== branches) return;
            const last = toNodeError(error);
            reject(new AtomitonError(ErrorCode.NODE, `every branch failed; last: ${last.message}`, { retryable: last.retryable, cause: error }));
          });
        }
      });
    } finally {
      ctx.signal.removeEventListener("abort", stop);
      losers.abort(new AtomitonError(ErrorCode.CANCELLED, "another branch won the race", { retryable: false }));
    }
  },
});
