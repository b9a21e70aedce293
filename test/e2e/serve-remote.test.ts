import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, test } from "vitest";
import { atomiton, BIN, tempDir } from "../helpers/cli.js";
import { survivors } from "../helpers/processes.js";
import { startServe, TestClient, type ServeProcess } from "../helpers/serve.js";

// `atomiton run <file> --remote ws://…`: the CLI's own client against a real `atomiton serve`.
const HANGS = `name: hangs
nodes:
  - id: wait
    type: shell-command
    parameters:
      program: node
      args: ["-e", "require('fs').writeFileSync('child.pid', String(process.pid)); setInterval(() => {}, 1000)"]
`;
const STEADY = `name: steady
nodes:
${Array.from({ length: 40 }, (_, i) => `  - { id: d${i}, type: delay, parameters: { duration: 25ms } }`).join("\n")}
edges:
${Array.from({ length: 39 }, (_, i) => `  - d${i} -> d${i + 1}`).join("\n")}
`;

let server: ServeProcess;
let serverDir: string;
let clientDir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const s = await tempDir("atomiton-remote-server-");
  const c = await tempDir("atomiton-remote-client-");
  cleanups.push(s.cleanup, c.cleanup);
  serverDir = s.dir;
  clientDir = c.dir;
  // The client's files: a composite whose group node refs a file in a sibling directory.
  await mkdir(path.join(clientDir, "flows"), { recursive: true });
  await mkdir(path.join(clientDir, "shared"), { recursive: true });
  await writeFile(
    path.join(clientDir, "flows", "main.yaml"),
    `name: with-ref
variables:
  who: { type: string, default: world }
nodes:
  - id: greet
    type: edit-fields
    parameters: { values: { text: "hello {{ $vars.who }}" } }
  - id: inner
    type: group
    ref: ../shared/inner.yaml
edges:
  - greet -> inner
`,
  );
  await writeFile(
    path.join(clientDir, "shared", "inner.yaml"),
    `name: inner
nodes:
  - id: up
    type: code
    parameters: { code: "return data.text.toUpperCase()" }
`,
  );
  await writeFile(path.join(clientDir, "hangs.yaml"), HANGS);
  await writeFile(path.join(clientDir, "steady.yaml"), STEADY);
  await writeFile(path.join(clientDir, "bad.yaml"), "name: bad\nnodes:\n  - id: a\n    type: htp-request\n");
  await writeFile(path.join(clientDir, "fails.yaml"), `name: fails\nnodes:\n  - id: boom\n    type: code\n    parameters: { code: "throw new Error('kaput')" }\n`);
  server = await startServe(["--data-dir", path.join(serverDir, "data")], { cwd: serverDir });
});

afterAll(async () => {
  await server?.stop();
  for (const c of cleanups) await c();
});

const remote = (args: string[], token = server.token) => atomiton(["run", ...args, "--remote", server.url], { cwd: clientDir, env: { ATOMITON_TOKEN: token } });

test("sends the composite with its ref: files, prints the output, exits 0; --var reaches the server", async () => {
  const r = await remote(["flows/main.yaml", "--reporter", "plain", "--var", "who=remote"]);
  expect(r.stderr).toContain("run with-ref started");
  expect(r.stderr).toMatch(/inner\s+succeeded/);
  expect(r.stdout.trim()).toBe("HELLO REMOTE");
  expect(r.exitCode).toBe(0);
});

test("the summary's critical path of a chain is the whole chain, from the composite's edges as for a local run", async () => {
  const nodes = Array.from({ length: 6 }, (_, i) => `  - { id: n${i}, type: code, parameters: { code: "return 1" } }`);
  const edges = Array.from({ length: 5 }, (_, i) => `n${i} -> n${i + 1}`).join(", ");
  await writeFile(path.join(clientDir, "chain.yaml"), `name: chain\nnodes:\n${nodes.join("\n")}\nedges: [${edges}]\n`);
  const r = await remote(["chain.yaml", "--reporter", "plain"]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toContain("Critical path: n0 → n1 → n2 → n3 → n4 → n5 ");
});

test("--reporter json prints the remote events as NDJSON, the same as a local run's", async () => {
  const r = await remote(["flows/main.yaml", "--reporter", "json"]);
  const local = await atomiton(["run", "flows/main.yaml", "--reporter", "json", "--storage", "memory"], { cwd: clientDir });
  const strip = (line: string) => {
    const { ts: _t, runId: _r, durationMs: _d, hash: _h, ...rest } = JSON.parse(line);
    if (rest.type === "run:start") rest.composite.file = "<file>";
    return rest;
  };
  expect(r.exitCode).toBe(0);
  expect(r.stdout.trim().split("\n").map(strip)).toEqual(local.stdout.trim().split("\n").map(strip));
});

test.each([
  ["a failed run → 1", "fails.yaml", 1, /kaput/],
  ["an invalid composite → 2, with the located problems", "bad.yaml", 2, /E_UNKNOWN_TYPE.*bad\.yaml:4:11[\s\S]*did you mean/],
])("%s", async (_name, file, code, stderr) => {
  const r = await remote([file, "--reporter", "plain"]);
  expect(r.exitCode).toBe(code);
  expect(r.stderr).toMatch(stderr);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

test("flags the server would ignore (--dry-run, --pin, --break, --queue-name…) are a usage error: exit 2, nothing is sent", async () => {
  const client = await TestClient.open(server.url, { token: server.token });
  const before = (await client.request("runs.list", { limit: 1000 })) as unknown[];
  for (const [args, pattern] of [
    [["--dry-run"], /--dry-run does not work with --remote: the run happens on the server/],
    [["--pin", "greet=1", "--break", "greet"], /--pin, --break do not work with --remote/],
    [["--queue-name", "x", "--data-dir", "d"], /--data-dir, --queue-name do not work with --remote/],
    // It was dropped without a word, and the server then said the custom type was unknown.
    [["--nodes", "./nodes"], /--nodes does not work with --remote[^]*hint: the server uses the node types it was started with: atomiton serve --nodes <path>/],
  ] as const) {
    const r = await remote(["flows/main.yaml", ...args]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(pattern);
  }
  expect(await client.request("runs.list", { limit: 1000 })).toHaveLength(before.length);
  client.close();
});

test("a wrong token: a clear error, exit 2", async () => {
  const r = await remote(["flows/main.yaml"], "wrong");
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/E_AUTH.*4401/);
});

test("Ctrl-C cancels the remote run: exit 130, the server's record says cancelled, the child is gone", async () => {
  const child = execa("node", [BIN, "run", "hangs.yaml", "--remote", server.url, "--reporter", "plain"], { cwd: clientDir, env: { NO_COLOR: "1", CI: "true", ATOMITON_TOKEN: server.token }, reject: false, stdin: "ignore" });
  let err = "";
  await new Promise<void>((resolve) => child.stderr!.on("data", (d: Buffer) => ((err += d.toString()), /wait\s+started/.test(err) && resolve())));
  let pid = 0;
  for (let i = 0; i < 200 && !pid; i++) {
    pid = Number(await readFile(path.join(serverDir, "child.pid"), "utf8").catch(() => "0"));
    if (!pid) await new Promise((r) => setTimeout(r, 25));
  }
  child.kill("SIGINT");
  const r = await child;
  expect(r.exitCode).toBe(130);
  expect(r.stderr).toMatch(/cancelling the remote run/);
  const runId = /run (\S+) ran on/.exec(r.stderr)?.[1] ?? /"runId":"([^"]+)"/.exec(r.stderr)?.[1];
  const records = await atomiton(["runs", "--json", "--data-dir", path.join(serverDir, "data"), "--limit", "50"], { cwd: serverDir });
  const found = (JSON.parse(records.stdout) as { runId: string; status: string; composite?: string }[]).find((x) => x.runId === runId);
  expect(found?.status).toBe("cancelled");
  expect(await survivors([pid])).toEqual([]);
});

test("Ctrl-C while the connection is down reaches the server once it is back: the remote run is cancelled, exit 130", async () => {
  // A loopback TCP proxy that can refuse connections for a while.
  const sockets: net.Socket[] = [];
  let refusing = false;
  const proxy = net.createServer((down) => {
    if (refusing) return void down.destroy();
    const up = net.connect(server.port, "127.0.0.1");
    down.pipe(up);
    up.pipe(down);
    down.on("error", () => undefined);
    up.on("error", () => undefined);
    sockets.push(down, up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  try {
    const child = execa("node", [BIN, "run", "hangs.yaml", "--remote", `ws://127.0.0.1:${port}/`, "--reporter", "plain"], { cwd: clientDir, env: { NO_COLOR: "1", CI: "true", ATOMITON_TOKEN: server.token }, reject: false, stdin: "ignore" });
    let err = "";
    const seen = (pattern: RegExp) => new Promise<void>((resolve) => child.stderr!.on("data", (d: Buffer) => ((err += d.toString()), pattern.test(err) && resolve())));
    await seen(/wait\s+started/);
    refusing = true;
    for (const s of sockets) s.destroy();
    await seen(/connection lost.*reconnecting/);
    child.kill("SIGINT"); // the socket is down: run.cancel cannot be sent now
    await new Promise((r) => setTimeout(r, 500));
    refusing = false;
    const deadline = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const r = await child;
    clearTimeout(deadline);
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/wait\s+cancelled/);
  } finally {
    proxy.close();
  }
});

test("a dropped connection is reconnected and the events resume from the last seq (none lost, none twice)", async () => {
  // A loopback TCP proxy between client and server; the first connection is cut mid-run.
  const sockets: net.Socket[][] = [];
  const proxy = net.createServer((down) => {
    const up = net.connect(server.port, "127.0.0.1");
    down.pipe(up);
    up.pipe(down);
    down.on("error", () => undefined);
    up.on("error", () => undefined);
    sockets.push([down, up]);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  try {
    const child = execa("node", [BIN, "run", "steady.yaml", "--remote", `ws://127.0.0.1:${port}/`, "--reporter", "json"], { cwd: clientDir, env: { NO_COLOR: "1", CI: "true", ATOMITON_TOKEN: server.token }, reject: false, stdin: "ignore" });
    let out = "";
    await new Promise<void>((resolve) => child.stdout!.on("data", (d: Buffer) => ((out += d.toString()), out.split('"node:finish"').length > 10 && resolve())));
    for (const s of sockets[0]!) s.destroy();
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/connection lost.*reconnecting/);
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; nodeId?: string });
    expect(events).toHaveLength(2 + 40 * 2);
    expect(events.filter((e) => e.type === "node:finish").map((e) => e.nodeId)).toEqual(Array.from({ length: 40 }, (_, i) => `d${i}`));
  } finally {
    proxy.close();
  }
});

test("a reconnected client whose replay cannot be read from the server's log (events.error) fails with the server's error instead of waiting for ever", async () => {
  const sockets: net.Socket[][] = [];
  // Refusing for a while after the cut: the run goes on meanwhile, so the client needs a replay.
  let refusing = false;
  const proxy = net.createServer((down) => {
    if (refusing) return void down.destroy();
    const up = net.connect(server.port, "127.0.0.1");
    down.pipe(up);
    up.pipe(down);
    down.on("error", () => undefined);
    up.on("error", () => undefined);
    sockets.push([down, up]);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  try {
    const child = execa("node", [BIN, "run", "steady.yaml", "--remote", `ws://127.0.0.1:${port}/`, "--reporter", "json"], { cwd: clientDir, env: { NO_COLOR: "1", CI: "true", ATOMITON_TOKEN: server.token }, reject: false, stdin: "ignore", timeout: 30_000 });
    let out = "";
    await new Promise<void>((resolve) => child.stdout!.on("data", (d: Buffer) => ((out += d.toString()), out.split('"node:finish"').length > 5 && resolve())));
    const runId = (JSON.parse(out.split("\n")[0]!) as { runId: string }).runId;
    // The server's event log of the run goes away (a directory in its place): the replay after the
    // reconnect cannot have the events the client missed.
    const log = path.join(serverDir, "data", "runs", `${runId}.ndjson`);
    await rename(log, `${log}.moved`);
    await mkdir(log);
    refusing = true;
    for (const s of sockets[0]!) s.destroy();
    setTimeout(() => (refusing = false), 400);
    const r = await child;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/connection lost.*reconnecting/);
    expect(r.stderr).toMatch(/E_STORAGE .*cannot follow the remote run .*cannot replay run/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  } finally {
    proxy.close();
  }
}, 60_000);

test("a client that fell behind (its run:finish dropped for it) fetches the dropped events again and exits with the run's code", async () => {
  // 20 MB through a shell node, the server and the client: about 21 s alone, past vitest's 30 s default under CI's parallel load.
  // `talk` prints ~20 MB once the test has stopped the client: its node:finish fills the client's
  // send buffer past the hard limit, so the rest of the run (run:finish too) is dropped for it.
  await writeFile(
    path.join(clientDir, "chatty.yaml"),
    `name: chatty
nodes:
  - id: talk
    type: shell-command
    parameters:
      program: node
      args: ["-e", "const fs = require('fs'); const go = () => fs.existsSync('go-chatty') ? process.stdout.write(('x'.repeat(7999) + '\\\\n').repeat(2500)) : setTimeout(go, 20); go()"]
  - id: after
    type: code
    parameters: { code: "return 'done'" }
edges:
  - talk -> after
`,
  );
  const observer = await TestClient.open(server.url, { token: server.token });
  const child = execa("node", [BIN, "run", "chatty.yaml", "--remote", server.url, "--reporter", "plain"], { cwd: clientDir, env: { NO_COLOR: "1", CI: "true", ATOMITON_TOKEN: server.token }, reject: false, stdin: "ignore", timeout: 90_000 });
  let err = "";
  await new Promise<void>((resolve) => child.stderr!.on("data", (d: Buffer) => ((err += d.toString()), /talk\s+started/.test(err) && resolve())));
  const running = (await observer.request("runs.list", { status: "running", limit: 100 })) as { runId: string; name: string }[];
  const runId = running.find((r) => r.name === "chatty")!.runId;
  child.kill("SIGSTOP");
  try {
    await writeFile(path.join(serverDir, "go-chatty"), "");
    expect(await observer.request("run.wait", { runId })).toMatchObject({ status: "succeeded" });
  } finally {
    child.kill("SIGCONT");
  }
  observer.close();
  const r = await child;
  expect(r.exitCode, r.stderr.slice(-2000)).toBe(0);
  expect(r.stderr).toMatch(/fell behind: the server dropped events \d+–\d+; reconnecting/);
  expect(r.stderr).toMatch(/after\s+succeeded/);
  expect(r.stdout.trim()).toBe("done");
}, 90_000);
