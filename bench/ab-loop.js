#!/usr/bin/env node
// A/B of builds with bench/engine-loop.js (one shape per process, many runs, a fixed young generation
// so V8's heap sizing does not decide the figure): `node bench/ab-loop.js [--rounds 5] [--only text] A=<dist> B=<dist> …`.
// Builds alternate case by case and round by round; prints each build's median µs per run and its
// ratio to the first build.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median, round } from "./stats.js";

const LOOP = fileURLToPath(new URL("./engine-loop.js", import.meta.url));
const FLAGS = ["--min-semi-space-size=16", "--max-semi-space-size=16"];
// [shape, size, runs, mode, concurrency]
const CASES = [
  ["chain", 10, 30000, "silent", 16],
  ["chain", 1000, 3000, "silent", 16],
  ["chain", 10000, 600, "silent", 16],
  ["fanout", 1000, 3000, "silent", 16],
  ["fanout", 1000, 3000, "silent", "Infinity"],
  ["grid", 10000, 600, "silent", "Infinity"],
  ["chain", 10, 3000, "eventLog", 16],
  ["chain", 1000, 300, "eventLog", 16],
  ["fanout", 1000, 300, "eventLog", "Infinity"],
  ["grid", 10000, 60, "eventLog", "Infinity"],
];
const args = process.argv.slice(2);
const roundsArg = args.indexOf("--rounds");
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 5;
// --only <text>: the cases whose label contains it ("silent", "chain 10 ").
const onlyArg = args.indexOf("--only");
const only = onlyArg >= 0 ? args[onlyArg + 1] : "";
const builds = args.filter((a) => a.includes("=")).map((a) => ({ name: a.split("=")[0], dir: path.resolve(a.split("=")[1]) }));
const results = new Map(); // case label → build → values
for (let r = 0; r < rounds; r++) {
  for (const c of CASES) {
    const label = `${c[0]} ${c[1]} c=${c[4] === "Infinity" ? "∞" : c[4]} · ${c[3] === "eventLog" ? "event log" : "silent"}`;
    if (!label.includes(only)) continue;
    for (const { name, dir } of r % 2 === 0 ? builds : [...builds].reverse()) {
      const out = spawnSync(process.execPath, [...FLAGS, LOOP, dir, ...c.map(String)], { encoding: "utf8" });
      if (out.status !== 0) throw new Error(`${name} ${label}: ${out.stderr}`);
      const v = JSON.parse(out.stdout).usPerRun;
      const byBuild = results.get(label) ?? new Map();
      results.set(label, byBuild);
      byBuild.set(name, [...(byBuild.get(name) ?? []), v]);
    }
  }
  process.stderr.write(`  … round ${r + 1}/${rounds}\n`);
}
const [first] = builds;
for (const [label, byBuild] of results) {
  const base = median(byBuild.get(first.name));
  const cells = builds.map(({ name }) => {
    const m = median(byBuild.get(name));
    return name === first.name ? `${name} ${round(m, 3)} µs` : `${name} ${round(m, 3)} µs (${m >= base ? "+" : ""}${round((m / base - 1) * 100, 1)}%)`;
  });
  process.stdout.write(`${label.padEnd(32)} ${cells.join("  ")}\n`);
}
process.stdout.write(`${JSON.stringify(Object.fromEntries([...results].map(([k, v]) => [k, Object.fromEntries(v)])))}\n`);
