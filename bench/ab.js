#!/usr/bin/env node
// A/B of the engine, concurrency, cold start and tty rows between builds, interleaved round by round
// so both see the same machine state: `node bench/ab.js [--rounds 3] [--engine-only] A=<dist dir> B=<dist dir> …`.
// ATOMITON_BENCH_NODE_FLAGS passes Node flags to the engine rows' children (bench/engine.js).
// Each build is a dist directory whose parent holds its package.json (bench/private-build.sh makes one).
// Prints, per row, each build's median over the rounds and its ratio to the first build.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { benchColdStart, benchTty, hasScript } from "./cli.js";
import { benchEngine } from "./engine.js";
import { median, round } from "./stats.js";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const roundsArg = args.indexOf("--rounds");
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 3;
// --engine-only: the in-process engine rows alone (bench/engine.js), without the CLI rows.
const engineOnly = args.includes("--engine-only");
const builds = args.filter((a) => a.includes("=")).map((a) => {
  const [name, dir] = a.split("=");
  return { name, dir: path.resolve(dir) };
});
if (builds.length < 2) {
  process.stderr.write("usage: node bench/ab.js [--rounds n] A=<dist dir> B=<dist dir> [C=…]\n");
  process.exit(2);
}
const progress = (what) => process.stderr.write(`  … ${what}\n`);
/** rows[name][build] = values over rounds */
const rows = {};
const add = (name, build, value) => ((rows[name] ??= {})[build] ??= []).push(value);

for (let r = 0; r < rounds; r++) {
  // Alternate the order each round, so neither build always runs right after the other.
  const order = r % 2 === 0 ? builds : [...builds].reverse();
  for (const { name, dir } of order) {
    progress(`round ${r + 1}/${rounds} · ${name}`);
    const distIndex = pathToFileURL(path.join(dir, "index.js")).href;
    for (const e of benchEngine({ distIndex, quick: false, progress: () => {} })) {
      const label = `${e.shape} c=${e.concurrency === "unlimited" ? "∞" : e.concurrency}`;
      add(`${label} · silent µs/node`, name, e.usPerNode.silent);
      add(`${label} · event log µs/node`, name, e.usPerNode.eventLog);
      add(`${label} · silent ÷ baseline`, name, e.usPerNode.silent / e.usPerNode.baseline);
    }
    if (engineOnly) continue;
    for (const mode of ["silent", "eventLog"]) {
      const out = spawnSync(process.execPath, ["--max-old-space-size=1024", path.join(benchDir, "concurrent.js"), distIndex, "1000", mode], { encoding: "utf8" });
      const m = JSON.parse(out.stdout);
      add(`1000 concurrent runs · ${mode} ms`, name, m.ms);
      add(`1000 concurrent runs · ${mode} peak RSS MB`, name, m.peakRssMb);
    }
    const cli = [path.join(dir, "cli.js")];
    for (const c of benchColdStart({ cli, repoRoot: path.resolve(benchDir, ".."), runs: 15, warmup: 3 })) add(`cold start · ${c.name} ms`, name, c.medianMs);
    if (hasScript()) for (const t of benchTty({ cli, sizes: [2000], runs: 7, warmup: 1 })) add(`tty 2k · tty ÷ silent`, name, t.ratio);
  }
}

const [first] = builds;
const table = Object.entries(rows).map(([row, byBuild]) => {
  const base = median(byBuild[first.name]);
  return [row, ...builds.flatMap(({ name }) => {
    const m = median(byBuild[name]);
    return name === first.name ? [String(round(m, 3))] : [String(round(m, 3)), `${round((m / base - 1) * 100, 1)}%`];
  })];
});
const head = ["row", ...builds.flatMap(({ name }) => (name === first.name ? [name] : [name, `vs ${first.name}`]))];
const widths = head.map((h, k) => Math.max(h.length, ...table.map((c) => c[k].length)));
const line = (c) => c.map((v, k) => (k === 0 ? v.padEnd(widths[k]) : v.padStart(widths[k]))).join("  ");
process.stdout.write(`${line(head)}\n${table.map(line).join("\n")}\n`);
process.stdout.write(`\n${JSON.stringify({ builds, rounds, rows })}\n`);
