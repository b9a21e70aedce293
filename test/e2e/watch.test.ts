import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { atomiton, BIN, hasTmux, TMUX_CONF, tempDir } from "../helpers/cli.js";
import { fiveLineNode } from "../helpers/five-line-node.js";

// `atomiton run <file> --watch` through the built CLI: each test edits files and awaits a line
// with a bounded wait. The CLI runs as the leader of its own process group; afterEach kills the
// group and every shell child a test saw, whatever happened.

let dir: string;
let cleanup: () => Promise<void>;
const started: Watcher[] = [];
const childPids: number[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-watch-"));
});
afterEach(async () => {
  for (const w of started.splice(0)) {
    killQuietly(-w.pid, "SIGKILL");
    await w.child;
  }
  for (const pid of childPids.splice(0)) killQuietly(-pid, "SIGKILL");
  await cleanup();
});

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

interface Watcher {
  child: ResultPromise<{ reject: false; detached: true; stdin: "ignore" }>;
  pid: number;
  /** stdout and stderr, interleaved as they arrived. */
  output(): string;
  /** Resolves with the match once the output after `from` matches; rejects when the CLI exits first or time runs out. */
  waitFor(pattern: RegExp, options?: { from?: number; withinMs?: number }): Promise<RegExpMatchArray & { end: number }>;
}

function startWatch(args: readonly string[]): Watcher {
  const child = execa("node", [BIN, "run", ...args, "--watch"], {
    cwd: dir,
    reject: false,
    detached: true,
    stdin: "ignore",
    env: { CI: "true", NO_COLOR: "1" },
    timeout: 120_000,
  });
  let out = "";
  let exited = false;
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  void child.finally(() => {
    exited = true;
    for (const w of waiters) w();
  });
  const watcher: Watcher = {
    child,
    pid: child.pid!,
    output: () => out,
    waitFor: (pattern, { from = 0, withinMs = 20_000 } = {}) =>
      new Promise((resolve, reject) => {
        const finish = (error?: Error, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(Object.assign(match!, { end: from + match!.index! + match![0].length }));
        };
        const timer = setTimeout(() => finish(new Error(`no ${pattern} within ${withinMs} ms; output:\n${out}`)), withinMs);
        const check = () => {
          const match = out.slice(from).match(pattern);
          if (match) finish(undefined, match);
          else if (exited) finish(new Error(`the CLI exited before printing ${pattern}; output:\n${out}`));
        };
        waiters.add(check);
        check();
      }),
  };
  started.push(watcher);
  return watcher;
}

const RUN_END = /\[watch\] (?:run \w+|not run[^\n]*) \(exit (\d+)\); watching (\d+) files? for changes\n/;

const flow = (word: string) => `name: words
nodes:
  - id: say
    type: code
    parameters:
      code: "return 'said ${word}'"
`;

describe("atomiton run --watch", () => {
  test("an edit to the YAML starts a second run that uses the change; Ctrl-C while idle exits 0", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow("one"));
    const w = startWatch(["flow.yaml", "--reporter", "plain"]);
    const first = await w.waitFor(RUN_END);
    expect(w.output()).toMatch(/^\[watch\] watching 1 file: flow\.yaml\n/);
    await w.waitFor(/said one\n/);
    expect(first[1]).toBe("0");

    await writeFile(path.join(dir, "flow.yaml"), flow("two"));
    const change = await w.waitFor(/\[watch\] change: flow\.yaml → re-running\n/, { from: first.end });
    // stdout and stderr are separate pipes: await each text rather than rely on their interleaving.
    await w.waitFor(/said two\n/, { from: change.end });
    await w.waitFor(RUN_END, { from: change.end });
    expect(w.output().slice(change.end)).not.toContain("said one");

    process.kill(w.pid, "SIGINT");
    const result = await w.child;
    expect(result.exitCode).toBe(0);
    expect(w.output()).toMatch(/\[watch\] stopped\n$/);
    // Both runs were recorded as succeeded.
    const records = (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"));
    expect(records).toHaveLength(2);
  });

  test("on what `atomiton init` scaffolds, an edit to the TS custom node shows its new behaviour without a restart", async () => {
    expect((await atomiton(["init"], { cwd: dir })).exitCode).toBe(0);
    const w = startWatch(["flow.yaml", "--reporter", "plain", "--storage", "memory"]);
    const first = await w.waitFor(RUN_END);
    expect(first[1]).toBe("0");
    // flow.yaml, atomiton.config.json and nodes/greet.ts (its test file is not a node).
    expect(first[2]).toBe("3");
    await w.waitFor(/HELLO, WORLD!/);

    const nodeFile = path.join(dir, "nodes/greet.ts");
    const source = await readFile(nodeFile, "utf8");
    expect(source).toContain("Hello, ");
    await writeFile(nodeFile, source.replace("Hello, ", "Howdy, "));
    const change = await w.waitFor(/\[watch\] change: nodes\/greet\.ts → re-running\n/, { from: first.end });
    await w.waitFor(/HOWDY, WORLD!/, { from: change.end });
    expect((await w.waitFor(RUN_END, { from: change.end }))[1]).toBe("0");
  });

  test("a node's new local import is watched too, and an edit to it re-runs", async () => {
    await mkdir(path.join(dir, "nodes"));
    await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - id: w\n    type: word\n");
    const node = (body: string, imports = "") => `${imports}import { z } from "zod";
import { defineNode } from "atomiton";
export default defineNode({
  type: "word", title: "Word", description: "A word", category: "test",
  parameters: z.object({}), inputs: [{ id: "input" }], outputs: [{ id: "output" }],
  execute: () => ${body},
});
`;
    await writeFile(path.join(dir, "nodes/word.ts"), node('"plain"'));
    await writeFile(path.join(dir, "shared.ts"), 'export const word: string = "shared one";\n');
    const w = startWatch(["flow.yaml", "--nodes", "./nodes/word.ts", "--reporter", "plain", "--storage", "memory"]);
    const first = await w.waitFor(RUN_END);
    await w.waitFor(/plain\n/);

    await writeFile(path.join(dir, "nodes/word.ts"), node("word", 'import { word } from "../shared.js";\n'));
    await w.waitFor(/shared one/, { from: first.end });
    const second = await w.waitFor(/\[watch\] now watching shared\.ts\n/, { from: first.end });

    await writeFile(path.join(dir, "shared.ts"), 'export const word: string = "shared two";\n');
    const change = await w.waitFor(/\[watch\] change: shared\.ts → re-running\n/, { from: second.end });
    await w.waitFor(/shared two/, { from: change.end });
  });

  test("plain ES module (.mjs) and CommonJS (.cjs) node files and their helpers are read fresh on every re-run", async () => {
    // jiti hands such files to Node's own import()/require(), whose caches survive moduleCache: false.
    await mkdir(path.join(dir, "nodes"));
    await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - id: e\n    type: esm-word\n  - id: c\n    type: cjs-word\n");
    await writeFile(path.join(dir, "nodes/esm.mjs"), 'import { word } from "./esm-helper.mjs";\nexport default { type: "esm-word", execute: () => "esm " + word };\n');
    await writeFile(path.join(dir, "nodes/esm-helper.mjs"), 'export const word = "one";\n');
    await writeFile(path.join(dir, "nodes/cjs.cjs"), 'module.exports = { type: "cjs-word", execute: () => "cjs " + require("../cjs-helper.cjs").word };\n');
    await writeFile(path.join(dir, "cjs-helper.cjs"), 'exports.word = "one";\n');
    const w = startWatch(["flow.yaml", "--nodes", "./nodes", "--reporter", "plain", "--storage", "memory", "--output", "-"]);
    const first = await w.waitFor(RUN_END);
    expect(first[1], w.output()).toBe("0");
    await w.waitFor(/"e": "esm one",\s+"c": "cjs one"/);

    await writeFile(path.join(dir, "nodes/esm-helper.mjs"), 'export const word = "two";\n');
    const change = await w.waitFor(/\[watch\] change: nodes\/esm-helper\.mjs → re-running\n/, { from: first.end });
    await w.waitFor(/"e": "esm two",\s+"c": "cjs one"/, { from: change.end });
    const second = await w.waitFor(RUN_END, { from: change.end });

    await writeFile(path.join(dir, "cjs-helper.cjs"), 'exports.word = "two";\n');
    const change2 = await w.waitFor(/\[watch\] change: cjs-helper\.cjs → re-running\n/, { from: second.end });
    await w.waitFor(/"e": "esm two",\s+"c": "cjs two"/, { from: change2.end });
    const third = await w.waitFor(RUN_END, { from: change2.end });

    await writeFile(path.join(dir, "nodes/esm.mjs"), 'import { word } from "./esm-helper.mjs";\nexport default { type: "esm-word", execute: () => "ESM " + word };\n');
    const change3 = await w.waitFor(/\[watch\] change: nodes\/esm\.mjs → re-running\n/, { from: third.end });
    await w.waitFor(/"e": "ESM two"/, { from: change3.end });
  });

  test("the five-line custom node runs under --watch, and an edit to it re-runs with the new code", async () => {
    await writeFile(path.join(dir, "double.ts"), fiveLineNode(2));
    await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - id: twice\n    type: double\n    parameters: { n: 21 }\n  - id: show\n    type: log\n    parameters: { message: \"result={{ $input }}\" }\nedges: [twice -> show]\n");
    const w = startWatch(["flow.yaml", "--nodes", "./double.ts", "--reporter", "plain", "--storage", "memory"]);
    const first = await w.waitFor(RUN_END);
    expect(first[1], w.output()).toBe("0");
    expect(w.output().slice(0, first.end)).toContain("result=42");

    await writeFile(path.join(dir, "double.ts"), fiveLineNode(3));
    const change = await w.waitFor(/\[watch\] change: double\.ts → re-running\n/, { from: first.end });
    const second = await w.waitFor(RUN_END, { from: change.end });
    expect(second[1], w.output()).toBe("0");
    expect(w.output().slice(change.end, second.end)).toContain("result=63");
  });

  test("a broken YAML gives a located error and watching goes on; fixing it runs again", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow("fine"));
    const w = startWatch(["flow.yaml", "--reporter", "plain", "--storage", "memory"]);
    const first = await w.waitFor(RUN_END);

    await writeFile(path.join(dir, "flow.yaml"), "name: words\nnodes:\n  - id: say\n    type: code\n   parameters: [\n");
    const broken = await w.waitFor(RUN_END, { from: first.end });
    expect(broken[1]).toBe("2");
    const report = w.output().slice(first.end, broken.end);
    expect(report).toMatch(/flow\.yaml:\d+:\d+/);
    expect(report).toContain("E_YAML");
    expect(report).not.toMatch(/^\s+at /m);

    await writeFile(path.join(dir, "flow.yaml"), flow("fixed"));
    expect((await w.waitFor(RUN_END, { from: broken.end }))[1]).toBe("0");
    await w.waitFor(/said fixed/, { from: broken.end });
  });

  test("a ref: file in directories that do not exist yet: creating them and the file runs (it never did)", async () => {
    await writeFile(path.join(dir, "main.yaml"), "name: main\nnodes:\n  - id: g\n    type: group\n    ref: ./parts/v1/child.yaml\n");
    const w = startWatch(["main.yaml", "--reporter", "plain", "--storage", "memory"]);
    const first = await w.waitFor(RUN_END);
    expect(first[1]).toBe("2");
    // As `mkdir -p parts && cp … parts/` or a checkout does: the file comes with its directory.
    await mkdir(path.join(dir, "parts/v1"), { recursive: true });
    await writeFile(path.join(dir, "parts/v1/child.yaml"), flow("from the new directory"));
    const second = await w.waitFor(RUN_END, { from: first.end });
    expect(second[1]).toBe("0");
    await w.waitFor(/said from the new directory/, { from: first.end });
    // And the directory is watched from then on.
    await writeFile(path.join(dir, "parts/v1/child.yaml"), flow("edited"));
    expect((await w.waitFor(RUN_END, { from: second.end }))[1]).toBe("0");
    await w.waitFor(/said edited/, { from: second.end });
  });

  test("a broken custom node module prints one located error and watching goes on", async () => {
    await mkdir(path.join(dir, "nodes"));
    await writeFile(path.join(dir, "atomiton.config.yaml"), "nodes:\n  - ./nodes\n");
    await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - id: w\n    type: word\n");
    const good = 'import { z } from "zod";\nexport default {\n  type: "word", parameters: z.object({}), inputs: [], outputs: [{ id: "output" }],\n  execute: () => "good word",\n};\n';
    await writeFile(path.join(dir, "nodes/word.ts"), good);
    const w = startWatch(["flow.yaml", "--reporter", "plain", "--storage", "memory"]);
    const first = await w.waitFor(RUN_END);
    await w.waitFor(/good word/);

    await writeFile(path.join(dir, "nodes/word.ts"), good.replace('execute: () => "good word",', "execute( { return 1 },"));
    const broken = await w.waitFor(RUN_END, { from: first.end });
    expect(broken[1]).toBe("2");
    expect(w.output().slice(first.end, broken.end)).toMatch(/✖ E_CUSTOM_NODE nodes\/word\.ts:4:\d+: syntax error: .+\n {2}hint: /);

    await writeFile(path.join(dir, "nodes/word.ts"), good.replace("good word", "better word"));
    expect((await w.waitFor(RUN_END, { from: broken.end }))[1]).toBe("0");
    await w.waitFor(/better word/, { from: broken.end });
  });

  test("a change during a long run cancels it (its child process is gone, its record says cancelled) and starts a new one; Ctrl-C mid-run exits 130 with no orphan", async () => {
    const longFlow = (tag: string) => `name: long\nnodes:\n  - id: sleeper\n    type: shell-command\n    parameters:\n      command: "echo ${tag}-pid=$$; exec sleep 30"\n`;
    await writeFile(path.join(dir, "flow.yaml"), longFlow("first"));
    const w = startWatch(["flow.yaml", "--reporter", "plain"]);
    const firstPid = await w.waitFor(/first-pid=(\d+)/);
    const pid1 = Number(firstPid[1]);
    childPids.push(pid1);
    expect(isAlive(pid1)).toBe(true);

    await writeFile(path.join(dir, "flow.yaml"), longFlow("second"));
    const cancel = await w.waitFor(/\[watch\] change: flow\.yaml → cancelling the run in flight\n/, { from: firstPid.end });
    const cancelled = await w.waitFor(RUN_END, { from: cancel.end });
    expect(cancelled[1]).toBe("130");
    const secondPid = await w.waitFor(/second-pid=(\d+)/, { from: cancelled.end });
    const pid2 = Number(secondPid[1]);
    childPids.push(pid2);
    // The cancelled run's child was gone before the next run started.
    expect(isAlive(pid1)).toBe(false);
    expect(isAlive(pid2)).toBe(true);
    const records = await Promise.all(
      (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json")).map(async (f) => JSON.parse(await readFile(path.join(dir, ".atomiton/runs", f), "utf8")) as { status: string }),
    );
    // The first run's record says cancelled; the second run may already have saved its "running" record.
    const statuses = records.map((r) => r.status).sort();
    expect(statuses.filter((st) => st === "cancelled")).toHaveLength(1);
    expect(statuses.every((st) => st === "cancelled" || st === "running")).toBe(true);

    process.kill(w.pid, "SIGINT");
    const result = await w.child;
    expect(result.exitCode).toBe(130);
    expect(isAlive(pid2)).toBe(false);
    expect(w.output()).toMatch(/\[watch\] stopped \(a run was interrupted\)\n$/);
  });

  test("editing a file 20 times in one second triggers at most two runs", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow("0"));
    const w = startWatch(["flow.yaml", "--reporter", "plain", "--storage", "memory"]);
    const first = await w.waitFor(RUN_END);
    for (let i = 1; i <= 20; i++) {
      await writeFile(path.join(dir, "flow.yaml"), flow(String(i)));
      await sleep(50);
    }
    // The last edit's content runs, and nothing more follows once the edits stop.
    await w.waitFor(/said 20\n/, { from: first.end });
    await sleep(1000);
    const runs = w.output().slice(first.end).match(/\[watch\] change: flow\.yaml → re-running/g) ?? [];
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(2);
  });

  test("a command-line mistake ends watch mode with exit 2 instead of waiting for a file change", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow("x"));
    const w = startWatch(["flow.yaml", "--reporter", "fancy"]);
    const result = await w.child;
    expect(result.exitCode).toBe(2);
    expect(w.output()).toContain('E_USAGE unknown reporter "fancy"');
  });
});


describe.skipIf(!hasTmux)("atomiton run --watch in a real terminal (tmux)", () => {
  let socket: string;
  beforeEach(() => {
    socket = `atomiton-watch-${process.pid}-${Date.now()}`;
  });
  afterEach(async () => {
    await execa("tmux", ["-L", socket, "kill-server"], { reject: false });
  });

  const screen = async () => String((await execa("tmux", ["-L", socket, "capture-pane", "-p", "-t", "w"], { reject: false })).stdout ?? "");
  async function until(done: (text: string) => boolean, withinMs = 20_000): Promise<string> {
    const deadline = Date.now() + withinMs;
    let text = "";
    while (Date.now() < deadline) {
      text = await screen();
      if (done(text)) return text;
      await sleep(50);
    }
    throw new Error(`timed out; screen:\n${text}`);
  }
  const keys = (...k: string[]) => execa("tmux", ["-L", socket, "send-keys", "-t", "w", ...k]);

  test("shows the watching line, re-runs on r and quits on q, restoring the terminal", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow("in a terminal"));
    const quoted = [process.execPath, BIN, "run", "flow.yaml", "--watch", "--storage", "memory"].map((a) => `'${a}'`).join(" ");
    const command = `cd '${dir}' && env -u CI -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 ${quoted}; echo EXIT=$?; stty -a | grep -o -- '-\\?icanon' | head -1; sleep 30`;
    await execa("tmux", ["-L", socket, "-f", TMUX_CONF, "new-session", "-d", "-s", "w", "-x", "120", "-y", "40", command]);
    await until((t) => t.includes("watching 1 file — press q to quit, r to re-run"));
    await keys("r");
    await until((t) => t.includes("r pressed — re-running") && (t.match(/watching 1 file — press q/g) ?? []).length === 2);
    await keys("q");
    const final = await until((t) => /EXIT=\d+/.test(t) && /icanon/.test(t));
    expect(final).toContain("EXIT=0");
    // Raw mode was switched off again: the terminal is back in canonical mode.
    expect(final).toMatch(/^icanon$/m);
  });

  test("Ctrl-Z suspends it as in any program and fg brings it back with its keys (raw mode swallowed Ctrl-Z)", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow("suspended"));
    await execa("tmux", ["-L", socket, "-f", TMUX_CONF, "new-session", "-d", "-s", "w", "-x", "120", "-y", "40", `cd '${dir}' && env -u CI -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 PS1='$ ' bash --norc --noprofile -i`]);
    const quoted = [process.execPath, BIN, "run", "flow.yaml", "--watch", "--storage", "memory"].map((a) => `'${a}'`).join(" ");
    await keys("-l", quoted);
    await keys("Enter");
    await until((t) => t.includes("watching 1 file — press q to quit, r to re-run"));
    await keys("C-z");
    await until((t) => /\[1\]\+ +Stopped/.test(t));
    await keys("-l", "fg; echo EXIT=$?");
    await keys("Enter");
    await until((t) => /Stopped[\s\S]*fg; echo EXIT/.test(t));
    await keys("r");
    await until((t) => t.includes("r pressed — re-running"));
    await keys("q");
    const final = await until((t) => /EXIT=\d+/.test(t));
    expect(final).toContain("EXIT=0");
  });

  test("as a background job of an interactive shell (`&`) it runs and re-runs, without keys (it was stopped at once: tty output)", async () => {
    await writeFile(path.join(dir, "flow.yaml"), flow("in the background"));
    await execa("tmux", ["-L", socket, "-f", TMUX_CONF, "new-session", "-d", "-s", "w", "-x", "120", "-y", "40", `cd '${dir}' && env -u CI -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 PS1='$ ' bash --norc --noprofile -i`]);
    const quoted = [process.execPath, BIN, "run", "flow.yaml", "--watch", "--storage", "memory", "--reporter", "plain"].map((a) => `'${a}'`).join(" ");
    await keys("-l", `${quoted} &`);
    await keys("Enter");
    // Its own keys are off: the shell has the terminal.
    await until((t) => t.includes("said in the background") && t.includes("watching 1 file — press Ctrl-C to quit"));
    await keys("-l", "jobs");
    await keys("Enter");
    const jobs = await until((t) => /\[1\]\+ +(Running|Stopped)/.test(t));
    expect(jobs).toMatch(/\[1\]\+ +Running/);
    await writeFile(path.join(dir, "flow.yaml"), flow("edited meanwhile"));
    await until((t) => t.includes("said edited meanwhile"));
    await keys("-l", "kill -INT %1");
    await keys("Enter");
    await until((t) => t.includes("stopped watching"));
  });
});
