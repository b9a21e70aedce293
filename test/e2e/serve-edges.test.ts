import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { tempDir } from "../helpers/cli.js";
import { startServe, TestClient, type ServeProcess } from "../helpers/serve.js";

// Edges of `atomiton serve` found by fault hunting, each against a real server on loopback.
const SLOW = `name: slow
nodes:
  - { id: a, type: delay, parameters: { duration: 3s } }
`;

let dir: string;
let cleanup: () => Promise<void>;
let server: ServeProcess;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-serve-edges-"));
  await writeFile(path.join(dir, "slow.yaml"), SLOW);
  server = await startServe(["--data-dir", path.join(dir, "data")], { cwd: dir });
});

afterAll(async () => {
  await server?.stop();
  await cleanup?.();
});

test("run.wait with a timeout past setTimeout's 24.8-day limit waits instead of timing out at once", async () => {
  const c = await TestClient.open(server.url, { token: server.token });
  const { runId } = await c.request("run.start", { path: "slow.yaml", subscribe: false });
  for (const timeout of [3e9, "1000h"]) {
    const started = Date.now();
    const answer = await Promise.race([c.call("run.wait", { runId, timeout }), new Promise((resolve) => setTimeout(() => resolve("still waiting"), 500))]);
    expect(answer, `timeout ${timeout} answered after ${Date.now() - started} ms`).toBe("still waiting");
  }
  await c.request("run.cancel", { runId });
  c.close();
});
