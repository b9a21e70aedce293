import { z } from "zod";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { EventBus } from "../events/create-event-bus.js";
import type { Connection } from "./connection.js";
import { parseRpcMessage, renderError, renderResult, RpcError, type RpcId } from "./json-rpc.js";
import { isMethodName, METHODS, RpcErrorCode, type MethodName } from "./protocol.js";

/** One client's side of the server: its connection, and a signal aborted when it leaves. */
export interface Session {
  readonly connection: Connection;
  readonly signal: AbortSignal;
}

/** What a method handler gets through the bus, and what it answers. */
export interface MethodCall {
  params: unknown;
  session: Session;
}
export interface MethodAnswer {
  result: unknown;
  /** Runs once the answer is sent (starting a run, replaying events): the answer comes first. */
  after?: () => void;
}

/** The bus request name a method is answered under. */
export const requestName = (method: MethodName): string => `rpc:${method}`;

/**
 * Reads one message of a session and answers it: parse (-32700, -32600), find the method (-32601),
 * check its params with the method's zod schema (-32602), then `bus.request` the handler and turn
 * what it throws into -32000 `{ code, problems?, hint? }`. Notifications get no answer.
 */
export async function dispatchMessage(bus: EventBus<object>, session: Session, text: string): Promise<void> {
  const parsed = parseRpcMessage(text);
  if (!parsed.ok) {
    if (!parsed.notification) session.connection.send(renderError(parsed.id, parsed.error));
    return;
  }
  const { request } = parsed;
  const reply = (message: string) => {
    if (request.id !== undefined) session.connection.send(message);
  };
  const id: RpcId = request.id ?? null;
  if (!isMethodName(request.method) || request.method === "auth") {
    // `auth` is answered by the transport before a session exists; later it is merely accepted.
    if (request.method === "auth") return reply(renderResult(id, { ok: true }));
    return reply(renderError(id, new RpcError(RpcErrorCode.methodNotFound, `unknown method "${request.method}"`, { code: "E_UNKNOWN_METHOD", hint: `methods: ${Object.keys(METHODS).filter((m) => m !== "auth").join(", ")}` })));
  }
  const schema = METHODS[request.method].params as z.ZodType;
  const params = schema.safeParse(request.params);
  if (!params.success) {
    return reply(renderError(id, new RpcError(RpcErrorCode.invalidParams, `invalid params for ${request.method}: ${describeIssues(params.error)}`, { code: "E_PARAMS", issues: params.error.issues })));
  }
  let answer: MethodAnswer;
  try {
    const call: MethodCall = { params: params.data, session };
    answer = (await bus.request(requestName(request.method) as never, call as never, { timeout: Number.POSITIVE_INFINITY })) as MethodAnswer;
  } catch (error) {
    return reply(renderError(id, toRpcError(error)));
  }
  reply(renderResult(id, answer.result));
  answer.after?.();
}

/** What a handler threw, as a JSON-RPC error: runner errors are -32000 with their `E_…` code. */
export function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof AtomitonError) {
    const data: { code: string; problems?: unknown[]; hint?: string } = { code: error.code };
    const problems = error.details?.problems;
    if (Array.isArray(problems)) data.problems = problems;
    if (error.hint !== undefined) data.hint = error.hint;
    const code = error.code === ErrorCode.USAGE ? RpcErrorCode.invalidParams : RpcErrorCode.runnerError;
    return new RpcError(code, error.message, data);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RpcError(RpcErrorCode.internalError, `internal error: ${message}`, { code: ErrorCode.INTERNAL, hint: "this is a bug in atomiton serve; please report it" });
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}
