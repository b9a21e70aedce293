import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, tempDir } from "../helpers/cli.js";
import { startServe, type ServeProcess } from "../helpers/serve.js";

// examples/protocol-client.mjs was written from docs/protocol.md alone. Run it against the built
// server: it starts a run, follows its events and cancels it (or lets it finish).
const STEPS = `name: steps
nodes:
  - { id: one, type: shell-command, parameters: { command: "echo one; sleep 0.3" } }
  - { id: two, type: shell-command, parameters: { command: "echo two; sleep 5" } }
  - { id: three, type: shell-command, parameters: { command: "echo three" } }
edges:
  - one -> two
  - two -> three
`;

let dir: string;
let cleanup: () => Promise<void>;
let server: ServeProcess;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-docs-client-"));
  await writeFile(path.join(dir, "steps.yaml"), STEPS);
  server = await startServe(["--data-dir", path.join(dir, "data")], { cwd: dir });
});

afterAll(async () => {
  await server?.stop();
  await cleanup?.();
});

const client = (...args: string[]) =>
  execa("node", [path.join(ROOT, "examples/protocol-client.mjs"), server.url, server.token, "steps.yaml", ...args], { cwd: dir, reject: false, timeout: 60_000 });

/** The `seq=N type` lines the client printed, in order. */
const events = (stdout: string) => [...stdout.matchAll(/^seq=(\d+) (\S+)/gm)].map((m) => ({ seq: Number(m[1]), type: m[2] }));

describe("a client written from docs/protocol.md", () => {
  test("starts a run, follows it and cancels it; run:finish is the last event", async () => {
    const r = await client("--cancel");
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const seen = events(r.stdout);
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i));
    expect(seen.at(-1)?.type).toBe("run:finish");
    expect(r.stdout).toMatch(/run\.wait -> status=cancelled/);
    expect(r.stdout).toMatch(/runs\.get -> status=cancelled nodes=\{"one":"succeeded","two":"cancelled","three":"cancelled"\}/);
  });
});
