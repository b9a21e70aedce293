/**
 * The lines of NDJSON bytes (an event log), each decoded on its own: a log over V8's longest string
 * (512 MiB, a run whose commands printed millions of lines) cannot be decoded as one text first. A
 * newline byte is never part of a multi-byte UTF-8 character, so cutting at one splits none.
 * `complete`: only the lines that end with a newline (a line still being written is left out), and
 * `bytes` tells how far they reach. Without it the text after the last newline is a line too.
 */
export function ndjsonLines(data: Uint8Array, complete = false): { lines: string[]; bytes: number } {
  const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const lines: string[] = [];
  let start = 0;
  while (start < buffer.length) {
    const newline = buffer.indexOf(10, start);
    if (newline === -1) {
      if (!complete) {
        lines.push(buffer.toString("utf8", start));
        start = buffer.length;
      }
      break;
    }
    lines.push(buffer.toString("utf8", start, newline));
    start = newline + 1;
  }
  return { lines, bytes: start };
}
