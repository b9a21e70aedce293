import { constants, openSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { Socket } from "node:net";

/**
 * The bytes of a file the user named: a regular file, or a named pipe (`mkfifo`, `<(cmd)`, `/dev/stdin`).
 *
 * `fs.readFile` opens a pipe on one of libuv's pool threads, and that open waits for a writer. A pipe
 * no one writes to held a pool thread for good, and an exit then waits for it: Ctrl-C or SIGTERM
 * left `atomiton validate fifo` hanging, for `kill -9` only. So a pipe is opened without waiting
 * (O_NONBLOCK) and read on the event loop, as a socket: it waits for its writer without holding a
 * thread, and any interrupt ends the process at once. Linux reports end of file on such a pipe only
 * once a writer has come and gone, so a writer that connects later is still read.
 */
export async function readUserFile(file: string): Promise<Buffer> {
  const info = await stat(file);
  if (!info.isFIFO() && !info.isSocket()) return readFile(file);
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  const pipe = new Socket({ fd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  return new Promise<Buffer>((resolve, reject) => {
    pipe.on("data", (chunk: Buffer) => chunks.push(chunk));
    pipe.once("end", () => resolve(Buffer.concat(chunks)));
    pipe.once("error", reject);
  }).finally(() => pipe.destroy());
}

/** `readUserFile` as UTF-8 text. */
export async function readUserText(file: string): Promise<string> {
  return (await readUserFile(file)).toString("utf8");
}
