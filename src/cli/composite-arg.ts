import path from "node:path";
import { loadComposite, loadCompositeFromBytes, type LoadOptions, type LoadResult } from "../composite/load-composite.js";
import { AtomitonError, ErrorCode } from "../errors.js";
import { MAX_STREAMED_BYTES } from "../read-file.js";

/** The composite argument that means "read it from stdin" (`cat flow.yaml | atomiton run -`). */
export const STDIN_ARG = "-";
/** How problems name a composite read from stdin: `<stdin>:3:5`. */
export const STDIN_NAME = "<stdin>";

/** The stdin slice `loadCompositeArg` reads (tests pass their own). */
export type StdinStream = NodeJS.ReadableStream & { isTTY?: boolean };

/**
 * The absolute path a composite argument stands for. `-` is `<cwd>/<stdin>`: its problems read
 * `<stdin>:line:col` and its `ref:` paths resolve against the current directory, as for a file there.
 */
export function compositePath(arg: string, cwd: string): string {
  return arg === STDIN_ARG ? path.join(cwd, STDIN_NAME) : path.resolve(cwd, arg);
}

/**
 * Load the composite an argument names: a file, or `-` for the text piped in on stdin. `-` with stdin
 * on a terminal, or with nothing piped in, is a usage error (exit 2) rather than a wait for typing or
 * an empty composite.
 */
export async function loadCompositeArg(arg: string, cwd: string, options: Omit<LoadOptions, "file"> = {}, stdin: StdinStream = process.stdin): Promise<LoadResult> {
  // "" would resolve to the current directory and be reported as one.
  if (arg.trim() === "") throw new AtomitonError(ErrorCode.USAGE, "the composite's path is empty", { retryable: false, hint: "give a composite file (atomiton run flow.yaml), or - to read it from stdin" });
  const file = compositePath(arg, cwd);
  if (arg !== STDIN_ARG) return loadComposite(file, options);
  return loadCompositeFromBytes(await readStdin(stdin), { ...options, file });
}

/**
 * With `-`, stdin carries the composite: a flag value that reads stdin too (`--input @/dev/stdin`,
 * `--pin id=@-`) would find it used up, and fail as "Unexpected end of JSON input". A usage error first.
 */
export function checkStdinReadOnce(flagValues: readonly string[]): void {
  const reader = flagValues.find((v) => /@(?:-|\/dev\/stdin|\/dev\/fd\/0|\/proc\/self\/fd\/0)$/.test(v));
  if (reader === undefined) return;
  throw new AtomitonError(ErrorCode.USAGE, `"${STDIN_ARG}" reads the composite from stdin, and ${reader} would read stdin too`, { retryable: false, hint: "give that value inline or from a file (--input '{\"a\":1}', --input @input.json)" });
}

const PIPE_HINT = "pipe the composite in (cat flow.yaml | atomiton run -), or give its file (atomiton run flow.yaml)";

async function readStdin(stdin: StdinStream): Promise<Buffer> {
  if (stdin.isTTY) {
    throw new AtomitonError(ErrorCode.USAGE, `"${STDIN_ARG}" reads the composite from stdin, and stdin is a terminal`, { retryable: false, hint: PIPE_HINT });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_STREAMED_BYTES) {
      throw new AtomitonError(ErrorCode.USAGE, `stdin gave more than ${MAX_STREAMED_BYTES / 1024 / 1024} MiB: that is not a composite`, { retryable: false, hint: PIPE_HINT });
    }
    chunks.push(bytes);
  }
  if (size === 0) {
    throw new AtomitonError(ErrorCode.USAGE, `"${STDIN_ARG}" reads the composite from stdin, and stdin gave nothing (empty or closed)`, { retryable: false, hint: PIPE_HINT });
  }
  return Buffer.concat(chunks);
}
