import { connect } from "node:net";
import { describe, expect, test } from "vitest";
import { startServe } from "../helpers/serve.js";

// `atomiton serve` logs what an unauthenticated client sends (its Origin header): a byte 0x9b there
// arrives as U+009B, the 8-bit CSI, and reached the operator's terminal as a control sequence.

/** Sends a WebSocket upgrade whose Origin header ends in the raw bytes `tail`; resolves at the reply. */
function upgradeWithOrigin(port: number, tail: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      const head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://evil";
      socket.write(Buffer.concat([Buffer.from(head, "latin1"), tail, Buffer.from("\r\n\r\n", "latin1")]));
    });
    socket.once("data", (d) => {
      socket.destroy();
      resolve(String(d));
    });
    socket.once("error", reject);
  });
}

describe("serve's log lines", () => {
  test("a refused Origin with a C1 control shows it escaped", async () => {
    const serve = await startServe(["--storage", "memory"]);
    try {
      await upgradeWithOrigin(serve.port, Buffer.from([0x9b, 0x32, 0x4a]));
      await expect.poll(() => serve.stderr(), { timeout: 30_000 }).toContain("refused origin");
      const line = serve.stderr().split("\n").find((l) => l.includes("refused origin"))!;
      expect(line).toContain(String.raw`refused origin http://evil\x9b2J (4403)`);
      expect(line).not.toMatch(/[\u0080-\u009f\u001b]/);
    } finally {
      await serve.stop();
    }
  });
});
