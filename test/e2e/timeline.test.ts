import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, test } from "vitest";
import { COLORS } from "../../src/cli/timeline/svg.js";
import { parseEventLog } from "../../src/cli/commands/runs.js";
import { atomiton, BIN, EXAMPLES, ROOT, useTempDir } from "../helpers/cli.js";
import { countColor, decodePng, hasRsvg, renderSvgToPng, RSVG_MISSING } from "../helpers/png.js";
import { validateTrace } from "../helpers/trace-format.js";

// The timeline through the built CLI: real runs, the stored event log, rsvg-convert for the picture.
if (!hasRsvg) console.warn(RSVG_MISSING);

let dir: string;
useTempDir((d) => (dir = d), "atomiton-timeline-");

const EVERY_STATUS = path.join(ROOT, "test/fixtures/timeline/every-status.yaml");
const slots = (tid: number) => tid > 0;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });

async function onlyRunId(dataDir: string): Promise<string> {
  const ids = (await readdir(path.join(dataDir, "runs"))).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** No stack trace: a user error is one line, a code and a hint. */
function expectCleanError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
}

/** The picture parses as XML, renders with rsvg-convert at its own size, and has bars of `statuses` above the legend. */
function expectRendered(svg: string, statuses: readonly (keyof typeof COLORS)[]): void {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = parser.parse(svg) as { svg: { width: string; height: string } };
  if (!hasRsvg) return;
  const png = decodePng(renderSvgToPng(svg));
  expect([png.width, png.height]).toEqual([Number(doc.svg.width), Number(doc.svg.height)]);
  const legendY = Number(/<g id="legend" transform="translate\(\d+,(\d+)\)"/.exec(svg)![1]);
  for (const status of statuses) expect(countColor(png, COLORS[status], 0, legendY), `${status} pixels`).toBeGreaterThan(20);
}

describe("atomiton run --profile, runs show --timeline --format svg|trace", () => {
  test("a run with every status: the profile, the trace and the picture agree with the event log", async () => {
    const dataDir = path.join(dir, "data");
    const run = await atomiton(["run", EVERY_STATUS, "--data-dir", dataDir, "--profile", "out/run.trace.json", "--reporter", "plain"], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stderr).toContain("profile written to out/run.trace.json");
    const runId = await onlyRunId(dataDir);
    const events = parseEventLog(await readFile(path.join(dataDir, "runs", `${runId}.ndjson`), "utf8"));
    const starts = events.filter((e) => e.type === "node:start");

    // The trace written as the run ended: valid, one span per node execution (attempt, iteration).
    const profileText = await readFile(path.join(dir, "out/run.trace.json"), "utf8");
    const spans = validateTrace(profileText, { disjointTids: slots });
    const nodeSpans = spans.filter((s) => s.cat === "node");
    expect(nodeSpans).toHaveLength(starts.length);
    expect(nodeSpans.filter((s) => s.name === "work")).toHaveLength(4);
    expect(nodeSpans.filter((s) => s.name === "flaky").map((s) => s.args?.status)).toEqual(["retried", "succeeded"]);
    expect(new Set(nodeSpans.map((s) => s.args?.status))).toEqual(new Set(["succeeded", "failed", "cancelled", "retried"]));
    expect(spans.filter((s) => s.cat === "retry")).toHaveLength(1);
    const profile = JSON.parse(profileText) as { otherData: Record<string, unknown>; traceEvents: { name: string; ph: string }[] };
    expect(profile.traceEvents.filter((e) => e.ph === "i").map((e) => e.name)).toEqual(["never skipped"]);
    // The failure ended the run, not the node it cancelled; flaky released boom after each.
    expect(profile.otherData).toMatchObject({ status: "failed", dependencies: "composite", criticalPath: { nodes: ["flaky", "boom"] } });

    // The same trace from the stored log (the composite file gives the same edges).
    const shown = await atomiton(["runs", "show", runId, "--timeline", "--format", "trace", "--data-dir", dataDir], { cwd: dir });
    expect(shown.exitCode, shown.stderr).toBe(0);
    validateTrace(shown.stdout, { disjointTids: slots });
    expect(JSON.parse(shown.stdout)).toEqual(profile);

    // The picture, to a file.
    const svgRun = await atomiton(["runs", "show", runId.slice(0, -2), "--timeline", "--format", "svg", "--output", "pics/run.svg", "--data-dir", dataDir], { cwd: dir });
    expect(svgRun.exitCode, svgRun.stderr).toBe(0);
    expect(svgRun.stdout).toBe("");
    const svg = await readFile(path.join(dir, "pics/run.svg"), "utf8");
    for (const id of ["flaky", "slow", "never", "items", "each", "work ×4", "boom"]) expect(svg).toContain(`>${id}<`);
    expect(svg).toContain("Critical path: flaky → boom");
    if (!hasRsvg) console.warn(`skipped the PNG check: ${RSVG_MISSING}`);
    expectRendered(svg, ["succeeded", "failed", "skipped", "cancelled", "retried"]);

    // text stays the default
    const text = await atomiton(["runs", "show", runId, "--timeline", "--data-dir", dataDir], { cwd: dir });
    expect(text.stdout).toMatch(/\ntimeline\n/);
    expect(text.stdout).toMatch(/\nboom +█+ +[\d.]+m?s$/m);

    const stats = await atomiton(["runs", "stats", "timeline-demo", "--data-dir", dataDir], { cwd: dir });
    expect(stats.exitCode, stats.stderr).toBe(0);
    expect(stats.stdout).toMatch(/^timeline-demo: 1 run, the newest /);
    // one run: p50, p95 and the newest are the same time
    const boom = /\nboom +shell-command +1 +([\d.]+m?s) +([\d.]+m?s) +([\d.]+m?s)\n/.exec(stats.stdout);
    expect(boom?.slice(2)).toEqual([boom?.[1], boom?.[1]]);
    expect(stats.stdout).toContain("regressions need 3 earlier runs to compare with; there are 0");
  });

  test("--profile with --storage memory (nothing stored): the trace comes from the bus", async () => {
    const r = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--storage", "memory", "--profile", "hello.trace.json", "--reporter", "silent"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const spans = validateTrace(await readFile(path.join(dir, "hello.trace.json"), "utf8"), { disjointTids: slots });
    expect(spans.filter((s) => s.cat === "node").map((s) => s.name).sort()).toEqual(["greet", "join", "shout", "whisper"]);
  });

  test("Ctrl-C: the run is cancelled and the profile is still written", async () => {
    await writeFile(path.join(dir, "wait.yaml"), "name: wait\nnodes:\n  - { id: quick, type: delay, parameters: { duration: 1 } }\n  - { id: long, type: delay, parameters: { duration: 60s } }\nedges:\n  - quick -> long\n");
    const child = execa("node", [BIN, "run", "wait.yaml", "--storage", "memory", "--profile", "wait.trace.json", "--reporter", "plain"], { cwd: dir, reject: false, env: { CI: "true", NO_COLOR: "1" }, timeout: 30_000 });
    try {
      await new Promise<void>((resolve, reject) => {
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          if (/long +started/.test(stderr)) resolve();
        });
        void child.finally(() => reject(new Error(`the CLI exited before "long" started:\n${stderr}`)));
      });
      child.kill("SIGINT");
      const r = await child;
      expect(r.exitCode).toBe(130);
    } finally {
      child.kill("SIGKILL");
    }
    const spans = validateTrace(await readFile(path.join(dir, "wait.trace.json"), "utf8"), { disjointTids: slots });
    expect(spans.filter((s) => s.cat === "node").map((s) => [s.name, s.args?.status])).toEqual([
      ["quick", "succeeded"],
      ["long", "cancelled"],
    ]);
  });

  test("1,000 nodes: the picture aggregates and stays small; the trace has every execution", async () => {
    // 25 chains of 40 nodes: plan levels 0..39, 25 nodes each.
    const lines = ["name: thousand", "settings: { concurrency: 8 }", "nodes:"];
    const edges: string[] = [];
    for (let l = 0; l < 40; l++) {
      for (let k = 0; k < 25; k++) {
        lines.push(`  - { id: n${l}-${k}, type: delay, parameters: { duration: ${k % 5} } }`);
        if (l > 0) edges.push(`  - n${l - 1}-${k} -> n${l}-${k}`);
      }
    }
    await writeFile(path.join(dir, "thousand.yaml"), `${[...lines, "edges:", ...edges].join("\n")}\n`);
    const dataDir = path.join(dir, "data");
    const r = await atomiton(["run", "thousand.yaml", "--data-dir", dataDir, "--reporter", "silent"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const runId = await onlyRunId(dataDir);
    const svg = await atomiton(["runs", "show", runId, "--format", "svg", "--data-dir", dataDir], { cwd: dir });
    expect(svg.exitCode, svg.stderr).toBe(0);
    expect(svg.stdout.length).toBeLessThan(150_000);
    expect(svg.stdout).toContain('<g id="levels">');
    expect(svg.stdout.match(/>levels \d+–\d+ · 50 nodes</g)).toHaveLength(20);
    expect(svg.stdout).toContain("Longest 15 of 1000 nodes");
    // with the composite's edges the path follows one chain
    expect(svg.stdout).toMatch(/Critical path: n0-(\d+) → n1-\1 → n2-\1 → n3-\1 → … → n37-\1 → n38-\1 → n39-\1 · 40 nodes/);
    expectRendered(svg.stdout, ["succeeded"]);
    const trace = await atomiton(["runs", "show", runId, "--format", "trace", "--data-dir", dataDir], { cwd: dir });
    expect(validateTrace(trace.stdout, { disjointTids: slots }).filter((s) => s.cat === "node")).toHaveLength(1000);
  });

  test("the run summary's critical path of a chain is the whole chain (the CLI gives the reporters the edges)", async () => {
    const nodes = Array.from({ length: 6 }, (_, i) => `  - { id: n${i}, type: code, parameters: { code: "return 1" } }`);
    const edges = Array.from({ length: 5 }, (_, i) => `n${i} -> n${i + 1}`).join(", ");
    await writeFile(path.join(dir, "chain.yaml"), `name: chain\nnodes:\n${nodes.join("\n")}\nedges: [${edges}]\n`);
    for (const reporter of ["plain", "github"]) {
      const r = await atomiton(["run", "chain.yaml", "--reporter", reporter, "--storage", "memory"], { cwd: dir, env: { NO_COLOR: "1", GITHUB_ACTIONS: "" } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain("Critical path: n0 → n1 → n2 → n3 → n4 → n5 ");
    }
  });

  test("bad input: one clear line, the right exit code, no stack", async () => {
    const dataDir = path.join(dir, "data");
    expect((await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--data-dir", dataDir, "--reporter", "silent"], { cwd: dir })).exitCode).toBe(0);
    const runId = await onlyRunId(dataDir);
    const show = (...args: string[]) => atomiton(["runs", "show", runId, "--data-dir", dataDir, ...args], { cwd: dir });

    const png = await show("--timeline", "--format", "png");
    expect(png.exitCode).toBe(2);
    expectCleanError(png.stderr, /E_USAGE --format must be one of text, svg, trace, got "png"/);
    const both = await show("--json", "--format", "svg");
    expect(both.exitCode).toBe(2);
    expectCleanError(both.stderr, /E_USAGE --json and --format cannot be combined/);
    await mkdir(path.join(dir, "a-directory"));
    const unwritable = await show("--format", "svg", "--output", "a-directory");
    expect(unwritable.exitCode).toBe(1);
    expectCleanError(unwritable.stderr, /E_FILE cannot write the SVG timeline to a-directory: E\w+/);

    const dash = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--storage", "memory", "--profile", "-"], { cwd: dir });
    expect(dash.exitCode).toBe(2);
    expectCleanError(dash.stderr, /E_USAGE --profile needs a file name/);

    const unknown = await atomiton(["runs", "stats", "helo", "--data-dir", dataDir], { cwd: dir });
    expect(unknown.exitCode).toBe(2);
    expectCleanError(unknown.stderr, /E_NOT_FOUND no ended runs of "helo" in .*: did you mean "hello"\?/);
    // They are composites that have runs, not stored composites (`composites list`).
    expect(unknown.stderr).toContain("hint: composites with stored runs: hello");
    const xml = await atomiton(["runs", "stats", "hello", "--format", "xml", "--data-dir", dataDir], { cwd: dir });
    expect(xml.exitCode).toBe(2);
    expectCleanError(xml.stderr, /E_USAGE --format must be text or json, got "xml"/);
  });
});

describe("atomiton runs stats", () => {
  /** A stored record as the recorder writes it (the fields `runs stats` reads). */
  const record = (runId: string, startedAt: string, fetchMs: number, parseMs: number) => ({
    runId,
    status: "succeeded",
    composite: { id: "deploy", name: "deploy", file: "/srv/flows/deploy.yaml", hash: "abc" },
    input: null,
    vars: {},
    startedAt,
    pid: 1,
    host: "ci",
    durationMs: fetchMs + parseMs,
    nodes: {
      fetch: { type: "http-request", status: "succeeded", attempts: 1, durationMs: fetchMs },
      parse: { type: "code", status: "succeeded", attempts: 1, durationMs: parseMs },
      notify: { type: "log", status: "skipped", attempts: 0, durationMs: 0, reason: "if: false" },
    },
  });

  test("a composite whose runs all did not end: said so, without a did-you-mean naming it back", async () => {
    const runsDir = path.join(dir, "data/runs");
    await mkdir(runsDir, { recursive: true });
    const id = "20260101T000000-bbbbb0";
    await writeFile(path.join(runsDir, `${id}.json`), JSON.stringify({ ...record(id, "2026-01-01T00:00:00.000Z", 100, 20), status: "running" }));
    const r = await atomiton(["runs", "stats", "deploy", "--data-dir", "data"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no ended runs of "deploy" in .* \(1 of its runs did not end: still running, or killed\)/);
    expect(r.stderr).not.toMatch(/did you mean/);
  });

  test("p50/p95 per node over the stored runs; the newest run's regression is marked", async () => {
    const runsDir = path.join(dir, "data/runs");
    await mkdir(runsDir, { recursive: true });
    const samples: [number, number][] = [
      [100, 20],
      [110, 21],
      [120, 22],
      [130, 20],
      [400, 26], // newest: fetch regressed; parse is 4 ms over, under the 10 ms floor
    ];
    for (const [i, [fetch, parse]] of samples.entries()) {
      const id = `20260101T00000${i}-aaaaa${i}`;
      await writeFile(path.join(runsDir, `${id}.json`), JSON.stringify(record(id, `2026-01-01T00:00:0${i}.000Z`, fetch, parse)));
    }
    const text = await atomiton(["runs", "stats", "deploy", "--data-dir", "data"], { cwd: dir });
    expect(text.exitCode, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("deploy: 5 runs, the newest 20260101T000004-aaaaa4 (" + lines[0]!.split("(")[1]);
    expect(lines.slice(2, 5).map((l) => l.trimEnd())).toEqual([
      "NODE   TYPE          RUNS    P50    P95   LAST",
      "fetch  http-request     5  120ms  400ms  400ms  ▲ regression: 400ms > p95 130ms of earlier runs",
      "parse  code             5   21ms   26ms   26ms",
    ]);
    expect(lines.at(-1)).toBe("1 node regressed in the newest run (compared with 4 earlier runs, floor 10ms)");

    const json = await atomiton(["runs", "stats", "/srv/flows/deploy.yaml", "--format", "json", "--min-delta", "0", "--data-dir", "data"], { cwd: dir });
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      composite: { id: "deploy", name: "deploy" },
      runs: 5,
      lastRunId: "20260101T000004-aaaaa4",
      minDeltaMs: 0,
      nodes: [
        { nodeId: "fetch", p50: 120, p95: 400, last: 400, earlierP95: 130, regression: true },
        { nodeId: "parse", p50: 21, p95: 26, last: 26, earlierP95: 22, regression: true },
      ],
    });

    const limited = await atomiton(["runs", "stats", "deploy", "--last", "2", "--data-dir", "data"], { cwd: dir });
    expect(limited.stdout).toMatch(/^deploy: 2 runs/);
    expect(limited.stdout).toContain("regressions need 3 earlier runs to compare with; there is 1");
  });
});
