/**
 * Typed errors. Every error atomiton raises on purpose is an `AtomitonError` with a stable
 * string `code` and a stated `retryable`; retry decisions and exit codes read the code or class,
 * never the message. `toNodeError` turns anything else thrown into the same shape.
 */
export const ErrorCode = {
  YAML: "E_YAML",
  ENCODING: "E_ENCODING",
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
  AUTH: "E_AUTH",
  PATH: "E_PATH",
  CONNECTION: "E_CONNECTION",
  QUEUE_UNAVAILABLE: "E_QUEUE_UNAVAILABLE",
  INTERNAL: "E_INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface AtomitonErrorOptions {
  /** Required at every throw site: false when trying again cannot help (bad input, 4xx, missing file…). */
  retryable: boolean;
  cause?: unknown;
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

  constructor(code: string, message: string, options: AtomitonErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // Plain JavaScript callers can leave it out; they get what any other thrown Error gets (toNodeError).
    this.retryable = typeof options?.retryable === "boolean" ? options.retryable : USER_ERRORS_RETRYABLE;
    this.hint = options?.hint;
    this.details = options?.details;
  }
}

/** Thrown by a node when retrying cannot help (bad parameters, missing file, HTTP 4xx). Code `E_NODE` unless given. */
export class NonRetryableError extends AtomitonError {
  override name = "NonRetryableError";
  constructor(message: string, options: Omit<AtomitonErrorOptions, "retryable"> & { code?: string } = {}) {
    super(options.code ?? ErrorCode.NODE, message, { ...options, retryable: false });
  }
}

/** Something took longer than allowed: a node's `timeout`, a request, a run, an infinite loop. */
export class TimeoutError extends AtomitonError {
  override name = "TimeoutError";
  constructor(message: string, options: AtomitonErrorOptions) {
    super(ErrorCode.TIMEOUT, message, options);
  }
}

/** An abort by the user, fail-fast or a finished graph; never retried. */
export class CancelledError extends AtomitonError {
  override name = "CancelledError";
  constructor(message = "cancelled", options: Omit<AtomitonErrorOptions, "retryable"> = {}) {
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

/** A thrown value that states neither code nor `retryable` (a user's `throw new Error("x")`, `throw "x"`) is retried under `retry:`. */
const USER_ERRORS_RETRYABLE = true;
const ERROR_CODE = /^E_[A-Z0-9_]+$/;

/**
 * The one way anything thrown becomes a node error: in the vm sandbox (an Error of another realm),
 * in a worker thread (sent as these fields, rebuilt by `fromNodeError`) or in a node's own code. An `AtomitonError` keeps its code and `retryable`; any other Error keeps an
 * `E_…` code and a boolean `retryable` it carries, else gets `E_NODE`, retryable; a thrown non-Error
 * (`throw "x"`, `throw 42`) is `E_NODE`, retryable, its value as the message.
 */
export function toNodeError(thrown: unknown): SerializedError {
  if (thrown instanceof AtomitonError) {
    const out: SerializedError = { code: thrown.code, message: thrown.message, retryable: thrown.retryable };
    if (thrown.hint !== undefined) out.hint = thrown.hint;
    if (thrown.details !== undefined) out.details = thrown.details;
    return out;
  }
  if (!isErrorInstance(thrown)) return { code: ErrorCode.NODE, message: describeThrown(thrown), retryable: USER_ERRORS_RETRYABLE };
  const e = thrown as Error & { code?: unknown; retryable?: unknown; hint?: unknown; details?: unknown };
  const out: SerializedError = {
    code: typeof e.code === "string" && ERROR_CODE.test(e.code) ? e.code : ErrorCode.NODE,
    message: String(e.message),
    retryable: typeof e.retryable === "boolean" ? e.retryable : USER_ERRORS_RETRYABLE,
  };
  if (typeof e.hint === "string") out.hint = e.hint;
  if (isPlainRecord(e.details)) out.details = e.details;
  if (typeof e.stack === "string") out.stack = e.stack;
  return out;
}

/** @deprecated Use `toNodeError`, the same function. */
export const toSerializedError = toNodeError;

/**
 * The receiving end of a node error sent across a thread or process boundary: an Error that
 * `toNodeError` turns back into exactly `error`, with the sender's `name` and stack.
 */
export function fromNodeError(error: SerializedError & { name?: string }): Error {
  const out = Object.assign(new Error(error.message), { code: error.code, retryable: error.retryable });
  if (error.name !== undefined) out.name = error.name;
  if (error.hint !== undefined) Object.assign(out, { hint: error.hint });
  if (error.details !== undefined) Object.assign(out, { details: error.details });
  if (error.stack !== undefined) out.stack = error.stack;
  else delete (out as { stack?: string }).stack; // a thrown non-Error had none; this host frame is not it
  return out;
}

/** Realm-safe (execa's `isErrorInstance`): Errors made in a vm context are not `instanceof Error` here. */
function isErrorInstance(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === "[object Error]";
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeThrown(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
