// In-process measurements. Each (shape, concurrency, mode) runs in a fresh child process
// (bench/engine-child.js), so no run inherits another's garbage or heap growth:
//   mode "silent":   the bare baseline and createConductor with no listeners, interleaved
//                    in one process (same heap, same loaded composite);
//   mode "eventLog": createConductor with memory storage and record: true.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./stats.js";

const CHILD = fileURLToPath(new URL("./engine-child.js", import.meta.url));

/** Shapes (by builder name and arguments, see shapes.js), concurrencies, rounds. Infinity = unlimited. */
export function plan(quick) {
  if (quick) {
    return [
      { shape: ["chain", 100], concurrency: [16], runs: 3, warmup: 1 },
      { shape: ["chain", 1000], concurrency: [16], runs: 3, warmup: 1 },
      { shape: ["fanOut", 100], concurrency: [16, Infinity], runs: 3, warmup: 1 },
      { shape: ["grid", 10, 10], concurrency: [Infinity], runs: 3, warmup: 1 },
    ];
  }
  return [
    { shape: ["chain", 1000], concurrency: [16], runs: 31, warmup: 10 },
    { shape: ["chain", 10_000], concurrency: [16], runs: 15, warmup: 5 },
    { shape: ["chain", 100_000], concurrency: [16], runs: 7, warmup: 2 },
    { shape: ["fanOut", 1000], concurrency: [16, Infinity], runs: 31, warmup: 10 },
    { shape: ["grid", 100, 100], concurrency: [Infinity], runs: 15, warmup: 5 },
  ];
}

export function benchEngine({ distIndex, quick, progress }) {
  const results = [];
  for (const { shape, concurrency, runs, warmup } of plan(quick)) {
    for (const c of concurrency) {
      const spec = { distIndex, shape, concurrency: c === Infinity ? "Infinity" : c, runs, warmup };
      progress(`${shape.join(" ")} (concurrency ${c === Infinity ? "∞" : c})`);
      const s = child({ ...spec, mode: "silent" });
      const e = child({ ...spec, mode: "eventLog" });
      const perNode = (xs) => (median(xs) * 1000) / s.nodes;
      results.push({
        shape: s.name,
        nodes: s.nodes,
        edges: s.edges,
        concurrency: c === Infinity ? "unlimited" : c,
        runs,
        warmup,
        loadMs: s.loadMs,
        medianMs: { baseline: median(s.samples.baseline), silent: median(s.samples.silent), eventLog: median(e.samples.eventLog) },
        usPerNode: { baseline: perNode(s.samples.baseline), silent: perNode(s.samples.silent), eventLog: perNode(e.samples.eventLog) },
        cpuMedianMs: { baseline: median(s.cpuSamples.baseline), silent: median(s.cpuSamples.silent), eventLog: median(e.cpuSamples.eventLog) },
        samplesMs: { ...s.samples, ...e.samples },
      });
    }
  }
  return results;
}

function child(spec) {
  const r = spawnSync(process.execPath, [CHILD, JSON.stringify(spec)], { encoding: "utf8", timeout: 240_000, maxBuffer: 16 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${path.basename(CHILD)} ${spec.shape.join(" ")} ${spec.mode} failed: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout);
}
