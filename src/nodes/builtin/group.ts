import { z } from "zod";
import { defineNode } from "../define-node.js";

export default defineNode({
  type: "group",
  title: "Group",
  description: "A nested composite: inline `nodes`/`edges`, or `ref: ./other.yaml`. Its root nodes get the group's input; its sink's output is the group's output.",
  category: "logic",
  container: true,
  parameters: z.object({
    timeout: z.number().optional().describe("Editor files' group timeout in ms (use the node-level `timeout`)"),
    retries: z.number().optional().describe("Editor files' retries (use the node-level `retry`)"),
    parallel: z.boolean().optional().describe("Editor setting; bodies always run independent nodes concurrently"),
  }),
  inputs: [{ id: "input", description: "Given to the body's root nodes" }],
  outputs: [{ id: "output", description: "The body's output (its sink's, or a map by id for several sinks)" }],
  portAliases: { result: "output", trigger: "input" },
  example: `- id: build
  type: group
  ref: ./build-steps.yaml`,
  async execute(ctx) {
    return ctx.runBody ? ctx.runBody(ctx.input) : ctx.input;
  },
});
