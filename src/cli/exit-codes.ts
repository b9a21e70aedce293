import { ErrorCode } from "../errors.js";

/** Process exit codes (SPEC §7). Only src/cli sets process.exitCode. */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  invalid: 2,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code of an error that ends a command, by its code: 2 when the command line, a
 * composite or a config is wrong (fix the input, run again), 130 when cancelled, 1 when the work
 * itself failed (a run, storage, a file, the network). Every `ErrorCode` is listed, so a new code
 * cannot be added without this decision; a code from elsewhere (a custom node) is 1.
 * README.md "Exit codes" documents this table.
 */
export const EXIT_CODE_BY_ERROR: Readonly<Record<ErrorCode, ExitCode>> = {
  [ErrorCode.YAML]: ExitCode.invalid,
  [ErrorCode.ENCODING]: ExitCode.invalid,
  [ErrorCode.SCHEMA]: ExitCode.invalid,
  [ErrorCode.UNKNOWN_TYPE]: ExitCode.invalid,
  [ErrorCode.PARAM]: ExitCode.invalid,
  [ErrorCode.EDGE]: ExitCode.invalid,
  [ErrorCode.CYCLE]: ExitCode.invalid,
  [ErrorCode.REF]: ExitCode.invalid,
  [ErrorCode.INVALID]: ExitCode.invalid,
  [ErrorCode.USAGE]: ExitCode.invalid,
  [ErrorCode.NOT_FOUND]: ExitCode.invalid,
  [ErrorCode.STORAGE_KEY]: ExitCode.invalid,
  [ErrorCode.CUSTOM_NODE]: ExitCode.invalid,
  [ErrorCode.AUTH]: ExitCode.invalid,
  [ErrorCode.PATH]: ExitCode.invalid,
  [ErrorCode.CANCELLED]: ExitCode.interrupted,
  [ErrorCode.STORAGE]: ExitCode.runFailed,
  [ErrorCode.TIMEOUT]: ExitCode.runFailed,
  [ErrorCode.NODE]: ExitCode.runFailed,
  [ErrorCode.NODE_INPUT]: ExitCode.runFailed,
  [ErrorCode.CODE]: ExitCode.runFailed,
  [ErrorCode.HTTP]: ExitCode.runFailed,
  [ErrorCode.HTTP_STATUS]: ExitCode.runFailed,
  [ErrorCode.NETWORK]: ExitCode.runFailed,
  [ErrorCode.COMMAND]: ExitCode.runFailed,
  [ErrorCode.FILE]: ExitCode.runFailed,
  [ErrorCode.IMAGE]: ExitCode.runFailed,
  [ErrorCode.SPREADSHEET]: ExitCode.runFailed,
  [ErrorCode.TEMPLATE]: ExitCode.runFailed,
  [ErrorCode.UPSTREAM]: ExitCode.runFailed,
  [ErrorCode.NO_HANDLER]: ExitCode.runFailed,
  [ErrorCode.SQL]: ExitCode.runFailed,
  [ErrorCode.LLM]: ExitCode.runFailed,
  [ErrorCode.LLM_SCHEMA]: ExitCode.runFailed,
  [ErrorCode.CONNECTION]: ExitCode.runFailed,
  [ErrorCode.QUEUE_UNAVAILABLE]: ExitCode.runFailed,
  [ErrorCode.INTERNAL]: ExitCode.runFailed,
};

/** The exit code for an error code (see `EXIT_CODE_BY_ERROR`); unknown codes are run failures. */
export function exitCodeFor(code: string): ExitCode {
  return Object.hasOwn(EXIT_CODE_BY_ERROR, code) ? EXIT_CODE_BY_ERROR[code as ErrorCode] : ExitCode.runFailed;
}
