import { AtomitonError, ErrorCode } from "../../errors.js";

/** 1-based line and column of PostgreSQL's error `position` (a 1-based character offset into the SQL sent). */
export function lineColumnAt(text: string, position: number): { line: number; column: number } {
  const lines = text.slice(0, Math.max(0, position - 1)).split("\n");
  return { line: lines.length, column: (lines.at(-1) ?? "").length + 1 };
}

/**
 * An E_SQL failure of one statement of a transaction, saying which: `… (statement 2 of 3)` on its
 * first line, `statement: 2` in its details. Other errors (a timeout, a cancel) pass unchanged.
 */
export function inStatement(error: unknown, index: number, count: number): unknown {
  if (!(error instanceof AtomitonError) || error.code !== ErrorCode.SQL || count < 2) return error;
  const [first = "", ...rest] = error.message.split("\n");
  return new AtomitonError(error.code, [`${first} (statement ${index + 1} of ${count})`, ...rest].join("\n"), {
    cause: error.cause,
    retryable: error.retryable,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    details: { ...error.details, statement: index + 1 },
  });
}
