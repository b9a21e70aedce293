import { constants, createReadStream, openSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { Socket } from "node:net";
import { isatty, ReadStream as TtyReadStream } from "node:tty";
import type { Readable } from "node:stream";

/** The most a file read here may hold: a device or a pipe with no end stops here, and a bigger file is refused. */
export const MAX_STREAMED_BYTES = 256 * 1024 * 1024;

/** A file over MAX_STREAMED_BYTES: a regular file of that size, or a pipe or a device that gave more. */
export class StreamTooLargeError extends Error {
  readonly code = "E2BIG";
  constructor(
    readonly file: string,
    size?: number,
  ) {
    const cap = `${MAX_STREAMED_BYTES / 1024 / 1024} MiB`;
    super(size === undefined ? `it gave more than ${cap} without ending (a device, or a pipe that does not end?)` : `it is ${Math.round(size / 1024 / 1024)} MiB, over the ${cap} a file read here may be`);
  }
}

/**
 * The bytes of a file the user named: a regular file, a named pipe (`mkfifo`, `<(cmd)`, `/dev/stdin`)
 * or a device.
 *
 * `fs.readFile` opens a pipe on one of libuv's pool threads, and that open waits for a writer; a
 * terminal is read there too, and that read waits for a line. A pool thread blocked so is never
 * freed, and the process's exit waits for it: Ctrl-C or SIGTERM left `atomiton validate fifo`
 * hanging, for `kill -9` only. So a pipe is opened without waiting (O_NONBLOCK) and read on the event
 * loop, as a socket, and a terminal as a TTY stream: they wait for their writer without holding a
 * thread, and an interrupt ends the process at once. (Linux reports the end of such a pipe only once
 * a writer has come and gone, so a writer that connects later is still read.) A device that never
 * ends (`/dev/zero`) stops at MAX_STREAMED_BYTES instead of filling memory. `signal` ends the wait
 * (a node's timeout or cancellation).
 */
export async function readUserFile(file: string, signal?: AbortSignal): Promise<Buffer> {
  const info = await stat(file);
  if (info.isFile()) {
    if (info.size > MAX_STREAMED_BYTES) throw new StreamTooLargeError(file, info.size);
    return readFile(file);
  }
  if (info.isDirectory()) return readFile(file); // EISDIR, as callers expect
  const pipe = info.isFIFO() || info.isSocket();
  // A socket cannot be opened by its name (ENXIO): /dev/stdin of a process whose parent gave it a
  // socket pair (Node's `spawn` with a piped stdin, execa's `input`) is read from its descriptor.
  const fd = (info.isSocket() ? ownDescriptor(file) : undefined) ?? openSync(file, constants.O_RDONLY | (pipe ? constants.O_NONBLOCK : 0));
  const stream: Readable = pipe ? new Socket({ fd, readable: true, writable: false }) : isatty(fd) ? new TtyReadStream(fd) : createReadStream("", { fd });
  const chunks: Buffer[] = [];
  let size = 0;
  const onAbort = (): void => void stream.destroy(signal!.reason instanceof Error ? signal!.reason : new Error("aborted"));
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_STREAMED_BYTES) return reject(new StreamTooLargeError(file));
        chunks.push(chunk);
      });
      stream.once("end", () => resolve(Buffer.concat(chunks)));
      stream.once("error", reject);
    });
  } finally {
    signal?.removeEventListener("abort", onAbort);
    stream.destroy();
  }
}

/** The descriptor `/dev/stdin`, `/dev/fd/<n>` or `/proc/self/fd/<n>` names, else undefined. */
function ownDescriptor(file: string): number | undefined {
  const m = /^\/dev\/(?:stdin|fd\/(\d+))$|^\/proc\/self\/fd\/(\d+)$/.exec(file);
  return m === null ? undefined : Number(m[1] ?? m[2] ?? 0);
}

/** `readUserFile` as UTF-8 text. */
export async function readUserText(file: string): Promise<string> {
  return (await readUserFile(file)).toString("utf8");
}
