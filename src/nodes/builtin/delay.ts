import { z } from "zod";
import { defineNode } from "../define-node.js";
import { durationSchema, parseDuration, sleepFor } from "../../js/duration.js";
import { abortReason } from "./js-helpers.js";

export default defineNode({
  type: "delay",
  title: "Delay",
  description: "Wait for a duration (cancellable), then pass the input on.",
  category: "utility",
  parameters: z.object({
    duration: durationSchema
      .default(1000)
      .describe("How long to wait: milliseconds or a string like 250ms, 2s, 1m, 600h (any length: long waits chain timers)"),
  }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output", description: "The input, unchanged" }],
  example: `- id: wait
  type: delay
  parameters: { duration: 2s }`,
  async execute(ctx) {
    const ms = parseDuration(ctx.parameters.duration) ?? 0;
    try {
      await sleepFor(ms, ctx.signal);
    } catch {
      throw abortReason(ctx.signal);
    }
    return ctx.input;
  },
});
