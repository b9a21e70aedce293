import { z } from "zod";
import { durationSchema } from "../js/duration.js";
import { DEBUG_METHODS } from "./debug-protocol.js";

/**
 * The run protocol of SPEC §9 as zod schemas: the single source of every method's params and
 * result, of the `run.event` notification, and of `schema/protocol.json` (generated, never by hand).
 */

/** Bumped only for an incompatible change of a method, a message shape or a code. */
export const PROTOCOL_VERSION = 1;

/** JSON-RPC 2.0 error codes the server answers with (SPEC §9 "Errors"). */
export const RpcErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** A runner error: `data.code` is the `E_…` code, `data.problems` the validation problems. */
  runnerError: -32000,
} as const;
export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

/** WebSocket close codes (SPEC §9). */
export const CloseCode = {
  normal: 1000,
  /** Server shutting down. */
  goingAway: 1001,
  /** A frame over the 1 MiB limit. */
  messageTooBig: 1009,
  /** Wrong or missing token (or no `auth` message within 2 s). */
  unauthorized: 4401,
  /** An `Origin` that is not allowed with `--allow-origin`. */
  forbiddenOrigin: 4403,
  /** The send buffer stayed full for 10 s. */
  slowClient: 4408,
} as const;

/** Largest frame (and stdio line) the server reads. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

const RunId = z.string().min(1).max(200).describe("A run id, e.g. 20261124T113205-3f9a2c");


export const ProblemSchema = z
  .object({
    code: z.string().describe("E_YAML, E_SCHEMA, E_UNKNOWN_TYPE, E_PARAM, E_EDGE, E_CYCLE, E_REF, W_…"),
    severity: z.enum(["error", "warning"]),
    message: z.string(),
    line: z.number().int(),
    col: z.number().int(),
    hint: z.string().optional(),
    file: z.string().optional(),
    path: z.string().optional().describe("Dotted path into the document, e.g. nodes[2].parameters.url"),
  })
  .meta({ title: "Problem" });

const RunFinishPayload = z
  .object({
    runId: z.string(),
    ts: z.number(),
    status: z.enum(["succeeded", "failed", "cancelled"]),
    durationMs: z.number(),
    output: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).loose().optional(),
    counts: z.object({ succeeded: z.number(), failed: z.number(), skipped: z.number(), cancelled: z.number() }),
  })
  .loose()
  .meta({ title: "RunFinish", description: "The run:finish event payload (SPEC §5)" });

/** Params and result of every method, by name. Params objects strip keys they do not know. */
export const METHODS = {
  auth: {
    params: z.object({ token: z.string() }),
    result: z.object({ ok: z.literal(true) }),
    description: "First message of a WebSocket client that could not send the Authorization header (browsers). Within 2 s, else close 4401.",
  },
  initialize: {
    params: z.object({ client: z.object({ name: z.string(), version: z.string() }).partial().optional() }),
    result: z.object({
      server: z.object({ name: z.string(), version: z.string() }),
      protocol: z.literal(PROTOCOL_VERSION),
      nodeTypes: z.array(z.string()),
    }),
    description: "Says hello; returns the server's version, the protocol version and the node types it can run.",
  },
  validate: {
    params: z
      .object({ text: z.string().optional().describe("Composite YAML"), path: z.string().optional().describe("A file inside the server's workdir") })
      .refine((p) => (p.text === undefined) !== (p.path === undefined), { message: "give exactly one of `text` or `path`" }),
    result: z.object({ ok: z.boolean(), problems: z.array(ProblemSchema) }),
    description: "Validates a composite without running it: every problem with its location.",
  },
  "run.start": {
    params: z
      .object({
        path: z.string().optional().describe("A composite file inside the server's workdir"),
        text: z.string().optional().describe("Composite YAML"),
        compositeId: z.string().optional().describe("A composite stored under composites/<id>.yaml"),
        file: z.string().optional().describe("With text: its file name (relative), used in locations and as the base of `files`"),
        files: z.record(z.string(), z.string()).optional().describe("With text: the `ref:` files it includes, by path relative to `file`'s directory"),
        input: z.unknown().optional().describe("The run input: root nodes receive it"),
        vars: z.record(z.string(), z.unknown()).optional().describe("Variable overrides, coerced to each variable's declared type"),
        set: z.record(z.string(), z.unknown()).optional().describe('Parameter overrides: { "node.param": value }'),
        concurrency: z.number().int().min(1).optional(),
        timeout: durationSchema.optional(),
        subscribe: z.boolean().default(true).describe("Subscribe the caller to the run's events from seq 0 (default true)"),
      })
      .refine((p) => [p.path, p.text, p.compositeId].filter((v) => v !== undefined).length === 1, { message: "give exactly one of `path`, `text` or `compositeId`" }),
    result: z.object({ runId: RunId }),
    description: "Validates and starts a run; answers at once with its id. An invalid composite starts nothing: -32000 with data.problems.",
  },
  "run.cancel": {
    params: z.object({ runId: RunId }),
    result: z.object({ status: z.enum(["cancelling", "succeeded", "failed", "cancelled"]) }),
    description: "Cancels a run in flight (its nodes abort, child processes are killed); it then finishes as `cancelled`. A finished run answers its final status.",
  },
  "run.wait": {
    params: z.object({ runId: RunId, timeout: durationSchema.optional() }),
    result: RunFinishPayload,
    description: "Waits for a run to finish and returns its run:finish payload. A timeout is -32000 E_TIMEOUT; `timeout: 0` waits without one.",
  },
  "runs.list": {
    params: z.object({ limit: z.number().int().min(1).max(10_000).optional(), status: z.enum(["succeeded", "failed", "cancelled", "running", "abandoned"]).optional() }),
    result: z.array(z.object({ runId: z.string(), name: z.string(), status: z.string(), startedAt: z.string(), durationMs: z.number().optional() })),
    description: "Stored runs, newest startedAt first, then run id, as atomiton runs lists them (default limit 20). A running record whose run is known to be dead (its process is gone, or its heartbeat stopped) is listed as abandoned.",
  },
  "runs.get": {
    params: z.object({ runId: RunId }),
    result: z.object({ runId: z.string(), status: z.string(), nodes: z.record(z.string(), z.unknown()) }).loose().meta({ title: "RunRecord" }),
    description: "The stored run record (runs/<runId>.json); status abandoned when it says running but its run is known to be dead.",
  },
  "events.subscribe": {
    params: z.union([
      z.object({ runId: RunId, fromSeq: z.number().int().min(0).optional().describe("Replay the stored events from this seq, then go on live") }),
      z.object({ all: z.literal(true).describe("Every run's events from now on") }),
    ]),
    result: z.object({ subscription: z.string() }),
    description: "Receive run.event notifications: one run's (replayed from fromSeq, then live, no gap, no duplicate) or all runs'. A replay whose stored log cannot be read ends with an events.error notification; a run that ends without run:finish (its process was killed) with an events.end notification.",
  },
  "events.unsubscribe": {
    params: z.object({ subscription: z.string() }),
    result: z.object({}),
    description: "Stops a subscription.",
  },
  "nodes.list": {
    params: z.object({}),
    result: z.array(z.object({ type: z.string(), title: z.string(), category: z.string() }).loose()),
    description: "The catalog as `atomiton nodes --json` prints it.",
  },
  ...DEBUG_METHODS,
} as const;

export type MethodName = keyof typeof METHODS;
export type MethodParams<M extends MethodName> = z.output<(typeof METHODS)[M]["params"]>;
export type MethodResult<M extends MethodName> = z.input<(typeof METHODS)[M]["result"]>;

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

/** `run.event`: one §5 event of a run, with its per-run `seq` (from 0, no gaps). */
export const RunEventNotification = z
  .object({
    jsonrpc: z.literal("2.0"),
    method: z.literal("run.event"),
    params: z.object({
      runId: z.string(),
      seq: z.number().int().min(0).describe("Per run, from 0, without gaps; an events:dropped marker carries its toSeq"),
      event: z.union([
        z.object({ type: z.string().describe("run:start, node:start, node:progress, node:log, node:retry, node:finish, run:finish"), runId: z.string(), ts: z.number() }).loose(),
        z
          .object({ type: z.literal("events:dropped"), count: z.number().int(), fromSeq: z.number().int(), toSeq: z.number().int() })
          .describe("node:progress / node:log events a slow client missed; fetch them with events.subscribe fromSeq"),
      ]),
    }),
  })
  .meta({ title: "run.event" });

/** `events.error`: a subscription's replay could not read the stored event log; the subscription has ended. */
export const EventsErrorNotification = z
  .object({
    jsonrpc: z.literal("2.0"),
    method: z.literal("events.error"),
    params: z.object({
      subscription: z.string(),
      runId: z.string(),
      seq: z.number().int().min(0).describe("The first seq this subscription did not deliver: subscribe again from it (events.subscribe fromSeq)"),
      error: z.object({
        code: z.number().int().describe("-32000"),
        message: z.string(),
        data: z.object({ code: z.string().describe("E_STORAGE"), hint: z.string().optional() }).loose(),
      }),
    }),
  })
  .meta({ title: "events.error" });

/**
 * `events.end`: a subscription's run ends without a `run:finish` (its process died: `abandoned`); the
 * subscription has ended. A run that finishes ends with its `run:finish` event instead, as ever.
 */
export const EventsEndNotification = z
  .object({
    jsonrpc: z.literal("2.0"),
    method: z.literal("events.end"),
    params: z.object({
      subscription: z.string(),
      runId: z.string(),
      seq: z.number().int().min(0).describe("One past the last seq the run's stored event log holds: no event of this run will carry it"),
      status: z.string().describe("How the run ended, as runs.get shows it: abandoned (its process died before the run finished, killed or its host gone), or the record's final status when only the log lacks its run:finish"),
      message: z.string(),
    }),
  })
  .meta({ title: "events.end" });

export const RpcErrorSchema = z
  .object({
    jsonrpc: z.literal("2.0"),
    id: z.union([z.string(), z.number(), z.null()]),
    error: z.object({
      code: z.number().int().describe("-32700 parse error, -32600 invalid request, -32601 unknown method, -32602 invalid params, -32603 internal, -32000 runner error"),
      message: z.string(),
      data: z
        .object({ code: z.string().describe("E_… for -32000"), problems: z.array(ProblemSchema).optional(), hint: z.string().optional() })
        .loose()
        .optional(),
    }),
  })
  .meta({ title: "error response" });
