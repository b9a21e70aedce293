import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { BIN, TMUX_CONF, atomiton, hasTmux, tempDir } from "../helpers/cli.js";

// The debugger prompt (`run --break/--step/--break-on-error`) in a real pseudo-terminal: tmux runs
// the built CLI in a detached 120×50 session, `send-keys` types at the prompt and `capture-pane`
// reads the screen. Each test waits for what the screen must show next (bounded), never for time.

let dir: string;
let cleanup: () => Promise<void>;
let socket: string;
const session = "debug";

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-debug-"));
  socket = `atomiton-debug-${process.pid}-${Date.now()}`;
});
afterEach(async () => {
  await execa("tmux", ["-L", socket, "kill-server"], { reject: false });
  await cleanup();
});

async function startInTerminal(args: readonly string[], env: Record<string, string> = {}): Promise<void> {
  const quote = (a: string): string => `'${a.replace(/'/g, "'\\''")}'`;
  const quoted = [process.execPath, BIN, ...args].map(quote).join(" ");
  const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(" ");
  const command = `cd '${dir}' && env -u CI -u NO_COLOR -u FORCE_COLOR -u GITHUB_ACTIONS TERM=xterm-256color LANG=C.UTF-8 ${vars} ${quoted}; echo EXIT=$?; sleep 60`;
  await execa("tmux", ["-L", socket, "-f", TMUX_CONF, "new-session", "-d", "-s", session, "-x", "120", "-y", "50", command]);
}

/** The whole scrollback, so nothing that scrolled off is missed. */
async function screen(): Promise<string> {
  const r = await execa("tmux", ["-L", socket, "capture-pane", "-p", "-J", "-S", "-2000", "-t", session], { reject: false });
  return String(r.stdout ?? "");
}

/** Waits until the screen matches (bounded); returns it. */
async function waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < deadline) {
    text = await screen();
    if (pattern.test(text)) return text;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${pattern}; screen:\n${text}`);
}

/** Waits until `pattern` appears `count` times. */
async function waitForCount(pattern: RegExp, count: number): Promise<string> {
  const global = new RegExp(pattern.source, "g");
  return waitFor({ test: (t: string) => (t.match(global)?.length ?? 0) >= count } as RegExp);
}

async function type(line: string): Promise<void> {
  await execa("tmux", ["-L", socket, "send-keys", "-t", session, "-l", line]);
  await execa("tmux", ["-L", socket, "send-keys", "-t", session, "Enter"]);
}

async function records(): Promise<{ status: string; output?: unknown; error?: { message: string } }[]> {
  const runs = path.join(dir, ".atomiton/runs");
  const files = (await readdir(runs)).filter((f) => f.endsWith(".json"));
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(runs, f), "utf8"))));
}

const GREET = `name: greet
variables:
  name: { type: string, default: world }
nodes:
  - id: make
    type: shell-command
    parameters: { command: "echo Hello, {{ $vars.name }}!", logOutput: false }
  - { id: shout, type: code, parameters: { code: "return data.stdout.trim().toUpperCase()" } }
edges: [make -> shout]
`;

describe.skipIf(!hasTmux)("the debugger prompt in a real terminal (tmux)", () => {
  test("break on a node: its resolved parameters, set one, continue, and the output has the change", async () => {
    await writeFile(path.join(dir, "flow.yaml"), GREET);
    await startInTerminal(["run", "flow.yaml", "--break", "make", "--output", "out.json"]);
    // The template is shown resolved, as the node will receive it.
    await waitFor(/paused before make \(shell-command\).*breakpoint[\s\S]*"command": "echo Hello, world!"[\s\S]*debug make/);
    await type("set command=echo Bye, debugger!");
    await waitFor(/command set; the node runs with:[\s\S]*"command": "echo Bye, debugger!"/);
    await type("c");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    expect(await readFile(path.join(dir, "out.json"), "utf8")).toBe("BYE, DEBUGGER!\n");
  });

  test("an invalid set shows the schema's problem and stays paused; p evaluates in the template scope; o shows an upstream output", async () => {
    await writeFile(path.join(dir, "flow.yaml"), GREET);
    await startInTerminal(["run", "flow.yaml", "--break", "shout", "--output", "out.json"]);
    await waitFor(/paused before shout \(code\)[\s\S]*input input[\s\S]*"stdout": "Hello, world!"/);
    await type("set returnType=banana");
    await waitFor(/set returnType: returnType: .*\(nothing changed\)/);
    await type("set retunType=string");
    await waitFor(/set retunType: code has no parameter "retunType" \(its parameters: code, inputParams, returnType/);
    await type("p $input.stdout.trim().length + $vars.name");
    await waitFor(/13world/);
    await type("o make");
    await waitForCount(/"stdout": "Hello, world!"/, 2);
    // As --break nope is refused: b on a node the composite does not have says so and adds nothing.
    await type("b shuot");
    await waitFor(/b shuot: the composite has no node "shuot"; did you mean "shout"\?/);
    await type("b");
    await waitFor(/breakpoints: shout\n/);
    await type("c");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    expect(await readFile(path.join(dir, "out.json"), "utf8")).toBe("HELLO, WORLD!\n");
  });

  test("--step pauses before each node of a 3-node chain, in order", async () => {
    await writeFile(
      path.join(dir, "chain.yaml"),
      `name: chain
nodes:
  - { id: one, type: code, parameters: { code: "return 1" } }
  - { id: two, type: code, parameters: { code: "return data + 1" } }
  - { id: three, type: code, parameters: { code: "return data * 10" } }
edges: [one -> two, two -> three]
`,
    );
    await startInTerminal(["run", "chain.yaml", "--step", "--output", "out.json"]);
    await waitFor(/paused before one \(code\).*step/);
    await type("s");
    await waitFor(/paused before two \(code\).*step[\s\S]*input input\s+1\b/);
    await type("s");
    const third = await waitFor(/paused before three \(code\).*step[\s\S]*input input\s+2\b/);
    expect(third.indexOf("paused before one")).toBeLessThan(third.indexOf("paused before two"));
    await type("s");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    expect(JSON.parse(await readFile(path.join(dir, "out.json"), "utf8"))).toBe(20);
  });

  test("the prompt's history (up arrow) holds the commands of earlier pauses too (it started empty at each pause)", async () => {
    await writeFile(path.join(dir, "flow.yaml"), GREET);
    await startInTerminal(["run", "flow.yaml", "--step"]);
    await waitFor(/paused before make[\s\S]*debug make › $/m);
    await type("p 6 * 7");
    await waitFor(/p 6 \* 7\s+42\n/);
    await type("s");
    await waitFor(/paused before shout[\s\S]*debug shout › $/m);
    await execa("tmux", ["-L", socket, "send-keys", "-t", session, "Up"]);
    await execa("tmux", ["-L", socket, "send-keys", "-t", session, "Up"]);
    await execa("tmux", ["-L", socket, "send-keys", "-t", session, "Enter"]);
    await waitFor(/debug shout › p 6 \* 7\s+42\n/);
    await type("c");
    expect(await waitFor(/EXIT=\d+/)).toContain("EXIT=0");
  });

  test("a breakpoint in a loop body pauses per iteration: on iteration 2 it shows $item and $index", async () => {
    await writeFile(
      path.join(dir, "loop.yaml"),
      `name: loop
nodes:
  - id: each
    type: loop
    parameters: { items: [10, 20, 30] }
    nodes:
      - { id: double, type: code, parameters: { code: "return data * 2" } }
edges: []
`,
    );
    await startInTerminal(["run", "loop.yaml", "--break", "double", "--output", "out.json"]);
    await waitFor(/paused before double \(code\) \[iteration 0\][\s\S]*\$index 0/);
    await type("c");
    await waitFor(/paused before double \(code\) \[iteration 1\]/);
    await type("c");
    const third = await waitFor(/paused before double \(code\) \[iteration 2\][\s\S]*\$index 2\s+\$item\s+30/);
    expect(third).toMatch(/\[iteration 1\][\s\S]*\$item\s+20/);
    await type("p $item + $index");
    await waitFor(/debug double › p \$item \+ \$index\s+32/);
    await type("k 1000");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    expect(JSON.parse(await readFile(path.join(dir, "out.json"), "utf8"))).toEqual([20, 40, 1000]);
  });

  test("--break-on-error: the failed node's problem, fix its parameter, r retries it and the run succeeds", async () => {
    await writeFile(
      path.join(dir, "fail.yaml"),
      `name: fail
nodes:
  - { id: start, type: code, parameters: { code: "return 20" } }
  - { id: divide, type: code, parameters: { code: "throw new Error('divide by zero')" } }
  - { id: report, type: code, parameters: { code: "return 'result ' + data" } }
edges: [start -> divide, divide -> report]
`,
    );
    await startInTerminal(["run", "fail.yaml", "--break-on-error", "--output", "out.json"]);
    const paused = await waitFor(/paused at divide \(code\).*failed after attempt 1[\s\S]*divide by zero[\s\S]*r retry/);
    // The commands line is broken between commands at 120 columns, never inside one ("r re" / "try").
    expect(paused).toMatch(/^ {2}c continue .* · \? help$/m);
    expect(paused).toMatch(/^ {2}r retry$/m);
    await type("set code=return data / 4");
    await waitFor(/code set; the node runs with:[\s\S]*"code": "return data \/ 4"/);
    await type("r");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    expect(await readFile(path.join(dir, "out.json"), "utf8")).toBe("result 5\n");
    const [record] = await records();
    expect(record).toMatchObject({ status: "succeeded", output: "result 5" });
  });

  test("--break-on-error, c: the failed node's duration is its own, not the time the prompt was open (it was both)", async () => {
    await writeFile(path.join(dir, "boom.yaml"), `name: boom\nnodes:\n  - { id: boom, type: code, parameters: { code: "throw new Error('nope')" } }\n`);
    await startInTerminal(["run", "boom.yaml", "--break-on-error"]);
    await waitFor(/paused at boom \(code\)[\s\S]*debug boom/);
    const shown = performance.now();
    // The prompt stays open for two round trips through the terminal.
    await type("p 40 + 2");
    await waitFor(/p 40 \+ 2\s+42/);
    await type("i");
    await waitForCount(/paused at boom/, 2);
    const open = performance.now() - shown;
    await type("c");
    expect(await waitFor(/EXIT=\d+/)).toContain("EXIT=1");
    const [record] = (await records()) as unknown as { status: string; nodes: Record<string, { status: string; durationMs: number }> }[];
    expect(record?.nodes.boom?.status).toBe("failed");
    // The pause began before the prompt was on the screen and ended after `c`: counted, it is longer.
    expect(record!.nodes.boom!.durationMs).toBeLessThan(open);
  });

  test("--reporter plain: a node that finishes while paused is printed after the pause, not into the prompt", async () => {
    // `held` runs beside the paused `after` and finishes once the test creates `go`.
    await writeFile(
      path.join(dir, "par.yaml"),
      `name: par
nodes:
  - { id: held, type: shell-command, parameters: { command: "while [ ! -f go ]; do sleep 0.02; done; echo released" } }
  - { id: quick, type: code, parameters: { code: "return 1" } }
  - { id: after, type: code, parameters: { code: "return 2" } }
edges: [quick -> after]
`,
    );
    await startInTerminal(["run", "par.yaml", "--break", "after", "--reporter", "plain"]);
    await waitFor(/paused before after[\s\S]*debug after › $/m);
    await writeFile(path.join(dir, "go"), "");
    // The event log has held's finish: the reporter has had it too.
    const runs = path.join(dir, ".atomiton/runs");
    const deadline = Date.now() + 20_000;
    let log = "";
    while (Date.now() < deadline && !/"type":"node:finish"[^\n]*"nodeId":"held"|"nodeId":"held"[^\n]*"type":"node:finish"/.test(log)) {
      await sleep(50);
      const name = (await readdir(runs)).find((f) => f.endsWith(".ndjson"));
      log = name ? await readFile(path.join(runs, name), "utf8") : "";
    }
    expect(log).toContain("released");
    await type("p 6 * 7");
    const paused = await waitFor(/p 6 \* 7\s+42\n/);
    // Nothing of it on the screen while paused: the prompt line is the user's.
    expect(paused).not.toMatch(/held +(\||succeeded)/);
    expect(paused).toMatch(/debug after › p 6 \* 7\n/);
    await type("c");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    const afterPause = final.slice(final.lastIndexOf("debug after › c"));
    expect(afterPause).toMatch(/held +\| released[\s\S]*held +succeeded[\s\S]*after +succeeded[\s\S]*run succeeded/);
  });

  test("--reporter plain: a run that fails under the prompt (another node failed) goes on below it, not on the prompt's line", async () => {
    await writeFile(
      path.join(dir, "par.yaml"),
      `name: par
nodes:
  - { id: held, type: shell-command, parameters: { command: "while [ ! -f go ]; do sleep 0.02; done; exit 3" } }
  - { id: quick, type: code, parameters: { code: "return 1" } }
  - { id: after, type: code, parameters: { code: "return 2" } }
edges: [quick -> after]
`,
    );
    await startInTerminal(["run", "par.yaml", "--break", "after", "--reporter", "plain"]);
    await waitFor(/paused before after[\s\S]*debug after › $/m);
    await writeFile(path.join(dir, "go"), "");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=1");
    expect(final).toMatch(/debug after › \n\[ *[\d.]+s\] held +failed/);
  });

  test("--break-on-error on an if: that threw: the prompt has the node's input, and r evaluates the if: again (it ran the node without it and without its input)", async () => {
    await writeFile(
      path.join(dir, "cond.yaml"),
      `name: cond
nodes:
  - { id: a, type: code, parameters: { code: "return { n: 1 }" } }
  - { id: b, type: code, if: "$input.x.y > 1", parameters: { code: "return { got: data }" } }
edges: [a -> b]
`,
    );
    await startInTerminal(["run", "cond.yaml", "--break-on-error", "--output", "out.json"]);
    await waitFor(/paused at b \(code\) · ✖ failed before it started\n[\s\S]*E_TEMPLATE[\s\S]*input input\s+\{\s+"n": 1\s+\}[\s\S]*debug b › $/m);
    await type("p $input.n");
    await waitFor(/p \$input\.n\s+1\n/);
    await type("r");
    // The if: fails again on the same input: paused again, the node has not run.
    const again = await waitForCount(/paused at b \(code\)/, 2);
    expect(again).not.toMatch(/✔ b /);
    await type(`k "skipped at the prompt"`);
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    expect(await readFile(path.join(dir, "out.json"), "utf8")).toBe("skipped at the prompt\n");
  });

  test("Ctrl-Z at the prompt, then fg: the prompt takes commands again (the run failed: a node waiting for a promise nothing could settle)", async () => {
    await writeFile(path.join(dir, "flow.yaml"), GREET);
    // Job control needs an interactive shell: the CLI is typed into one.
    await execa("tmux", ["-L", socket, "-f", TMUX_CONF, "new-session", "-d", "-s", session, "-x", "120", "-y", "50", `cd '${dir}' && env -u CI -u NO_COLOR -u FORCE_COLOR -u GITHUB_ACTIONS TERM=xterm-256color LANG=C.UTF-8 PS1='$ ' bash --norc --noprofile -i`]);
    const quoted = [process.execPath, BIN, "run", "flow.yaml", "--break", "shout", "--output", "out.json"].map((a) => `'${a}'`).join(" ");
    await type(quoted);
    await waitFor(/paused before shout[\s\S]*debug shout › $/m);
    await execa("tmux", ["-L", socket, "send-keys", "-t", session, "C-z"]);
    await waitFor(/Stopped/);
    // fg's status is the job's: the run's exit code.
    await type("fg; echo EXIT=$?");
    await waitFor(/Stopped[\s\S]*debug shout › $/m);
    await type("p 40 + 2");
    await waitFor(/p 40 \+ 2\s+42\n/);
    await type("c");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    expect(await readFile(path.join(dir, "out.json"), "utf8")).toBe("HELLO, WORLD!\n");
  });

  test("q cancels the run: exit 130 and the record is saved as cancelled", async () => {
    await writeFile(path.join(dir, "flow.yaml"), GREET);
    await startInTerminal(["run", "flow.yaml", "--break", "shout"]);
    await waitFor(/debug shout/);
    await type("q");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=130");
    const [record] = await records();
    expect(record?.status).toBe("cancelled");
  });

  test("Ctrl-D at the prompt is q: exit 130 and the record is saved as cancelled (it exited 0, run left open)", async () => {
    await writeFile(path.join(dir, "flow.yaml"), GREET);
    await startInTerminal(["run", "flow.yaml", "--break", "shout"]);
    await waitFor(/debug shout/);
    await execa("tmux", ["-L", socket, "send-keys", "-t", session, "C-d"]);
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=130");
    const [record] = await records();
    expect(record?.status).toBe("cancelled");
    // The record says how (it said "(q)" for Ctrl-D and Ctrl-C too).
    expect(record?.error?.message).toBe("cancelled at the debugger prompt (end of input)");
  });

  test("a secret is *** at the prompt: parameters, inputs, p, o, more and error messages (it was shown in clear)", async () => {
    const secret = "tok-9f3a7c2e51b8d4";
    // The command line is long enough that the 120-column prompt cuts it inside the secret.
    await writeFile(
      path.join(dir, "sec.yaml"),
      `name: sec
secrets: [API_TOKEN]
nodes:
  - { id: a, type: code, parameters: { code: "return 'token=' + $env.API_TOKEN" } }
  - id: call
    type: shell-command
    parameters: { command: "echo ${"x".repeat(85)} {{ $env.API_TOKEN }}", logOutput: false }
edges: [a -> call]
`,
    );
    await startInTerminal(["run", "sec.yaml", "--break", "call"], { API_TOKEN: secret });
    await waitFor(/paused before call[\s\S]*input input\s+"token=\*\*\*"[\s\S]*debug call/);
    await type("more");
    await waitFor(/"command": "echo x+ \*\*\*"/);
    await type("p $env.API_TOKEN");
    await waitFor(/p \$env\.API_TOKEN\s+"\*\*\*"/);
    await type("o a");
    await waitForCount(/"token=\*\*\*"/, 2);
    await type(`p (() => { throw new Error("bad " + $env.API_TOKEN) })()`);
    await waitFor(/✖ .*bad \*\*\*/);
    await type("q");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=130");
    // Not whole, and not its first characters where a line was cut.
    expect(final).not.toContain(secret.slice(0, 6));
  });

  test("closing the terminal while paused cancels the run and saves its record as cancelled", async () => {
    await writeFile(path.join(dir, "flow.yaml"), GREET);
    await startInTerminal(["run", "flow.yaml", "--break", "shout"]);
    await waitFor(/debug shout/);
    await execa("tmux", ["-L", socket, "kill-session", "-t", session]);
    // Nobody sees the exit code now: wait (bounded) for the record to be final.
    const deadline = Date.now() + 20_000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      status = (await records())[0]?.status;
      if (status !== "running") break;
      await sleep(50);
    }
    expect(status).toBe("cancelled");
  });
});

describe("debugger flags without a terminal", () => {
  test.each([["--break", "make"], ["--step"], ["--break-on-error"]])("%s is a usage error (exit 2) that names the protocol", async (...flag) => {
    const { dir: d, cleanup: done } = await tempDir("atomiton-debug-");
    try {
      await writeFile(path.join(d, "flow.yaml"), GREET);
      const r = await atomiton(["run", "flow.yaml", ...flag], { cwd: d });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${flag[0]} needs a terminal to prompt on`));
      expect(r.stderr).toMatch(/debug\.setBreakpoints/);
    } finally {
      await done();
    }
  });
});
