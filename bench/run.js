#!/usr/bin/env node
// `npm run bench` (after a build) or `node bench/run.js [--quick] [--out file]`.
// ATOMITON_BENCH_DIST=<dir> benchmarks another build (default: ../dist).
// Prints one row per measurement and writes the figures with machine info as JSON.
// Thresholds are reported, never enforced: the exit code is 0 unless something crashes.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { benchColdStart, benchTty, hasScript } from "./cli.js";
import { benchEndToEnd } from "./e2e.js";
import { benchEngine } from "./engine.js";
import { benchWatchIdle } from "./watch-idle.js";
import { benchQueue, queueRows } from "./queue.js";
import { benchServe, serveRows } from "./serve.js";
import { msSince, round, short } from "./stats.js";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outArg = args.indexOf("--out");
const outFile = outArg >= 0 ? path.resolve(args[outArg + 1]) : quick ? path.join(os.tmpdir(), "atomiton-bench-quick.json") : path.join(benchDir, "results.json");
const distDir = process.env.ATOMITON_BENCH_DIST ? path.resolve(process.env.ATOMITON_BENCH_DIST) : path.join(repoRoot, "dist");
const distIndex = pathToFileURL(path.join(distDir, "index.js")).href;
// The default build is what users run (bin/atomiton.js imports ../dist/cli.js); another build runs its cli.js.
const cli = distDir === path.join(repoRoot, "dist") ? [path.join(repoRoot, "bin", "atomiton.js")] : [path.join(distDir, "cli.js")];

const started = process.hrtime.bigint();
const progress = (what) => process.stderr.write(`  … ${what}\n`);
const rows = [];
/** One table row; `target` = [op, limit] and is dropped in --quick. */
const row = (name, value, unit, target) => {
  const r = { name, value: round(value, 3), unit };
  if (target && !quick) {
    const [op, limit] = target;
    r.target = `${op} ${limit}`;
    r.pass = op === "≤" ? value <= limit : op === "≥" ? value >= limit : value < limit;
  }
  rows.push(r);
};

if (!existsSync(path.join(distDir, "index.js"))) {
  process.stderr.write(`bench: no build at ${distDir}: run \`npm run build\` first, or set ATOMITON_BENCH_DIST\n`);
  process.exit(1); // a script, not library code: nothing to measure
}
const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.availableParallelism(),
  memoryGb: round(os.totalmem() / 2 ** 30, 3),
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString(),
  // Other work on the machine skews every figure: a load average above the core count means noise.
  loadAverage: os.loadavg().map((x) => round(x, 3)),
};
process.stderr.write(`atomiton bench${quick ? " --quick" : ""} · ${machine.cpu} · ${machine.cores} cores · node ${machine.node} · load ${machine.loadAverage.join(" ")} · ${distDir}\n`);

// 1–3. In-process shapes: baseline, silent, event log.
const engine = benchEngine({ distIndex, quick, progress });
const shown = new Set();
for (const r of engine) {
  const c = r.concurrency === "unlimited" ? "∞" : r.concurrency;
  if (!shown.has(r.shape)) rows.push({ name: `${r.shape} · load+validate`, value: round(r.loadMs, 3), unit: "ms" });
  shown.add(r.shape);
  const label = `${r.shape} c=${c}`;
  row(`${label} · baseline`, r.usPerNode.baseline, "µs/node");
  row(`${label} · silent`, r.usPerNode.silent, "µs/node");
  row(`${label} · silent ÷ baseline`, r.usPerNode.silent / r.usPerNode.baseline, "×", ["≤", 2]);
  row(`${label} · event log`, r.usPerNode.eventLog, "µs/node");
  row(`${label} · event log ÷ baseline`, r.usPerNode.eventLog / r.usPerNode.baseline, "×");
}
const chains = engine.filter((r) => r.shape.startsWith("chain")).sort((a, b) => a.nodes - b.nodes);
const [small, big] = chains.slice(-2);
// The two sizes alternate in the same child processes (engine.js), so they share heap, JIT and memory layout.
const scaling = {
  from: small.nodes,
  to: big.nodes,
  sameProcess: Boolean(big.together?.includes(small.shape)),
  silent: big.medianMs.silent / small.medianMs.silent,
  eventLog: big.medianMs.eventLog / small.medianMs.eventLog,
  baseline: big.medianMs.baseline / small.medianMs.baseline,
};
const sizeRatio = big.nodes / small.nodes;
const linearLimit = sizeRatio === 10 ? 12 : sizeRatio * 1.2;
row(`scaling chain ${short(big.nodes)} ÷ ${short(small.nodes)} · baseline`, scaling.baseline, "×");
row(`scaling chain ${short(big.nodes)} ÷ ${short(small.nodes)} · silent`, scaling.silent, "×", ["≤", linearLimit]);
row(`scaling chain ${short(big.nodes)} ÷ ${short(small.nodes)} · event log`, scaling.eventLog, "×", ["≤", linearLimit]);

// 4. Concurrent executions, each mode in its own process so the peak RSS is its own.
const count = quick ? 100 : 1000;
const concurrent = {};
for (const mode of ["silent", "eventLog"]) {
  progress(`${count} concurrent executions (${mode})`);
  // A 1 GiB heap cap: far above the 500 MB target, low enough that a runaway fails fast.
  const argv = ["--max-old-space-size=1024", path.join(benchDir, "concurrent.js"), distIndex, String(count), mode];
  const r = spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 120_000 });
  const label = `${count} concurrent runs of 10 nodes · ${mode === "eventLog" ? "event log" : "silent"}`;
  if (r.status === 0) {
    const m = JSON.parse(r.stdout);
    concurrent[mode] = m;
    row(`${label} · total`, m.ms, "ms");
    row(`${label} · peak RSS`, m.peakRssMb, "MB", ["<", 500]);
  } else {
    // The engine, not the bench, gave out: a failed measurement, reported as such.
    const why = r.error?.code === "ETIMEDOUT" ? "timed out after 120 s" : /heap out of memory/.test(r.stderr) ? "out of memory (1 GiB heap)" : `exit ${r.status ?? r.signal}`;
    concurrent[mode] = { failed: why, stderr: r.stderr.slice(-2000) };
    rows.push({ name: `${label} · total`, value: "crashed", unit: why, ...(quick ? {} : { target: "completes", pass: false }) });
    rows.push({ name: `${label} · peak RSS`, value: "> 1024", unit: "MB", ...(quick ? {} : { target: "< 500", pass: false }) });
  }
}

// 5. Cold start.
progress("CLI cold start");
const coldStart = benchColdStart({ cli, repoRoot, runs: quick ? 3 : 15, warmup: quick ? 1 : 3 });
const coldTargets = { "atomiton --version": 1.5, "atomiton run hello --reporter plain": 2.5 };
for (const c of coldStart) {
  row(`cold start · ${c.name}`, c.medianMs, "ms");
  if (c.name !== "node -e 0") row(`cold start · ${c.name} ÷ node -e 0`, c.ratio, "×", coldTargets[c.name] ? ["≤", coldTargets[c.name]] : undefined);
}

// 5b. End to end (issue 17): `atomiton run chain.yaml --reporter silent --storage memory` on chains of
// edit-fields nodes in the three dialects, process start to exit, minus the `run hello` cold start.
const endToEnd = benchEndToEnd({ cli, repoRoot, sizes: quick ? [100, 1000] : [1000, 10_000, 100_000], runs: quick ? 1 : 5, warmup: quick ? 0 : 1, progress });
for (const e of endToEnd) {
  const label = `end to end · chain ${short(e.nodes)} ${e.dialect}`;
  row(`${label} · total`, e.medianMs, "ms", e.nodes === 100_000 ? ["<", 3000] : undefined);
  row(`${label} · per node − run hello`, e.usPerNode, "µs/node", e.nodes === 10_000 ? ["≤", 15] : undefined);
}

// 6. tty reporter vs silent in a pseudo-terminal.
let tty = [];
if (hasScript()) {
  progress("tty reporter vs silent");
  tty = benchTty({ cli, sizes: quick ? [300] : [2000, 10_000], runs: quick ? 1 : 7, warmup: quick ? 0 : 1 });
  for (const t of tty) {
    row(`tty ${short(t.nodes)}-node chain · silent`, t.silentMs, "ms");
    row(`tty ${short(t.nodes)}-node chain · tty`, t.ttyMs, "ms");
    row(`tty ${short(t.nodes)}-node chain · tty ÷ silent`, t.ratio, "×", t.nodes === 2000 ? ["≤", 1.5] : undefined);
  }
} else {
  process.stderr.write("  (skipped the tty reporter: `script` from util-linux is not available)\n");
}

// 7. Watch mode at rest (issue 5): CPU share of an idle `atomiton run --watch`.
progress("watch mode, idle CPU");
let watchIdle;
try {
  watchIdle = await benchWatchIdle({ cli, seconds: quick ? 3 : 10 });
} catch (error) {
  // A missing or broken watch mode is a finding, not a bench crash.
  watchIdle = { failed: error instanceof Error ? error.message : String(error) };
}
if (watchIdle.skipped) process.stderr.write(`  (skipped watch mode idle CPU: ${watchIdle.skipped})\n`);
else if (watchIdle.failed) rows.push({ name: "watch mode idle CPU", value: "failed", unit: watchIdle.failed.split("\n")[0].slice(0, 60), ...(quick ? {} : { target: "< 1", pass: false }) });
else row(`watch mode idle CPU (${watchIdle.seconds} s)`, watchIdle.cpuPercent, "%", ["<", 1]);

// 8. atomiton serve (issue 13): events/s to 1 and 50 clients, latency, a subscribed client's cost.
let serve;
try {
  serve = await benchServe({ cli, quick, progress });
  serveRows(serve, row);
} catch (error) {
  serve = { failed: error instanceof Error ? error.message : String(error) };
  rows.push({ name: "serve", value: "failed", unit: serve.failed.split("\n")[0].slice(0, 60) });
}

// 9. Queue mode (issue 14): runs/s through `atomiton worker`s next to bare BullMQ, submit-to-start.
let queue;
try {
  queue = await benchQueue({ cli, distIndex, quick, progress });
  queueRows(queue, row);
} catch (error) {
  queue = { failed: error instanceof Error ? error.message : String(error) };
  rows.push({ name: "queue", value: "failed", unit: queue.failed.split("\n")[0].slice(0, 60) });
}

const totalS = msSince(started) / 1000;
printTable(rows);
const failed = rows.filter((r) => r.pass === false);
process.stdout.write(`\n${machine.cpu} · ${machine.cores} cores · node ${machine.node} · load average at start ${machine.loadAverage.join(" ")}\n${rows.length} rows in ${round(totalS, 3)} s · ${quick ? "quick: no thresholds" : failed.length === 0 ? "every target met" : `${failed.length} target(s) missed`}\n`);
writeFileSync(outFile, `${JSON.stringify({ machine, quick, dist: distDir, totalSeconds: round(totalS, 3), rows, engine, scaling, concurrent: { count, ...concurrent }, coldStart, endToEnd, tty, watchIdle, serve, queue }, null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), outFile) || outFile}\n`);

function printTable(list) {
  const cells = list.map((r) => [r.name, formatValue(r.value), r.unit, r.target ?? "", r.pass === undefined ? "" : r.pass ? "✔" : "✖"]);
  const head = ["measurement", "value", "unit", "target", ""];
  const widths = head.map((h, k) => Math.max(h.length, ...cells.map((c) => c[k].length)));
  const line = (c) => c.map((v, k) => (k === 1 ? v.padStart(widths[k]) : v.padEnd(widths[k]))).join("  ").trimEnd();
  process.stdout.write(`\n${line(head)}\n${widths.map((w) => "─".repeat(w)).join("  ")}\n${cells.map(line).join("\n")}\n`);
}

function formatValue(v) {
  return typeof v === "number" ? v.toLocaleString("en-US", { maximumFractionDigits: 3 }) : String(v);
}
