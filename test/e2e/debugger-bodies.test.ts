import { writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { BIN, TMUX_CONF, hasTmux, tempDir } from "../helpers/cli.js";

// Breakpoints in `--watch` re-runs, groups and parallel branches, in a real pseudo-terminal (tmux),
// as debugger.test.ts drives it: wait for what the screen must show next (bounded), never for time.

let dir: string;
let cleanup: () => Promise<void>;
let socket: string;
const session = "debug";

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-debug-bodies-"));
  socket = `atomiton-debug-bodies-${process.pid}-${Date.now()}`;
});
afterEach(async () => {
  await execa("tmux", ["-L", socket, "kill-server"], { reject: false });
  await cleanup();
});

async function startInTerminal(args: readonly string[]): Promise<void> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const command = `cd '${dir}' && env -u CI -u NO_COLOR -u FORCE_COLOR -u GITHUB_ACTIONS TERM=xterm-256color LANG=C.UTF-8 ${quoted}; echo EXIT=$?; sleep 60`;
  await execa("tmux", ["-L", socket, "-f", TMUX_CONF, "new-session", "-d", "-s", session, "-x", "120", "-y", "50", command]);
}

async function screen(): Promise<string> {
  const r = await execa("tmux", ["-L", socket, "capture-pane", "-p", "-J", "-S", "-2000", "-t", session], { reject: false });
  return String(r.stdout ?? "");
}

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

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, "g"))?.length ?? 0;

async function type(line: string): Promise<void> {
  await execa("tmux", ["-L", socket, "send-keys", "-t", session, "-l", line]);
  await execa("tmux", ["-L", socket, "send-keys", "-t", session, "Enter"]);
}

const flow = (word: string) => `name: words
nodes:
  - { id: make, type: code, parameters: { code: "return '${word}'" } }
  - { id: shout, type: code, parameters: { code: "return $input.toUpperCase()" } }
edges: [make -> shout]
`;

describe.skipIf(!hasTmux)("breakpoints in watch re-runs, groups and parallel branches (tmux)", () => {
  test("--watch keeps the breakpoints: the re-run after a change pauses at the same node, with the new input", async () => {
    const file = path.join(dir, "flow.yaml");
    await writeFile(file, flow("first"));
    await startInTerminal(["run", "flow.yaml", "--watch", "--break", "shout", "--output", "-"]);
    await waitFor(/paused before shout \(code\)[\s\S]*input input\s+"first"[\s\S]*debug shout/);
    await type("c");
    await waitFor(/FIRST[\s\S]*watching/);
    await writeFile(file, flow("second"));
    const again = await waitFor(/paused before shout \(code\)[\s\S]*input input\s+"second"[\s\S]*debug shout/);
    expect(count(again, /paused before shout/)).toBe(2);
    await type("set code=return $input + '!'");
    await waitFor(/code set; the node runs with/);
    await type("c");
    await waitFor(/second![\s\S]*watching/);
  });

  test("--watch --step steps through every re-run, though c ended the stepping of the run before (the re-runs never paused)", async () => {
    const file = path.join(dir, "flow.yaml");
    await writeFile(file, flow("first"));
    await startInTerminal(["run", "flow.yaml", "--watch", "--step", "--output", "-"]);
    await waitFor(/paused before make \(code\) · step[\s\S]*debug make/);
    await type("c");
    await waitFor(/FIRST[\s\S]*watching/);
    await writeFile(file, flow("second"));
    const again = await waitFor(/(paused before make[\s\S]*){2}debug make|SECOND/);
    expect(again).not.toContain("SECOND");
    await type("s");
    await waitFor(/paused before shout \(code\) · step[\s\S]*input input\s+"second"[\s\S]*debug shout/);
    await type("c");
    await waitFor(/SECOND[\s\S]*watching/);
  });

  test("--watch --break: s at the breakpoint does not make the next re-run step from its first node", async () => {
    const file = path.join(dir, "flow.yaml");
    await writeFile(file, flow("first"));
    await startInTerminal(["run", "flow.yaml", "--watch", "--break", "shout", "--output", "-"]);
    await waitFor(/paused before shout \(code\)[\s\S]*debug shout/);
    // Stepping past the last node: the run ends.
    await type("s");
    await waitFor(/FIRST[\s\S]*watching/);
    await writeFile(file, flow("second"));
    const again = await waitFor(/(paused before [\s\S]*){2}debug/);
    expect([...again.matchAll(/paused before (\w+)/g)].map((m) => m[1])).toEqual(["shout", "shout"]);
    await type("c");
    await waitFor(/SECOND[\s\S]*watching/);
  });

  test("a breakpoint inside a group and one inside a parallel branch each pause, show their input, and the run goes on", async () => {
    await writeFile(
      path.join(dir, "flow.yaml"),
      `name: bodies
nodes:
  - { id: start, type: code, parameters: { code: "return 5" } }
  - id: g
    type: group
    nodes:
      - { id: inner, type: code, parameters: { code: "return $input * 2" } }
  - id: par
    type: parallel
    nodes:
      - { id: left, type: code, parameters: { code: "return 'L'" } }
      - { id: right, type: code, parameters: { code: "return 'R'" } }
edges: [start -> g, start -> par]
`,
    );
    await startInTerminal(["run", "flow.yaml", "--break", "inner", "--break", "right", "--output", "-", "--concurrency", "1"]);
    await waitFor(/paused before inner \(code\)[\s\S]*input input\s+5[\s\S]*debug inner/);
    await type("set code=return $input * 3");
    await waitFor(/code set; the node runs with/);
    await type("c");
    await waitFor(/paused before right \(code\)[\s\S]*input input\s+5[\s\S]*debug right/);
    await type("k \"skipped R\"");
    const final = await waitFor(/EXIT=\d+/);
    expect(final).toContain("EXIT=0");
    expect(final).toMatch(/"g": 15,\s+"par": \[\s+"L",\s+"skipped R"\s+\]/);
  });
});
