import { z } from "zod";
import { defineNode } from "../define-node.js";
import { stringifyJsonSafe } from "../../events/json-safe.js";

export default defineNode({
  type: "log",
  title: "Log",
  description: "Print a templated message at a level; passes its input on unchanged.",
  category: "utility",
  parameters: z.object({
    // No default template: a default is filled in after templates are resolved, so "{{ $input }}" was
    // printed as those very characters. Without a message the node prints its input itself.
    message: z.unknown().optional().describe("The text to print; {{ }} templates are resolved. Without one: the input (text as it is, else JSON)"),
    level: z.enum(["debug", "info", "warn", "error"]).default("info").describe("Log level"),
  }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output", description: "The input, unchanged" }],
  example: `- id: announce
  type: log
  parameters: { message: "built {{ $input.count }} files", level: info }`,
  execute(ctx) {
    const m = ctx.parameters.message === undefined ? ctx.input : ctx.parameters.message;
    ctx.log(ctx.parameters.level, typeof m === "string" ? m : m === undefined ? "undefined" : stringifyJsonSafe(m));
    return ctx.input;
  },
});
