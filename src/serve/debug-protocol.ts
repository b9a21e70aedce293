import { z } from "zod";

/**
 * The debugger's part of the run protocol (SPEC §11 over §9): `debug.setBreakpoints`, the
 * `debug.paused` notification and `debug.continue|step|skip|set|evaluate`. Merged into METHODS.
 */

const RunId = z.string().min(1).max(200).describe("A run id, e.g. 20261124T113205-3f9a2c");
const Ack = z.object({ ok: z.literal(true) });

export const DEBUG_METHODS = {
  "debug.setBreakpoints": {
    params: z.object({
      runId: RunId.optional().describe("A run in flight; without it, the breakpoints of every run this connection starts from now on"),
      nodes: z.array(z.string().min(1)).describe("Node ids to pause before (a loop-body node pauses per iteration); replaces the earlier list"),
      step: z.boolean().optional().describe("Pause before every node"),
      breakOnError: z.boolean().optional().describe("Pause when a node fails for good; debug.continue then lets the failure stand"),
    }),
    result: z.object({ nodes: z.array(z.string()), step: z.boolean(), breakOnError: z.boolean() }),
    description: "Sets breakpoints. A run pauses before such a node (running nodes finish, no new node starts) and sends debug.paused to the client that started it.",
  },
  "debug.continue": {
    params: z.object({ runId: RunId }),
    result: Ack,
    description: "Runs the paused node (with the parameters as set) and goes on to the next breakpoint; on a failure pause, lets the failure stand.",
  },
  "debug.step": {
    params: z.object({ runId: RunId }),
    result: Ack,
    description: "Like debug.continue, then pauses again before the next node that starts.",
  },
  "debug.skip": {
    params: z.object({ runId: RunId, output: z.unknown().optional().describe("What the node outputs instead of running (default null)") }),
    result: Ack,
    description: "The paused node does not run; it succeeds with `output` (null unless given).",
  },
  "debug.set": {
    params: z.object({ runId: RunId, param: z.string().min(1).describe("A parameter name, or a dotted path (headers.accept)"), value: z.unknown() }),
    result: z.object({ parameters: z.record(z.string(), z.unknown()) }),
    description: "Changes a parameter of the paused node, checked by the node's schema (invalid: -32000 E_PARAM, nothing changes, the run stays paused). Returns the parameters it will run with.",
  },
  "debug.evaluate": {
    params: z.object({ runId: RunId, expression: z.string().describe("An expression in the node's template scope: $input, $nodes.fetch.status, $item…") }),
    result: z.object({ value: z.unknown() }),
    description: "Evaluates an expression in the paused node's template scope, in the run's sandbox. An error is -32000 with its code (E_CODE for a syntax error, E_TEMPLATE…); the run stays paused.",
  },
} as const;

/** `debug.paused`: a run paused before a node (or on its failure); answer with debug.continue|step|skip. */
export const DebugPausedNotification = z
  .object({
    jsonrpc: z.literal("2.0"),
    method: z.literal("debug.paused"),
    params: z
      .object({
        runId: z.string(),
        nodeId: z.string(),
        type: z.string(),
        reason: z.enum(["breakpoint", "step", "error"]),
        parameters: z.record(z.string(), z.unknown()).describe("As resolved for this execution (templates rendered, defaults filled)"),
        inputs: z.record(z.string(), z.unknown()).describe("By port"),
        iteration: z.number().int().optional(),
        item: z.unknown().optional().describe("Loop bodies: $item"),
        index: z.number().int().optional().describe("Loop bodies: $index"),
        error: z.object({ code: z.string(), message: z.string() }).loose().optional().describe("reason error: the failure"),
      })
      .loose(),
  })
  .meta({ title: "debug.paused" });
