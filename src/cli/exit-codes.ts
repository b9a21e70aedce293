/** Process exit codes (SPEC §7). Only src/cli sets process.exitCode. */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  invalid: 2,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
