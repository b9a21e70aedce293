/**
 * Typed errors. Every error atomiton raises on purpose is an `AtomitonError` with a stable
 * string `code`; retry decisions and exit codes read the code or class, never the message.
 */
export const ErrorCode = {
  YAML: "E_YAML",
  SCHEMA: "E_SCHEMA",
  UNKNOWN_TYPE: "E_UNKNOWN_TYPE",
  PARAM: "E_PARAM",
  EDGE: "E_EDGE",
  CYCLE: "E_CYCLE",
  REF: "E_REF",
  INVALID: "E_INVALID",
  USAGE: "E_USAGE",
  NOT_FOUND: "E_NOT_FOUND",
  STORAGE: "E_STORAGE",
  STORAGE_KEY: "E_STORAGE_KEY",
  TIMEOUT: "E_TIMEOUT",
  CANCELLED: "E_CANCELLED",
  NODE: "E_NODE",
  NODE_INPUT: "E_NODE_INPUT",
  CODE: "E_CODE",
  HTTP: "E_HTTP",
  HTTP_STATUS: "E_HTTP_STATUS",
  NETWORK: "E_NETWORK",
  COMMAND: "E_COMMAND",
  FILE: "E_FILE",
  IMAGE: "E_IMAGE",
  SPREADSHEET: "E_SPREADSHEET",
  SQL: "E_SQL",
  LLM: "E_LLM",
  LLM_SCHEMA: "E_LLM_SCHEMA",
  TEMPLATE: "E_TEMPLATE",
  UPSTREAM: "E_UPSTREAM",
  CUSTOM_NODE: "E_CUSTOM_NODE",
  NO_HANDLER: "E_NO_HANDLER",
  INTERNAL: "E_INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface AtomitonErrorOptions {
  cause?: unknown;
  /** When false the conductor never retries this error (bad input, 4xx, missing file…). */
  retryable?: boolean;
  /** A short fix hint shown under the message. */
  hint?: string;
  /** Extra structured fields kept in events and run records. */
  details?: Record<string, unknown>;
}

export class AtomitonError extends Error {
  override name = "AtomitonError";
  readonly code: string;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: AtomitonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? true;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** Thrown by a node when retrying cannot help (bad parameters, missing file, HTTP 4xx). */
export class NonRetryableError extends AtomitonError {
  override name = "NonRetryableError";
  constructor(message: string, options: Omit<AtomitonErrorOptions, "retryable"> & { code?: string } = {}) {
    super(options.code ?? ErrorCode.NODE, message, { ...options, retryable: false });
  }
}

/** A node's execution failed; carries where and on which attempt. */
export class NodeFailedError extends AtomitonError {
  override name = "NodeFailedError";
  readonly nodeId: string;
  readonly attempt: number;
  constructor(nodeId: string, attempt: number, cause: unknown) {
    const inner = toSerializedError(cause);
    super(inner.code, `node "${nodeId}" failed: ${inner.message}`, { cause, retryable: inner.retryable });
    this.nodeId = nodeId;
    this.attempt = attempt;
  }
}

/** An abort with a reason: timeout, cancellation by the user or fail-fast. */
export class TimeoutError extends AtomitonError {
  override name = "TimeoutError";
  constructor(message: string, options: AtomitonErrorOptions = {}) {
    super(ErrorCode.TIMEOUT, message, options);
  }
}

export class CancelledError extends AtomitonError {
  override name = "CancelledError";
  constructor(message = "cancelled", options: AtomitonErrorOptions = {}) {
    super(ErrorCode.CANCELLED, message, { ...options, retryable: false });
  }
}

/** The JSON shape of an error in events, records and reporters. */
export interface SerializedError {
  code: string;
  message: string;
  retryable: boolean;
  hint?: string;
  details?: Record<string, unknown>;
  stack?: string;
}

export function toSerializedError(error: unknown): SerializedError {
  if (error instanceof AtomitonError) {
    const out: SerializedError = { code: error.code, message: error.message, retryable: error.retryable };
    if (error.hint !== undefined) out.hint = error.hint;
    if (error.details !== undefined) out.details = error.details;
    return out;
  }
  if (error instanceof Error || isErrorLike(error)) {
    const e = error as Error & { code?: unknown };
    const code = typeof e.code === "string" && /^E_[A-Z_]+$/.test(e.code) ? e.code : ErrorCode.NODE;
    const out: SerializedError = { code, message: String(e.message), retryable: true };
    if (typeof e.stack === "string") out.stack = e.stack;
    return out;
  }
  return { code: ErrorCode.NODE, message: typeof error === "string" ? error : safeString(error), retryable: true };
}

function isErrorLike(v: unknown): v is { message: unknown } {
  // Errors thrown inside a vm context are not `instanceof Error` in this realm.
  return typeof v === "object" && v !== null && "message" in v && "stack" in v;
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
