import { RpcErrorCode } from "./protocol.js";

/** A JSON-RPC id: a request has one; a notification has none. */
export type RpcId = string | number | null;

export interface RpcErrorData {
  code?: string;
  problems?: unknown[];
  hint?: string;
  [key: string]: unknown;
}

/** An error that becomes a JSON-RPC error response as it is. */
export class RpcError extends Error {
  override name = "RpcError";
  constructor(
    readonly code: number,
    message: string,
    readonly data?: RpcErrorData,
  ) {
    super(message);
  }
}

export interface RpcRequest {
  /** Absent for a notification (no response is sent). */
  id?: RpcId;
  method: string;
  params: unknown;
}

/** `notification`: a well-formed request without `id`, never answered, not even with its error. */
export type ParsedMessage = { ok: true; request: RpcRequest } | { ok: false; id: RpcId; error: RpcError; notification?: true };

/** Reads one incoming message (untrusted text): a request or notification, or the error to answer with. */
export function parseRpcMessage(text: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, id: null, error: new RpcError(RpcErrorCode.parseError, `parse error: ${(error as Error).message}`) };
  }
  if (Array.isArray(value)) {
    return { ok: false, id: null, error: new RpcError(RpcErrorCode.invalidRequest, "invalid request: batches are not supported; send one message per frame (or line)") };
  }
  if (value === null || typeof value !== "object") {
    return { ok: false, id: null, error: new RpcError(RpcErrorCode.invalidRequest, "invalid request: a message is a JSON object") };
  }
  const m = value as Record<string, unknown>;
  const hasId = Object.hasOwn(m, "id");
  const id = m.id;
  if (hasId && id !== null && typeof id !== "string" && !(typeof id === "number" && Number.isFinite(id))) {
    return { ok: false, id: null, error: new RpcError(RpcErrorCode.invalidRequest, "invalid request: `id` must be a string, a number or null") };
  }
  const replyId = (hasId ? id : null) as RpcId;
  if (m.jsonrpc !== "2.0") return { ok: false, id: replyId, error: new RpcError(RpcErrorCode.invalidRequest, 'invalid request: `jsonrpc` must be "2.0"') };
  if (typeof m.method !== "string" || m.method === "") return { ok: false, id: replyId, error: new RpcError(RpcErrorCode.invalidRequest, "invalid request: `method` must be a non-empty string") };
  if (m.params !== undefined && (m.params === null || typeof m.params !== "object" || Array.isArray(m.params))) {
    const error = new RpcError(RpcErrorCode.invalidParams, "invalid params: `params` must be an object (by-name parameters)");
    return hasId ? { ok: false, id: replyId, error } : { ok: false, id: null, error, notification: true };
  }
  const request: RpcRequest = { method: m.method, params: m.params ?? {} };
  if (hasId) request.id = id as RpcId;
  return { ok: true, request };
}

export function renderResult(id: RpcId, result: unknown): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result ?? null)}}`;
}

export function renderError(id: RpcId, error: RpcError): string {
  const body: { code: number; message: string; data?: RpcErrorData } = { code: error.code, message: error.message };
  if (error.data !== undefined) body.data = error.data;
  return JSON.stringify({ jsonrpc: "2.0", id, error: body });
}

export function renderNotification(method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", method, params });
}

/** A `run.event` notification around an event already serialized as JSON text (shared by every subscriber). */
export function renderRunEvent(runId: string, seq: number, eventJson: string): string {
  return `${runEventPrefix(runId)}${seq}${RUN_EVENT_MIDDLE}${eventJson}${RUN_EVENT_END}`;
}

/**
 * The start of a run's `run.event` notifications, up to the seq (`renderRunEvent`'s text is this,
 * the seq, RUN_EVENT_MIDDLE, the event, RUN_EVENT_END). The same for every event of a run: kept for
 * the last run id seen.
 */
export function runEventPrefix(runId: string): string {
  if (runId !== lastRunId) {
    lastRunId = runId;
    lastPrefix = `{"jsonrpc":"2.0","method":"run.event","params":{"runId":${JSON.stringify(runId)},"seq":`;
  }
  return lastPrefix;
}
let lastRunId: string | undefined;
let lastPrefix = "";

export const RUN_EVENT_MIDDLE = ',"event":';
export const RUN_EVENT_END = "}}";
