import type { Readable, Writable } from "node:stream";
import type { RunServer } from "./create-run-server.js";
import { renderError, RpcError } from "./json-rpc.js";
import { CloseCode, MAX_MESSAGE_BYTES, RpcErrorCode } from "./protocol.js";

export interface StdioOptions {
  server: RunServer;
  input: Readable;
  /** Gets one JSON message per line and nothing else (logs go to stderr). */
  output: Writable;
  /** Longest line read; a longer one is answered with -32600 and skipped. Default 1 MiB. */
  maxLine?: number;
}

/** Why serving stdio ended: stdin ended, or the parent stopped reading stdout (the 4408 condition). */
export type StdioEnd = { reason: "eof" } | { reason: "slow-reader"; message: string };

/**
 * `atomiton serve --stdio`: the same protocol, one JSON-RPC message per line on stdin/stdout (as
 * LSP and MCP hosts spawn their servers). No token: whoever spawned the process owns the pipe.
 * Resolves when stdin ends, or when the connection is closed for a parent that does not read
 * stdout (a pipe has no close code: the caller says why on stderr and shuts down).
 */
export function serveStdio(options: StdioOptions): Promise<StdioEnd> {
  const { input, output } = options;
  const maxLine = options.maxLine ?? MAX_MESSAGE_BYTES;
  let slow: ((end: StdioEnd) => void) | undefined;
  const client = options.server.connect({
    send: (text) => {
      if (!output.writableEnded) output.write(`${text}\n`);
    },
    bufferedAmount: () => output.writableLength,
    close: (code, reason) => {
      output.end();
      if (code === CloseCode.slowClient) slow?.({ reason: "slow-reader", message: reason });
    },
  });
  // Messages still being answered: a run.start read just before the end of stdin must be started
  // (and counted in flight) before the caller learns that stdin ended, or its run goes unwaited.
  const answering = new Set<Promise<void>>();
  const receive = (text: string): void => {
    const answered: Promise<void> = client.receive(text).finally(() => answering.delete(answered));
    answering.add(answered);
  };
  // The line read so far, and its size in UTF-8 bytes (the limit is in bytes, as for a frame).
  let buffered = "";
  let bufferedBytes = 0;
  let skipping = false;
  const tooBig = () =>
    client.connection.send(renderError(null, new RpcError(RpcErrorCode.invalidRequest, `invalid request: a line over ${maxLine} bytes was skipped`, { code: "E_TOO_BIG" })));
  const take = (line: string): void => {
    if (Buffer.byteLength(line) > maxLine) tooBig();
    else if (line.trim() !== "") receive(line.replace(/\r$/, ""));
  };

  input.setEncoding("utf8");
  input.on("data", (chunk: string) => {
    let start = 0;
    for (let nl = chunk.indexOf("\n"); nl !== -1; nl = chunk.indexOf("\n", start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      const line = buffered + piece;
      buffered = "";
      bufferedBytes = 0;
      if (skipping) skipping = false;
      else take(line);
    }
    if (skipping) return;
    const rest = chunk.slice(start);
    buffered += rest;
    bufferedBytes += Buffer.byteLength(rest);
    if (bufferedBytes > maxLine) {
      // Keep memory bounded: drop the rest of this line.
      tooBig();
      buffered = "";
      bufferedBytes = 0;
      skipping = true;
    }
  });
  return new Promise<StdioEnd>((resolve) => {
    slow = resolve;
    // A client that leaves releases its runs (docs/protocol.md): one paused at its breakpoint goes on.
    const ended = (): void =>
      void Promise.allSettled(answering).then(() => {
        client.inputEnded();
        resolve({ reason: "eof" });
      });
    input.once("end", () => {
      // A last line without its newline is held to the same limit.
      if (!skipping) take(buffered);
      ended();
    });
    input.once("close", ended);
  });
}
