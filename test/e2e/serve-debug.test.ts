import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { tempDir } from "../helpers/cli.js";
import { startServe, TestClient, type Message, type ServeProcess } from "../helpers/serve.js";

// The debugger over the run protocol (SPEC §11, §9): debug.setBreakpoints before run.start, the
// debug.paused notification, then debug.evaluate, debug.set, debug.continue|step|skip on a real
// `atomiton serve` and a real WebSocket.

const FLOW = `name: debug-me
variables:
  factor: { type: number, default: 3 }
nodes:
  - id: seed
    type: code
    parameters: { code: "return { n: 7 }" }
  - id: scale
    type: shell-command
    parameters: { command: "echo {{ $input.n * $vars.factor }}", logOutput: false }
  - id: report
    type: code
    parameters: { code: "return 'scaled ' + String(data.stdout).trim()" }
edges: [seed -> scale, scale -> report]
`;

let dir: string;
let cleanup: () => Promise<void>;
let server: ServeProcess;
let client: TestClient;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-serve-debug-"));
  server = await startServe(["--data-dir", `${dir}/data`, "--workdir", dir], { cwd: dir });
  client = await TestClient.open(server.url, { token: server.token });
});
afterEach(async () => {
  client.close();
  await server.stop();
  await cleanup();
});

const paused = (runId: string, nodeId: string, nth = 1) => {
  let seen = 0;
  return (m: Message) => m.method === "debug.paused" && m.params.runId === runId && m.params.nodeId === nodeId && ++seen === nth;
};

describe("debug.* over the protocol", () => {
  test("pause before a node, evaluate, set (an invalid value is refused and it stays paused), continue", async () => {
    expect(await client.request("debug.setBreakpoints", { nodes: ["scale"] })).toEqual({ nodes: ["scale"], step: false, breakOnError: false });
    const { runId } = await client.request("run.start", { text: FLOW });
    const pause = await client.next(paused(runId, "scale"));
    expect(pause.params).toMatchObject({ runId, nodeId: "scale", type: "shell-command", reason: "breakpoint", inputs: { input: { n: 7 } }, parameters: { command: "echo 21" } });
    // No node after it has started while paused.
    expect(client.events(runId).some((e) => e.event.type === "node:start" && e.event.nodeId === "report")).toBe(false);

    expect(await client.request("debug.evaluate", { runId, expression: "$input.n * 100 + $vars.factor" })).toEqual({ value: 703 });
    const bad = await client.call("debug.evaluate", { runId, expression: "$input.(" });
    expect(bad.error?.code).toBe(-32000);
    expect(bad.error?.data?.code).toMatch(/^E_(CODE|TEMPLATE)$/);

    const refused = await client.call("debug.set", { runId, param: "timeout", value: "soon" });
    expect(refused.error).toMatchObject({ code: -32000, data: { code: "E_PARAM" } });
    expect(refused.error!.message).toMatch(/set timeout: timeout: .*nothing changed, the run stays paused/);
    const set = await client.request("debug.set", { runId, param: "command", value: "echo 1000" });
    expect(set.parameters).toMatchObject({ command: "echo 1000" });

    expect(await client.request("debug.continue", { runId })).toEqual({ ok: true });
    const finish = await client.finished(runId);
    expect(finish.params.event).toMatchObject({ status: "succeeded", output: "scaled 1000" });
    const notPaused = await client.call("debug.continue", { runId });
    expect(notPaused.error?.data?.code).toMatch(/E_NOT_FOUND|E_USAGE/);
  });

  test("step pauses before the next node; skip gives a node's output without running it", async () => {
    await client.request("debug.setBreakpoints", { nodes: ["seed"] });
    const { runId } = await client.request("run.start", { text: FLOW });
    await client.next(paused(runId, "seed"));
    await client.request("debug.step", { runId });
    const next = await client.next(paused(runId, "scale"));
    expect(next.params.reason).toBe("step");
    await client.request("debug.skip", { runId, output: { stdout: "skipped" } });
    const third = await client.next(paused(runId, "report"));
    expect(third.params.inputs).toEqual({ input: { stdout: "skipped" } });
    await client.request("debug.continue", { runId });
    const finish = await client.finished(runId);
    expect(finish.params.event).toMatchObject({ status: "succeeded", output: "scaled skipped" });
    const starts = client.events(runId).filter((e) => e.event.type === "node:start").map((e) => e.event.nodeId);
    expect(starts).toEqual(["seed", "report"]);
  });

  test("without breakpoints a run never pauses, and debug.* on it says so", async () => {
    const { runId } = await client.request("run.start", { text: FLOW });
    const finish = await client.finished(runId);
    expect(finish.params.event).toMatchObject({ status: "succeeded", output: "scaled 21" });
    expect(client.messages.some((m) => m.method === "debug.paused")).toBe(false);
    const r = await client.call("debug.evaluate", { runId, expression: "1" });
    expect(r.error).toMatchObject({ code: -32000, data: { code: "E_NOT_FOUND" } });
  });
});

describe("debug.* and the run's secrets", () => {
  test("debug.paused, debug.evaluate, debug.set and evaluate's errors have a secret as *** (they sent it in clear)", async () => {
    const secret = "tok-5b1e9c7a30d2f8";
    const own = await startServe(["--data-dir", `${dir}/data2`, "--workdir", dir], { cwd: dir, env: { API_TOKEN: secret } });
    const c = await TestClient.open(own.url, { token: own.token });
    try {
      await c.request("debug.setBreakpoints", { nodes: ["call"] });
      const { runId } = await c.request("run.start", {
        text: `name: sec
secrets: [API_TOKEN]
nodes:
  - { id: a, type: code, parameters: { code: "return 'token=' + $env.API_TOKEN" } }
  - { id: call, type: shell-command, parameters: { command: "echo {{ $env.API_TOKEN }}", logOutput: false } }
edges: [a -> call]
`,
      });
      const pause = await c.next(paused(runId, "call"));
      expect(pause.params).toMatchObject({ inputs: { input: "token=***" }, parameters: { command: "echo ***" } });
      expect(await c.request("debug.evaluate", { runId, expression: "$env.API_TOKEN" })).toEqual({ value: "***" });
      const set = await c.request("debug.set", { runId, param: "args", value: [] });
      expect(set.parameters).toMatchObject({ command: "echo ***" });
      const thrown = await c.call("debug.evaluate", { runId, expression: `(() => { throw new Error("bad " + $env.API_TOKEN) })()` });
      expect(thrown.error?.message).toContain("bad ***");
      await c.request("debug.continue", { runId });
      const finish = await c.finished(runId);
      // The node ran with the real value (its output is redacted as every event is).
      expect(finish.params.event).toMatchObject({ status: "succeeded", output: { stdout: "***" } });
      expect(JSON.stringify(c.messages)).not.toContain(secret);
    } finally {
      c.close();
      await own.stop();
    }
  });
});
