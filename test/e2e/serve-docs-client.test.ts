import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
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
  // The Node client printed in docs/protocol.md ("Node (`ws`)"), as a reader copies it, with `ws` installed.
  const doc = await readFile(path.join(ROOT, "docs/protocol.md"), "utf8");
  const snippet = /### Node \(`ws`\)[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
  if (snippet === undefined) throw new Error("docs/protocol.md has no Node client under \"### Node (`ws`)\"");
  await writeFile(path.join(dir, "follow.mjs"), snippet);
  await mkdir(path.join(dir, "node_modules"));
  await symlink(path.join(ROOT, "node_modules/ws"), path.join(dir, "node_modules/ws"), "dir");
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

describe("the Node client printed in docs/protocol.md", () => {
  const follow = (url: string, token: string, file: string, ...args: string[]) => execa("node", ["follow.mjs", url, token, file, ...args], { cwd: dir, reject: false, timeout: 60_000 });
  const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at |Unhandled 'error' event|node:events/);

  test("follows a run and cancels it: the events in order, run:finish last, exit 1 (the run did not succeed)", async () => {
    const r = await follow(server.url, server.token, "steps.yaml", "--cancel");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("0 run:start  ");
    expect(lines.at(-1)).toMatch(/ run:finish {2}cancelled$/);
    expect(r.exitCode, r.stderr).toBe(1);
  });

  test.each([
    { what: "a wrong token (close 4401)", url: () => server.url, token: "wrong", file: "steps.yaml", stderr: /closed 4401/ },
    { what: "no server at the URL", url: () => "ws://127.0.0.1:1/", token: "t", file: "steps.yaml", stderr: /ECONNREFUSED/ },
    { what: "a composite that is not there", url: () => server.url, token: "", file: "nope.yaml", stderr: /not started: / },
  ])("$what: a message on stderr and exit 1, no stack trace (it exited 0, or crashed with one)", async ({ url, token, file, stderr }) => {
    const r = await follow(url(), token || server.token, file);
    expect(r.stderr).toMatch(stderr);
    noStack(r.stderr);
    expect(r.exitCode).toBe(1);
  });
});
