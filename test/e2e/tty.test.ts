import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { pathToFileURL } from "node:url";
import { BIN, ROOT, hasTmux, TMUX_CONF, tempDir } from "../helpers/cli.js";

// `atomiton run --reporter tty` in a real pseudo-terminal: tmux runs it in a detached 120×40
// session and `capture-pane` reads the screen while it runs.

let dir: string;
let cleanup: () => Promise<void>;
// A private tmux server per test (its own socket), killed afterwards with everything in it.
let socket: string;
const session = "atomiton";

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  socket = `atomiton-test-${process.pid}-${Date.now()}`;
});
afterEach(async () => {
  await execa("tmux", ["-L", socket, "kill-server"], { reject: false });
  await cleanup();
});

/** Start `atomiton <args>` in the terminal; the shell prints EXIT=<code> when it ends. */
async function startInTerminal(args: readonly string[]): Promise<void> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  // The session's environment comes from the tmux server: set what the reporter decides from.
  const command = `cd '${dir}' && env -u CI -u NO_COLOR -u FORCE_COLOR -u GITHUB_ACTIONS TERM=xterm-256color LANG=C.UTF-8 ${quoted}; echo EXIT=$?; sleep 30`;
  await execa("tmux", ["-L", socket, "-f", TMUX_CONF, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command]);
}

async function screen(): Promise<string> {
  const r = await execa("tmux", ["-L", socket, "capture-pane", "-p", "-t", session], { reject: false });
  return String(r.stdout ?? "");
}

/** Capture the screen every 40 ms until `done` holds (bounded); returns every distinct frame seen. */
async function watch(done: (text: string) => boolean, timeoutMs = 20_000): Promise<string[]> {
  const frames: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await screen();
    if (frames.at(-1) !== text) frames.push(text);
    if (done(text)) return frames;
    await sleep(40);
  }
  throw new Error(`timed out; last screen:\n${frames.at(-1) ?? ""}`);
}

describe.skipIf(!hasTmux)("the tty reporter in a real terminal (tmux)", () => {
  test("shows the live tree with node titles while running, then the summary", async () => {
    const nodes = ["fetch", "parse", "render", "publish"].map((id, i) => `  - { id: ${id}, type: delay, parameters: { duration: ${150 + 50 * i} } }`).join("\n");
    await writeFile(path.join(dir, "flow.yaml"), `name: live\nnodes:\n${nodes}\nedges: [fetch -> parse, parse -> render, render -> publish]\n`);
    await startInTerminal(["run", "flow.yaml", "--reporter", "tty", "--storage", "memory"]);
    const frames = await watch((t) => t.includes("EXIT="));
    const final = frames.at(-1)!;
    expect(final).toContain("EXIT=0");
    expect(final).toMatch(/run succeeded in .*4 succeeded/);
    // While it ran, a frame showed a node in progress (spinner) next to finished ones.
    const live = frames.filter((f) => !f.includes("EXIT=") && /parse|render/.test(f));
    expect(live.length).toBeGreaterThan(0);
    for (const id of ["fetch", "parse", "render", "publish"]) expect(frames.some((f) => f.includes(id))).toBe(true);
    expect(frames.some((f) => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(f) && !f.includes("EXIT="))).toBe(true);
  });

  test("a 2,000-node composite renders collapsed", async () => {
    const count = 2000;
    const lines = Array.from({ length: count }, (_, i) => `  - { id: n${i}, type: delay, parameters: { duration: 0 } }`);
    const edges = Array.from({ length: count - 1 }, (_, i) => `  - n${i} -> n${i + 1}`);
    await writeFile(path.join(dir, "big.yaml"), `name: big\nnodes:\n${lines.join("\n")}\nedges:\n${edges.join("\n")}\n`);
    await startInTerminal(["run", "big.yaml", "--reporter", "tty", "--storage", "memory"]);
    const frames = await watch((t) => t.includes("EXIT="), 60_000);
    const final = frames.at(-1)!;
    expect(final).toContain("EXIT=0");
    expect(final).toContain("2,000/2,000 done");
    expect(final).toMatch(/run succeeded in .*2,?000 succeeded/);
    // Collapsed: the screen never held more than a handful of node rows.
    for (const f of frames) expect((f.match(/\bn\d+\b/g) ?? []).length).toBeLessThan(40);
  });
  test("a spinner names the phases before the run and is gone when the reporter starts", async () => {
    // Custom node modules that take a while to evaluate make "loading custom nodes" last ~1.5 s.
    await mkdir(path.join(dir, "nodes"));
    const zod = pathToFileURL(path.join(ROOT, "node_modules/zod/index.js")).href;
    for (const i of [1, 2, 3, 4]) {
      await writeFile(
        path.join(dir, "nodes", `slow${i}.mjs`),
        `import { z } from ${JSON.stringify(zod)};\nconst end = Date.now() + 400;\nwhile (Date.now() < end) {}\nexport default { type: "slow${i}", title: "Slow", description: "d", category: "test", parameters: z.object({}), inputs: [{ id: "input" }], outputs: [{ id: "output" }], execute: () => ${i} };\n`,
      );
    }
    await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - { id: first, type: slow1 }\n");
    await startInTerminal(["run", "flow.yaml", "--nodes", "./nodes", "--reporter", "tty", "--storage", "memory"]);
    const frames = await watch((t) => t.includes("EXIT="));
    expect(frames.some((f) => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] loading custom nodes/.test(f))).toBe(true);
    const final = frames.at(-1)!;
    expect(final).toContain("EXIT=0");
    expect(final).toMatch(/run succeeded/);
    expect(final).not.toContain("loading custom nodes");
  });

  test("--resume: a reused node says so in the final tree and the summary", async () => {
    await writeFile(path.join(dir, "flow.yaml"), "name: resumed\nnodes:\n  - { id: first, type: code, parameters: { code: 'return 1' } }\n  - { id: second, type: code, parameters: { code: \"if ($env.BREAK) throw new Error('broken'); return data + 1\" } }\nedges: [first -> second]\n");
    const failed = await execa("node", [BIN, "run", "flow.yaml", "--reporter", "json"], { cwd: dir, reject: false, env: { BREAK: "1" } });
    expect(failed.exitCode).toBe(1);
    const runId = JSON.parse(String(failed.stdout).split("\n")[0]!).runId as string;
    await startInTerminal(["run", "flow.yaml", "--reporter", "tty", "--resume", runId]);
    const final = (await watch((t) => t.includes("EXIT="))).at(-1)!;
    expect(final).toContain("EXIT=0");
    expect(final).toMatch(new RegExp(`first .*reused from run ${runId}`));
    expect(final).toMatch(/2 succeeded \(1 reused\)/);
  });
});
