import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BIN, EXAMPLES, tempDir } from "../helpers/cli.js";

// A node that logs faster than the run's event log is written grew the process's memory with every
// line still to write: a shell command printing 3 million lines took 1.7 GB. The shell node now
// waits for the log (ctx.logDrained) and loses nothing; a node that logs in a loop without ever
// yielding has its lines past an 8 MiB backlog left out of the log, counted by one warning there.

let dir: string;
let cleanup: () => Promise<void>;
let baselineMiB: number;

/** Runs the built CLI and reads its peak resident set size, as the child process itself reports it at exit. */
async function runMeasured(args: string[]): Promise<{ exitCode: number | undefined; stderr: string; maxRssMiB: number }> {
  const rssFile = path.join(dir, `rss-${Math.random().toString(36).slice(2)}.txt`);
  const r = await execa("node", ["--require", path.join(dir, "rss-at-exit.cjs"), BIN, ...args], {
    cwd: dir,
    env: { NO_COLOR: "1", CI: "true", RSS_FILE: rssFile },
    reject: false,
    stdin: "ignore",
    timeout: 240_000,
  });
  return { exitCode: r.exitCode, stderr: String(r.stderr), maxRssMiB: Number(await readFile(rssFile, "utf8")) / 1024 };
}

async function eventLog(dataDir: string): Promise<{ type: string; nodeId?: string; message?: string; unrecorded?: number; status?: string }[]> {
  const runs = path.join(dir, dataDir, "runs");
  const file = (await readdir(runs)).find((f) => f.endsWith(".ndjson"))!;
  return (await readFile(path.join(runs, file), "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { type: string });
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-log-pressure-"));
  await writeFile(path.join(dir, "rss-at-exit.cjs"), `process.on("exit", () => require("node:fs").writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)));\n`);
  const base = await runMeasured(["run", path.join(EXAMPLES, "hello.yaml"), "--reporter", "silent", "--data-dir", "base"]);
  expect(base.exitCode, base.stderr).toBe(0);
  baselineMiB = base.maxRssMiB;
}, 60_000);

afterAll(async () => {
  await cleanup?.();
});

const LOOP_LINES = 1_500_000;

test("a custom node logging in a loop that never yields: memory stays bounded, the run's record and final events are all there, and the left-out lines are counted in the log", async () => {
  await writeFile(
    path.join(dir, "chatty.mjs"),
    `export default { type: "chatty", execute(ctx) { for (let i = 0; i < ${LOOP_LINES}; i++) ctx.log("info", "line " + i + " of a node that talks a lot"); return "said it all"; } };\n`,
  );
  await writeFile(path.join(dir, "chatty.yaml"), "name: chatty\nnodes:\n  - { id: talk, type: chatty }\n");
  const r = await runMeasured(["run", "chatty.yaml", "--nodes", "chatty.mjs", "--reporter", "silent", "--data-dir", "chatty"]);
  expect(r.exitCode, r.stderr).toBe(0);
  // Every line kept until written was ~1.5 KB of memory each (~2 GB here); now the backlog is 8 MiB.
  expect(r.maxRssMiB - baselineMiB).toBeLessThan(300);

  const log = await eventLog("chatty");
  expect(log.at(-1)).toMatchObject({ type: "run:finish", status: "succeeded" });
  expect(log.at(-2)).toMatchObject({ type: "node:finish", nodeId: "talk", status: "succeeded" });
  const warnings = log.filter((e) => e.unrecorded !== undefined);
  expect(warnings.length).toBeGreaterThan(0);
  expect(warnings[0]!.message).toMatch(/of this node's log and progress events are not in the run's event log: it fell 8 MiB behind/);
  const recorded = log.filter((e) => e.type === "node:log" && e.unrecorded === undefined).length;
  expect(recorded + warnings.reduce((n, e) => n + e.unrecorded!, 0)).toBe(LOOP_LINES);
  const record = JSON.parse(await readFile(path.join(dir, "chatty", "runs", (await readdir(path.join(dir, "chatty", "runs"))).find((f) => f.endsWith(".json"))!), "utf8")) as { status: string };
  expect(record.status).toBe("succeeded");
}, 240_000);

const SHELL_LINES = 1_000_000;

test("a shell command printing a million lines waits for the log instead of filling memory: every line is recorded", async () => {
  await writeFile(path.join(dir, "flood.yaml"), `name: flood\nnodes:\n  - id: spam\n    type: shell-command\n    parameters: { program: seq, args: ["${SHELL_LINES}"] }\n`);
  const r = await runMeasured(["run", "flood.yaml", "--reporter", "silent", "--data-dir", "flood"]);
  expect(r.exitCode, r.stderr).toBe(0);
  // Its output (every byte of stdout, kept by the node and in the record) costs ~200 MiB of its own.
  expect(r.maxRssMiB - baselineMiB).toBeLessThan(400);

  const log = await eventLog("flood");
  expect(log.at(-1)).toMatchObject({ type: "run:finish", status: "succeeded" });
  expect(log.filter((e) => e.unrecorded !== undefined)).toEqual([]);
  const lines = log.filter((e) => e.type === "node:log" && e.nodeId === "spam").map((e) => e.message);
  expect(lines.slice(-2)).toEqual([String(SHELL_LINES - 1), String(SHELL_LINES)]);
  expect(lines.filter((m) => /^\d+$/.test(m!))).toHaveLength(SHELL_LINES);
}, 240_000);

test("serve: the seqs of a run whose log left lines out are the same live and replayed from the log", async () => {
  await writeFile(path.join(dir, "chatty-some.mjs"), `export default { type: "chatty", execute(ctx) { for (let i = 0; i < 150000; i++) ctx.log("info", "line " + i + " of a node that talks a lot"); return "said it all"; } };\n`);
  const child = execa("node", [BIN, "serve", "--stdio", "--data-dir", "served", "--nodes", "chatty-some.mjs"], { cwd: dir, env: { NO_COLOR: "1", CI: "true" }, reject: false, stdin: "pipe", timeout: 120_000 });
  const messages: { id?: number; method?: string; result?: { runId?: string }; params?: { runId: string; seq: number; event: { type: string; unrecorded?: number } } }[] = [];
  let buffer = "";
  let wake = () => undefined as void;
  child.stdout!.on("data", (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
      messages.push(JSON.parse(buffer.slice(0, nl)) as (typeof messages)[number]);
      buffer = buffer.slice(nl + 1);
    }
    wake();
  });
  const until = async (test: () => boolean) => {
    while (!test()) await new Promise<void>((resolve) => (wake = resolve));
  };
  const finishes = () => messages.filter((m) => m.params?.event.type === "run:finish");
  child.stdin!.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "run.start", params: { text: "name: chatty\nnodes:\n  - { id: talk, type: chatty }\n" } })}\n`);
  await until(() => finishes().length === 1);
  const runId = messages.find((m) => m.id === 1)!.result!.runId!;
  const live = messages.filter((m) => m.method === "run.event" && m.params!.runId === runId).map((m) => m.params!);
  child.stdin!.write(`${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "events.subscribe", params: { runId, fromSeq: 0 } })}\n`);
  await until(() => finishes().length === 2);
  child.stdin!.end();
  await child;
  const replayed = messages.filter((m) => m.method === "run.event" && m.params!.runId === runId).map((m) => m.params!).slice(live.length);
  // The replay is the log: the warning that counts the left-out lines, and seqs without a gap.
  expect(replayed.some((e) => e.event.unrecorded !== undefined)).toBe(true);
  expect(replayed.map((e) => e.seq)).toEqual(replayed.map((_, i) => i));
  // Live (where this client, too slow for 150k lines, also had node:log events dropped), the events
  // that are never dropped came with the seqs the log gives them: live seqs skipped the left-out lines.
  const kept = (events: typeof live) => events.filter((e) => ["run:start", "node:start", "node:finish", "run:finish"].includes(e.event.type)).map((e) => [e.seq, e.event.type]);
  expect(kept(live)).toHaveLength(4);
  expect(kept(live)).toEqual(kept(replayed));
}, 120_000);
